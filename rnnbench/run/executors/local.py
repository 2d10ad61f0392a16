"""Local worker processes: each pinned to its own cores (threads = its cores) or, on CUDA, to its own GPU."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Iterator
from multiprocessing.connection import wait
from typing import Any

from rnnbench.run.executors.base import EventFn, ExecutorError, Finished, Plan, Unit, lost_record
from rnnbench.run.executors.local_worker import worker_main
from rnnbench.run.executors.order import longest_first

STOP_GRACE_S = 5.0  # how long a worker asked to stop may take before it is killed


def available_cores() -> list[int]:
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


def check_workers(n: int, device_type: str, gpus: int) -> list[list[int]]:
    """The cores of each worker; refuses more workers than cores (or GPUs), in one line."""
    cores = available_cores()
    if n < 1:
        raise ExecutorError(f"--workers {n}: must be at least 1")
    if device_type == "cuda" and n > gpus:
        raise ExecutorError(f"--workers {n}: this machine has {gpus} CUDA device(s); use at most {gpus}")
    if n > len(cores):
        raise ExecutorError(f"--workers {n}: this process may use {len(cores)} core(s); use at most {len(cores)}")
    return split_cores(cores, n)


class _Worker:
    def __init__(self, ctx: Any, name: str, cores: list[int], threads: int, gpu: int | None) -> None:
        self.name, self.cores, self.threads, self.gpu = name, cores, threads, gpu
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(
            target=worker_main, args=(name, cores, threads, gpu, child), name=f"rnnbench-{name}", daemon=True
        )
        self.process.start()
        child.close()
        self.unit: Unit | None = None

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(STOP_GRACE_S if self.unit is None else 0)
        if self.process.is_alive():
            self.process.kill()  # a unit in flight: cancelled, its cases are marked by the driver
            self.process.join()
        self.conn.close()


def _death_cause(worker: _Worker) -> str:
    code = worker.process.exitcode
    how = f"signal {signal.Signals(-code).name}" if code is not None and code < 0 else f"exit code {code}"
    return f"worker {worker.name} (pid {worker.process.pid}) died with {how} while running this case's unit"


class LocalExecutor:
    def __init__(self, plan: Plan, slices: list[list[int]]) -> None:
        self.plan = plan
        self.slices = slices
        self._ctx = multiprocessing.get_context("spawn")  # fork after torch has started threads is unsafe
        self._workers: list[_Worker] = []

    def _start(self, i: int) -> _Worker:
        cores = self.slices[i]
        threads = self.plan.threads or len(cores)
        gpu = i if self.plan.device_type == "cuda" else None
        return _Worker(self._ctx, f"w{i + 1}", cores, threads, gpu)

    def run(self, units: list[Unit], options: Any, on_event: EventFn) -> Iterator[Finished]:
        if not self._workers:
            self._workers = [self._start(i) for i in range(self.plan.workers)]
        pending = deque(longest_first(units))  # saved in run order by the driver, whoever finishes first
        while pending or self.in_flight():
            for worker in self._workers:
                if worker.unit is None and pending:
                    worker.unit = pending.popleft()
                    cases = worker.unit.cases
                    if worker.gpu is not None:  # the worker sees only its own GPU, as cuda:0
                        cases = [c.model_copy(update={"device": "cuda"}) for c in cases]
                    worker.conn.send((worker.unit.index, cases, options))
                    on_event(
                        {
                            "kind": "unit_start",
                            "worker": worker.name,
                            "index": worker.unit.index,
                            "ids": worker.unit.ids,
                        }
                    )
            busy = [w for w in self._workers if w.unit is not None]
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy]))
            for i, worker in enumerate(self._workers):
                if worker.conn in ready or worker.process.sentinel in ready:
                    yield from self._drain(i, worker, on_event)

    def _drain(self, i: int, worker: _Worker, on_event: EventFn) -> Iterator[Finished]:
        """Every message the worker has sent; then, if it died, its unit's cases as failed and a fresh worker."""
        while worker.unit is not None:
            try:
                if not worker.conn.poll():
                    break
                kind, _index, payload = worker.conn.recv()
            except (EOFError, OSError):
                break
            if kind == "event":
                on_event({**payload, "worker": worker.name})
            else:
                unit, worker.unit = worker.unit, None
                yield Finished(unit, payload, worker.name)
        if worker.unit is not None and not worker.process.is_alive():
            unit, cause = worker.unit, _death_cause(worker)
            worker.unit = None
            worker.conn.close()
            self._workers[i] = self._start(i)
            on_event({"kind": "worker_lost", "worker": worker.name, "cause": cause})
            yield Finished(unit, [lost_record(c, "failed", cause, worker.name) for c in unit.cases], worker.name)

    def in_flight(self) -> list[Unit]:
        return [w.unit for w in self._workers if w.unit is not None]

    def close(self) -> None:
        for worker in self._workers:
            worker.stop()
        self._workers = []
