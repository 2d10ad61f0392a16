"""The clock a process times with, built in one place from the environment by each process entry point.

Test-only knob: RNNBENCH_TEST_SLOWDOWN=1.2 makes it a `PaddedClock` that pads every host-timed sample
(and CPU phase) with a busy-wait of 0.2x its measured duration, inside the timed region, to fake a 20 %
regression for testing `rnnbench compare` and `ab`. The entry points (the CLI's run, a local worker, a
timing process, an `ab` worker, a Ray task) install it with `measure.timer.using_clock`; the results'
environment records it (env.test_slowdown), so a padded run is never taken for a real one.
"""

from __future__ import annotations

import os
import time

from rnnbench.measure.timer import Clock, PaddedClock

SLOWDOWN_ENV = "RNNBENCH_TEST_SLOWDOWN"


def slowdown_factor() -> float:
    """The padding factor from RNNBENCH_TEST_SLOWDOWN (1.0 when unset); ValueError unless a number >= 1."""
    raw = os.environ.get(SLOWDOWN_ENV, "").strip()
    try:
        factor = float(raw or 1.0)
    except ValueError:
        factor = 0.0
    if not 1.0 <= factor < float("inf"):
        raise ValueError(f"{SLOWDOWN_ENV}={raw!r}: must be a number >= 1 (e.g. 1.2 for 20 % slower)")
    return factor


def clock_from_env() -> Clock:
    """time.perf_counter, or a PaddedClock when the knob is set; ValueError for a bad value."""
    factor = slowdown_factor()
    return time.perf_counter if factor == 1.0 else PaddedClock(factor)
