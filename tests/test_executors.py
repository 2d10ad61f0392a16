"""Executors: local workers run a suite into one file, a killed worker loses only its cases, interrupt and resume, the lock."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
from helpers import learning, rnnbench_process
from suite_texts import STEPS_SUITE, TIMED_SUITE, seed_sweep_suite
from typer.testing import CliRunner

from rnnbench.cli.main import app
from rnnbench.cores import split_cores
from rnnbench.results.schema import ResultsError
from rnnbench.results.store import load_results
from rnnbench.run.driver import lock_for, run_suite
from rnnbench.run.executors.base import Plan
from rnnbench.suite.expand import load_suite, timing_groups

cli = CliRunner()


def _wait(process: subprocess.Popen, path: Path, ready, timeout_s: float = 180.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            doc = load_results(path)
        except ResultsError:
            doc = None
        if doc and ready(doc):
            return
        assert process.poll() is None, f"the run ended early: {process.communicate()}"
        time.sleep(0.05)
    process.kill()
    pytest.fail("the run did not get there in time")


def _workers_of(process: subprocess.Popen) -> list[psutil.Process]:
    """The driver's worker processes (their command line runs the local worker module)."""
    children = psutil.Process(process.pid).children()
    return [c for c in children if "rnnbench.run.executors.local_worker" in " ".join(c.cmdline())]


def test_split_cores_gives_disjoint_contiguous_slices():
    assert split_cores([0, 1, 2, 3, 4], 2) == [[0, 1, 2], [3, 4]]
    assert split_cores([4, 7], 2) == [[4], [7]]


@pytest.mark.processes
def test_local_workers_give_the_serial_results_with_where_each_case_ran(write_suite, tmp_path):
    suite, cases, path = load_suite(write_suite(STEPS_SUITE))
    serial = run_suite(suite, cases, tmp_path / "serial.json", suite_path=str(path))
    local = run_suite(suite, cases, tmp_path / "local.json", suite_path=str(path), plan=Plan("local", 2, None))
    assert [c["id"] for c in local["cases"]] == [c.id for c in cases], "the file keeps run order"
    assert all(c["status"] == "ok" for c in local["cases"])
    for a, b in zip(serial["cases"], local["cases"]):
        assert learning(a) == learning(b), f"{a['id']}: threads 1, same seed, same learning anywhere"
    workers = {c[where]["worker"] for c in local["cases"] for where in ("ran_on", "timed_on")}
    assert workers == {"w1", "w2"}, "units on both workers"
    for group in timing_groups(cases):
        timed_on = {r["timed_on"]["worker"] for r in local["cases"] if r["id"] in {c.id for c in group}}
        assert len(timed_on) == 1, "a group is timed in one process: its samples are paired"
    ran_on = local["cases"][0]["ran_on"]
    assert ran_on["cores"] == 1 and ran_on["threads"] == 1 and ran_on["device"] == "cpu"
    assert ran_on["host"] and ran_on["cpu_model"] and ran_on["device_name"]
    assert serial["cases"][0]["ran_on"]["worker"] == "main"
    assert local["env"]["hosts"] == [ran_on["host"]]
    assert local["env"]["executor"]["name"] == "local" and local["env"]["executor"]["workers"] == 2
    assert load_results(tmp_path / "local.json")["cases"][0]["ran_on"] == ran_on, "the fields survive loading"


@pytest.mark.processes
def test_a_seed_sweep_trains_while_its_group_is_timed_with_the_serial_results(write_suite, tmp_path):
    suite, cases, path = load_suite(write_suite(seed_sweep_suite("seeds", 4)))
    assert len(timing_groups(cases)) == 1, "one configuration: a single timing group"
    serial = run_suite(suite, cases, tmp_path / "serial.json", suite_path=str(path))
    started: list[dict] = []
    local = run_suite(
        suite,
        cases,
        tmp_path / "local.json",
        suite_path=str(path),
        plan=Plan("local", 2, None),
        on_event=lambda e: started.append(e) if e["kind"] == "unit_start" else None,
    )
    assert [c["id"] for c in local["cases"]] == [c.id for c in cases], "the file keeps the suite's order"
    for a, b in zip(serial["cases"], local["cases"]):
        assert learning(a) == learning(b), f"{a['id']}: same final metrics as serial"
    timed_on = {c["timed_on"]["worker"] for c in local["cases"]}
    assert len(timed_on) == 1, "its timing stayed in one process"
    assert len(started) == 1 + len(cases), "one timing unit and a training unit per case"
    # the second unit handed out is a training unit, to the other worker, while the group is being timed
    assert started[1]["ids"] == [cases[0].id] and started[1]["worker"] not in timed_on
    assert len({c["paired"]["group"] for c in local["cases"]}) == 1


def test_more_workers_than_cores_is_refused_in_one_line(tiny_suite, tmp_path):
    too_many = len(os.sched_getaffinity(0)) + 1
    result = cli.invoke(app, ["run", str(tiny_suite), "--out", str(tmp_path / "r.json"), "--workers", str(too_many)])
    assert result.exit_code == 2
    assert f"--workers {too_many}" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "r.json").exists()


def test_the_lock_refuses_a_second_writer(tiny_suite, tmp_path):
    out = tmp_path / "r.json"
    suite, cases, path = load_suite(tiny_suite)
    with lock_for(out):  # as another rnnbench process holding the file would
        with pytest.raises(ResultsError, match="another rnnbench process is writing"):
            run_suite(suite, cases, out, suite_path=str(path))
        result = cli.invoke(app, ["run", str(tiny_suite), "--out", str(out), "--quiet"])
        assert result.exit_code == 2 and "another rnnbench process" in result.output
    assert not out.exists(), "nothing was written while the lock was held"


@pytest.mark.processes
def test_a_worker_killed_mid_case_marks_its_cases_and_the_run_goes_on(write_suite, tmp_path):
    suite = write_suite(TIMED_SUITE)
    out = tmp_path / "r.json"
    process = rnnbench_process("run", str(suite), "--out", str(out), "--workers", "2", "--quiet")
    _wait(process, out, lambda doc: "start" in doc["reference"])  # workers started, units handed out
    time.sleep(3.0)  # inside the first units' 2 s of training (worker start-up included)
    victim = _workers_of(process)[0]
    victim.send_signal(signal.SIGKILL)
    stdout, stderr = process.communicate(timeout=180)
    assert process.returncode == 1, (stdout, stderr)  # exit 1: a case failed
    doc = load_results(out)
    assert doc["status"] == "complete"
    statuses = [c["status"] for c in doc["cases"]]
    assert sorted(statuses) == ["failed", "ok", "ok"], statuses
    failed = next(c for c in doc["cases"] if c["status"] == "failed")
    assert "killed by SIGKILL" in failed["error"]


@pytest.mark.processes
def test_interrupt_with_workers_then_resume_completes_the_file(write_suite, tmp_path):
    suite = write_suite(TIMED_SUITE)
    out = tmp_path / "r.json"
    process = rnnbench_process("run", str(suite), "--out", str(out), "--workers", "2", "--quiet")
    _wait(process, out, lambda doc: any(c["status"] == "ok" for c in doc["cases"]))
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, (stdout, stderr)
    doc = load_results(out)
    assert doc["status"] == "interrupted"
    assert "ok" in [c["status"] for c in doc["cases"]] and "interrupted" in [c["status"] for c in doc["cases"]]
    assert not psutil.pid_exists(process.pid) or not psutil.Process(process.pid).children()
    line = next(line for line in stderr.splitlines() if line.startswith("resume with: "))
    assert line.endswith("--workers 2")
    resumed = cli.invoke(app, ["run", str(suite), "--resume", str(out), "--workers", "2", "--quiet"])
    assert resumed.exit_code == 0, resumed.output
    done = load_results(out)
    assert done["status"] == "complete" and [c["status"] for c in done["cases"]] == ["ok", "ok", "ok"]
