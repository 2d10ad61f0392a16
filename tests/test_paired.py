"""Interleaved timing and paired statistics: drift that fools an unpaired ratio does not fool a paired one."""

from __future__ import annotations

import math

import numpy as np
import pytest
from suite_texts import tiny_suite_text

from rnnbench import stats
from rnnbench.analysis.paired import paired_ratio
from rnnbench.measure.paired import Entry, round_orders, time_interleaved
from rnnbench.suite.expand import load_suite, model_key, timing_groups


def _drifting(n: int, ratio: float, seed: int = 0) -> tuple[list[float], list[float]]:
    """Round-aligned samples on a machine whose speed drifts 2x over the run; new is `ratio` x base."""
    rng = np.random.default_rng(seed)
    speed = np.linspace(1.0, 2.0, n)  # slow drift: both members of a round see the same speed
    base = 10.0 * speed * np.exp(rng.normal(0, 0.01, n))
    new = 10.0 * ratio * speed * np.exp(rng.normal(0, 0.01, n))
    return base.tolist(), new.tolist()


def test_drift_fools_unpaired_not_paired():
    base, new = _drifting(200, 1.0)
    # unpaired, "base timed first, new timed later": the drift reads as a 1.5x slowdown
    later = [x * s for x, s in zip(new, np.linspace(1.3, 1.7, 200))]
    ratio, low, _ = stats.ratio_ci(base, later)
    assert low > 1.2
    ratio, low, high, p = stats.paired_ratio_ci(base, new)
    assert low <= 1.0 <= high
    assert abs(ratio - 1.0) < 0.01


def test_paired_detects_small_change_under_drift():
    base, new = _drifting(200, 1.02, seed=1)
    ratio, low, high, p = stats.paired_ratio_ci(base, new)
    assert low > 1.0 and abs(ratio - 1.02) < 0.01 and p < 0.01
    # unpaired, the same 2 % is lost in a 2x drift
    _, ulow, uhigh = stats.ratio_ci(base, new)
    assert ulow < 1.0 < uhigh


def test_paired_needs_aligned_samples():
    with pytest.raises(ValueError, match="round-aligned"):
        stats.paired_log_ratios([1.0, 2.0], [1.0])


def test_hierarchical_counts_process_bias():
    # each pair has a tight in-pair ratio, but pairs disagree: the interval must be wide
    rng = np.random.default_rng(3)
    biases = [0.95, 1.04, 0.98, 1.03]
    pairs = [np.log(b) + rng.normal(0, 0.001, 50) for b in biases]
    ratio, low, high, _ = stats.hierarchical_ratio_ci(pairs)
    assert low <= 1.0 <= high
    one = stats.hierarchical_ratio_ci(pairs[:1])
    assert one[1] == 0.0 and one[2] == math.inf  # a single pair cannot see its own bias: unbounded
    shifted = [d + math.log(1.05) for d in pairs]
    assert stats.hierarchical_ratio_ci(shifted)[1] > 1.0 - 0.05  # still centred near the shift


def test_round_orders_alternate_and_shuffle():
    assert round_orders(["a", "b"], 4) == [["a", "b"], ["b", "a"], ["a", "b"], ["b", "a"]]
    orders = round_orders(list("abcd"), 6, seed=1)
    for first, second in zip(orders[::2], orders[1::2]):
        assert second == first[::-1]
    assert len({tuple(o) for o in orders}) > 2
    assert all(sorted(o) == list("abcd") for o in orders)


def test_time_interleaved_aligns_rounds_and_pads_only_when_asked():
    calls: list[str] = []
    clock_now = [0.0]

    def clock() -> float:
        return clock_now[0]

    def work(name: str, cost: float):
        def run() -> None:
            calls.append(name)
            clock_now[0] += cost

        return run

    m = time_interleaved(
        {"a": Entry({"forward": work("a", 0.001)}), "b": Entry({"forward": work("b", 0.002)})},
        warmup=1,
        min_repeats=8,
        max_repeats=8,
        max_seconds=10,
        clock=clock,
    )
    assert m.rounds == 8 and len(m.total_ms["a"]) == len(m.total_ms["b"]) == 8
    assert calls[2:6] == ["a", "b", "b", "a"]  # after warm-up: A B, B A
    assert all(x == pytest.approx(1.0) for x in m.total_ms["a"])
    assert all(x == pytest.approx(2.0) for x in m.total_ms["b"])


def test_timing_groups_hold_models_and_seeds_of_one_configuration():
    _, cases, _ = load_suite("ci")
    groups = timing_groups(cases)
    assert len(groups) == 1
    assert {model_key(c) for c in groups[0]} == {c.id.rsplit("/", 1)[0] for c in cases}


def test_run_group_pairs_cases(tmp_path):
    from rnnbench.run.runner import run_group

    (tmp_path / "tiny.yaml").write_text(tiny_suite_text(seeds=(0, 1)))
    _, cases, _ = load_suite(tmp_path / "tiny.yaml")
    records = run_group(cases)
    assert [r["id"] for r in records] == [c.id for c in cases]
    groups = {r["paired"]["group"] for r in records}
    assert len(groups) == 1
    by_id = {r["id"]: r for r in records}
    for r in records:
        rep = by_id[r["paired"]["timed_as"]]
        assert r["train"]["step_ms"]["samples"] == rep["train"]["step_ms"]["samples"]
        assert r["status"] in ("ok", "diverged")
    lstm = next(r for r in records if r["arch"] == "lstm" and r["seed"] == 0)
    gru = next(r for r in records if r["arch"] == "gru" and r["seed"] == 1)
    found = paired_ratio({"cases": records}, gru["id"], lstm["id"])
    assert found is not None and found[4] == records[0]["paired"]["rounds"]["train_step"]
    assert paired_ratio({"cases": records}, lstm["id"], lstm["id"])[0] == 1.0


def _paired_doc(lstm: list[float], gru: list[float]) -> dict:
    def case(cid, samples):
        members = ["t/lstm/s0", "t/gru/s0"]
        return {
            "id": cid,
            "status": "ok",
            "train": {"step_ms": {"samples": samples}},
            "paired": {"group": "g", "timed_as": cid, "members": members, "rounds": {}},
        }

    return {"cases": [case("t/lstm/s0", lstm), case("t/gru/s0", gru)]}


def test_compare_drift_is_how_far_the_paired_ratios_moved():
    from rnnbench.compare.drift import paired_drift

    base = _paired_doc([10.0] * 20, [20.0] * 20)
    same = _paired_doc([13.0] * 20, [26.0] * 20)  # the machine slowed both: the paired ratio did not move
    moved = _paired_doc([10.0] * 20, [22.0] * 20)
    assert paired_drift(base, same) == pytest.approx(0.0)
    assert paired_drift(base, moved) == pytest.approx(math.log(1.1))
    assert paired_drift({"cases": []}, base) == 0.0


def test_across_pairs_interval_covers_under_process_bias():
    """Coverage of the across-pairs interval, Monte Carlo: pair biases N(0, 3 %), in-pair noise 1 %."""
    rng = np.random.default_rng(11)
    covered, trials = 0, 2000
    for _ in range(trials):
        pairs = [rng.normal(bias, 0.01, 15) for bias in rng.normal(0.0, 0.03, 6)]
        _, low, high, _ = stats.hierarchical_ratio_ci(pairs)
        covered += low <= 1.0 <= high
    assert covered / trials >= 0.94  # 95 % nominal; 0.94 leaves room for Monte-Carlo error (s.e. 0.5 %)


def test_one_worker_pair_cannot_bound_a_change_and_says_so():
    from rnnbench.compare.ab import AbOptions, comparison_of
    from rnnbench.render.compare import decision_line

    def answer(ms: float) -> dict:
        return {"total_ms": [ms], "phases_ms": {"forward": [ms / 3], "backward": [ms / 3], "optimizer": [ms / 3]}}

    entry = {"label": "lstm", "block": 1, "base": [answer(10.0)] * 6, "new": [answer(10.5)] * 6}
    doc = {"suite": "ci.yaml", "pairs": [{"rounds": 6, "entries": {"adding/T5/lstm/h8|train": entry}}]}
    comparison = comparison_of(doc, AbOptions(pairs=1))
    step = next(r for r in comparison.rows if r.metric == "step")
    assert step.ratio == pytest.approx(1.05) and step.ci == (0.0, math.inf) and not step.regression
    assert "cannot bound a change" in decision_line(comparison)


def test_a_failing_group_timing_is_timed_alone_and_says_why(tmp_path, monkeypatch):
    from rnnbench.run import speed

    def broken(cases, on_event, share=1.0):
        raise RuntimeError("one model cannot build\nsecond line")

    monkeypatch.setattr(speed, "time_group", broken)
    solo: list[str] = []
    monkeypatch.setattr(speed, "solo_speed", lambda case, on_event: solo.append(case.id) or {"timed": "alone"})
    (tmp_path / "tiny.yaml").write_text(tiny_suite_text(seeds=(0, 1)))
    _, cases, _ = load_suite(tmp_path / "tiny.yaml")
    speeds = speed.time_cases(cases)
    assert solo == [c.id for c in cases]
    assert all(s == {"timed": "alone", "paired_error": "RuntimeError: one model cannot build"} for s in speeds.values())


def test_the_timing_method_is_chosen_by_explicit_options(tmp_path):
    from rnnbench.run.speed import PAIRED, PROCESSES, SOLO, timing_method

    (tmp_path / "tiny.yaml").write_text(tiny_suite_text(seeds=(0, 1)))
    _, cases, _ = load_suite(tmp_path / "tiny.yaml")
    assert timing_method(cases[:1], 3) == SOLO
    assert timing_method(cases, 1) == PAIRED
    assert timing_method(cases, 2) == PROCESSES
