"""Ray core tasks: one task per unit, resources from the case (num_cpus = its threads, num_gpus = 1 on CUDA).

Without an address a local Ray is started on localhost only (no dashboard) and shut down at the end;
with `auto` or an address rnnbench joins that cluster, which runs rnnbench's code on its nodes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from rnnbench.results.events import EventFn
from rnnbench.run.executors.base import ExecutorError, Finished, Plan, Unit
from rnnbench.run.executors.order import longest_first
from rnnbench.run.executors.unit import UnitRunner


def _ray_unit(run_unit: UnitRunner, unit: Unit, options: Any, threads: int) -> Any:
    """The task body on a Ray worker: threads as requested, then the same unit function as everywhere."""
    import ray
    import torch

    from rnnbench.measure.timer import using_clock
    from rnnbench.run.clock import clock_from_env

    torch.set_num_threads(threads)
    context = ray.get_runtime_context()
    worker = f"ray:{context.get_node_id()[:8]}:{os.getpid()}"
    with using_clock(clock_from_env()):
        return run_unit(unit, options, worker, lambda event: None)  # no event channel back: progress is per unit


def _worker_of(unit: Unit, payload: Any) -> str:
    """The Ray worker named in a payload's placement stamp (a training part, or a timing unit's speed blocks)."""
    stamp = payload.get("ran_on") if unit.kind == "train" else next(iter(payload.values()), {}).get("timed_on")
    return (stamp or {}).get("worker", "ray")


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ExecutorError('--executor ray: Ray is not installed (pip install "rnnbench[ray]")') from None
    return ray


class RayExecutor:
    def __init__(self, plan: Plan, run_unit: UnitRunner) -> None:
        self.plan = plan
        self.run_unit = run_unit
        self._ray = _import_ray()
        self._started_here = False
        self._refs: dict[Any, Unit] = {}

    def _connect(self) -> None:
        ray = self._ray
        if ray.is_initialized():
            return
        quiet = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
        if self.plan.address is None:
            # Embedded: this machine only, bound to localhost, all its cores.
            ray.init(num_cpus=os.cpu_count() or 1, _node_ip_address="127.0.0.1", **quiet)
            self._started_here = True
        else:
            try:
                ray.init(address=self.plan.address, log_to_driver=False, configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as err:
                raise ExecutorError(f"--ray-address {self.plan.address}: cannot join: {err}".splitlines()[0]) from None

    def run(self, units: list[Unit], options: Any, on_event: EventFn) -> Iterator[Finished]:
        ray = self._ray
        self._connect()
        threads = self.plan.threads or 1
        # max_retries=0: a lost worker or node marks its cases failed rather than timing them twice (docs/scale.md).
        task = ray.remote(_ray_unit).options(
            num_cpus=threads, num_gpus=1 if self.plan.device_type == "cuda" else 0, max_retries=0
        )
        for unit in longest_first(units):  # submitted heaviest first: Ray starts tasks in about that order
            sent = unit
            if self.plan.device_type == "cuda":  # Ray sets CUDA_VISIBLE_DEVICES to the GPU it gives the task
                sent = replace(unit, cases=[c.model_copy(update={"device": "cuda"}) for c in unit.cases])
            self._refs[task.remote(self.run_unit, sent, options, threads)] = unit
            on_event({"kind": "unit_start", "worker": "ray", "index": unit.index, "ids": unit.ids})
        while self._refs:
            [ref], _ = ray.wait(list(self._refs), num_returns=1)
            unit = self._refs.pop(ref)
            try:
                payload = ray.get(ref)
            except (ray.exceptions.RayError, OSError) as err:
                cause = f"lost on Ray: {type(err).__name__}: {str(err).strip().splitlines()[0][:300] if str(err).strip() else ''}"
                on_event({"kind": "worker_lost", "worker": "ray", "cause": cause})
                yield Finished(unit, None, "ray", error=cause)
                continue
            yield Finished(unit, payload, _worker_of(unit, payload))

    def in_flight(self) -> list[Unit]:
        return list(self._refs.values())

    def close(self) -> None:
        for ref in list(self._refs):
            try:
                self._ray.cancel(ref, force=True)
            except Exception:  # already finished or its node is gone: nothing left to cancel
                pass
        self._refs = {}
        if self._started_here:
            self._ray.shutdown()
            self._started_here = False
