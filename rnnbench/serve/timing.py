"""A served case's ok paths timed with eager in rounds, in this process or (through a `Timer`) in fresh ones.

The timing is the last step of serving (rnnbench/serve/case.py): preparation and the checks happen
once, in the case's process; what is timed is handed to a `Timer` as a `TimingRequest`. The default
times in this process; `run.serve_processes` times in `timing.processes` fresh processes, each for
its share of the budget, and returns the samples of all of them in process order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from rnnbench.measure.paired import Entry, time_interleaved
from rnnbench.measure.timer import make_sync
from rnnbench.serve.onnx_path import session_from_graph
from rnnbench.serve.paths import PathContext, Served, prepare_path
from rnnbench.suite.schema import Case

PROCESS_SEED_STRIDE = 7919  # each process draws its own round orders


@dataclass(frozen=True)
class TimingRequest:
    """What is timed: the ok paths (eager among them), prepared, and the inputs at each batch size."""

    case: Case
    model: nn.Module  # the served module (eager), trained, in eval mode
    ready: dict[str, Served]
    inputs: dict[int, Tensor]
    ctx: PathContext


@dataclass
class TimedPaths:
    """Per batch size, every path's samples (round i of each path from one round) and the rounds of each process."""

    samples: dict[int, dict[str, list[float]]]
    rounds: dict[int, list[int]]  # one count per process, in the order the samples are
    ready_ms: list[float] = field(default_factory=list)  # each timing process's start-to-ready cost (none in-process)
    note: str | None = None  # why the timing ran otherwise than asked (a timing process failed: in-process instead)


Timer = Callable[[TimingRequest], TimedPaths]


def time_ready(
    ready: dict[str, Served],
    case: Case,
    inputs: dict[int, Tensor],
    device: torch.device,
    share: float = 1.0,
    index: int = 0,
    turns: int = 1,
) -> TimedPaths:
    """Every ready path timed interleaved at each batch size, one sample each per round, for `share` of the budget.

    `turns`: how many turns this process times the case in; each turn takes its part of the minimum rounds.
    """
    timing = case.settings.timing
    min_repeats = -(-timing.min_repeats // turns)  # over its turns, a process still times at least min_repeats
    samples: dict[int, dict[str, list[float]]] = {}
    rounds: dict[int, list[int]] = {}
    for size, x in inputs.items() if ready else ():  # nothing prepared, nothing to time
        entries = {name: Entry({"forward": served.bind(x)}) for name, served in ready.items()}
        with torch.inference_mode():
            block = time_interleaved(
                entries,
                device=device,
                sync=make_sync(device),
                seed=size + PROCESS_SEED_STRIDE * index,
                warmup=timing.warmup,
                min_repeats=min_repeats,
                max_repeats=max(min_repeats, round(timing.max_repeats * share)),
                max_seconds=timing.max_seconds * len(entries) * share,  # the paths' budget, as a timing group's
            )
        samples[size], rounds[size] = block.total_ms, [block.rounds]
    return TimedPaths(samples, rounds)


def time_in_process(request: TimingRequest) -> TimedPaths:
    """The default `Timer`: this process, the whole budget."""
    return time_ready(request.ready, request.case, request.inputs, request.ctx.device)


def remake_path(name: str, ctx: PathContext, graph: bytes | None) -> Served:
    """A path made again in a timing process: ONNX Runtime's session on the graph exported once, the rest re-prepared."""
    if name == "onnxruntime" and graph is not None:
        call, bind, details = session_from_graph(graph, ctx.device, ctx.threads)
        return Served(call, bind, details, graph)
    return prepare_path(name, ctx)
