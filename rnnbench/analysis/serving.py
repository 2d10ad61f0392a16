"""The serving table's rows read from a results document: per model and path, latency, throughput, the paired
ratio to eager with its interval, preparation time, output difference and metric; the fastest correct path.

Torch-free. A path's samples at index i and eager's come from round i of one interleaved block
(rnnbench/serve), so each ratio is a paired ratio. Timed in one process: the median per-round
log-ratio and its sign-test interval (`stats.paired_ratio_ci`), an interval for that process only.
Timed in k >= 2 fresh processes (`serving.blocks`): each process's median log-ratio is one unit,
and the ratio is their mean with Student's t interval over the k units (`stats.hierarchical_ratio_ci`,
as `rnnbench ab` reads its process pairs), which holds the process-to-process spread a repeat run shows.
Either way only the rounds timed in the machine's fast speed state count (`speed_states`): on a VM
that switches states a path's ratio to eager moves with the state, and a repeat run spends other
shares of its time in each.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnbench import stats
from rnnbench.analysis import speed_states
from rnnbench.analysis.paired import ratio_of_log_ratios
from rnnbench.catalog import INFERENCE_PATHS
from rnnbench.results.records import CaseJson, ResultsJson
from rnnbench.results.serving import OK, ServedPathJson, ServingJson

REFERENCE = "eager"


@dataclass(frozen=True)
class PathRatio:
    """A path's latency over eager's at one batch size, from paired rounds."""

    ratio: float
    low: float
    high: float
    rounds: int
    processes: int = 0  # > 0: the processes were the units of the interval (0: the rounds of one process)
    share: float = 1.0  # the share of the rounds that counted: those timed in the fast speed state

    @property
    def half_width(self) -> float:
        """The interval's larger side, relative to the ratio (0.05: within ±5 %)."""
        return max(self.ratio - self.low, self.high - self.ratio) / self.ratio


@dataclass(frozen=True)
class ServingRow:
    """One model through one path."""

    label: str
    where: str  # "adding T50"
    path: str
    status: str
    small_batch: int | None  # the smallest batch size timed (latency), 1 in the serve suite
    large_batch: int | None  # the largest (throughput)
    latency_ms: float | None  # median at the smallest batch, over the rounds of the fast speed state
    throughput: float | None  # sequences/s at the largest batch, from its median over the same rounds
    ratio_small: PathRatio | None  # path/eager latency at the smallest batch
    ratio_large: PathRatio | None  # … and at the largest
    prepare_ms: float | None
    max_abs: float | None  # largest |path − eager| over both lengths; None when a length gave no output
    within_tolerance: bool | None
    metric: float | None

    @property
    def correct(self) -> bool:
        return self.status == OK and self.within_tolerance is True


def _samples(path: ServedPathJson, key: str) -> list[float]:
    return list(((path.get("inference") or {}).get(key) or {}).get("latency_ms", {}).get("samples") or [])


def _process_sizes(blocks: list[int] | None, rounds: int) -> list[int]:
    """The rounds of each process where `blocks` holds two or more that add up to the samples, else one process."""
    return list(blocks) if blocks and len(blocks) >= 2 and sum(blocks) == rounds else [rounds]


def counted(eager: ServedPathJson, key: str, blocks: list[int] | None = None) -> np.ndarray | None:
    """The rounds at batch `key` that every path's figures count (`speed_states.counted_rounds`); None without samples."""
    den = _samples(eager, key)
    return speed_states.counted_rounds(den, _process_sizes(blocks, len(den))) if den else None


def path_ratio(
    path: ServedPathJson,
    eager: ServedPathJson,
    key: str,
    blocks: list[int] | None = None,
    rounds: np.ndarray | None = None,
) -> PathRatio | None:
    """path/eager at batch `key` ("b1") from round-aligned samples, over the rounds `counted` (given, or found here).

    `blocks`: the rounds of each process the samples come from, in order (`serving.blocks[key]`);
    with two or more that add up to the samples, the process is the unit of the interval (a
    process none of whose rounds count is none). None without both sides' samples.
    """
    num, den = _samples(path, key), _samples(eager, key)
    if not num or len(num) != len(den):
        return None
    sizes = _process_sizes(blocks, len(den))
    mask = rounds if rounds is not None else speed_states.counted_rounds(den, sizes)
    d = stats.paired_log_ratios(den, num)
    starts = np.cumsum([0, *sizes])
    units = [d[lo:hi][mask[lo:hi]] for lo, hi in zip(starts[:-1], starts[1:]) if mask[lo:hi].any()]
    used, share = int(mask.sum()), float(mask.mean())
    if len(sizes) >= 2:
        ratio, low, high, _ = stats.hierarchical_ratio_ci([u.tolist() for u in units])
        return PathRatio(ratio, low, high, used, len(units), share)
    ratio, low, high, _, n = ratio_of_log_ratios(units[0].tolist())
    return PathRatio(ratio, low, high, n, 0, share)


def counted_median(path: ServedPathJson, key: str, rounds: np.ndarray | None) -> float | None:
    """The path's median latency (ms) at batch `key` over the `counted` rounds; the record's median over every round
    where the samples are not kept, None where there is neither."""
    num = _samples(path, key)
    if num and rounds is not None and len(num) == rounds.size:
        return float(np.median(np.asarray(num)[rounds]))
    timed = (path.get("inference") or {}).get(key) or {}
    return timed.get("latency_ms", {}).get("median")


def _max_abs(path: ServedPathJson) -> float | None:
    diffs = list((path.get("outputs") or {}).values())
    if not diffs or any(d["max_abs"] is None for d in diffs):
        return None
    return max(float(d["max_abs"] or 0.0) for d in diffs)


def _batches(serving: ServingJson) -> list[int]:
    return sorted(int(key[1:]) for key in serving.get("rounds", {}))


def path_order(names: list[str]) -> list[str]:
    """Eager first, then the registry's order; unknown names last, sorted."""
    known = [p for p in INFERENCE_PATHS if p in names]
    return known + sorted(set(names) - set(known))


def case_rows(case: CaseJson) -> list[ServingRow]:
    """The rows of one case's serving record (none without one)."""
    serving: ServingJson | None = case.get("serving")
    if not serving or "paths" not in serving:
        return []
    paths, batches = serving["paths"], _batches(serving)
    eager = paths.get(REFERENCE, {})
    blocks = serving.get("blocks") or {}  # rounds per timing process, where there were several
    small, large = (batches[0], batches[-1]) if batches else (None, None)
    small_key, large_key = f"b{small}", f"b{large}"
    at_small, at_large = (
        counted(eager, small_key, blocks.get(small_key)),
        counted(eager, large_key, blocks.get(large_key)),
    )
    rows = []
    for name in path_order(list(paths)):
        path = paths[name]
        large_ms = counted_median(path, large_key, at_large)
        rows.append(
            ServingRow(
                label=case.get("label", case["arch"]),
                where=f"{case['task']} T{case['seq_len']}",
                path=name,
                status=path.get("status", "?"),
                small_batch=small,
                large_batch=large,
                latency_ms=counted_median(path, small_key, at_small),
                throughput=large / (large_ms * 1e-3) if large and large_ms else None,
                ratio_small=None
                if name == REFERENCE
                else path_ratio(path, eager, small_key, blocks.get(small_key), at_small),
                ratio_large=None
                if name == REFERENCE
                else path_ratio(path, eager, large_key, blocks.get(large_key), at_large),
                prepare_ms=path.get("prepare_ms"),
                max_abs=_max_abs(path),
                within_tolerance=path.get("within_tolerance"),
                metric=path.get("metric"),
            )
        )
    return rows


def serving_rows(doc: ResultsJson) -> list[ServingRow]:
    """Every served model's rows, in the document's order; one seed per model and task (its first)."""
    seen: set[tuple[str, str, int]] = set()
    rows: list[ServingRow] = []
    for case in doc.get("cases", []):
        key = (case.get("label", case["arch"]), case["task"], case["seq_len"])
        if key in seen or not case.get("serving"):
            continue
        seen.add(key)
        rows += case_rows(case)
    return rows


def _ratio_value(row: ServingRow, large: bool) -> float:
    if row.path == REFERENCE:
        return 1.0
    ratio = row.ratio_large if large else row.ratio_small
    return ratio.ratio if ratio else float("inf")


def fastest_correct(rows: list[ServingRow], large: bool = False) -> ServingRow | None:
    """The correct path (ok, within tolerance) with the lowest paired ratio to eager at the smallest (or largest) batch."""
    correct = [r for r in rows if r.correct and _ratio_value(r, large) != float("inf")]
    return min(correct, key=lambda r: _ratio_value(r, large), default=None)


def by_model(rows: list[ServingRow]) -> dict[tuple[str, str], list[ServingRow]]:
    out: dict[tuple[str, str], list[ServingRow]] = {}
    for row in rows:
        out.setdefault((row.label, row.where), []).append(row)
    return out


def serving_cost_ratio(doc: ResultsJson, num_label: str, den_label: str) -> tuple[float, str, str] | None:
    """num's latency over den's at the smallest batch, each on its fastest correct path (unpaired: the two models
    were served one after the other), with both paths' names; None unless both were served on one task."""
    models = by_model(serving_rows(doc))
    for (label, where), rows in models.items():
        other = models.get((den_label, where))
        if label != num_label or other is None:
            continue
        fast_num, fast_den = fastest_correct(rows), fastest_correct(other)
        if fast_num and fast_den and fast_num.latency_ms and fast_den.latency_ms:
            return fast_num.latency_ms / fast_den.latency_ms, fast_num.path, fast_den.path
    return None
