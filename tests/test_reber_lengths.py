"""`reber` rejects strings longer than seq_len: the exact rejected fraction, and every suite's reber keeps it under 0.5 %."""

from __future__ import annotations

import torch

from rnnbench.suite.expand import load_suite
from rnnbench.suite.files import builtin_suite_dir
from rnnbench.tasks.reber import SHORTEST, Reber, exact_length_tail, sampled_lengths

LIMIT = 0.005


def test_exact_tail_matches_the_generator_and_hand_counts():
    assert exact_length_tail(SHORTEST - 1) == 1.0
    assert exact_length_tail(SHORTEST) == 0.75  # BT[BTXSE]TE and BT[BPVVE]TE each 1/8: P(9) = 1/4
    lengths = sampled_lengths(20_000, torch.Generator().manual_seed(0))
    assert int(lengths.min()) == SHORTEST
    for seq_len in (12, 20, 26):
        sampled = (lengths > seq_len).float().mean().item()
        assert abs(sampled - exact_length_tail(seq_len)) < 0.01  # Monte-Carlo error at p = 0.33 is 0.0033


def test_the_sampler_rejects_exactly_the_long_strings():
    task = Reber(seq_len=12)
    strings, _, accepted = task._draw(4000, torch.Generator().manual_seed(1))
    fits = (strings >= 0).sum(dim=1) <= 12
    assert torch.equal(accepted, fits & accepted)  # an accepted string fits
    assert abs((~accepted).float().mean().item() - exact_length_tail(12)) < 0.03


def test_every_suites_reber_seq_len_rejects_under_half_a_percent():
    lengths = sampled_lengths(40_000, torch.Generator().manual_seed(0))  # fixed seed: the test is deterministic
    seen = []
    for path in sorted(builtin_suite_dir().glob("*.yaml")):
        _, cases, _ = load_suite(str(path), max_cases=100_000)
        for seq_len in sorted({case.seq_len for case in cases if case.task == "reber"}):
            seen.append((path.name, seq_len))
            assert (lengths > seq_len).float().mean().item() < LIMIT, f"{path.name}: reber seq_len {seq_len}"
            assert exact_length_tail(seq_len) < LIMIT, f"{path.name}: reber seq_len {seq_len}"
    assert seen  # at least one suite has a reber task, so the check ran
