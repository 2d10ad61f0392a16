"""The timers, driven by a fake clock: no real time is measured or asserted."""

from __future__ import annotations

import itertools

import pytest
import torch

from rnnbench.measure import timer as timing
from rnnbench.measure.timer import make_sync, time_fn, time_fn_detailed, time_phases


class FakeClock:
    """A clock that only moves when a fake workload says so; logs every event in order."""

    def __init__(self) -> None:
        self.now = 1000.0  # seconds; a power-of-two-friendly origin keeps sums exact
        self.log: list[str] = []

    def __call__(self) -> float:
        self.log.append("clock")
        return self.now

    def sync(self) -> None:
        self.log.append("sync")

    def workload(self, durations_s):
        """A fn whose successive calls take the given durations (cycled)."""
        durations = itertools.cycle(durations_s)

        def fn() -> None:
            self.log.append("fn")
            self.now += next(durations)

        return fn


def test_warmup_calls_are_thrown_away():
    clock = FakeClock()
    slow_then_fast = iter([0.5, 0.5, 0.5] + [0.001] * 100)
    calls = []

    def fn():
        calls.append(1)
        clock.now += next(slow_then_fast)

    samples = time_fn(fn, warmup=3, min_repeats=5, max_repeats=5, clock=clock, sync=clock.sync)
    assert len(calls) == 8
    assert samples == pytest.approx([1.0] * 5)  # milliseconds


def test_constant_workload_converges_at_min_repeats():
    clock = FakeClock()
    result = time_fn_detailed(
        clock.workload([0.002]), warmup=0, min_repeats=7, target_rel_ci=0.02, clock=clock, sync=clock.sync
    )
    assert len(result.samples_ms) == 7
    assert result.converged and result.stop_reason == "converged"
    assert result.pilot == 7  # the pilot's 7 samples chose the size, then 7 fresh ones were kept
    assert result.elapsed_s == pytest.approx(14 * 0.002)


def test_stops_when_the_median_ci_gets_tight():
    # Below n = 9 the 95 % interval is (min, max), which holds the 1 ms and 3 ms outliers;
    # at n = 9 it is [x_(2), x_(8)] = [2, 2]: half-width 0, so the pilot stops exactly there,
    # and 9 fresh samples (without the pilot's outliers) are kept.
    clock = FakeClock()
    result = time_fn_detailed(
        clock.workload([0.001, 0.003] + [0.002] * 100),
        warmup=0,
        min_repeats=5,
        target_rel_ci=0.02,
        clock=clock,
        sync=clock.sync,
    )
    assert result.pilot == 9
    assert result.samples_ms == pytest.approx([2.0] * 9)
    assert result.stop_reason == "converged"


def test_max_repeats_bounds_a_noisy_timing():
    clock = FakeClock()
    result = time_fn_detailed(
        clock.workload([0.001, 0.002]), warmup=0, min_repeats=10, max_repeats=200, max_seconds=1e9, clock=clock
    )
    assert len(result.samples_ms) == 200
    assert not result.converged and result.stop_reason == "max_repeats"


def test_max_seconds_bounds_the_measured_block():
    clock = FakeClock()
    # cumulative 0.125, 0.375, 0.5, 0.75, 0.875, 1.125 s: the sixth sample crosses 1 s
    result = time_fn_detailed(clock.workload([0.125, 0.25]), warmup=2, min_repeats=3, max_seconds=1.0, clock=clock)
    assert len(result.samples_ms) == 6
    assert result.stop_reason == "max_seconds"
    assert result.elapsed_s == pytest.approx(1.125)


def test_min_repeats_wins_over_max_seconds():
    clock = FakeClock()
    samples = time_fn(clock.workload([10.0]), warmup=0, min_repeats=4, max_seconds=1.0, clock=clock)
    assert len(samples) == 4


def test_no_target_means_no_early_stop():
    clock = FakeClock()
    samples = time_fn(clock.workload([0.001]), warmup=0, min_repeats=3, max_repeats=12, target_rel_ci=None, clock=clock)
    assert len(samples) == 12


def test_sync_and_clock_surround_every_sample():
    clock = FakeClock()
    time_fn(clock.workload([0.001]), warmup=2, min_repeats=3, max_repeats=3, clock=clock, sync=clock.sync)
    # warm-up: fn, fn, one sync; block start clock; then per sample: sync clock fn sync clock
    assert clock.log == ["fn", "fn", "sync", "clock"] + ["sync", "clock", "fn", "sync", "clock"] * 3


def test_garbage_collected_once_before_the_block(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(timing.gc, "collect", lambda: clock.log.append("gc"))
    time_fn(clock.workload([0.001]), warmup=2, min_repeats=4, max_repeats=4, clock=clock, sync=clock.sync)
    assert clock.log.count("gc") == 1
    assert clock.log.index("gc") == 3  # after the warm-up calls and their sync, before any timed clock read


def test_before_each_runs_untimed():
    clock = FakeClock()
    setups = []

    def before_each():
        setups.append(1)
        clock.now += 5.0  # slow setup must not show in the samples

    samples = time_fn(
        clock.workload([0.002]), warmup=1, min_repeats=3, max_repeats=3, clock=clock, before_each=before_each
    )
    assert len(setups) == 4
    assert samples == pytest.approx([2.0] * 3)


def test_repeat_bounds_are_validated():
    with pytest.raises(ValueError):
        time_fn(lambda: None, min_repeats=10, max_repeats=5)
    with pytest.raises(ValueError):
        time_fn(lambda: None, min_repeats=0)


def test_phases_timed_separately_and_total_spans_them():
    clock = FakeClock()
    zero_grads = []

    def before_each():
        zero_grads.append(1)
        clock.now += 1.0  # untimed

    def phase(seconds):
        def run():
            clock.now += seconds

        return run

    result = time_phases(
        {"forward": phase(0.001), "backward": phase(0.002), "optimizer": phase(0.004)},
        before_each=before_each,
        warmup=2,
        min_repeats=5,
        clock=clock,
        sync=clock.sync,
    )
    assert list(result.phases_ms) == ["forward", "backward", "optimizer"]
    assert result.phases_ms["forward"] == pytest.approx([1.0] * 5)
    assert result.phases_ms["backward"] == pytest.approx([2.0] * 5)
    assert result.phases_ms["optimizer"] == pytest.approx([4.0] * 5)
    assert result.total_ms == pytest.approx([7.0] * 5)
    assert result.converged and result.pilot == 5
    assert len(zero_grads) == 2 + 5 + 5  # warm-up, the pilot, the kept fresh samples


def test_phases_stop_on_the_total():
    clock = FakeClock()
    durations = itertools.cycle([0.001, 0.003])

    def noisy():
        clock.now += next(durations)

    result = time_phases({"only": noisy}, warmup=0, min_repeats=3, max_repeats=40, max_seconds=1e9, clock=clock)
    assert len(result.total_ms) == 40 and result.stop_reason == "max_repeats"


def test_fresh_samples_end_at_max_seconds_but_not_below_min_repeats():
    clock = FakeClock()
    # the pilot converges after 4 samples (0.4 s of a 0.5 s budget); the fresh stage stops at min_repeats
    result = time_fn_detailed(clock.workload([0.1]), warmup=0, min_repeats=4, max_seconds=0.5, clock=clock)
    assert result.pilot == 4 and len(result.samples_ms) == 4
    assert result.stop_reason == "converged"
    clock = FakeClock()
    # the pilot needs 9 samples (1.8 s, as above); the budget of 2 s ends the fresh stage at 3
    result = time_fn_detailed(
        clock.workload([0.1, 0.3] + [0.2] * 100), warmup=0, min_repeats=3, max_seconds=2.0, clock=clock
    )
    assert result.pilot == 9 and len(result.samples_ms) == 3
    assert result.stop_reason == "max_seconds" and not result.converged
    clock = FakeClock()
    # max_repeats counts the pilot too: 9 + 6 = 15, so 6 fresh samples
    result = time_fn_detailed(
        clock.workload([0.1, 0.3] + [0.2] * 100), warmup=0, min_repeats=3, max_repeats=15, max_seconds=1e9, clock=clock
    )
    assert result.pilot == 9 and len(result.samples_ms) == 6 and result.stop_reason == "max_repeats"


def test_make_sync_on_cpu_is_a_no_op():
    sync = make_sync("cpu")
    assert sync() is None
    with pytest.raises(ValueError):
        make_sync("meta")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_events_time_phases():
    device = torch.device("cuda")
    a = torch.randn(512, 512, device=device)

    def small():
        a @ a

    def large():
        for _ in range(8):
            a @ a

    result = time_phases({"small": small, "large": large}, device=device, warmup=2, min_repeats=5, max_repeats=20)
    assert all(x > 0 for x in result.phases_ms["small"] + result.phases_ms["large"])
    assert sorted(result.phases_ms["small"])[2] < sorted(result.phases_ms["large"])[2]
    assert result.total_ms == pytest.approx(
        [small + large for small, large in zip(result.phases_ms["small"], result.phases_ms["large"])]
    )


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_sync_waits_for_the_device():
    sync = make_sync("cuda")
    a = torch.randn(256, 256, device="cuda")
    a @ a
    sync()
    assert torch.cuda.current_stream().query()
