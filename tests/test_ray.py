"""The Ray executor on a local Ray with 2 CPUs: the same results as serial, where each case ran, a lost worker."""

from __future__ import annotations

import signal
import threading
import time

import psutil
import pytest
from helpers import learning
from suite_texts import STEPS_SUITE, TIMED_SUITE

from rnnbench.results.store import load_results
from rnnbench.run.driver import run_suite
from rnnbench.run.executors.base import Plan
from rnnbench.suite.expand import load_suite

# Every test runs on a local Ray (its raylet and worker processes).
pytestmark = pytest.mark.processes

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for the module (starting one takes seconds): 2 CPUs, localhost, no dashboard."""
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_gives_the_serial_results_and_records_its_workers(local_ray, write_suite, tmp_path):
    suite, cases, path = load_suite(write_suite(STEPS_SUITE))
    serial = run_suite(suite, cases, tmp_path / "serial.json", suite_path=str(path))
    on_ray = run_suite(suite, cases, tmp_path / "ray.json", suite_path=str(path), plan=Plan("ray", 1, None))
    assert [c["id"] for c in on_ray["cases"]] == [c.id for c in cases]
    for a, b in zip(serial["cases"], on_ray["cases"]):
        assert b["status"] == "ok"
        assert learning(a) == learning(b), f"{a['id']}: threads 1, same seed, same learning on Ray"
        assert b["ran_on"]["worker"].startswith("ray:") and b["ran_on"]["threads"] == 1
    assert on_ray["env"]["executor"]["name"] == "ray"
    assert load_results(tmp_path / "ray.json")["env"]["hosts"] == [on_ray["cases"][0]["ran_on"]["host"]]
    assert ray.is_initialized(), "a Ray the driver did not start is left running"


def _ray_unit_workers() -> list[psutil.Process]:
    """Ray worker processes running a unit now (Ray titles a busy worker `ray::<task name>`)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if any("ray::_ray_unit" in part for part in process.info["cmdline"] or []):
            found.append(process)
    return found


def test_a_ray_worker_killed_mid_case_marks_its_case_and_the_run_goes_on(local_ray, write_suite, tmp_path):
    suite, cases, path = load_suite(write_suite(TIMED_SUITE))  # three units, each training for 2 s of wall time
    done: dict = {}
    runner = threading.Thread(
        target=lambda: done.update(
            doc=run_suite(suite, cases, tmp_path / "r.json", suite_path=str(path), plan=Plan("ray", 1, None))
        )
    )
    runner.start()
    deadline = time.monotonic() + 120
    while not (busy := _ray_unit_workers()):
        assert runner.is_alive() and time.monotonic() < deadline, "no Ray task ever ran a unit"
        time.sleep(0.05)
    time.sleep(1.0)  # inside the unit: its imports, then its 2 s of training
    busy[0].send_signal(signal.SIGKILL)
    runner.join(timeout=180)
    assert not runner.is_alive(), "the run did not finish after the worker was lost"
    doc = done["doc"]
    assert doc["status"] == "complete"
    statuses = [c["status"] for c in doc["cases"]]
    assert sorted(statuses) == ["failed", "ok", "ok"], statuses
    failed = next(c for c in doc["cases"] if c["status"] == "failed")
    assert failed["error"].startswith("lost on Ray: WorkerCrashedError"), failed["error"]
    saved = load_results(tmp_path / "r.json")
    assert [c["status"] for c in saved["cases"]] == statuses, "the file holds what the run returned"
