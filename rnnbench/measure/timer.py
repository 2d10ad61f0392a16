"""Timers: warm-up, adaptive repeats until the median's CI is tight, per-phase timing with CUDA events."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from rnnbench.stats import relative_ci_half_width
from rnnbench.suite.schema import DEFAULT_MAX_REPEATS

Clock = Callable[[], float]  # seconds, monotonic
Sync = Callable[[], None]

# Up to this many samples the stop rule is checked after every sample; beyond it, after
# every n/32 new samples, so the check's sort stays cheap (at most ~3 % extra samples).
_CHECK_EVERY_SAMPLE_UNTIL = 64

# What the stop rule answers when the pilot has found its sample size: throw the pilot away, start again.
RESTART = "restart"


def no_sync() -> None:
    """The sync of a device with nothing queued (the CPU)."""
    return None


@dataclass(frozen=True)
class PaddedClock:
    """A clock whose samples last `factor` times their work (test-only: fakes a regression).

    The end of each sample (and of each host-timed phase) busy-waits inside the timed region until
    it has lasted `factor` times what it measured. Built in one place, from the environment, by the
    process entry points (`rnnbench.run.clock`); the environment record says so (env.test_slowdown).
    """

    factor: float
    read: Callable[[], float] = time.perf_counter

    def __call__(self) -> float:
        return self.read()


def sample_end(clock: Clock, start: float) -> float:
    """The clock read at the end of a sample begun at `start`; a PaddedClock first pads the sample."""
    end = clock()
    if isinstance(clock, PaddedClock) and clock.factor > 1.0:
        target = start + (end - start) * clock.factor
        while end < target:
            end = clock()
    return end


_installed: list[Clock] = [time.perf_counter]  # the process's clock: what a timer given no clock reads


def current_clock() -> Clock:
    """The clock timers read when given none: time.perf_counter unless an entry point installed another."""
    return _installed[-1]


@contextmanager
def using_clock(clock: Clock) -> Iterator[Clock]:
    """Every timer given no clock reads `clock` inside this block (an entry point's padded clock)."""
    _installed.append(clock)
    try:
        yield clock
    finally:
        _installed.pop()


def test_slowdown() -> float | None:
    """The padding factor of the installed clock, None when it pads nothing (recorded in the results)."""
    clock = current_clock()
    return clock.factor if isinstance(clock, PaddedClock) and clock.factor != 1.0 else None


def make_sync(device: torch.device | str) -> Sync:
    """The function that waits for queued device work: torch.cuda.synchronize on CUDA, a no-op on the CPU."""
    device = torch.device(device)
    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    if device.type == "mps":
        return torch.mps.synchronize
    if device.type == "cpu":
        return no_sync
    raise ValueError(f"no synchronization known for device type {device.type!r}")


@dataclass(frozen=True)
class Measurement:
    """Every raw sample of one adaptive timing and why it stopped."""

    samples_ms: list[float]
    converged: bool  # the pilot's 95 % CI reached target_rel_ci and as many fresh samples were taken
    stop_reason: str  # "converged" | "max_seconds" | "max_repeats"
    elapsed_s: float  # the measured block (warm-up excluded, pilot included), by the timer's clock
    warmup: int  # calls thrown away before measuring
    pilot: int = 0  # samples of the pilot that chose the sample size, thrown away (0: no pilot stop)


@dataclass(frozen=True)
class PhaseMeasurement:
    """Per-phase samples of consecutive phases; total_ms[i] spans all phases of iteration i."""

    phases_ms: dict[str, list[float]]
    total_ms: list[float]
    converged: bool
    stop_reason: str
    elapsed_s: float
    warmup: int
    pilot: int = 0


class _StopRule:
    """Decides after each sample whether the adaptive timer has enough: a pilot, then fresh samples.

    Stopping as soon as the median's CI is tight selects samples whose interval is narrow by
    chance: kept, that interval covers the median less often than its level (optional stopping,
    about 93 % for a stated 95 %; benchmarks/stats_audit.py). So the samples that made the
    decision are a pilot: once its CI is within the target after n samples, the rule answers
    RESTART, the caller throws the pilot away, and exactly n fresh samples are taken. Their size
    was fixed before they were drawn, so their interval covers at its stated level
    (`stats.ci_median_coverage`) and is about as tight as the target. A bound (max_seconds,
    max_repeats, both counting the pilot) still ends the fresh stage, never below min_repeats samples.
    """

    def __init__(self, min_repeats: int, max_repeats: int, max_seconds: float, target_rel_ci: float | None) -> None:
        if min_repeats < 1:
            raise ValueError("min_repeats must be >= 1")
        if max_repeats < min_repeats:
            raise ValueError("max_repeats must be >= min_repeats")
        if max_seconds < 0:
            raise ValueError("max_seconds must be >= 0")
        self.min_repeats = min_repeats
        self.max_repeats = max_repeats
        self.max_seconds = max_seconds
        self.target_rel_ci = target_rel_ci or 0.0  # 0 / None: no early stop, run to a bound
        self._next_check = min_repeats
        self.pilot = 0  # > 0: the pilot stopped after this many samples; now taking as many fresh ones

    def is_converged(self, samples: Sequence[float]) -> bool:
        return self.target_rel_ci > 0 and relative_ci_half_width(samples) <= self.target_rel_ci

    def stop_reason(self, samples: Sequence[float], elapsed_s: float) -> str | None:
        n = len(samples)
        if self.pilot:
            if n >= self.pilot:
                return "converged"
            if n >= self.min_repeats and self.pilot + n >= self.max_repeats:
                return "max_repeats"  # the bounds count the pilot too
            if n >= self.min_repeats and elapsed_s >= self.max_seconds:
                return "max_seconds"
            return None
        if n >= self.max_repeats:
            return "max_repeats"
        if n < self.min_repeats:
            return None  # min_repeats wins over max_seconds: a summary needs its samples
        if n >= self._next_check:
            self._next_check = n + max(1, n // 32) if n >= _CHECK_EVERY_SAMPLE_UNTIL else n + 1
            if self.is_converged(samples):
                self.pilot = n
                return RESTART
        if elapsed_s >= self.max_seconds:
            return "max_seconds"
        return None


def time_fn_detailed(
    fn: Callable[[], object],
    *,
    warmup: int = 5,
    min_repeats: int = 10,
    max_repeats: int = DEFAULT_MAX_REPEATS,
    max_seconds: float = 2.0,
    target_rel_ci: float | None = 0.02,
    clock: Clock | None = None,
    sync: Sync = no_sync,
    before_each: Callable[[], object] | None = None,
) -> Measurement:
    """Time `fn` adaptively; each sample is sync(); t0 = clock(); fn(); sync(); clock() - t0, in ms.

    A pilot runs until at least `min_repeats` samples are in and the 95 % CI of the median
    is within +-target_rel_ci of the median; then its n samples are thrown away and n fresh
    ones are kept (see `_StopRule`: the stopped interval would cover less than 95 %). The
    block also ends when it has run `max_seconds` (by `clock`, pilot included) or
    `max_repeats` samples. Warm-up calls are thrown
    away; garbage is collected once before the measured block, never inside it.
    `before_each`, if given, runs untimed before every call (warm-up included).
    `clock`: None reads the installed clock (`current_clock`; a PaddedClock pads every sample).
    """
    clock = clock or current_clock()
    rule = _StopRule(min_repeats, max_repeats, max_seconds, target_rel_ci)
    for _ in range(warmup):
        if before_each is not None:
            before_each()
        fn()
    sync()
    gc.collect()
    samples: list[float] = []
    block_start = clock()
    while True:
        if before_each is not None:
            before_each()
        sync()
        start = clock()
        fn()
        sync()
        end = sample_end(clock, start)
        samples.append((end - start) * 1e3)
        reason = rule.stop_reason(samples, end - block_start)
        if reason == RESTART:
            samples = []  # the pilot chose the sample size; its samples would bias the interval
        elif reason is not None:
            break
    return Measurement(
        samples_ms=samples,
        converged=reason == "converged",
        stop_reason=reason,
        elapsed_s=end - block_start,
        warmup=warmup,
        pilot=rule.pilot,
    )


def time_fn(
    fn: Callable[[], object],
    *,
    warmup: int = 5,
    min_repeats: int = 10,
    max_repeats: int = DEFAULT_MAX_REPEATS,
    max_seconds: float = 2.0,
    target_rel_ci: float | None = 0.02,
    clock: Clock | None = None,
    sync: Sync = no_sync,
    before_each: Callable[[], object] | None = None,
) -> list[float]:
    """The raw samples (ms) of `time_fn_detailed`."""
    return time_fn_detailed(
        fn,
        warmup=warmup,
        min_repeats=min_repeats,
        max_repeats=max_repeats,
        max_seconds=max_seconds,
        target_rel_ci=target_rel_ci,
        clock=clock,
        sync=sync,
        before_each=before_each,
    ).samples_ms


def time_iteration(
    calls: Sequence[Callable[[], object]],
    before_each: Callable[[], object] | None,
    use_events: bool,
    sync: Sync,
    clock: Clock,
) -> list[float]:
    """One timed iteration of consecutive phases, in ms per phase: the one method every phase timer uses.

    `before_each` runs untimed first. On CUDA (`use_events`) a `torch.cuda.Event` is recorded between
    phases and the host synchronizes once, so phases are not serialized by extra syncs. Elsewhere the
    host `clock` is read between phases (`sample_end`: a PaddedClock pads each), with `sync` before
    the first phase and after the last.
    """
    if before_each is not None:
        before_each()
    if use_events:
        events = [torch.cuda.Event(enable_timing=True) for _ in range(len(calls) + 1)]
        events[0].record()
        for call, event in zip(calls, events[1:]):
            call()
            event.record()
        events[-1].synchronize()
        return [first.elapsed_time(second) for first, second in zip(events, events[1:])]
    sync()
    stamps = [clock()]
    for index, call in enumerate(calls):
        call()
        if index == len(calls) - 1:
            sync()
        stamps.append(sample_end(clock, stamps[-1]))
    return [(second - first) * 1e3 for first, second in zip(stamps, stamps[1:])]


def warm_up(calls: Sequence[Callable[[], object]], before_each: Callable[[], object] | None, n: int) -> None:
    """`n` untimed iterations (autotuning, primitive creation, allocator), `before_each` included."""
    for _ in range(n):
        if before_each is not None:
            before_each()
        for call in calls:
            call()


def time_phases(
    phases: Mapping[str, Callable[[], object]],
    *,
    before_each: Callable[[], object] | None = None,
    device: torch.device | str = "cpu",
    warmup: int = 5,
    min_repeats: int = 10,
    max_repeats: int = DEFAULT_MAX_REPEATS,
    max_seconds: float = 2.0,
    target_rel_ci: float | None = 0.02,
    clock: Clock | None = None,
    sync: Sync = no_sync,
) -> PhaseMeasurement:
    """Time consecutive phases of one iteration (e.g. forward, backward, optimizer), adaptively on the total.

    `before_each` runs untimed before every iteration (e.g. zero_grad); each iteration is
    `time_iteration` (CUDA events between phases on CUDA, the host clock elsewhere).
    """
    if not phases:
        raise ValueError("time_phases needs at least one phase")
    clock = clock or current_clock()
    calls = list(phases.values())
    warm_up(calls, before_each, warmup)
    sync()
    gc.collect()
    rule = _StopRule(min_repeats, max_repeats, max_seconds, target_rel_ci)
    use_events = torch.device(device).type == "cuda"
    per_phase, totals, reason, elapsed = _adaptive_phases(
        list(phases), lambda: time_iteration(calls, before_each, use_events, sync, clock), rule, clock
    )
    return PhaseMeasurement(
        phases_ms=per_phase,
        total_ms=totals,
        converged=reason == "converged",
        stop_reason=reason,
        elapsed_s=elapsed,
        warmup=warmup,
        pilot=rule.pilot,
    )


def _adaptive_phases(
    names: list[str], iteration: Callable[[], list[float]], rule: _StopRule, clock: Clock
) -> tuple[dict[str, list[float]], list[float], str, float]:
    """Iterations until `rule` stops on the totals (a pilot's samples thrown away): per phase, totals, why, seconds."""
    per_phase: dict[str, list[float]] = {name: [] for name in names}
    totals: list[float] = []
    block_start = clock()
    while True:
        durations = iteration()
        for name, duration in zip(names, durations):
            per_phase[name].append(duration)
        totals.append(sum(durations))
        elapsed = clock() - block_start
        reason = rule.stop_reason(totals, elapsed)
        if reason == RESTART:  # the pilot chose the sample size; its samples would bias the interval
            per_phase = {name: [] for name in names}
            totals = []
        elif reason is not None:
            return per_phase, totals, reason, elapsed
