"""Cores: which this process may use, how to split them between workers, and pinning a process onto some.

A leaf (no rnnbench imports): the executors, `rnnbench ab` and the environment record all ask here.
"""

from __future__ import annotations

import os
from pathlib import Path


def available_cores() -> list[int]:
    """The cores this process may run on (every core where the platform cannot say)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return list(range(os.cpu_count() or 1))


def split_cores(cores: list[int], n: int) -> list[list[int]]:
    """n contiguous, disjoint slices of `cores`, as equal as they can be."""
    base, extra = divmod(len(cores), n)
    out, start = [], 0
    for i in range(n):
        size = base + (1 if i < extra else 0)
        out.append(cores[start : start + size])
        start += size
    return out


def core_slots(threads: int | None, cores: list[int] | None = None) -> list[list[int]]:
    """Disjoint slices of `threads` cores each (one slice, every core, when threads is unset or too many).

    Both workers of an `ab` pair are timed on one slot: they take turns, so they never compete for it,
    and neither side gets a faster core than the other. A second slot lets the next pair import torch
    and warm up meanwhile, which takes as long as timing a pair does.
    """
    cores = available_cores() if cores is None else cores
    if not threads or threads * 2 > len(cores):
        return [cores]
    return [cores[i : i + threads] for i in range(0, len(cores) - threads + 1, threads)]


def pin_self(cores: list[int]) -> None:
    """This process onto `cores` (before it starts threads: they inherit it); best effort, as `pin`."""
    if cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cores)


def pin(pid: int, cores: list[int]) -> None:
    """Every thread of process `pid` onto `cores` (the threads a library already started included).

    Best effort: where the platform has no affinity call (macOS, Windows) the worker stays where it is.
    """
    if not hasattr(os, "sched_setaffinity"):
        return
    tasks = Path(f"/proc/{pid}/task")
    tids = [int(t.name) for t in tasks.iterdir()] if tasks.is_dir() else [pid]
    for tid in tids:
        try:
            os.sched_setaffinity(tid, cores)
        except OSError:  # the thread ended meanwhile
            pass
