"""Paired ratios read out of a results document: cases timed interleaved in one group, round by round."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from rnnbench import stats


def _samples(case: dict[str, Any], metric: tuple[str, ...]) -> list[float] | None:
    node: Any = case
    for key in metric:
        node = node.get(key) if isinstance(node, dict) else None
    return node.get("samples") if isinstance(node, dict) else None


def _timed(cases: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Representatives only (a seed that shares another's samples would count them twice), by group."""
    out: dict[str, dict[str, Any]] = {}
    for case in cases:
        paired = case.get("paired")
        if case.get("status") in ("ok", "diverged") and paired and paired.get("timed_as") == case.get("id"):
            out.setdefault(paired["group"], case)
    return out


def paired_log_ratios(
    num_cases: Iterable[dict[str, Any]],
    den_cases: Iterable[dict[str, Any]],
    metric: tuple[str, ...] = ("train", "step_ms"),
) -> list[float]:
    """Per-round log(num/den), pooled over every timing group that holds both sides."""
    num, den = _timed(num_cases), _timed(den_cases)
    out: list[float] = []
    for group in sorted(set(num) & set(den)):
        a, b = _samples(num[group], metric), _samples(den[group], metric)
        if a and b and len(a) == len(b):
            out.extend(float(x) for x in stats.paired_log_ratios(b, a))
    return out


def paired_ratio(
    doc: dict[str, Any], num_id: str, den_id: str, metric: tuple[str, ...] = ("train", "step_ms"), confidence=0.95
) -> tuple[float, float, float, float, int] | None:
    """(ratio, low, high, p, rounds) of case num_id over den_id, or None when they were not timed together."""
    by_id = {c.get("id"): c for c in doc.get("cases", [])}
    num, den = by_id.get(num_id), by_id.get(den_id)
    if num is None or den is None:
        return None
    ids = {c.get("id") for c in doc.get("cases", [])}
    # a seed's record names its representative: read the representatives' samples
    num = (
        by_id.get((num.get("paired") or {}).get("timed_as"), num)
        if (num.get("paired") or {}).get("timed_as") in ids
        else num
    )
    den = (
        by_id.get((den.get("paired") or {}).get("timed_as"), den)
        if (den.get("paired") or {}).get("timed_as") in ids
        else den
    )
    d = paired_log_ratios([num], [den], metric)
    return None if not d else ratio_of_log_ratios(d, confidence)


def ratio_of_log_ratios(d: list[float], confidence: float = 0.95) -> tuple[float, float, float, float, int]:
    """(ratio, low, high, p, n) from per-round log-ratios: see stats.paired_ratio_ci."""
    ratio, low, high, p = stats.paired_ratio_ci([1.0] * len(d), np.exp(np.asarray(d)).tolist(), confidence)
    return ratio, low, high, p, len(d)
