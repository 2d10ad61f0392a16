"""Interleaved timing: a group's entries take turns, one sample each per round, so drift hits them all alike."""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch

from rnnbench.measure.timer import Clock, Sync, _no_sync, _padded_end, slowdown_factor


@dataclass(frozen=True)
class Entry:
    """One thing to time: consecutive phases of an iteration, with an untimed `before_each` (e.g. zero_grad)."""

    phases: Mapping[str, Callable[[], object]]
    before_each: Callable[[], object] | None = None


@dataclass(frozen=True)
class Interleaved:
    """Per entry, per phase, one sample per round; index i of every list belongs to round i."""

    phases_ms: dict[str, dict[str, list[float]]]
    total_ms: dict[str, list[float]]
    rounds: int
    stop_reason: str  # "max_seconds" | "max_repeats"
    elapsed_s: float
    warmup: int
    orders: list[list[str]] = field(default_factory=list)


def round_orders(names: list[str], n_rounds: int, seed: int = 0) -> list[list[str]]:
    """The order of each round: A B, B A, … for two; for more, a shuffle then its reverse, so every
    pair of entries runs in both orders within two rounds and no entry always goes first."""
    rng = random.Random(seed)
    orders: list[list[str]] = []
    while len(orders) < n_rounds:
        order = list(names)
        if len(names) > 2:
            rng.shuffle(order)
        orders.append(order)
        orders.append(order[::-1])
    return orders[:n_rounds]


def _iteration(entry: Entry, use_events: bool, sync: Sync, clock: Clock, factor: float) -> list[float]:
    """One timed iteration of an entry's phases, in ms per phase (same method as timer.time_phases)."""
    calls = list(entry.phases.values())
    if entry.before_each is not None:
        entry.before_each()
    if use_events:
        events = [torch.cuda.Event(enable_timing=True) for _ in range(len(calls) + 1)]
        events[0].record()
        for call, event in zip(calls, events[1:]):
            call()
            event.record()
        events[-1].synchronize()
        return [a.elapsed_time(b) for a, b in zip(events, events[1:])]
    sync()
    stamps = [clock()]
    for index, call in enumerate(calls):
        call()
        if index == len(calls) - 1:
            sync()
        stamps.append(_padded_end(stamps[-1], clock(), factor, clock))
    return [(b - a) * 1e3 for a, b in zip(stamps, stamps[1:])]


def time_interleaved(
    entries: Mapping[str, Entry],
    *,
    device: torch.device | str = "cpu",
    warmup: int = 5,
    min_repeats: int = 10,
    max_repeats: int = 10_000,
    max_seconds: float = 2.0,
    clock: Clock = time.perf_counter,
    sync: Sync = _no_sync,
    seed: int = 0,
    slowdown: float | None = None,
) -> Interleaved:
    """Time every entry in rounds (see `round_orders`) until `max_seconds` for the whole block or
    `max_repeats` rounds, never fewer than `min_repeats`. No early stop on a tight CI: the paired
    ratios gain from every round, and the budget is the group's, not one entry's."""
    if not entries:
        raise ValueError("time_interleaved needs at least one entry")
    names = list(entries)
    factor = slowdown_factor() if slowdown is None else slowdown
    use_events = torch.device(device).type == "cuda"
    for _ in range(warmup):
        for name in names:
            entry = entries[name]
            if entry.before_each is not None:
                entry.before_each()
            for call in entry.phases.values():
                call()
    sync()
    gc.collect()
    phases = {name: {phase: [] for phase in entries[name].phases} for name in names}
    totals: dict[str, list[float]] = {name: [] for name in names}
    orders: list[list[str]] = []
    schedule = iter(())
    block_start = clock()
    reason = "max_repeats"
    while True:
        if not orders or len(orders) % 64 == 0:
            schedule = iter(round_orders(names, 64, seed + len(orders)))
        order = next(schedule)
        orders.append(order)
        for name in order:
            durations = _iteration(entries[name], use_events, sync, clock, factor)
            for phase, duration in zip(entries[name].phases, durations):
                phases[name][phase].append(duration)
            totals[name].append(sum(durations))
        n, elapsed = len(orders), clock() - block_start
        if n >= max_repeats:
            reason = "max_repeats"
            break
        if n >= min_repeats and elapsed >= max_seconds:
            reason = "max_seconds"
            break
    return Interleaved(phases, totals, len(orders), reason, clock() - block_start, warmup, orders)
