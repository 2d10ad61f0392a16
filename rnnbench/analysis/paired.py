"""Paired ratios read out of a results document: cases timed interleaved in one group, round by round."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from rnnbench import stats
from rnnbench.results.records import CaseJson, ResultsJson


def _samples(case: CaseJson, metric: tuple[str, ...]) -> list[float] | None:
    """The raw samples at a timing's path in the case: ("train", "step_ms"), ("inference", "b1", "latency_ms") …"""
    node: object = case
    for key in metric:
        node = node.get(key) if isinstance(node, dict) else None
    samples: list[float] | None = node.get("samples") if isinstance(node, dict) else None
    return samples


def _timed(cases: Iterable[CaseJson]) -> dict[str, CaseJson]:
    """Representatives only (a seed that shares another's samples would count them twice), by group."""
    out: dict[str, CaseJson] = {}
    for case in cases:
        paired = case.get("paired")
        if case.get("status") in ("ok", "diverged") and paired and paired.get("timed_as") == case.get("id"):
            out.setdefault(paired["group"], case)
    return out


def _blocks_key(metric: tuple[str, ...]) -> str | None:
    """The `paired.rounds` / `paired.blocks` key of a metric path: train step (and phases) or b<size>."""
    if metric[:1] == ("train",):
        return "train_step"
    return metric[1] if metric[:1] == ("inference",) and len(metric) > 1 else None


def paired_log_ratio_blocks(
    num_cases: Iterable[CaseJson],
    den_cases: Iterable[CaseJson],
    metric: tuple[str, ...] = ("train", "step_ms"),
) -> list[list[list[float]]]:
    """Per timing group that holds both sides, per process it was timed in, the per-round log(num/den).

    A group timed in one process (`timing.processes: 1`, or a file written before processes) is
    one block; `paired.blocks` gives the rounds of each process where there were several.
    """
    num, den = _timed(num_cases), _timed(den_cases)
    out: list[list[list[float]]] = []
    for group in sorted(set(num) & set(den)):
        a, b = _samples(num[group], metric), _samples(den[group], metric)
        if not (a and b and len(a) == len(b)):
            continue
        d = [float(x) for x in stats.paired_log_ratios(b, a)]
        key = _blocks_key(metric)
        paired = num[group].get("paired")
        sizes = ((paired.get("blocks") if paired else None) or {}).get(key) if key else None
        if not sizes or sum(sizes) != len(d):
            sizes = [len(d)]
        starts = np.cumsum([0, *sizes])
        out.append([d[lo:hi] for lo, hi in zip(starts[:-1], starts[1:])])
    return out


def paired_log_ratios(
    num_cases: Iterable[CaseJson],
    den_cases: Iterable[CaseJson],
    metric: tuple[str, ...] = ("train", "step_ms"),
) -> list[float]:
    """Per-round log(num/den), pooled over every timing group (and process) that holds both sides."""
    return [x for group in paired_log_ratio_blocks(num_cases, den_cases, metric) for block in group for x in block]


@dataclass(frozen=True)
class PairedRatio:
    """A within-run ratio num/den with its interval; `processes` > 0 when the process was its unit."""

    ratio: float
    low: float
    high: float
    p: float
    rounds: int
    processes: int = 0  # 0: rounds of one process per group (the interval sees no process bias)

    def describe(self) -> str:
        if self.processes:
            return f"{self.processes} processes, {self.rounds} paired rounds"
        return f"{self.rounds} paired rounds in one process per group"


def paired_ratio_of(
    num_cases: Iterable[CaseJson],
    den_cases: Iterable[CaseJson],
    metric: tuple[str, ...] = ("train", "step_ms"),
    confidence: float = 0.95,
) -> PairedRatio | None:
    """The paired ratio of two sets of cases, or None when no group timed them together.

    When every group was timed in two or more processes, each process's median log-ratio is one
    unit (`stats.process_ratio_ci`: median and sign test over processes), so the interval holds
    the process-to-process spread a repeat run shows; otherwise the rounds are pooled
    (`stats.paired_ratio_ci`), an interval for this process's ratio only.
    """
    groups = paired_log_ratio_blocks(num_cases, den_cases, metric)
    if not groups:
        return None
    rounds = sum(len(block) for group in groups for block in group)
    if all(len(group) >= 2 for group in groups):
        blocks = [block for group in groups for block in group]
        ratio, low, high, p = stats.process_ratio_ci(blocks, confidence)
        return PairedRatio(ratio, low, high, p, rounds, len(blocks))
    ratio, low, high, p, n = ratio_of_log_ratios([x for g in groups for b in g for x in b], confidence)
    return PairedRatio(ratio, low, high, p, n)


def paired_ratio(
    doc: ResultsJson, num_id: str, den_id: str, metric: tuple[str, ...] = ("train", "step_ms"), confidence=0.95
) -> tuple[float, float, float, float, int] | None:
    """(ratio, low, high, p, rounds) of case num_id over den_id, or None when they were not timed together."""
    by_id = {c.get("id"): c for c in doc.get("cases", [])}
    num, den = by_id.get(num_id), by_id.get(den_id)
    if num is None or den is None:
        return None
    # a seed's record names its representative: read the representatives' samples
    num, den = _representative(num, by_id), _representative(den, by_id)
    found = paired_ratio_of([num], [den], metric, confidence)
    return None if found is None else (found.ratio, found.low, found.high, found.p, found.rounds)


def _representative(case: CaseJson, by_id: dict[str, CaseJson]) -> CaseJson:
    paired = case.get("paired")
    timed_as = paired.get("timed_as") if paired else None
    return by_id[timed_as] if timed_as in by_id else case


def ratio_of_log_ratios(d: list[float], confidence: float = 0.95) -> tuple[float, float, float, float, int]:
    """(ratio, low, high, p, n) from per-round log-ratios: see stats.paired_ratio_ci."""
    ratio, low, high, p = stats.paired_ratio_ci([1.0] * len(d), np.exp(np.asarray(d)).tolist(), confidence)
    return ratio, low, high, p, len(d)
