"""All number formatting for display, in one place: durations, counts, bytes, metrics, comparison cells."""

from __future__ import annotations

from typing import Any

from rnnbench.compare.rows import Row

MISSING = "—"


def format_ms(ms: float | None) -> str:
    """A duration in the unit that reads best; files always hold milliseconds."""
    if ms is None:
        return MISSING
    if ms >= 10_000:
        return f"{ms / 1000:.1f} s"
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    if ms >= 100:
        return f"{ms:.0f} ms"
    if ms >= 10:
        return f"{ms:.1f} ms"
    if ms >= 1:
        return f"{ms:.2f} ms"
    return f"{ms * 1000:.0f} µs"


def format_timing(summary: dict[str, Any] | None) -> str:
    """Median ± half-width of its 95 % CI (as % of the median); `!` marks an unstable measurement."""
    if not summary:
        return MISSING
    median = summary["median"]
    lo, hi = summary["ci95"]
    half = 100.0 * (hi - lo) / 2 / median if median else 0.0
    mark = " !" if summary.get("unstable") else ""
    return f"{format_ms(median)} ±{half:.1f}%{mark}"


def format_count(n: float | None) -> str:
    if n is None:
        return MISSING
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.3g}{unit}"
    return f"{n:.3g}"


def format_bytes(n: float | None) -> str:
    if n is None:
        return MISSING
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"


def format_metric(value: float | None) -> str:
    if value is None:
        return MISSING
    if value != 0 and (abs(value) < 0.01 or abs(value) >= 1000):
        return f"{value:.2e}"
    return f"{value:.3f}"


def format_value(row: Row, value: float | None) -> str:
    if value is None:
        return "not solved" if row.kind == "solve" else MISSING
    if row.unit == "ms":
        return format_ms(value)
    if row.unit == "seq/s":
        return format_count(value)
    return format_metric(value)


def format_change(row: Row) -> str:
    """NEW/BASE as a factor for durations; for accuracy, the change in skill (share of chance-to-perfect)."""
    if row.kind == "accuracy":
        return MISSING if row.delta is None else f"{row.delta * 100:+.1f} pts"
    return MISSING if row.ratio is None else f"{row.ratio:.3f}×"


def format_ci(row: Row) -> str:
    return MISSING if row.ci is None else f"{row.ci[0]:.3f}–{row.ci[1]:.3f}"


def format_p(p: float | None) -> str:
    if p is None:
        return MISSING
    return f"{p:.2g}" if p >= 1e-3 else f"{p:.0e}"
