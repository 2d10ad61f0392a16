"""What every executor shares: the unit of work, a finished unit, the error for an impossible plan, lost-case records."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from typing_extensions import TypedDict

from rnnbench.results.events import EventFn
from rnnbench.results.records import CaseStatus
from rnnbench.results.store import utc_now_iso
from rnnbench.run.parts import CaseRecord, SpeedBlock, TrainPart
from rnnbench.suite.schema import Case


class ExecutorError(Exception):
    """A plan this machine or cluster cannot carry out (too many workers, no Ray); one line for the CLI."""


@dataclass(frozen=True)
class Unit:
    """One piece of work, numbered in run order.

    kind "timing": a timing group's cases timed together (paired) on one worker and one device; its
    payload is each case's speed block. kind "train": one case trained; its payload is the rest of
    the case's record. Paired timing must stay in one process; training spreads over every worker.
    """

    index: int
    cases: list[Case]
    kind: str = "timing"  # "timing" | "train"

    @property
    def ids(self) -> list[str]:
        return [case.id for case in self.cases]


@dataclass(frozen=True)
class Finished:
    """A unit's payload (speed blocks by case id, or one case's training part) and the worker that produced it.

    `error` names why a unit produced nothing (its worker or node was lost); its payload is then None.
    """

    unit: Unit
    payload: dict[str, SpeedBlock] | TrainPart | None
    worker: str = ""
    error: str | None = None


class PlanJson(TypedDict):
    """A plan as the results file's env block records it (`env.executor`)."""

    name: str
    workers: int
    threads: int | None
    address: str | None


@dataclass
class Plan:
    """How the run is spread: the executor's name, how many workers, and what each case may use."""

    executor: str
    workers: int
    threads: int | None  # per worker; None: the process's default
    device_type: str = "cpu"
    address: str | None = None
    notes: list[str] = field(default_factory=list)

    def as_record(self) -> PlanJson:
        return PlanJson(name=self.executor, workers=self.workers, threads=self.threads, address=self.address)


class Executor(Protocol):
    """Runs units and yields them as they finish; `close` cancels whatever is still outstanding."""

    plan: Plan

    def run(self, units: list[Unit], options: Any, on_event: EventFn) -> Iterator[Finished]: ...

    def in_flight(self) -> list[Unit]: ...

    def close(self) -> None: ...


def lost_record(case: Case, status: CaseStatus, error: str, worker: str = "") -> CaseRecord:
    """The record of a case that produced none: interrupted, or failed because its worker or node was lost."""
    record: CaseRecord = {
        "id": case.id,
        "label": case.label,
        "arch": case.arch,
        "impl": case.settings.impl,
        "task": case.task,
        "seq_len": case.seq_len,
        "seed": case.seed,
        "status": status,
        "error": error,
    }
    record["interrupted_at" if status == "interrupted" else "failed_at"] = utc_now_iso()
    if worker:
        record["ran_on"] = {"worker": worker}
    return record
