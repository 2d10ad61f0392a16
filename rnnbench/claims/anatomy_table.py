"""The LSTM anatomy table: each Greff variant against vanilla on the same configurations and seeds (torch-free).

Per variant (a label whose cases carry `settings.variant`): the per-seed metric gap to vanilla in
chance-to-perfect units (positive: the variant is better), pooled over every configuration both ran,
with an exact signed-rank p per variant and Holm's adjustment over the variants (family-wise over the
table); time to solve ÷ vanilla's; the train step ÷ vanilla's from paired rounds (both timed in one
timing group); and the core parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnbench import stats
from rnnbench.analysis.anatomy import holm_adjusted, is_label, is_variant, paired_by, settings_of
from rnnbench.analysis.grouping import Group, group_results
from rnnbench.analysis.paired import PairedRatio, paired_ratio_of
from rnnbench.claims.decide import signed_rank
from rnnbench.claims.recap_rules import paired_units
from rnnbench.results.records import ResultsJson


@dataclass(frozen=True)
class AnatomyRow:
    """One variant against vanilla, pooled over the configurations and seeds both ran."""

    label: str
    variant: str
    units: tuple[float, ...]  # per (configuration, seed): variant − vanilla, chance-to-perfect units
    p: float  # exact signed-rank, two-sided, this row alone
    p_holm: float  # Holm-adjusted over the table's rows
    solved: tuple[int, int]  # seeds solved / seeds finished
    solve_ratio: float | None  # geometric mean over configurations of median time to solve ÷ vanilla's
    step: PairedRatio | None  # train step ÷ vanilla's, paired rounds
    n_params: int | None
    configurations: int

    @property
    def gap(self) -> float | None:
        return stats.median(self.units) if self.units else None


def _solve_ratio(pairs: list[list[Group]]) -> float | None:
    ratios = [
        stats.median(g.solve_times) / stats.median(v.solve_times) for g, v in pairs if g.solve_times and v.solve_times
    ]
    return stats.geomean(ratios) if ratios else None


def anatomy_rows(doc: ResultsJson) -> list[AnatomyRow]:
    """A row per variant label that shares configurations with a vanilla label; [] without vanilla."""
    labels = dict.fromkeys(
        (c.get("label", c["arch"]), settings_of(c)["variant"])
        for c in doc["cases"]
        if settings_of(c).get("variant") not in (None, "vanilla")
    )
    raw = []
    for label, variant in labels:
        pairs = [groups for _, groups in paired_by(doc, is_label(label), is_variant("vanilla"))]
        if not pairs:
            continue
        units = tuple(u for g, v in pairs for u in paired_units(g, v)[0])
        mine = [c for g, _ in pairs for c in g.cases]
        theirs = [c for _, v in pairs for c in v.cases]
        raw.append((label, variant, units, signed_rank(units)[0], pairs, paired_ratio_of(mine, theirs)))
    adjusted = holm_adjusted([r[3] for r in raw])
    rows = []
    for (label, variant, units, p, pairs, step), p_holm in zip(raw, adjusted):
        solved = (sum(g.n_solved for g, _ in pairs), sum(len(g.finals) for g, _ in pairs))
        params = pairs[0][0].first("n_core_params")
        rows.append(AnatomyRow(label, variant, units, p, p_holm, solved, _solve_ratio(pairs), step, params, len(pairs)))
    return rows


def vanilla_summary(doc: ResultsJson) -> tuple[str, tuple[int, int], int | None] | None:
    """(label, seeds solved / finished, core parameters) of vanilla, the table's reference row."""
    _, _, groups = group_results(doc)
    mine = [g for g in groups.values() if is_variant("vanilla")(g.cases[0])]
    if not mine:
        return None
    label = mine[0].label
    return label, (sum(g.n_solved for g in mine), sum(len(g.finals) for g in mine)), mine[0].first("n_core_params")
