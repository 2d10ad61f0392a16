"""A served case's paths timed in several fresh processes, one after another: the process is the unit of each ratio.

A process carries a bias of its own, on a path and on eager alike (eager's LSTM at batch 1 ran
258–432 µs over 8 fresh processes here): rounds inside the case's one process cannot see it, so a
repeat run's ratio lands outside their interval. With `timing.processes: k >= 2` the paths are
prepared and checked once, in the case's process; each timing process then rebuilds the ok paths
cheaply from a job file (the trained weights, ONNX Runtime's exported graph: no second export;
TorchScript, int8 and compile re-made, as its preparation) and times them with eager for 1/k of the
budget, in `TURNS` turns taken in rotation. The processes are kept from case to case (a fresh one
costs seconds: torch's import, compile's first compile); all of them prepare before the first times, so nothing else of the run computes
while one times. A timing process that fails or dies: the case is timed in its own process
instead, with a note (`serving.timing_note`), and the processes are started afresh for the next.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from rnnbench.measure.allocator import steady_env
from rnnbench.results.events import EventFn
from rnnbench.run.timing_processes import READY_TIMEOUT_S, TimingProcessError, answer
from rnnbench.run.worker_process import WorkerProcess, child_env, python_module, stop_all
from rnnbench.serve.timing import TimedPaths, Timer, TimingRequest, time_in_process
from rnnbench.suite.schema import Case

CHILD_MODULE = "rnnbench.run.serve_child"
# Each process times in TURNS turns, the processes in rotation: the VM's speed state changes every second or so, and a
# process that timed once, all in one state, would carry that state as if it were its own bias.
TURNS = 4
STARTED_ENV = "RNNBENCH_SERVE_STARTED"  # the parent's wall clock at start: the child reports its start-to-ready cost


@dataclass(frozen=True)
class ServingJob:
    """What a timing process rebuilds the ok paths from (written once per case, loaded by each process)."""

    case: Case
    state: dict[str, Tensor]  # the served module's trained weights
    names: list[str]  # the ok paths, eager first
    graph: bytes | None  # ONNX Runtime's exported graph, when it is among them
    inputs: dict[int, Tensor]
    example: Tensor  # what TorchScript traces at (the case's own example)
    loops_over_time: bool
    threads: int


def serving_timer(processes: int, on_event: EventFn) -> Timer:
    """The `Timer` a case's serving uses: in this process for 1, else in `processes` fresh ones (in-process if they fail)."""
    if processes < 2:
        return time_in_process

    def timer(request: TimingRequest) -> TimedPaths:
        try:
            return time_in_processes(request, processes, on_event)
        except Exception as err:  # any failure of the timing processes: time here, never lose the case
            timed = time_in_process(request)
            first = (
                f"{type(err).__name__}: {err}".splitlines()[0] if not isinstance(err, TimingProcessError) else str(err)
            )
            timed.note = f"timed in the case's process: the timing processes failed ({first})"
            return timed

    return timer


def write_job(request: TimingRequest, folder: str) -> Path:
    served = request.ready.get("onnxruntime")
    job = ServingJob(
        case=request.case,
        state={k: v.detach().cpu() for k, v in request.model.state_dict().items()},
        names=list(request.ready),
        graph=served.graph if served is not None else None,
        inputs=request.inputs,
        example=request.ctx.example,
        loops_over_time=request.ctx.loops_over_time,
        threads=request.ctx.threads,
    )
    path = Path(folder) / "serving-job.pt"
    torch.save(job, path)
    return path


# The timing processes, kept between cases: a fresh process costs about 7 s before it is ready on the 2-core VM
# (importing torch, then torch.compile's first compile), a warm one about 1 s for the next case's paths.
_POOL: dict[int, WorkerProcess] = {}


def _member(k: int) -> WorkerProcess:
    """Timing process k of the pool, started when it has none or it has ended."""
    process = _POOL.get(k)
    if process is None or not process.alive():
        if process is not None:
            process.stop()  # reaped, so no ended process is left among the live workers
        threads = torch.get_num_threads()
        env = {**steady_env(), "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
        env[STARTED_ENV] = repr(time.time())
        process = WorkerProcess(f"serving timing process {k + 1}", python_module(CHILD_MODULE), env=child_env(env))
        _POOL[k] = process
    return process


def close_pool() -> None:
    """Stop every serving timing process (after a failure, and at the end of a run)."""
    stop_all(list(_POOL.values()))
    _POOL.clear()


def time_in_processes(request: TimingRequest, processes: int, on_event: EventFn) -> TimedPaths:
    """The ok paths timed in `processes` timing processes, one after another, each for 1/processes of the budget.

    Every process prepares the case's paths at once (the first case: each starts, too), and the first
    timing begins only when all are ready: nothing else of this run computes while a process times.
    """
    timing, sizes = request.case.settings.timing, len(request.inputs)
    budget_s = 120.0 + 2 * timing.max_seconds * len(request.ready) * sizes  # its share, warm-ups and slack
    with tempfile.TemporaryDirectory(prefix="rnnbench-serve-") as folder:
        job = ("prepare", str(write_job(request, folder)))
        try:
            on_event({"kind": "phase", "phase": f"serving: preparing {processes} timing processes"})
            members = [_member(k) for k in range(processes)]  # taken once: one that dies now is a failure
            for member in members:
                member.send(job)
            ready_ms = [answer(member, READY_TIMEOUT_S, "it to prepare its paths") for member in members]
            turns: list[list[TimedPaths]] = [[] for _ in members]
            for turn in range(TURNS):  # the processes take turns, so each one times at several moments of the case
                for k, member in enumerate(members):
                    phase = f"serving: timing process {k + 1} of {processes}, turn {turn + 1} of {TURNS}"
                    on_event({"kind": "phase", "phase": phase})
                    member.send(("time", 1.0 / (processes * TURNS), k + processes * turn, TURNS))
                    turns[k].append(answer(member, budget_s, "its timings"))
            for member in members:
                member.send(("release",))  # the case's paths go: the next case brings its own
            parts = [join_turns(own, list(request.ready), ready_ms[k]) for k, own in enumerate(turns)]
        except BaseException:
            close_pool()  # a failure or an interrupt: no timing process is left in an unknown state
            raise
    return merge_parts(parts, list(request.ready))


def join_turns(turns: list[TimedPaths], names: list[str], ready_ms: float) -> TimedPaths:
    """One process's turns as one block: its samples in time order, its rounds summed."""
    joined = merge_parts(turns, names)
    return TimedPaths(joined.samples, {s: [sum(r)] for s, r in joined.rounds.items()}, [ready_ms])


def merge_parts(parts: list[TimedPaths], names: list[str]) -> TimedPaths:
    """Every process's samples in process order, the rounds of each process, their start-to-ready costs."""
    sizes = list(parts[0].samples)
    for part in parts:
        if list(part.samples) != sizes or any(set(part.samples[s]) != set(names) for s in sizes):
            raise TimingProcessError("a serving timing process timed other paths or sizes than asked")
    samples = {s: {n: [x for part in parts for x in part.samples[s][n]] for n in names} for s in sizes}
    rounds = {s: [r for part in parts for r in part.rounds[s]] for s in sizes}
    return TimedPaths(samples, rounds, [ms for part in parts for ms in part.ready_ms])


def started_at() -> float | None:
    """The parent's wall clock when it started this child (`STARTED_ENV`), or None."""
    raw: Any = os.environ.get(STARTED_ENV)
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None
