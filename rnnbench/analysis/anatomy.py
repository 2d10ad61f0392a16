"""Finding the LSTM variants and forget-gate initialisations in a results document, paired by section (torch-free).

A case's variant and forget-gate initialisation are in its `settings`; the anatomy table and claims
(claims/anatomy_table.py, claims/anatomy.py) select labels by them, whatever the suite called the labels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rnnbench.analysis.grouping import Group, group_results
from rnnbench.results.records import CaseJson, ResultsJson

CasePredicate = Callable[[CaseJson], bool]


def settings_of(case: CaseJson) -> dict:
    return case.get("settings") or {}


def is_variant(variant: str, forget_bias: object = None) -> CasePredicate:
    """An LSTM case of `variant` with the given forget-gate initialisation (None: PyTorch's)."""
    return lambda c: settings_of(c).get("variant") == variant and settings_of(c).get("forget_bias") == forget_bias


def is_lstm_init(forget_bias: object) -> CasePredicate:
    """A plain LSTM (no variant, or np, which is nn.LSTM) with this forget-gate initialisation."""
    return lambda c: (
        c["arch"] == "lstm"
        and settings_of(c).get("variant") in (None, "np")
        and settings_of(c).get("forget_bias") == forget_bias
    )


def is_arch(arch: str) -> CasePredicate:
    return lambda c: c["arch"] == arch and settings_of(c).get("variant") is None


def label_where(doc: ResultsJson, predicate: CasePredicate) -> str | None:
    """The first label (in run order) whose cases satisfy `predicate`."""
    return next((c.get("label", c["arch"]) for c in doc["cases"] if predicate(c)), None)


def paired_sections(doc: ResultsJson, *labels: str | None) -> list[tuple[str, list[Group]]]:
    """(section, the labels' groups) for every section that holds every label."""
    named = [label for label in labels if label is not None]
    if len(named) < len(labels):
        return []
    sections, _, groups = group_results(doc)
    return [(s, [groups[(s, label)] for label in named]) for s in sections if all((s, x) in groups for x in named)]


def seq_len_of(section: str) -> int:
    """The T of a section key (`task/T50/h32`)."""
    return int(section.split("/")[1][1:])


def holm_adjusted(ps: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values: reject hypothesis i at family-wise alpha when adjusted[i] < alpha."""
    order = sorted(range(len(ps)), key=lambda i: ps[i])
    adjusted = [1.0] * len(ps)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(ps) - rank) * ps[i]))
        adjusted[i] = running
    return adjusted
