"""What a case may cost in wall time at most, from its own limits: the prior of the progress line's time-left estimate."""

from __future__ import annotations

from rnnbench.suite.schema import Case


def case_limit_seconds(case: Case) -> float:
    """The training cap plus one timing budget per measured block (the train step, each inference batch size).

    Training stops earlier when the case is solved or reaches max_steps, and a timing block when
    its interval is tight, so most cases take less; held-out evaluation, which the training cap
    excludes, and model building take a little more. A timing group's block gets its cases' budgets
    summed (run/group_timing.py), so the sum over cases holds for groups too.
    """
    s = case.settings
    blocks = 1 + len(s.inference.batch_sizes) + (1 if case.device.startswith("cuda") else 0)  # CUDA: a whole-step block
    # served paths (rnnbench/serve): each batch size is one block of every path, eager included
    served = len(s.inference.paths) * len(s.inference.batch_sizes) if len(s.inference.paths) > 1 else 0
    return s.train.max_seconds + (blocks + served) * s.timing.max_seconds
