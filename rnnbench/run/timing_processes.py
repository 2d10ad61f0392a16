"""A timing group timed in several fresh processes, one after another: the process is the unit of its ratio intervals.

A process carries a bias of its own (its heap and allocator state, where its buffers land): one
fused LSTM step can run markedly slower in one process than in the next, beside an unchanged GRU.
Rounds inside one process cannot see that bias, so their interval is too narrow to cover a repeat
run (measurements: docs/evidence/paired-timing.md). With `timing.processes: k >= 2` each process times the whole
group for 1/k of its budget; the records keep every sample, in process order, with the rounds
of each process (`paired.blocks`), and `analysis.paired` reads one median per process.
"""

from __future__ import annotations

from typing import Any

from rnnbench.cores import available_cores
from rnnbench.measure.allocator import steady_env
from rnnbench.results.events import EventFn
from rnnbench.results.records import InferenceJson
from rnnbench.run.group_timing import inference_block
from rnnbench.run.parts import PairedBlock, SpeedBlock
from rnnbench.run.worker_process import WorkerError, WorkerProcess, child_env, python_module, stop_all
from rnnbench.stats import summarize
from rnnbench.suite.schema import Case

CHILD_MODULE = "rnnbench.run.timing_child"
READY_TIMEOUT_S = 300.0  # importing torch on a loaded machine; a child silent this long has hung


class TimingProcessError(RuntimeError):
    """A timing process that failed or died; the group then falls back to timing each case alone."""


def _start(k: int, threads: int) -> WorkerProcess:
    # steady malloc from the first allocation on: every timing process allocates alike (measure/allocator.py)
    env = child_env({**steady_env(), "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)})
    return WorkerProcess(f"timing process {k + 1}", python_module(CHILD_MODULE), env=env)


def answer(process: WorkerProcess, timeout: float, waiting_for: str) -> Any:
    try:
        kind, payload = process.receive(timeout, waiting_for)
    except WorkerError as err:
        raise TimingProcessError(str(err)) from None
    if kind == "error":
        raise TimingProcessError(f"{process.name}: {payload}")
    return payload


def time_group_in_processes(cases: list[Case], processes: int, on_event: EventFn) -> dict[str, SpeedBlock]:
    """`group_timing.time_group`'s result, measured in `processes` fresh processes, one timing at a time.

    While one process times, the next one starts (imports torch) where a core is left over, so the
    start-up is hidden; with a single core (a one-core worker) each starts only after the last.
    """
    import torch

    threads = torch.get_num_threads()
    spare_core = len(available_cores()) > threads
    share = 1.0 / processes
    # a timing may take its whole budget (the group's seconds, this process's share) plus warm-ups
    budget_s = 120.0 + cases[0].settings.timing.max_seconds * len(cases) * (
        1 + len(cases[0].settings.inference.batch_sizes)
    )
    parts: list[dict[str, SpeedBlock]] = []
    started: list[WorkerProcess] = []
    try:
        nxt: WorkerProcess | None = _start(0, threads)
        started.append(nxt)
        for k in range(processes):
            current = nxt if nxt is not None else _start(k, threads)
            if current not in started:
                started.append(current)
            nxt = None
            on_event({"kind": "phase", "phase": f"timing process {k + 1} of {processes}"})
            answer(current, READY_TIMEOUT_S, "it to import torch")
            current.send(("time", cases, share, threads))  # only now: two processes never time at once
            if spare_core and k + 1 < processes:
                nxt = _start(k + 1, threads)
                started.append(nxt)
            parts.append(answer(current, budget_s, "its timings"))
            current.stop()
    finally:
        stop_all(started)  # on an interrupt or a failure too: no timing process outlives its parent
    return merge_processes(parts)


def merge_processes(parts: list[dict[str, SpeedBlock]]) -> dict[str, SpeedBlock]:
    """One speed block per case id: every process's samples in order, summaries of them all, rounds per process."""
    out: dict[str, SpeedBlock] = {}
    for case_id, first in parts[0].items():
        blocks = [part[case_id] for part in parts]
        step = [x for b in blocks for x in b["train_timing"]["step_ms"]["samples"]]
        phases = {
            name: summarize([x for b in blocks for x in b["train_timing"]["phases_ms"][name]["samples"]])
            for name in first["train_timing"]["phases_ms"]
        }
        inference: dict[str, InferenceJson] = {}
        for size_key in first["inference"]:  # keyed "b<batch size>"
            samples = [x for b in blocks for x in b["inference"][size_key]["latency_ms"]["samples"]]
            inference[size_key] = inference_block(samples, int(size_key[1:]))
        per_process = {key: [b["paired"]["rounds"][key] for b in blocks] for key in first["paired"]["rounds"]}
        paired: PairedBlock = {
            **first["paired"],
            "rounds": {key: sum(counts) for key, counts in per_process.items()},
            "processes": len(parts),
            "blocks": per_process,
        }
        out[case_id] = {
            **first,
            "train_timing": {"step_ms": summarize(step), "phases_ms": phases},
            "inference": inference,
            "paired": paired,
        }
    return out
