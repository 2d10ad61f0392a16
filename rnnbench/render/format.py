"""All number formatting for display, in one place: durations, counts, bytes, metrics, intervals, comparison cells."""

from __future__ import annotations

import math

from rnnbench import stats
from rnnbench.compare.rows import Row
from rnnbench.results.records import TimingJson

MISSING = "—"
UNBOUNDED = "too few to bound"  # an interval the data cannot bound on either side (3 vs 3 seeds)
LEVEL = 0.95  # the level intervals are computed at unless a comparison says otherwise


def is_bounded(value: float | None) -> bool:
    """A finite, positive bound; 0 (below) and inf (above) are how stats says a side is unbounded."""
    return value is not None and math.isfinite(value) and value > 0


def format_interval(low: float | None, high: float | None, digits: int = 2) -> str:
    """`[1.14, 1.25]`; a side the data cannot bound is open, `[1.14, ∞)` or `(0, 1.25]`; neither: "too few to bound".

    Never "inf", never a tight range standing in for no interval."""
    lo_ok, hi_ok = is_bounded(low), is_bounded(high)
    if not lo_ok and not hi_ok:
        return UNBOUNDED
    left = f"[{low:.{digits}f}" if lo_ok else "(0"
    right = f"{high:.{digits}f}]" if hi_ok else "∞)"
    return f"{left}, {right}"


def coverage_label(coverage: float | None, level: float = LEVEL) -> str:
    """ "95 % CI" when the interval covers at least `level`, else its real coverage: "75 % CI", "93.75 % CI"."""
    if coverage is None or coverage >= level - 1e-12:
        return f"{level * 100:g} % CI"
    return f"{coverage * 100:.4g} % CI"


def summary_coverage(summary: TimingJson) -> float:
    """A stored timing's CI coverage; older files lack `ci_coverage`, so it comes from the sample count."""
    coverage = summary.get("ci_coverage")
    if isinstance(coverage, (int, float)):
        return float(coverage)
    return stats.ci_median_coverage(int(summary.get("n") or len(summary.get("samples") or [1])))


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


def format_timing(summary: TimingJson | None) -> str:
    """Median ± half-width of its 95 % CI (as % of the median); `!` marks an unstable measurement.

    Below 6 samples the interval is not a 95 % one: its real coverage follows, e.g. `±4.0% (75 % CI)`."""
    if not summary:
        return MISSING
    median = summary["median"]
    lo, hi = summary["ci95"]
    half = 100.0 * (hi - lo) / 2 / median if median else 0.0
    coverage = summary_coverage(summary)
    label = f" ({coverage_label(coverage)})" if coverage < LEVEL - 1e-12 else ""
    mark = " !" if summary.get("unstable") else ""
    return f"{format_ms(median)} ±{half:.1f}%{label}{mark}"


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
    if row.kind == "numerics":  # no ratio: the outputs differ beyond tolerance (the reason gives by how much)
        return "changed"
    return MISSING if row.ratio is None else f"{row.ratio:.3f}×"


def format_ci(row: Row, digits: int = 3) -> str:
    """A comparison row's interval of NEW/BASE: `[0.981, 1.020]`, open where unbounded, or "too few to bound"."""
    return MISSING if row.ci is None else format_interval(row.ci[0], row.ci[1], digits)


def format_ratio_ci(ratio: float, low: float, high: float, digits: int = 2) -> str:
    """`×1.10 [1.02, 1.19]`; `×1.10 (too few to bound)` when the data cannot bound it."""
    interval = format_interval(low, high, digits)
    return f"×{ratio:.{digits}f} " + (f"({interval})" if interval == UNBOUNDED else interval)


def format_p(p: float | None) -> str:
    if p is None:
        return MISSING
    return f"{p:.2g}" if p >= 1e-3 else f"{p:.0e}"
