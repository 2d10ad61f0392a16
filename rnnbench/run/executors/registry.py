"""EXECUTORS: the names `--executor` takes, each building its executor from a plan."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rnnbench.run.executors.base import ExecutorError, Plan
from rnnbench.run.executors.local import LocalExecutor, check_workers
from rnnbench.run.executors.serial import SerialExecutor


def _serial(plan: Plan, gpus: int) -> Any:
    if plan.workers != 1:
        raise ExecutorError(f"--workers {plan.workers}: the serial executor has one worker; use --executor local")
    return SerialExecutor(plan)


def _local(plan: Plan, gpus: int) -> Any:
    return LocalExecutor(plan, check_workers(plan.workers, plan.device_type, gpus))


def _ray(plan: Plan, gpus: int) -> Any:
    from rnnbench.run.executors.ray_executor import RayExecutor  # Ray is an extra: imported only when asked for

    return RayExecutor(plan)


EXECUTORS: dict[str, Callable[[Plan, int], Any]] = {"serial": _serial, "local": _local, "ray": _ray}
