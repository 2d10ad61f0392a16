"""Interleaved timing: a group's entries take turns, one sample each per round, so drift hits them all alike."""

from __future__ import annotations

import gc
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import torch

from rnnbench.measure.timer import Clock, Sync, current_clock, no_sync, time_iteration, warm_up
from rnnbench.suite.schema import DEFAULT_MAX_REPEATS


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


def iterate(entry: Entry, use_events: bool, sync: Sync, clock: Clock) -> list[float]:
    """One timed iteration of an entry's phases, in ms per phase (`timer.time_iteration`, as every timer)."""
    return time_iteration(list(entry.phases.values()), entry.before_each, use_events, sync, clock)


def time_interleaved(
    entries: Mapping[str, Entry],
    *,
    device: torch.device | str = "cpu",
    warmup: int = 5,
    min_repeats: int = 10,
    max_repeats: int = DEFAULT_MAX_REPEATS,
    max_seconds: float = 2.0,
    clock: Clock | None = None,
    sync: Sync = no_sync,
    seed: int = 0,
) -> Interleaved:
    """Time every entry in rounds (see `round_orders`) until `max_seconds` for the whole block or
    `max_repeats` rounds, never fewer than `min_repeats`. No early stop on a tight CI: the paired
    ratios gain from every round, and the budget is the group's, not one entry's."""
    if not entries:
        raise ValueError("time_interleaved needs at least one entry")
    names = list(entries)
    clock = clock or current_clock()
    use_events = torch.device(device).type == "cuda"
    for _ in range(warmup):
        for name in names:
            warm_up(list(entries[name].phases.values()), entries[name].before_each, 1)
    sync()
    gc.collect()
    phases: dict[str, dict[str, list[float]]] = {name: {phase: [] for phase in entries[name].phases} for name in names}
    totals: dict[str, list[float]] = {name: [] for name in names}
    orders: list[list[str]] = []
    schedule: Iterator[list[str]] = iter(())
    block_start = clock()
    reason = "max_repeats"
    while True:
        if not orders or len(orders) % 64 == 0:
            schedule = iter(round_orders(names, 64, seed + len(orders)))
        order = next(schedule)
        orders.append(order)
        for name in order:
            durations = iterate(entries[name], use_events, sync, clock)
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
