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
