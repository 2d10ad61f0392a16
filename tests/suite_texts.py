"""Suite texts shared by the executor and interrupt tests: training that runs for a fixed wall time."""

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


# Two models, two seeds, one timing group: the smallest suite that pairs timings.
TINY_SUITE = """
name: tiny
device: cpu
threads: 1
seeds: [0, 1]
defaults:
  hidden_size: 8
  batch_size: 4
  train: {max_steps: 2, max_seconds: 5, eval_every: 2, eval_size: 16}
  timing: {warmup: 1, min_repeats: 5, max_repeats: 12, max_seconds: 0.01, target_rel_ci: 0.05}
  inference: {batch_sizes: [1]}
models: [lstm, gru]
tasks:
  - {task: adding, seq_len: 5}
"""


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
