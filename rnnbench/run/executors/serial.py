"""The serial executor: every unit in the driver's own process, one after the other (the default, and the reference)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rnnbench.results.events import EventFn
from rnnbench.run.executors.base import Finished, Plan, Unit
from rnnbench.run.executors.unit import UnitRunner

WORKER = "main"


class SerialExecutor:
    def __init__(self, plan: Plan, run_unit: UnitRunner) -> None:
        self.plan = plan
        self.run_unit = run_unit
        self._current: Unit | None = None

    def run(self, units: list[Unit], options: Any, on_event: EventFn) -> Iterator[Finished]:
        for unit in units:
            self._current = unit
            on_event({"kind": "unit_start", "worker": WORKER, "index": unit.index, "ids": unit.ids})
            payload = self.run_unit(unit, options, WORKER, lambda e: on_event({**e, "worker": WORKER}))
            self._current = None  # finished: an interrupt from here on must not mark it
            yield Finished(unit, payload, WORKER)

    def in_flight(self) -> list[Unit]:
        return [self._current] if self._current is not None else []

    def close(self) -> None:
        self._current = None
