"""Running one unit where a worker lives: a timing group's timings or one case's training, stamped with where it ran."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rnnbench.measure.env import placement, resolve_device
from rnnbench.results.events import EventFn
from rnnbench.run.executors.base import Unit
from rnnbench.run.parts import SpeedBlock, TrainPart
from rnnbench.suite.schema import Case


@dataclass(frozen=True)
class UnitRunner:
    """What runs a unit: its timing part and its training part, handed to every executor (never looked up).

    Picklable (module-level functions): the local executor sends it to its workers with each unit, the
    Ray executor to its tasks. The registry builds the real one; tests pass stand-ins.
    """

    time_cases: Callable[[list[Case], EventFn], dict[str, SpeedBlock]]
    train_case: Callable[[Case, Any, EventFn], TrainPart]

    def __call__(self, unit: Unit, options: Any, worker: str, on_event: EventFn) -> dict[str, SpeedBlock] | TrainPart:
        """A pure function of picklable inputs: the same on the driver, a local worker, or a Ray node."""
        where = placement(resolve_device(unit.cases[0].device), worker) if unit.cases else {}
        if unit.kind == "timing":
            speeds = self.time_cases(unit.cases, on_event)
            for speed in speeds.values():
                speed["timed_on"] = dict(where)
            return speeds
        [case] = unit.cases
        part = self.train_case(case, options, on_event)
        part["ran_on"] = dict(where)
        return part
