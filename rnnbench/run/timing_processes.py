"""A timing group timed in several fresh processes, one after another: the process is the unit of its ratio intervals.

A process carries a bias of its own (its heap and allocator state, where its buffers land): on
the 2-core VM one fused LSTM step read 6.7 ms in one process and 9.2 ms in the next, beside an
unchanged GRU. Rounds inside one process cannot see that bias, so their interval is too narrow
for a repeat run (13 of 20 covered). With `timing.processes: k >= 2` each process times the whole
group for 1/k of its budget; the records keep every sample, in process order, with the rounds
of each process (`paired.blocks`), and `analysis.paired` reads one median per process.
"""

from __future__ import annotations

import multiprocessing
import signal
from typing import Any

from rnnbench.measure.allocator import steady_malloc
from rnnbench.run.executors.local import available_cores
from rnnbench.run.group_timing import EventFn, inference_block
from rnnbench.stats import summarize
from rnnbench.suite.schema import Case

JOIN_GRACE_S = 5.0


class TimingProcessError(RuntimeError):
    """A timing process that failed or died; the group then falls back to timing each case alone."""


def _child(conn: Any, cases: list[Case], share: float, threads: int) -> None:
    # Ctrl-C reaches the whole process group; the parent alone decides what an interrupt means.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    steady_malloc()  # before any model or buffer is allocated: every timing process allocates alike
    import torch

    from rnnbench.run.group_timing import time_group
    from rnnbench.run.runner import _with_dtype, build_case_model

    torch.set_num_threads(threads)
    conn.send(("ready", None))  # imported: the parent says when to time, so two never time at once
    if conn.recv() != "go":
        return
    try:
        conn.send(("ok", time_group(cases, lambda _: None, build_case_model, _with_dtype, share)))
    except Exception as err:  # the parent raises it as one line
        conn.send(("error", f"{type(err).__name__}: {err}".splitlines()[0]))


class _TimingProcess:
    """One spawned child that imports, reports ready, and times the group when told to."""

    def __init__(self, ctx: Any, cases: list[Case], share: float, threads: int) -> None:
        self.conn, child_conn = ctx.Pipe()
        self.process = ctx.Process(
            target=_child, args=(child_conn, cases, share, threads), name="rnnbench-timing", daemon=True
        )
        self.process.start()
        child_conn.close()

    def _receive(self, expected: str) -> Any:
        try:
            kind, payload = self.conn.recv()
        except EOFError:
            self.process.join(JOIN_GRACE_S)
            raise TimingProcessError(f"the timing process died with exit code {self.process.exitcode}") from None
        if kind != expected:
            raise TimingProcessError(payload)
        return payload

    def start_timing(self) -> None:
        self._receive("ready")
        self.conn.send("go")

    def result(self) -> dict[str, dict[str, Any]]:
        return self._receive("ok")

    def close(self) -> None:  # on an interrupt or a failure too: no timing process outlives its parent
        try:
            self.conn.send("stop")
        except (OSError, ValueError):
            pass
        self.process.join(JOIN_GRACE_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def time_group_in_processes(cases: list[Case], processes: int, on_event: EventFn) -> dict[str, dict[str, Any]]:
    """`group_timing.time_group`'s result, measured in `processes` fresh processes (spawned, never forked).

    While one process times, the next one starts (imports torch) where a core is left over, so the
    start-up is hidden; with a single core (a one-core worker) each starts only after the last.
    """
    import torch

    ctx = multiprocessing.get_context("spawn")  # fork after torch has started threads is unsafe
    threads = torch.get_num_threads()
    spare_core = len(available_cores()) > threads
    share = 1.0 / processes
    parts: list[dict[str, dict[str, Any]]] = []
    started: list[_TimingProcess] = []
    try:
        nxt = _TimingProcess(ctx, cases, share, threads)
        started.append(nxt)
        for k in range(processes):
            current, nxt = nxt, None
            on_event({"kind": "phase", "phase": f"timing process {k + 1} of {processes}"})
            current.start_timing()
            if spare_core and k + 1 < processes:
                nxt = _TimingProcess(ctx, cases, share, threads)
                started.append(nxt)
            parts.append(current.result())
            current.close()
            if nxt is None and k + 1 < processes:
                nxt = _TimingProcess(ctx, cases, share, threads)
                started.append(nxt)
    finally:
        for process in started:
            if process.process.is_alive() or not process.conn.closed:
                process.close()
    return merge_processes(parts)


def merge_processes(parts: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """One speed block per case id: every process's samples in order, summaries of them all, rounds per process."""
    out: dict[str, dict[str, Any]] = {}
    for case_id, first in parts[0].items():
        blocks = [part[case_id] for part in parts]
        step = [x for b in blocks for x in b["train_timing"]["step_ms"]["samples"]]
        phases = {
            name: summarize([x for b in blocks for x in b["train_timing"]["phases_ms"][name]["samples"]])
            for name in first["train_timing"]["phases_ms"]
        }
        inference = {}
        for size_key in first["inference"]:  # keyed "b<batch size>"
            samples = [x for b in blocks for x in b["inference"][size_key]["latency_ms"]["samples"]]
            inference[size_key] = inference_block(samples, int(size_key[1:]))
        per_process = {key: [b["paired"]["rounds"][key] for b in blocks] for key in first["paired"]["rounds"]}
        out[case_id] = {
            **first,
            "train_timing": {"step_ms": summarize(step), "phases_ms": phases},
            "inference": inference,
            "paired": {
                **first["paired"],
                "rounds": {key: sum(counts) for key, counts in per_process.items()},
                "processes": len(parts),
                "blocks": per_process,
            },
        }
    return out
