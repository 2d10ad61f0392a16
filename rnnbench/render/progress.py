"""The live progress display of `rnnbench run`, fed by the driver's and the workers' events."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from rnnbench.results.events import Event


class ProgressView:
    """Turns run events into a live display: case i/N, its id, phase, step, loss, elapsed; a row per worker when parallel."""

    def __init__(self, console: Console, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.eta = TimeLeft()
        self.progress = Progress(
            TextColumn("[bold]{task.fields[case]}"),
            BarColumn(bar_width=20),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[left]}"),
            console=console,
            transient=False,
        )
        self.bar: TaskID | None = None
        self.case_id = ""
        self.parallel = False
        self.rows: dict[str, TaskID] = {}  # worker -> its row: the cases in flight on it

    def __enter__(self) -> ProgressView:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def _row(self, event: Event) -> TaskID | None:
        """The row an event updates: its worker's when several run at once, else the main bar."""
        worker = event.get("worker")
        if not isinstance(worker, str) or not self.parallel:
            return self.bar
        if worker not in self.rows:
            self.rows[worker] = self.progress.add_task(worker, total=None, case=f"  {worker}", detail="", left="")
        return self.rows[worker]

    def __call__(self, event: Event) -> None:
        if event["kind"] == "run_start":
            done = event["n_cases"] - event["n_todo"]
            self.parallel = event.get("workers", 1) > 1 or event.get("executor") == "ray"
            self.bar = self.progress.add_task(
                "run", total=event["n_cases"], completed=done, case="starting", detail="", left=""
            )
            self.eta.start(event["n_todo"], self.clock(), event.get("limits_s"), event.get("workers", 1))
            self.progress.update(self.bar, left=self.eta.text(self.clock()))
            return
        if self.bar is None:
            return
        row = self._row(event)
        if row is None:
            return
        if event["kind"] == "unit_start":
            ids = event["ids"]
            self.case_id = ids[0]
            more = f" +{len(ids) - 1}" if len(ids) > 1 else ""
            if row == self.bar:
                n_cases = event.get("n_cases")
                position = f"{event['index'] + 1}/{n_cases} " if n_cases is not None else ""
                self.progress.update(self.bar, case=f"{position}{self.case_id}{more}", detail="")
            else:
                self.progress.update(row, case=f"  {event['worker']}: {self.case_id}{more}", detail="")
        elif event["kind"] == "phase":
            self.progress.update(row, detail=event["phase"])
        elif event["kind"] == "progress":
            self.progress.update(
                row,
                detail=f"step {event['step']}/{event['max_steps']} loss {event['loss']:.4g} {event['elapsed_s']:.1f}s",
            )
            self.progress.update(self.bar, left=self.eta.text(self.clock()))  # counts down while a case runs
        elif event["kind"] == "worker_lost":
            self.progress.console.print(f"[red]{event['worker']} lost[/] — {event['cause']}", highlight=False)
        elif event["kind"] == "case_end":
            record = event["record"]
            self.progress.advance(self.bar)
            self.eta.case_done(self.clock(), record.get("id"))
            self.progress.update(self.bar, left=self.eta.text(self.clock()))
            if record["status"] != "ok":
                self.progress.console.print(
                    f"[yellow]{record['id']}: {record['status']}[/] — {record.get('error') or ''}", highlight=False
                )


class TimeLeft:
    """Time left from the cases' own limits, blended with the speed measured so far.

    Each case has a limit (`suite.limits.case_limit_seconds`: its training cap plus its timing
    budgets). Before any case has finished, the estimate is the remaining cases' limits run back
    to back (divided among the workers): cases rarely run past their caps, often well short of
    them. Each finished case measures the ratio of wall time to limit; the estimate uses that
    ratio, shrunk toward the prior by one average case's worth of limit, so one lucky early case
    cannot swing it, and many finished cases outweigh the prior. While a case runs, the time since
    the last finish is taken off, never below what all but the longest remaining case need.
    Without limits (an older driver) it falls back to the mean time per finished case.
    """

    def __init__(self) -> None:
        self.todo, self.done, self.started, self.now = 0, 0, 0.0, 0.0
        self.limits: dict[str, float] = {}
        self.done_limit, self.workers = 0.0, 1

    def start(self, todo: int, now: float, limits: dict[str, float] | None = None, workers: int = 1) -> None:
        self.todo, self.done, self.started, self.now = todo, 0, now, now
        self.limits, self.done_limit, self.workers = dict(limits or {}), 0.0, max(workers, 1)
        self.last_done = now

    def case_done(self, now: float, case_id: str | None = None) -> None:
        self.done, self.now, self.last_done = self.done + 1, now, now
        if case_id is not None and case_id in self.limits:
            self.done_limit += self.limits.pop(case_id)
        elif self.limits:  # a case we have no limit for: count an average one as done
            self.done_limit += self._mean_limit()

    def _mean_limit(self) -> float:
        return sum(self.limits.values()) / len(self.limits) if self.limits else 0.0

    def ratio(self) -> float:
        """Wall seconds per second of limit: the prior 1/workers, moved toward the measured ratio."""
        prior = 1.0 / self.workers
        weight = self._mean_limit() or self.done_limit or 1.0  # the prior counts as one average case
        measured_wall = (self.last_done - self.started) + prior * weight
        return measured_wall / (self.done_limit + weight)

    def seconds(self, now: float | None = None) -> float | None:
        """None without limits until a case has finished: then there is nothing to go on."""
        now = self.now if now is None else now
        left = max(self.todo - self.done, 0)
        if left == 0:
            return 0.0
        if not self.limits:
            if self.done == 0:
                return None
            return max((self.last_done - self.started) / self.done * left - (now - self.last_done), 0.0)
        remaining = sum(self.limits.values())
        ratio = self.ratio()
        floor = ratio * (remaining - max(self.limits.values()))
        return max(ratio * remaining - (now - self.last_done), floor, 0.0)

    def text(self, now: float | None = None) -> str:
        left = self.seconds(now)
        if left is None:
            return ""
        return f"~{left:.0f} s left" if left < 120 else f"~{left / 60:.1f} min left"
