"""Running one unit where a worker lives: a timing group's timings or one case's training, stamped with where it ran."""

from __future__ import annotations

from typing import Any

from rnnbench.measure.env import placement, resolve_device
from rnnbench.run import runner
from rnnbench.run.executors.base import Unit


def run_unit(unit: Unit, options: Any, worker: str, on_event: Any) -> Any:
    """A pure function of picklable inputs: the same on the driver, a local worker, or a Ray node."""
    where = placement(resolve_device(unit.cases[0].device), worker) if unit.cases else {}
    # looked up at call time, so tests may stand in for them
    if unit.kind == "timing":
        speeds = runner.time_cases(unit.cases, on_event)
        for speed in speeds.values():
            speed["timed_on"] = dict(where)
        return speeds
    [case] = unit.cases
    part = runner.train_case(case, options, on_event)
    part["ran_on"] = dict(where)
    return part
