"""`rnnbench ab`: two real worker subprocesses at tiny sizes, sides that cannot start, the slowdown knob on one side."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from helpers import ROOT, rnnbench_process, rnnbench_run
from suite_texts import AB_SUITE

from rnnbench.compare.ab import AbError, AbOptions, Side, comparison_of, run_ab

# Every test starts `rnnbench ab` or its worker processes.
pytestmark = pytest.mark.processes


@pytest.fixture
def tiny(write_suite) -> Path:
    return write_suite(AB_SUITE)


def test_slowdown_knob_reaches_only_the_new_side(tiny, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.delenv("RNNBENCH_TEST_SLOWDOWN", raising=False)
    options = AbOptions(pairs=2, seconds=1.0, block_ms=2.0)
    doc = run_ab(str(tiny), Side("base"), Side("new", env={"RNNBENCH_TEST_SLOWDOWN": "2.0"}), options)
    assert doc["sides"]["base"]["test_slowdown"] is None
    assert doc["sides"]["new"]["test_slowdown"] == 2.0
    comparison = comparison_of(doc, options)
    step = next(r for r in comparison.rows if r.metric == "step")
    assert step.ratio > 1.5  # padded 2x on new only; an unpadded new side would read ~1
    assert len(doc["pairs"]) == 2 and all(p["rounds"] >= 4 for p in doc["pairs"])
    entry = doc["pairs"][0]["entries"]["adding/T5/lstm/h8|train"]
    assert len(entry["base"]) == len(entry["new"]) == doc["pairs"][0]["rounds"]


def test_ab_end_to_end_json_and_out(tiny, tmp_path):
    out = tmp_path / "ab.json"
    done = rnnbench_run("ab", str(tiny), "--pairs", "2", "--seconds", "1", "--format", "json", "--out", str(out))
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown and out.exists()
    saved = json.loads(out.read_text())
    assert set(saved["sides"]) == {"base", "new"} and saved["rows"]
    assert {r["metric"] for r in saved["rows"]} >= {"step", "forward", "latency_b1"}


def test_missing_python_is_exit_2_naming_the_side(tiny):
    done = rnnbench_run("ab", str(tiny), "--pairs", "1", "--seconds", "0.5", "--new-python", "/no/such/python")
    assert done.returncode == 2
    assert "new side" in done.stderr and "Traceback" not in done.stderr


def test_a_path_whose_module_raises_is_exit_2(tiny, tmp_path):
    broken = tmp_path / "broken"
    (broken / "rnnbench").mkdir(parents=True)
    (broken / "rnnbench" / "__init__.py").write_text("raise RuntimeError('broken on purpose')\n")
    done = rnnbench_run("ab", str(tiny), "--pairs", "1", "--seconds", "0.5", "--base-path", str(broken))
    assert done.returncode == 2
    assert "base side" in done.stderr and "broken on purpose" in done.stderr


def test_worker_that_dies_is_named(tiny, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    with pytest.raises(AbError, match="new side"):
        run_ab(str(tiny), Side("base"), Side("new", python=sys.executable, env={"RNNBENCH_TEST_SLOWDOWN": "x"}))


def test_ctrl_c_stops_every_worker(tiny):
    import signal
    import time

    import psutil

    proc = rnnbench_process("ab", str(tiny), "--pairs", "3", "--seconds", "30")
    assert proc.stderr is not None
    assert "preparing" in proc.stderr.readline()
    time.sleep(1.0)
    workers = psutil.Process(proc.pid).children(recursive=True)
    assert workers, "the workers run while pair 1 is timed"
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)
    assert proc.returncode == 130
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, "no worker outlives the orchestrator"
