"""The "LSTM anatomy" table (each variant against vanilla) and its claims' table (Rich)."""

from __future__ import annotations

from rich.table import Table

from rnnbench.claims.anatomy import evaluate_anatomy_claims
from rnnbench.claims.anatomy_table import anatomy_rows, vanilla_summary
from rnnbench.claims.types import NOT_MEASURED
from rnnbench.render.claims import claims_table
from rnnbench.render.format import MISSING, format_count, format_p, format_ratio_ci
from rnnbench.results.records import ResultsJson


def anatomy_table(doc: ResultsJson) -> Table | None:
    """One row per variant: metric gap to vanilla with its family-wise p, time to solve and train step ÷ vanilla's,
    parameters; None when the results hold no variant beside vanilla."""
    rows = anatomy_rows(doc)
    reference = vanilla_summary(doc)
    if not rows or reference is None:
        return None
    table = Table(
        title="LSTM anatomy: each variant against vanilla (Greff et al. 2017)",
        caption="Δ metric: median per-seed gap, chance-to-perfect units, + = better than vanilla; p: exact "
        "signed-rank over every configuration's seeds, Holm over the rows; time to solve: geometric mean over "
        "configurations of median ratios; train step: paired rounds, 95 % CI",
    )
    for name, justify in (
        ("variant", "left"),
        ("Δ metric", "right"),
        ("p (Holm)", "right"),
        ("solved", "right"),
        ("time to solve", "right"),
        ("train step", "right"),
        ("params", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    label, (k, n), params = reference
    table.add_row(f"vanilla ({label})", "0", MISSING, f"{k}/{n}", "1", "1", format_count(params), end_section=True)
    for row in rows:
        step = format_ratio_ci(row.step.ratio, row.step.low, row.step.high) if row.step else MISSING
        table.add_row(
            f"{row.variant} ({row.label})",
            MISSING if row.gap is None else f"{row.gap:+.3f} ({len(row.units)})",
            f"{format_p(row.p_holm)} ({format_p(row.p)})",
            f"{row.solved[0]}/{row.solved[1]}",
            MISSING if row.solve_ratio is None else f"×{row.solve_ratio:.2f}",
            step,
            format_count(row.n_params),
        )
    return table


def anatomy_claims_table(doc: ResultsJson) -> Table | None:
    """The anatomy claims with their verdicts; None when the results measure none of them."""
    results = evaluate_anatomy_claims(doc)
    if all(r.verdict == NOT_MEASURED for r in results):
        return None
    return claims_table(results, title="LSTM anatomy claims, measured")
