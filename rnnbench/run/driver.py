"""The driver: the only writer of the results file. Hands timing groups to an executor, saves after every one."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import torch
from filelock import FileLock, Timeout

from rnnbench import __version__
from rnnbench.measure.backend import set_threads
from rnnbench.measure.env import check_dtype, env_fingerprint, resolve_device
from rnnbench.measure.phases import reference_matmul_gflops
from rnnbench.results.events import EventFn
from rnnbench.results.records import EnvJson, ResultsJson
from rnnbench.results.resume import check_resume_env, finished_ids, new_document
from rnnbench.results.schema import ResultsError
from rnnbench.results.store import load_results, save_atomic, utc_now_iso
from rnnbench.run.events import ignore
from rnnbench.run.executors.base import Finished, Plan, Unit, lost_record
from rnnbench.run.executors.registry import EXECUTORS, RUN_UNIT
from rnnbench.run.executors.unit import UnitRunner
from rnnbench.run.parts import CaseRecord, RunDocument, SpeedBlock, TrainPart
from rnnbench.run.runner import RunOptions, assemble
from rnnbench.run.serve_processes import close_pool
from rnnbench.suite.expand import timing_groups
from rnnbench.suite.limits import case_limit_seconds
from rnnbench.suite.schema import Case, Suite


def lock_for(out_path: Path) -> FileLock:
    """The lock beside a results file: a second process writing the same file is refused, not interleaved."""
    return FileLock(f"{out_path}.lock", timeout=0)


def _locked(out_path: Path) -> FileLock:
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    lock = lock_for(out_path)
    try:
        lock.acquire()
    except Timeout:
        raise ResultsError(
            f"{out_path}: another rnnbench process is writing this results file (lock {out_path}.lock); "
            "wait for it to finish or write to another file"
        ) from None
    return lock


def run_suite(
    suite: Suite,
    cases: list[Case],
    out_path: Path,
    *,
    suite_path: str = "",
    resume_doc: ResultsJson | None = None,
    on_event: EventFn = ignore,
    plan: Plan | None = None,
    run_unit: UnitRunner | None = None,
) -> RunDocument:
    """Run every case not already finished, one timing group at a time per worker, saving after each group.

    A KeyboardInterrupt (Ctrl-C, or what a caller's SIGTERM handler raises) cancels outstanding
    work, saves every finished case and marks the groups in flight `interrupted`, then propagates;
    `resume_doc` (that file, loaded) continues it with any executor. Resuming on another device,
    dtype or torch, or while another process writes the file, raises ResultsError.
    `run_unit`: what the executor runs for each unit (None: this module's RUN_UNIT, the real timing and training).
    """
    device = resolve_device(suite.device)
    check_dtype(device, suite.dtype)
    plan = plan or Plan("serial", 1, suite.threads)
    plan.device_type = device.type
    if plan.threads is None:
        plan.threads = suite.threads
    gpus = torch.cuda.device_count() if device.type == "cuda" else 0
    executor = EXECUTORS[plan.executor](plan, gpus, run_unit or RUN_UNIT)
    lock = _locked(out_path)
    try:
        with set_threads(suite.threads):
            doc = _open_document(suite, suite_path, out_path, resume_doc, env_fingerprint(device, suite.dtype))
            doc["env"]["executor"] = plan.as_record()
            return _drive(doc, cases, out_path, device, executor, on_event)
    finally:
        close_pool()  # the serving timing processes are kept from case to case, not past the run
        lock.release()


def _open_document(
    suite: Suite, suite_path: str, out_path: Path, resume_doc: ResultsJson | None, env: EnvJson
) -> RunDocument:
    if resume_doc is None:
        return cast(RunDocument, new_document(suite.model_dump(mode="json"), suite_path, env, __version__))
    doc = cast(
        RunDocument, load_results(out_path)
    )  # re-read under the lock: the file may have grown since the caller loaded it
    check_resume_env(out_path, doc, env)
    doc["status"] = "running"
    doc["cases"] = [c for c in doc["cases"] if c.get("status") != "interrupted"]
    doc.setdefault("resumed_at", []).append(utc_now_iso())
    return doc


def plan_units(cases: list[Case]) -> list[Unit]:
    """The run's units in run order: each timing group's timing unit, then one training unit per case of it."""
    units: list[Unit] = []
    for group in timing_groups(cases):
        first = len(units)
        units.append(Unit(first, group, "timing"))
        units.extend(Unit(first + 1 + i, [case], "train") for i, case in enumerate(group))
    return units


class _Assembly:
    """A case's two halves (its timing unit's speed block, its training unit's part) until both have arrived."""

    def __init__(self, options: RunOptions) -> None:
        self.options = options
        self.speeds: dict[str, SpeedBlock] = {}
        self.trained: dict[str, TrainPart] = {}
        self.done: set[str] = set()

    def add(self, finished: Finished) -> list[CaseRecord]:
        """The records this finished unit completes (a lost unit fails its cases that have no record yet)."""
        unit = finished.unit
        records: list[CaseRecord] = []
        cases = [case for case in unit.cases if case.id not in self.done]
        if finished.error is not None:
            records = [lost_record(case, "failed", finished.error, finished.worker) for case in cases]
        else:
            if unit.kind == "timing":
                self.speeds.update(cast("dict[str, SpeedBlock]", finished.payload))
            else:
                self.trained[unit.cases[0].id] = cast(TrainPart, finished.payload)
            ready = [c for c in cases if c.id in self.speeds and c.id in self.trained]
            records = [assemble(c, self.options, self.speeds[c.id], self.trained[c.id]) for c in ready]
        self.done.update(record["id"] for record in records)
        return records

    def started(self) -> set[str]:
        """Cases that have a half but no record: interrupted now, they would lose that half."""
        return (set(self.speeds) | set(self.trained)) - self.done


def _drive(doc: RunDocument, cases: list[Case], out_path: Path, device, executor, on_event: EventFn) -> RunDocument:
    done = finished_ids(doc)
    todo = [c for c in cases if c.id not in done]
    units = plan_units(todo)
    index_of = {case.id: i for i, case in enumerate(cases)}
    on_event(
        {
            "kind": "run_start",
            "n_cases": len(cases),
            "n_todo": len(todo),
            "path": str(out_path),
            "workers": executor.plan.workers,
            "executor": executor.plan.executor,
            "limits_s": {case.id: case_limit_seconds(case) for case in todo},  # the time-left estimate's prior
        }
    )
    assembly: _Assembly | None = None
    try:
        on_event({"kind": "phase", "phase": "reference matmul"})
        doc["reference"].setdefault("start", reference_matmul_gflops(device))
        save_atomic(out_path, doc)
        options = RunOptions(reference_gflops=doc["reference"]["start"]["matmul_gflops"])
        assembly = _Assembly(options)
        for finished in executor.run(units, options, on_event):
            records = assembly.add(finished)
            if not records:
                continue
            doc["cases"].extend(records)
            doc["cases"].sort(key=lambda c: index_of.get(c["id"], len(index_of)))  # run order, whoever finished first
            _list_hosts(doc)
            save_atomic(out_path, doc)
            for record in records:
                on_event({"kind": "case_end", "index": index_of.get(record["id"], 0), "record": record})
        executor.close()
        on_event({"kind": "phase", "phase": "reference matmul"})
        doc["reference"]["end"] = reference_matmul_gflops(device)
        doc["reference"]["matmul_gflops"] = doc["reference"]["start"]["matmul_gflops"]
        doc["status"] = "complete"
        doc["finished_at"] = utc_now_iso()
        save_atomic(out_path, doc)
    except KeyboardInterrupt as interrupt:
        saved = {c["id"] for c in doc["cases"]}
        begun = {case.id for unit in executor.in_flight() for case in unit.cases}
        begun |= assembly.started() if assembly is not None else set()
        lost = [case for case in todo if case.id in begun and case.id not in saved]
        executor.close()  # cancels outstanding work before the save, so nothing writes after it
        name = str(interrupt) or "SIGINT"
        doc["cases"].extend(lost_record(case, "interrupted", f"interrupted by {name}") for case in lost)
        doc["cases"].sort(key=lambda c: index_of.get(c["id"], len(index_of)))
        doc["status"] = "interrupted"
        doc["finished_at"] = None
        save_atomic(out_path, doc)  # atomic: a second interrupt here leaves the previous save whole
        raise
    except BaseException:
        executor.close()
        raise
    on_event({"kind": "run_end", "path": str(out_path)})
    return doc


def _list_hosts(doc: ResultsJson) -> None:
    """The env block names every host that ran a case (a Ray run may span several)."""
    hosts = {(c.get("ran_on") or {}).get("host") for c in doc["cases"]}
    doc["env"]["hosts"] = sorted(h for h in hosts if h)
