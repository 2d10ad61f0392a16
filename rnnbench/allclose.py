"""One value-by-value comparison under numpy.allclose's rule, |new − base| ≤ atol + rtol·|base| (a torch-free leaf).

`ab`'s outputs check (`compare.numerics`) and the serving paths' check against eager (`serve.numerics`)
both judge their outputs with it; each sets its own tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Difference:
    """BASE against NEW over one list of values (a model's outputs, or its loss)."""

    max_abs: float  # largest |NEW - BASE|
    max_rel: float  # largest |NEW - BASE| / |BASE|; inf where BASE is 0 and NEW is not
    beyond: int  # how many values differ by more than atol + rtol * |BASE|
    n: int

    @property
    def changed(self) -> bool:
        return self.beyond > 0


def _gap(base: float, new: float) -> float:
    """|new - base|, with NaN against NaN (and an infinity against the same one) counted as no change."""
    if base == new or (math.isnan(base) and math.isnan(new)):
        return 0.0
    gap = abs(new - base)
    return math.inf if math.isnan(gap) else gap


def difference(base: Sequence[float], new: Sequence[float], atol: float, rtol: float) -> Difference:
    """Value by value; the two sequences must have one length (a shape change is the caller's to report)."""
    if len(base) != len(new):
        raise ValueError(f"{len(base)} BASE values against {len(new)} NEW values")
    max_abs = max_rel = 0.0
    beyond = 0
    for b, n in zip(base, new):
        gap = _gap(b, n)
        if gap == 0.0:
            continue
        scale = abs(b) if math.isfinite(b) else 0.0
        max_abs = max(max_abs, gap)
        max_rel = max(max_rel, gap / scale if scale else math.inf)
        if gap > atol + rtol * scale:
            beyond += 1
    return Difference(max_abs, max_rel, beyond, len(base))
