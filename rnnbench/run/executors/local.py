"""Local worker processes: each pinned to its own cores (threads = its cores) or, on CUDA, to its own GPU."""

from __future__ import annotations

import queue
from collections import deque
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from rnnbench.cores import available_cores, split_cores
from rnnbench.results.events import EventFn
from rnnbench.run.executors.base import ExecutorError, Finished, Plan, Unit
from rnnbench.run.executors.order import longest_first
from rnnbench.run.executors.unit import UnitRunner
from rnnbench.run.worker_process import (
    EXITED,
    Received,
    WorkerProcess,
    child_env,
    next_message,
    python_module,
    stop_all,
)


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


MODULE = "rnnbench.run.executors.local_worker"


def _start_worker(name: str, cores: list[int], threads: int, gpu: int | None, inbox: queue.Queue[Received]):
    argv = python_module(MODULE) + [name, str(threads), "-" if gpu is None else str(gpu), ",".join(map(str, cores))]
    return WorkerProcess(f"worker {name}", argv, env=child_env(), inbox=inbox)


class LocalExecutor:
    def __init__(self, plan: Plan, slices: list[list[int]], run_unit: UnitRunner) -> None:
        self.plan = plan
        self.run_unit = run_unit  # sent with every unit: the worker runs what it is handed
        self.slices = slices
        self._inbox: queue.Queue[Received] = queue.Queue()  # every worker's messages, in the order they arrive
        self._workers: list[WorkerProcess] = []
        self._names: dict[WorkerProcess, str] = {}
        self._units: dict[WorkerProcess, Unit | None] = {}

    def _start(self, i: int) -> WorkerProcess:
        cores = self.slices[i]
        threads = self.plan.threads or len(cores)
        gpu = i if self.plan.device_type == "cuda" else None
        worker = _start_worker(f"w{i + 1}", cores, threads, gpu, self._inbox)
        self._names[worker] = f"w{i + 1}"
        self._units[worker] = None
        return worker

    def run(self, units: list[Unit], options: Any, on_event: EventFn) -> Iterator[Finished]:
        if not self._workers:
            self._workers = [self._start(i) for i in range(self.plan.workers)]
        pending = deque(longest_first(units))  # saved in run order by the driver, whoever finishes first
        while pending or self.in_flight():
            for worker in self._workers:
                if self._units[worker] is None and pending:
                    unit = pending.popleft()
                    self._units[worker] = unit
                    if self.plan.device_type == "cuda":  # the worker sees only its own GPU, as cuda:0
                        unit = replace(unit, cases=[c.model_copy(update={"device": "cuda"}) for c in unit.cases])
                    worker.send((self.run_unit, unit, options))
                    on_event(
                        {"kind": "unit_start", "worker": self._names[worker], "index": unit.index, "ids": unit.ids}
                    )
            received = next_message(self._inbox, timeout=None)
            if received is not None:
                yield from self._handle(received, on_event)

    def _handle(self, received: Received, on_event: EventFn) -> Iterator[Finished]:
        """One message: an event passed on, a finished unit, or a worker's end (its unit's cases failed, a fresh one)."""
        worker, name = received.worker, self._names.get(received.worker)
        if name is None or worker not in self._workers:
            return  # a worker already replaced or stopped
        if received.message is EXITED:
            unit = self._units.pop(worker)
            del self._names[worker]
            cause = f"worker {name} (pid {worker.pid}) {worker.exit_description()} while running this case's unit"
            worker.reap(deadline=0.0)  # already exited: closes its pipes
            i = self._workers.index(worker)
            self._workers[i] = self._start(i)
            if unit is not None:
                on_event({"kind": "worker_lost", "worker": name, "cause": cause})
                yield Finished(unit, None, name, error=cause)
            return
        kind, _index, payload = received.message
        if kind == "event":
            on_event({**payload, "worker": name})
        elif kind == "done":
            unit, self._units[worker] = self._units[worker], None
            if unit is not None:
                yield Finished(unit, payload, name)

    def in_flight(self) -> list[Unit]:
        return [unit for unit in self._units.values() if unit is not None]

    def close(self) -> None:
        stop_all(self._workers)  # every worker at once: a unit in flight is cancelled, the driver marks its cases
        self._workers, self._units, self._names = [], {}, {}
