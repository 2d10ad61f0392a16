"""Running one unit where a worker lives: `run_group`, then each record stamped with where it ran."""

from __future__ import annotations

from typing import Any

from rnnbench.measure.env import placement, resolve_device
from rnnbench.run import runner
from rnnbench.suite.schema import Case


def run_unit(cases: list[Case], options: Any, worker: str, on_event: Any) -> list[dict[str, Any]]:
    """A pure function of picklable inputs: the same on the driver, a local worker, or a Ray node."""
    records = runner.run_group(cases, options, on_event)  # looked up at call time, so tests may stand in for it
    where = placement(resolve_device(cases[0].device), worker) if cases else {}
    for record in records:
        record["ran_on"] = dict(where)
    return records
