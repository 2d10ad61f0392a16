"""`rnnbench ab`: two real worker subprocesses at tiny sizes, sides that cannot start, the slowdown knob on one side."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rnnbench.compare.ab import AbError, AbOptions, Side, comparison_of, run_ab

ROOT = Path(__file__).resolve().parents[1]

TINY = """
name: tiny-ab
device: cpu
threads: 1
seeds: [0]
defaults:
  hidden_size: 8
  batch_size: 4
  train: {max_steps: 2, max_seconds: 5, eval_every: 2, eval_size: 16}
  timing: {warmup: 1, min_repeats: 5, max_repeats: 12, max_seconds: 0.01, target_rel_ci: 0.05}
  inference: {batch_sizes: [1]}
models: [lstm]
tasks:
  - {task: adding, seq_len: 5}
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _ab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rnnbench", "ab", *args], capture_output=True, text=True, env=_env(), timeout=300
    )


@pytest.fixture
def tiny(write_suite) -> Path:
    return write_suite(TINY)


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
    done = _ab(str(tiny), "--pairs", "2", "--seconds", "1", "--format", "json", "--out", str(out))
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown and out.exists()
    saved = json.loads(out.read_text())
    assert set(saved["sides"]) == {"base", "new"} and saved["rows"]
    assert {r["metric"] for r in saved["rows"]} >= {"step", "forward", "latency_b1"}


def test_missing_python_is_exit_2_naming_the_side(tiny):
    done = _ab(str(tiny), "--pairs", "1", "--seconds", "0.5", "--new-python", "/no/such/python")
    assert done.returncode == 2
    assert "new side" in done.stderr and "Traceback" not in done.stderr


def test_a_path_whose_module_raises_is_exit_2(tiny, tmp_path):
    broken = tmp_path / "broken"
    (broken / "rnnbench").mkdir(parents=True)
    (broken / "rnnbench" / "__init__.py").write_text("raise RuntimeError('broken on purpose')\n")
    done = _ab(str(tiny), "--pairs", "1", "--seconds", "0.5", "--base-path", str(broken))
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

    proc = subprocess.Popen(
        [sys.executable, "-m", "rnnbench", "ab", str(tiny), "--pairs", "3", "--seconds", "30"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
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
