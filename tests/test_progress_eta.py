"""The progress line's time-left estimate: measured speed so far × cases left."""

from __future__ import annotations

from rnnbench.render.progress import TimeLeft


def test_time_left_scales_with_cases_left() -> None:
    eta = TimeLeft()
    eta.start(todo=5, now=100.0)
    assert eta.seconds() is None and eta.text() == ""
    eta.case_done(104.0)
    assert eta.seconds() == 16.0  # 4 s per case, 4 cases left
    eta.case_done(110.0)
    assert eta.seconds() == 15.0  # 5 s per case, 3 left
    assert eta.text() == "~15 s left"
    for now in (115.0, 120.0, 125.0):
        eta.case_done(now)
    assert eta.seconds() == 0.0


def test_before_any_case_finishes_the_estimate_is_the_cases_limits():
    eta = TimeLeft()
    eta.start(todo=3, now=0.0, limits={"a": 10.0, "b": 20.0, "c": 30.0})
    assert eta.seconds(0.0) == 60.0
    assert eta.seconds(5.0) == 55.0  # counts down while the first case runs
    assert eta.seconds(50.0) == 30.0  # never below what all but the longest remaining case may take
    assert eta.text(0.0) == "~60 s left"
    two = TimeLeft()
    two.start(todo=3, now=0.0, limits={"a": 10.0, "b": 20.0, "c": 30.0}, workers=2)
    assert two.seconds(0.0) == 30.0  # two workers share the limits


def test_measured_speed_is_blended_with_the_limits_then_takes_over():
    eta = TimeLeft()
    eta.start(todo=4, now=0.0, limits={f"c{i}": 10.0 for i in range(4)})
    eta.case_done(2.0, "c0")  # the first case took 2 s of its 10 s limit
    left = eta.seconds(2.0)
    assert 3 * 2.0 < left < 3 * 10.0  # between the measured speed (6 s) and the limits (30 s)
    assert left == 3 * 10.0 * (2.0 + 10.0) / (10.0 + 10.0)  # the prior weighs one average case

    many = TimeLeft()
    many.start(todo=100, now=0.0, limits={f"c{i}": 10.0 for i in range(100)})
    for i in range(50):
        many.case_done(float(i + 1), f"c{i}")  # 1 s each
    assert abs(many.seconds(50.0) - 50.0) < 0.2 * 50.0  # 50 cases measured outweigh the prior
    assert many.seconds(50.0) > 50.0  # still leaning toward the limits, not past the measurement


def test_slow_cases_raise_the_estimate_above_the_limits():
    eta = TimeLeft()
    eta.start(todo=3, now=0.0, limits={"a": 10.0, "b": 10.0, "c": 10.0})
    eta.case_done(30.0, "a")  # took three times its limit (evaluation, a loaded machine)
    assert eta.seconds(30.0) > 20.0


def test_progress_view_shows_the_estimate_from_the_start_and_after_each_case():
    import io

    from rich.console import Console

    from rnnbench.render.progress import ProgressView

    now = [0.0]
    view = ProgressView(Console(file=io.StringIO()), clock=lambda: now[0])
    limits = {"x/s0": 40.0, "x/s1": 40.0}
    view({"kind": "run_start", "n_cases": 2, "n_todo": 2, "workers": 1, "executor": "serial", "limits_s": limits})
    left = lambda: view.progress.tasks[0].fields["left"]  # noqa: E731
    assert left() == "~80 s left"
    now[0] = 10.0
    view({"kind": "progress", "step": 50, "max_steps": 100, "loss": 0.5, "elapsed_s": 10.0})
    assert left() == "~70 s left"
    now[0] = 20.0
    view({"kind": "case_end", "index": 0, "record": {"id": "x/s0", "status": "ok"}})
    assert left() == "~30 s left"  # 20 s for 40 s of limit, blended: 40 * (20 + 40) / (40 + 40)


def test_a_cases_limit_is_its_training_cap_and_its_timing_blocks():
    from rnnbench.suite.expand import expand, parse_suite
    from rnnbench.suite.limits import case_limit_seconds

    data = {
        "name": "t",
        "models": ["lstm"],
        "tasks": [{"task": "adding", "seq_len": 5}],
        "device": "cpu",
        "defaults": {
            "train": {"max_seconds": 5},
            "timing": {"max_seconds": 0.5},
            "inference": {"batch_sizes": [1, 64]},
        },
    }
    (case,) = expand(parse_suite(data, "t.yaml"))
    assert case_limit_seconds(case) == 5 + 3 * 0.5  # train step + two inference sizes
