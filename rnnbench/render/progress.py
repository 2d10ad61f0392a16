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

    def _row(self, event: dict[str, Any]) -> TaskID | None:
        """The row an event updates: its worker's when several run at once, else the main bar."""
        worker = event.get("worker")
        if not self.parallel or worker is None:
            return self.bar
        if worker not in self.rows:
            self.rows[worker] = self.progress.add_task(worker, total=None, case=f"  {worker}", detail="", left="")
        return self.rows[worker]

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event["kind"]
        if kind == "run_start":
            done = event["n_cases"] - event["n_todo"]
            self.parallel = event.get("workers", 1) > 1 or event.get("executor") == "ray"
            self.bar = self.progress.add_task(
                "run", total=event["n_cases"], completed=done, case="starting", detail="", left=""
            )
            self.eta.start(event["n_todo"], self.clock())
            return
        if self.bar is None:
            return
        row = self._row(event)
        if row is None:
            return
        if kind in ("case_start", "unit_start"):
            ids = event["ids"] if kind == "unit_start" else [event["id"]]
            self.case_id = ids[0]
            more = f" +{len(ids) - 1}" if len(ids) > 1 else ""
            if row == self.bar:
                position = f"{event['index'] + 1}/{event['n_cases']} " if "n_cases" in event else ""
                self.progress.update(self.bar, case=f"{position}{self.case_id}{more}", detail="")
            else:
                self.progress.update(row, case=f"  {event['worker']}: {self.case_id}{more}", detail="")
        elif kind == "phase":
            self.progress.update(row, detail=event["phase"])
        elif kind == "progress":
            self.progress.update(
                row,
                detail=f"step {event['step']}/{event['max_steps']} loss {event['loss']:.4g} {event['elapsed_s']:.1f}s",
            )
        elif kind == "worker_lost":
            self.progress.console.print(f"[red]{event['worker']} lost[/] — {event['cause']}", highlight=False)
        elif kind == "case_end":
            record = event["record"]
            self.progress.advance(self.bar)
            self.eta.case_done(self.clock())
            self.progress.update(self.bar, left=self.eta.text())
            if record["status"] != "ok":
                self.progress.console.print(
                    f"[yellow]{record['id']}: {record['status']}[/] — {record.get('error') or ''}", highlight=False
                )


class TimeLeft:
    """Time left = the mean wall time of the cases finished in this run × the cases still to run."""

    def __init__(self) -> None:
        self.todo, self.done, self.started = 0, 0, 0.0

    def start(self, todo: int, now: float) -> None:
        self.todo, self.done, self.started = todo, 0, now
        self.now = now

    def case_done(self, now: float) -> None:
        self.done, self.now = self.done + 1, now

    def seconds(self) -> float | None:
        """None until a case has finished: before that there is no measured speed."""
        if self.done == 0:
            return None
        return (self.now - self.started) / self.done * max(self.todo - self.done, 0)

    def text(self) -> str:
        left = self.seconds()
        if left is None:
            return ""
        return f"~{left:.0f} s left" if left < 120 else f"~{left / 60:.1f} min left"
