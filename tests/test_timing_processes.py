"""A timing group timed in several fresh processes: samples merged in order, one interval unit per process."""

from __future__ import annotations

import math

import numpy as np
import pytest
from suite_texts import tiny_suite_text

from rnnbench.analysis.paired import paired_log_ratio_blocks, paired_ratio_of
from rnnbench.run import timing_processes
from rnnbench.suite.expand import load_suite


def _speed(case_id: str, step: list[float], b1: list[float]) -> dict:
    summary = {"samples": step, "median": float(np.median(step))}
    return {
        "train_timing": {"step_ms": summary, "phases_ms": {"forward": summary}},
        "inference": {"b1": {"latency_ms": {"samples": b1, "median": float(np.median(b1))}, "seq_per_s": 1.0}},
        "backend": "native",
        "memory": {},
        "paired": {
            "group": "g",
            "timed_as": case_id,
            "members": [case_id],
            "rounds": {"train_step": len(step), "b1": 2},
        },
    }


def test_merge_keeps_every_sample_in_process_order_and_the_rounds_of_each():
    parts = [{"c": _speed("c", [1.0, 2.0, 3.0], [5.0, 6.0])}, {"c": _speed("c", [4.0], [7.0, 8.0])}]
    merged = timing_processes.merge_processes(parts)["c"]
    assert merged["train_timing"]["step_ms"]["samples"] == [1.0, 2.0, 3.0, 4.0]
    assert merged["train_timing"]["step_ms"]["median"] == 2.5
    assert merged["inference"]["b1"]["latency_ms"]["samples"] == [5.0, 6.0, 7.0, 8.0]
    assert merged["inference"]["b1"]["seq_per_s"] == pytest.approx(1 / 6.5e-3)  # batch 1 at the merged median
    assert merged["paired"]["blocks"] == {"train_step": [3, 1], "b1": [2, 2]}
    assert merged["paired"]["rounds"] == {"train_step": 4, "b1": 4} and merged["paired"]["processes"] == 2


def _case(cid: str, samples: list[float], blocks: list[int] | None) -> dict:
    paired = {"group": "g", "timed_as": cid, "members": ["lstm", "gru"], "rounds": {"train_step": len(samples)}}
    if blocks:
        paired["blocks"] = {"train_step": blocks}
    return {"id": cid, "status": "ok", "train": {"step_ms": {"samples": samples}}, "paired": paired}


def test_the_process_is_the_unit_when_the_group_ran_in_several():
    # six processes, each with tight rounds but its own bias (1.8 ... 2.2 × LSTM)
    rng = np.random.default_rng(0)
    biases = (2.0, 2.2, 1.8, 2.1, 1.9, 2.0)
    lstm = [10.0] * 120
    gru = [10.0 * b * math.exp(rng.normal(0, 0.001)) for b in biases for _ in range(20)]
    sizes = [20] * 6
    pooled = paired_ratio_of([_case("gru", gru, None)], [_case("lstm", lstm, None)])
    per_process = paired_ratio_of([_case("gru", gru, sizes)], [_case("lstm", lstm, sizes)])
    assert pooled is not None and per_process is not None
    assert pooled.processes == 0 and per_process.processes == 6 and per_process.rounds == 120
    # the pooled rounds' interval cannot see the processes' spread; the per-process one holds it
    assert pooled.high - pooled.low < 0.25
    assert per_process.low <= 1.81 and per_process.high >= 2.19
    assert per_process.p == pytest.approx(2 / 64)  # six of one sign: the sign test's smallest p
    blocks = paired_log_ratio_blocks([_case("gru", gru, sizes)], [_case("lstm", lstm, sizes)])
    assert [len(b) for b in blocks[0]] == sizes
    # blocks that do not add up to the samples (a hand-edited file) are read as one process
    wrong = paired_ratio_of([_case("gru", gru, [20, 20])], [_case("lstm", lstm, [20, 20])])
    assert wrong is not None and wrong.processes == 0


def test_process_interval_and_sign_test_agree_and_one_process_is_unbounded():
    from rnnbench import stats

    rng = np.random.default_rng(12)
    for _ in range(300):
        k = int(rng.integers(2, 12))
        blocks = [list(rng.normal(rng.normal(0.05, 0.1), 0.01, 5)) for _ in range(k)]
        _, low, high, p = stats.process_ratio_ci(blocks)
        assert (low > 1.0 or high < 1.0) == (p < 0.05)
        assert (high == math.inf) == (k < 6)  # below 6 processes a 95 % interval cannot be had
    assert stats.process_ratio_ci([[0.1, 0.2]])[1:3] == (0.0, math.inf)


@pytest.mark.processes
def test_run_group_in_processes_records_blocks_and_leaves_no_child(tmp_path):
    import multiprocessing

    from rnnbench.run.runner import run_group

    (tmp_path / "tiny.yaml").write_text(tiny_suite_text(seeds=(0, 1), timing_processes=2))
    _, cases, _ = load_suite(tmp_path / "tiny.yaml")
    events: list[dict] = []
    records = run_group(cases, on_event=events.append)
    assert not multiprocessing.active_children()
    assert [e["phase"] for e in events if "timing process" in e.get("phase", "")] == [
        "timing process 1 of 2",
        "timing process 2 of 2",
    ]
    lstm = next(r for r in records if r["arch"] == "lstm" and r["seed"] == 0)
    gru = next(r for r in records if r["arch"] == "gru" and r["seed"] == 0)
    blocks = lstm["paired"]["blocks"]["train_step"]
    assert len(blocks) == 2 and all(b >= 5 for b in blocks)  # min_repeats holds per process
    assert len(lstm["train"]["step_ms"]["samples"]) == sum(blocks) == lstm["paired"]["rounds"]["train_step"]
    assert len(lstm["inference"]["b1"]["latency_ms"]["samples"]) == sum(lstm["paired"]["blocks"]["b1"])
    found = paired_ratio_of([gru], [lstm])
    assert found is not None and found.processes == 2 and found.low < found.ratio < found.high


def test_a_failing_timing_process_falls_back_to_timing_each_case_alone(tmp_path, monkeypatch):
    from rnnbench.run import runner, speed

    def broken(cases, processes, on_event):
        raise timing_processes.TimingProcessError("the timing process died with exit code -9")

    monkeypatch.setattr(speed, "time_group_in_processes", broken)
    (tmp_path / "tiny.yaml").write_text(tiny_suite_text(timing_processes=2))
    _, cases, _ = load_suite(tmp_path / "tiny.yaml")
    records = runner.run_group(cases)
    assert all(r["status"] in ("ok", "diverged") and "paired" not in r for r in records)
    assert all(r["paired_error"] == "TimingProcessError: the timing process died with exit code -9" for r in records)


@pytest.mark.processes
def test_a_child_that_dies_is_one_line_naming_what_was_awaited_and_no_orphan(monkeypatch):
    monkeypatch.setattr(timing_processes, "CHILD_MODULE", "rnnbench.no_such_module")
    child = timing_processes._start(0, 1)
    with pytest.raises(timing_processes.TimingProcessError, match=r"timing process 1: exited \(code 1\).*No module"):
        timing_processes.answer(child, 60.0, "it to import torch")
    child.stop()
    assert child.proc.poll() is not None


@pytest.mark.processes
def test_local_workers_time_each_group_in_fresh_processes(tmp_path):
    from rnnbench.run.driver import run_suite
    from rnnbench.run.executors.base import Plan

    (tmp_path / "tiny.yaml").write_text(tiny_suite_text(seeds=(0, 1), timing_processes=2))
    suite, cases, path = load_suite(tmp_path / "tiny.yaml")
    doc = run_suite(suite, cases, tmp_path / "r.json", suite_path=str(path), plan=Plan("local", 2, None))
    assert all(c["status"] == "ok" for c in doc["cases"])
    assert all(c["paired"]["processes"] == 2 and len(c["paired"]["blocks"]["train_step"]) == 2 for c in doc["cases"])
