"""The "Serving" table: every model through every inference path, and under it the fastest correct path per model."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from rnnbench.analysis.serving import (
    REFERENCE,
    PathRatio,
    ServingRow,
    by_model,
    fastest_correct,
    serving_rows,
)
from rnnbench.render.format import MISSING, format_count, format_metric, format_ms, format_ratio_ci
from rnnbench.results.records import ResultsJson

OUT_OF_TOLERANCE = "✘ beyond tolerance"


def _ratio(row: ServingRow, ratio: PathRatio | None) -> str:
    if row.path == REFERENCE and row.latency_ms is not None:
        return "×1 (reference)"
    return MISSING if ratio is None else format_ratio_ci(ratio.ratio, ratio.low, ratio.high)


def _difference(row: ServingRow) -> str:
    if row.within_tolerance is None:
        return MISSING
    figure = MISSING if row.max_abs is None else f"{row.max_abs:.1e}"
    return figure if row.within_tolerance else f"{figure} {OUT_OF_TOLERANCE}"


def serving_cells(row: ServingRow, with_where: bool = False) -> list[str]:
    """A row's cells, in `serving_columns` order; `with_where` names the task and length beside the model
    (a suite that serves on more than one)."""
    return [
        f"{row.label} ({row.where})" if with_where else row.label,
        row.path,
        row.status,
        format_ms(row.latency_ms),
        format_count(row.throughput),
        _ratio(row, row.ratio_small),
        _ratio(row, row.ratio_large),
        format_ms(row.prepare_ms),
        _difference(row),
        format_metric(row.metric),
    ]


def serving_columns(rows: list[ServingRow], metric: str = "metric") -> list[str]:
    small = rows[0].small_batch if rows else 1
    large = rows[0].large_batch if rows else 1
    return [
        "model",
        "path",
        "status",
        f"latency b{small}",
        f"seq/s b{large}",
        f"÷ eager b{small} [95% CI]",
        f"÷ eager b{large} [95% CI]",
        "prepare",
        "max |Δ| vs eager",
        metric,
    ]


def fastest_lines(rows: list[ServingRow]) -> list[str]:
    """One line per model: its fastest correct path at the smallest batch (and at the largest when it differs)."""
    lines = []
    for (label, where), model_rows in by_model(rows).items():
        small, large = fastest_correct(model_rows), fastest_correct(model_rows, large=True)
        if small is None:
            lines.append(f"{label} ({where}): no correct path timed")
            continue
        text = f"{label} ({where}): fastest correct path {small.path} at b{small.small_batch}"
        text += "" if small.ratio_small is None else f" ({small.ratio_small.ratio:.2f}× eager)"
        if large is not None and large.path != small.path:
            ratio = "" if large.ratio_large is None else f" ({large.ratio_large.ratio:.2f}× eager)"
            text += f", {large.path} at b{large.large_batch}{ratio}"
        lines.append(text)
    return lines


def _ratio_unit(serving: dict, rows: list[ServingRow]) -> str:
    """How the ratios were timed: rounds of one process, or k processes as the interval's unit; which rounds counted."""
    k = serving.get("processes")
    unit = f"paired rounds against eager in {k} processes, each one unit" if k else "paired rounds against eager"
    shares = [r.share for row in rows for r in (row.ratio_small, row.ratio_large) if r is not None]
    if not shares or min(shares) == 1.0:
        return unit
    low, high = min(shares), max(shares)
    used = f"{low:.0%}" if high - low < 0.005 else f"{low:.0%}–{high:.0%}"
    return f"{unit}, over the rounds timed in the machine's fast speed state ({used} of them)"


def serving_table(doc: ResultsJson) -> Table | None:
    """None when no case was served through more than eager."""
    rows = serving_rows(doc)
    if not rows:
        return None
    first = next(c.get("serving") for c in doc.get("cases", []) if c.get("serving"))
    tolerance = f"|path − eager| ≤ {first.get('atol', 0):g} + {first.get('rtol', 0):g}·|eager|"
    lengths = " and ".join(f"T{n}" for n in first.get("lengths", []))
    table = Table(
        title="Serving",
        caption="\n".join(
            [
                f"ratios: {_ratio_unit(first, rows)}; outputs checked at {lengths}, tolerance {tolerance}; "
                "metric on the held-out set through each path",
                *fastest_lines(rows),
            ]
        ),
    )
    names = {c["serving"].get("metric_name") for c in doc.get("cases", []) if c.get("serving")}
    metric = f"held-out {names.pop()}" if len(names) == 1 and None not in names else "held-out metric"
    for column in serving_columns(rows, metric):
        table.add_column(column, justify="left" if column in ("model", "path", "status") else "right")
    for row in rows:
        table.add_row(
            *(Text(cell) for cell in serving_cells(row))
        )  # Text: "pip install 'rnnbench[serve]'" is no markup
    return table
