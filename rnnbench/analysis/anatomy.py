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


def is_variant(variant: str) -> CasePredicate:
    """An LSTM case of `variant`, whatever its forget-gate initialisation (a suite gives all its variants one)."""
    return lambda c: settings_of(c).get("variant") == variant


def is_lstm_init(forget_bias: object) -> CasePredicate:
    """A plain LSTM (arch lstm, no variant) with this forget-gate initialisation."""
    return lambda c: (
        c["arch"] == "lstm"
        and settings_of(c).get("variant") is None
        and settings_of(c).get("forget_bias") == forget_bias
    )


def is_arch(arch: str) -> CasePredicate:
    return lambda c: c["arch"] == arch and settings_of(c).get("variant") is None


def is_label(label: str) -> CasePredicate:
    return lambda c: c.get("label", c["arch"]) == label


def paired_by(doc: ResultsJson, *predicates: CasePredicate) -> list[tuple[str, list[Group]]]:
    """(section, one group per predicate) for every section that holds a label matching each predicate.

    Within a section the first label (in run order) whose cases match a predicate stands for it, so a
    suite may name its labels as it likes; a section that lacks one of them is left out.
    """
    sections, labels, groups = group_results(doc)
    out = []
    for section in sections:
        present = [groups[(section, label)] for label in labels if (section, label) in groups]
        chosen = [next((g for g in present if predicate(g.cases[0])), None) for predicate in predicates]
        if all(g is not None for g in chosen):
            out.append((section, [g for g in chosen if g is not None]))
    return out


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
