"""The rounds a case timed in the machine's fast speed state, read from the reference's own latencies.

A VM can switch between speed states for a second or more at a time (here: eager's LSTM at batch 1
ran about 210 µs in one state and 400 µs in the other), and a path's ratio to eager moves with the
state (ONNX Runtime's LSTM: 0.54 in the fast state, 0.46 in the slow one): a ratio over all rounds
then depends on how long the run happened to spend in each. Each round's state is read from its
neighbourhood, the median of the reference's latency over the rounds on either side with the round
itself left out, so that a round's own noise cannot select it (no selection bias on its ratio). A
round is in the fast state when its neighbourhood ran within `BAND` of the fastest the case saw.
`counted_rounds` is what a ratio and a latency read: the fast rounds of the processes that have
enough of them, or every round where too few do.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

WINDOW = 5  # rounds on each side: a state lasts hundreds of rounds, a round's noise is its own
BAND = 1.25  # the states here are 1.6-1.9x apart; a state's own drift stays within ±10 %
FLOOR_PERCENTILE = 5.0  # the fastest the case saw, robust to a few lucky neighbourhoods
MIN_ROUNDS = 10  # a process with fewer rounds in the fast state is no unit of the interval


def neighbourhood(log_ms: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """Each round's neighbourhood: the median over `window` rounds on each side, the round itself left out."""
    n = log_ms.size
    if n < 2:
        return log_ms.copy()
    padded = np.concatenate([np.full(window, np.nan), log_ms, np.full(window, np.nan)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * window + 1).copy()
    windows[:, window] = np.nan  # the round itself
    return np.nanmedian(windows, axis=1)


def fast_rounds(reference_ms: Sequence[float], blocks: Sequence[int] | None = None, band: float = BAND) -> np.ndarray:
    """A mask of the rounds timed in the fast state; `blocks`: the rounds of each process, in order (None: one)."""
    log_ms = np.log(np.asarray(reference_ms, dtype=float))
    sizes = list(blocks) if blocks else [log_ms.size]
    if sum(sizes) != log_ms.size:
        raise ValueError(f"blocks add up to {sum(sizes)} rounds, the samples are {log_ms.size}")
    bounds = np.cumsum([0, *sizes])
    speed = np.concatenate([neighbourhood(log_ms[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:])])
    if speed.size == 0:
        return np.zeros(0, dtype=bool)
    return speed <= np.percentile(speed, FLOOR_PERCENTILE) + np.log(band)


def counted_rounds(reference_ms: Sequence[float], blocks: Sequence[int] | None = None) -> np.ndarray:
    """The rounds a serving figure counts: each process's fast rounds where it has `MIN_ROUNDS` of them (a process
    with fewer is no unit); every round where fewer than two processes (one, timed in one) are left."""
    sizes = list(blocks) if blocks else [len(reference_ms)]
    fast = fast_rounds(reference_ms, sizes)
    bounds = np.cumsum([0, *sizes])
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        if fast[lo:hi].sum() < MIN_ROUNDS:
            fast[lo:hi] = False
    units = sum(bool(fast[lo:hi].any()) for lo, hi in zip(bounds[:-1], bounds[1:]))
    return fast if units >= min(2, len(sizes)) else np.ones(fast.size, dtype=bool)
