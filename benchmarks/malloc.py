"""GRU/LSTM train-step ratio per fresh process, glibc's default malloc against rnnbench's steady one.

    PYTHONPATH=$PWD python benchmarks/malloc.py                  # 10 processes a mode, about 6-8 min
    PYTHONPATH=$PWD python benchmarks/malloc.py --processes 4 --seconds 1

The figures behind `measure/allocator.py`: each process times suites/ci.yaml's timing group (its
four models, one seed) interleaved, as a timing process does (`run.group_timing.time_group`), and
prints the paired GRU/LSTM train-step ratio. The modes alternate process by process (default, steady, default, ...), so the
host's drift falls on both alike. With glibc's dynamic mmap threshold some processes read a slow
LSTM (a ratio well below the rest); with the thresholds fixed they should not.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np

CHILD = """
import json, sys
from rnnbench.measure.allocator import steady_malloc
malloc = steady_malloc()  # honours RNNBENCH_MALLOC=default, as every timing process does
import torch
from rnnbench.run.group_timing import time_group
from rnnbench.run.build import build_case_model, with_dtype
from rnnbench.stats import paired_ratio_ci
from rnnbench.suite.expand import load_suite

torch.set_num_threads(1)
_, cases, _ = load_suite("suites/ci.yaml")
group = [c for c in cases if c.seed == cases[0].seed]  # the whole ci group (rnn, lstm, gru, bilstm), one seed
by_model = {c.arch: c for c in group}
share = float(sys.argv[1]) / (group[0].settings.timing.max_seconds * len(group))
speeds = time_group(group, lambda _: None, share)
lstm, gru = (speeds[by_model[arch].id]["train_timing"]["step_ms"] for arch in ("lstm", "gru"))
ratio = paired_ratio_ci(lstm["samples"], gru["samples"])[0]
print(json.dumps({"malloc": malloc["mode"], "ratio": ratio, "lstm_ms": lstm["median"], "gru_ms": gru["median"]}))
"""


def one_process(mode: str, seconds: float) -> dict:
    env = {**os.environ, "RNNBENCH_MALLOC": mode}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(seconds)], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=10, help="fresh processes per mode")
    parser.add_argument("--seconds", type=float, default=2.0, help="train-step timing budget per process")
    parser.add_argument(
        "--slow-below", type=float, default=0.9, help="a process is slow below this × the steady median"
    )
    args = parser.parse_args(argv)
    readings: dict[str, list[dict]] = {"default": [], "steady": []}
    for i in range(args.processes):
        for mode in ("default", "steady") if i % 2 == 0 else ("steady", "default"):
            reading = one_process(mode, args.seconds)
            readings[mode].append(reading)
            print(
                f"{mode:8} GRU/LSTM {reading['ratio']:.3f} (lstm {reading['lstm_ms']:.2f} ms, gru {reading['gru_ms']:.2f} ms)"
            )
    reference = float(np.median([r["ratio"] for r in readings["steady"]]))
    for mode, rows in readings.items():
        ratios = [r["ratio"] for r in rows]
        slow = sum(r < args.slow_below * reference for r in ratios)
        print(
            f"{mode}: {len(ratios)} processes, GRU/LSTM {min(ratios):.3f}-{max(ratios):.3f}, "
            f"{slow} below {args.slow_below} × the steady median {reference:.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
