"""The Ray executor on a local Ray with 2 CPUs: the same results as serial, with where each case ran."""

from __future__ import annotations

import pytest

from rnnbench.results.store import load_results
from rnnbench.run.driver import run_suite
from rnnbench.run.executors.base import Plan
from rnnbench.suite.expand import load_suite

ray = pytest.importorskip("ray")

from test_executors import STEPS_SUITE, _learning  # noqa: E402  (tests/ is on sys.path: no __init__.py)


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
        assert _learning(a) == _learning(b), f"{a['id']}: threads 1, same seed, same learning on Ray"
        assert b["ran_on"]["worker"].startswith("ray:") and b["ran_on"]["threads"] == 1
    assert on_ray["env"]["executor"]["name"] == "ray"
    assert load_results(tmp_path / "ray.json")["env"]["hosts"] == [on_ray["cases"][0]["ran_on"]["host"]]
    assert ray.is_initialized(), "a Ray the driver did not start is left running"
