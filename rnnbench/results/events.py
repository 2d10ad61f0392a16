"""The events `rnnbench run` sends while it works, and the one type for them (torch-free).

Sent by rnnbench/run/ (driver, executors, runner, train) and read by render/progress.py. Each is
a plain dict with a `kind`; a TypedDict per kind, and `Event`, their union, which a reader
narrows with `event["kind"] == "..."`. Events from a worker process carry the `worker` that sent
them (the local executor adds it).
"""

from collections.abc import Callable
from typing import Literal

from typing_extensions import NotRequired, TypedDict  # NotRequired at run time before 3.11

from rnnbench.results.records import CaseJson


class RunStart(TypedDict):
    kind: Literal["run_start"]
    n_cases: int  # cases in the suite
    n_todo: int  # of those, not yet in the results file (resume)
    path: str  # the results file
    workers: NotRequired[int]
    executor: NotRequired[str]  # "serial", "local", "ray"
    limits_s: NotRequired[dict[str, float]]  # case id -> its limit in seconds (the time-left estimate's prior)


class UnitStart(TypedDict):
    kind: Literal["unit_start"]
    worker: str
    index: int  # of the unit's first case in the suite's order
    ids: list[str]  # the unit's cases (several when timed interleaved)
    n_cases: NotRequired[int]


class Phase(TypedDict):
    kind: Literal["phase"]
    phase: str  # "training", "timing train step", …
    worker: NotRequired[str]


class Progress(TypedDict):
    kind: Literal["progress"]
    step: int
    max_steps: int
    loss: float
    metric: float | None
    elapsed_s: float
    worker: NotRequired[str]


class WorkerLost(TypedDict):
    kind: Literal["worker_lost"]
    worker: str
    cause: str


class CaseEnd(TypedDict):
    kind: Literal["case_end"]
    index: int
    record: CaseJson
    worker: NotRequired[str]


class RunEnd(TypedDict):
    kind: Literal["run_end"]
    path: str


Event = RunStart | UnitStart | Phase | Progress | WorkerLost | CaseEnd | RunEnd
EventFn = Callable[[Event], None]
