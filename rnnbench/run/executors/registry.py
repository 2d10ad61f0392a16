"""EXECUTORS: the names `--executor` takes, each building its executor from a plan and the unit runner it is handed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rnnbench.run.executors.base import ExecutorError, Plan
from rnnbench.run.executors.local import LocalExecutor, check_workers
from rnnbench.run.executors.serial import SerialExecutor
from rnnbench.run.executors.unit import UnitRunner
from rnnbench.run.runner import train_case
from rnnbench.run.speed import time_cases

RUN_UNIT = UnitRunner(time_cases=time_cases, train_case=train_case)  # what every executor runs, unless told otherwise


def _serial(plan: Plan, gpus: int, run_unit: UnitRunner) -> Any:
    if plan.workers != 1:
        raise ExecutorError(f"--workers {plan.workers}: the serial executor has one worker; use --executor local")
    return SerialExecutor(plan, run_unit)


def _local(plan: Plan, gpus: int, run_unit: UnitRunner) -> Any:
    return LocalExecutor(plan, check_workers(plan.workers, plan.device_type, gpus), run_unit)


def _ray(plan: Plan, gpus: int, run_unit: UnitRunner) -> Any:
    from rnnbench.run.executors.ray_executor import RayExecutor  # Ray is an extra: imported only when asked for

    return RayExecutor(plan, run_unit)


EXECUTORS: dict[str, Callable[[Plan, int, UnitRunner], Any]] = {"serial": _serial, "local": _local, "ray": _ray}
