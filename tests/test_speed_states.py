"""The machine's speed states: which rounds a serving ratio counts, and that the state, not the luck of a
round, picks them."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbench.analysis import speed_states
from rnnbench.analysis.serving import case_rows, counted, counted_median, path_ratio
from rnnbench.render.serving import serving_table

FAST, SLOW = 1.0, 1.8  # eager's latency in each state (the LSTM at batch 1 here: about 210 and 400 µs)
RATIO = {FAST: 0.54, SLOW: 0.46}  # a path's ratio to eager moves with the state (ONNX Runtime's LSTM here)


def _two_state_processes(slow_share: list[float], rounds: int = 200, seed: int = 0) -> tuple[list, list, list[int]]:
    """Eager's and a path's samples over processes that spend `slow_share` of their rounds in the slow state, in
    stretches of 50 rounds, with 3 % noise of each round's own on each side."""
    rng = np.random.default_rng(seed)
    eager: list[float] = []
    path: list[float] = []
    for share in slow_share:
        stretches = rounds // 50
        slow = np.repeat(np.arange(stretches) < round(share * stretches), 50)
        rng.shuffle(slow.reshape(stretches, 50))  # the slow stretches anywhere in the process
        state = np.where(slow, SLOW, FAST)
        ratio = np.where(slow, RATIO[SLOW], RATIO[FAST])
        eager += (state * np.exp(0.03 * rng.standard_normal(rounds))).tolist()
        path += (state * ratio * np.exp(0.03 * rng.standard_normal(rounds))).tolist()
    return eager, path, [rounds] * len(slow_share)


def _records(eager: list[float], path: list[float]) -> tuple[dict, dict]:
    def record(samples: list[float]) -> dict:
        return {"status": "ok", "inference": {"b1": {"latency_ms": {"samples": samples}}}}

    return record(path), record(eager)


def test_a_round_is_left_out_of_its_own_neighbourhood():
    log_ms = np.zeros(21)
    log_ms[10] = 5.0  # one slow round
    around = speed_states.neighbourhood(log_ms, window=3)
    assert around[10] == 0.0  # its own time does not read it as slow
    assert np.all(around == 0.0)  # and one round among six neighbours moves no median
    log_ms[7:14] = 5.0  # a slow stretch: every round inside it reads slow, its own time left out or not
    assert np.all(speed_states.neighbourhood(log_ms, window=3)[8:13] == 5.0)


def test_the_fast_rounds_are_those_of_the_fast_state_in_every_process():
    eager, _, blocks = _two_state_processes([0.5, 0.25, 0.75])
    fast = speed_states.fast_rounds(eager, blocks)
    truth = np.asarray(eager) < 1.4  # the state each round was in (3 % noise keeps them apart)
    assert (fast == truth).mean() > 0.97  # only rounds at a stretch's edge may be read as the other state
    assert fast[:200].sum() == pytest.approx(100, abs=6) and fast[200:400].sum() == pytest.approx(150, abs=6)


def test_blocks_that_do_not_match_the_samples_are_refused():
    with pytest.raises(ValueError, match="blocks add up to 5 rounds, the samples are 4"):
        speed_states.fast_rounds([1.0, 1.0, 1.0, 1.0], [2, 3])


def test_the_ratio_is_the_fast_state_s_whatever_share_of_the_run_was_slow():
    """Two runs of one machine, one mostly fast and one mostly slow: the all-rounds ratio would move by 10 %."""
    mostly_fast = path_ratio(*_records(*_two_state_processes([0.0, 0.25, 0.25, 0.0, 0.25, 0.5])[:2]), "b1", [200] * 6)
    mostly_slow = path_ratio(
        *_records(*_two_state_processes([0.75, 0.5, 0.75, 0.75, 0.5, 0.75], seed=1)[:2]), "b1", [200] * 6
    )
    assert mostly_fast is not None and mostly_slow is not None
    for found in (mostly_fast, mostly_slow):
        assert found.ratio == pytest.approx(RATIO[FAST], rel=0.01)
        assert found.high / found.low < 1.03 and found.processes == 6  # tight: no state mixture widens it
    assert mostly_fast.share > 0.7 and mostly_slow.share < 0.45


def test_a_round_s_own_noise_does_not_choose_it():
    """Two states with one ratio in both, 10 % noise on each side: choosing rounds by their own eager time would
    lift the ratio by several per cent; choosing them by their neighbourhood leaves it where it is."""
    rng = np.random.default_rng(3)
    slow = np.tile(np.repeat([False, True], 50), 40)
    state = np.where(slow, SLOW, FAST)
    eager = state * np.exp(0.10 * rng.standard_normal(state.size))
    path = 0.5 * state * np.exp(0.10 * rng.standard_normal(state.size))
    found = path_ratio(*_records(eager.tolist(), path.tolist()), "b1", [500] * 8)
    assert found is not None and 0.4 < found.share < 0.55  # the slow state's rounds were left out …
    assert found.ratio == pytest.approx(0.5, rel=0.01)  # … and no round for its own luck


def test_too_few_rounds_in_the_fast_state_count_every_round():
    """Twenty processes, each fast for its first 9 rounds only: the fast state sets the floor, yet no process has
    MIN_ROUNDS in it, so every round counts."""
    rng = np.random.default_rng(5)
    state = np.tile(np.where(np.arange(100) < 9, FAST, SLOW), 20)
    ratio = np.where(state == FAST, RATIO[FAST], RATIO[SLOW])
    eager = state * np.exp(0.03 * rng.standard_normal(state.size))
    path = eager * ratio * np.exp(0.03 * rng.standard_normal(state.size))
    assert speed_states.fast_rounds(eager, [100] * 20).sum() >= 100  # the floor is the fast state's
    found = path_ratio(*_records(eager.tolist(), path.tolist()), "b1", [100] * 20)
    assert found is not None and found.share == 1.0 and found.processes == 20
    assert found.ratio == pytest.approx(RATIO[SLOW], rel=0.02)


def test_the_serving_caption_says_which_rounds_counted():
    eager, path, blocks = _two_state_processes([0.5, 0.5, 0.5])
    served, reference = _records(eager, path)
    case = {
        "arch": "lstm",
        "task": "adding",
        "seq_len": 5,
        "serving": {
            "rounds": {"b1": sum(blocks)},
            "blocks": {"b1": blocks},
            "processes": 3,
            "paths": {"eager": reference, "onnxruntime": served},
        },
    }
    table = serving_table({"cases": [case]})  # type: ignore[typeddict-item]
    assert table is not None
    caption = str(table.caption)
    assert "in 3 processes, each one unit, over the rounds timed in the machine's fast speed state (" in caption
    assert "% of them)" in caption


def test_the_table_s_latency_comes_from_the_rounds_its_ratio_counts():
    """Half the rounds slow: eager's median over every round would sit between the states; the row's does not."""
    eager, path, blocks = _two_state_processes([0.5, 0.5, 0.5, 0.5])
    served, reference = _records(eager, path)
    serving = {"rounds": {"b1": sum(blocks)}, "blocks": {"b1": blocks}, "processes": 4}
    case = {
        "arch": "lstm",
        "task": "adding",
        "seq_len": 5,
        "serving": {**serving, "paths": {"eager": reference, "onnxruntime": served}},
    }
    eager_row, ort_row = case_rows(case)  # type: ignore[arg-type]
    assert eager_row.latency_ms == pytest.approx(FAST, rel=0.02)
    assert ort_row.latency_ms == pytest.approx(FAST * RATIO[FAST], rel=0.02)
    assert ort_row.throughput == pytest.approx(1e3 / ort_row.latency_ms)  # batch 1: from the same median
    kept_none = {"status": "ok", "inference": {"b1": {"latency_ms": {"median": 0.7}}}}  # a record without samples
    assert counted_median(kept_none, "b1", counted(reference, "b1", blocks)) == 0.7
