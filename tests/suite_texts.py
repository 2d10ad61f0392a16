"""Suite texts shared by test modules (the tiny suite, the executor and interrupt suites), and nothing else."""

from __future__ import annotations


def _group_per_length(name: str, models: str, train: str, seq_lens: list[int]) -> str:
    """One timing group (the unit of work) per seq_len, tiny models, one thread."""
    return f"""
name: {name}
seeds: [0]
device: cpu
threads: 1
defaults:
  hidden_size: 8
  batch_size: 4
  train: {{{train}, eval_size: 16}}
  timing: {{warmup: 0, min_repeats: 2, max_repeats: 2, max_seconds: 0.05}}
  inference: {{batch_sizes: [1]}}
models: [{models}]
tasks: [{{task: adding, seq_len: {seq_lens[0]}}}]
matrix: {{seq_len: {seq_lens}}}
"""


def wall_clock_suite(name: str, seconds: float, seq_lens: list[int]) -> str:
    """One lstm case per seq_len training for `seconds` of wall time, so a unit is surely still in
    flight when a test sees an earlier one saved."""
    return _group_per_length(name, "lstm", f"max_steps: 1000000, max_seconds: {seconds}, eval_every: 20", seq_lens)


def steps_suite(name: str, seq_lens: list[int], steps: int = 6) -> str:
    """An lstm and a gru case per seq_len, training that stops on steps alone, so the results are
    deterministic whichever executor ran them."""
    return _group_per_length(name, "lstm, gru", f"max_steps: {steps}, max_seconds: 120, eval_every: 2", seq_lens)


def tiny_suite_text(
    seeds: tuple[int, ...] = (0,),
    models: tuple[str, ...] = ("lstm", "gru"),
    batch_sizes: tuple[int, ...] = (1, 4),
    timing_processes: int | None = None,
) -> str:
    """The tiny suite: an lstm and a gru on one short adding task, one timing group (the smallest that pairs
    timings), 4 training steps. Two seeds give each model a second case; `timing_processes` times the group in
    that many fresh processes."""
    processes = f", processes: {timing_processes}" if timing_processes else ""
    return f"""
name: tiny
seeds: {list(seeds)}
device: cpu
threads: 1
defaults:
  hidden_size: 8
  batch_size: 4
  train: {{max_steps: 4, max_seconds: 5, eval_every: 2, eval_size: 16}}
  timing: {{warmup: 1, min_repeats: 5, max_repeats: 12, max_seconds: 0.01, target_rel_ci: 0.05{processes}}}
  inference: {{batch_sizes: {list(batch_sizes)}}}
models: [{", ".join(models)}]
tasks:
  - {{task: adding, seq_len: 5}}
"""


TINY_SUITE = tiny_suite_text()

# One model, one seed, batch 1: the smallest suite `rnnbench ab` times.
AB_SUITE = tiny_suite_text(models=("lstm",), batch_sizes=(1,))

# Two units (seq_len differs), two cases each; training stops on steps alone, so results are deterministic.
STEPS_SUITE = steps_suite("steps", [5, 6])

# Three units, each training for 2 s of wall time: a worker can be killed, or the run interrupted, mid-unit.
TIMED_SUITE = wall_clock_suite("timed", 2.0, [5, 6, 7])


def seed_sweep_suite(name: str, seeds: int = 4) -> str:
    """One configuration, an lstm and a gru over `seeds` seeds: a single timing group, training on steps alone."""
    return f"""
name: {name}
seeds: {list(range(seeds))}
device: cpu
threads: 1
defaults:
  hidden_size: 8
  batch_size: 4
  train: {{max_steps: 6, max_seconds: 120, eval_every: 2, eval_size: 16}}
  timing: {{warmup: 0, min_repeats: 2, max_repeats: 2, max_seconds: 0.05}}
  inference: {{batch_sizes: [1]}}
models: [lstm, gru]
tasks: [{{task: adding, seq_len: 5}}]
"""
