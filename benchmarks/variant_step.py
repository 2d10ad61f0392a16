"""Training step of every scripted LSTM variant (Greff et al. 2017) against the fused LSTM, paired round by round.

    PYTHONPATH=. python benchmarks/variant_step.py [--rounds 30] [--sizes 32x50x32,128x100x64] [--threads 1]

Per size (hidden x seq_len x batch): every variant's scripted core and the fused nn.LSTM take turns in a
fresh shuffled order each round (benchmarks/impl.py's `measure`), so they share the machine's noise; each
line is the median over rounds of the per-round ratio variant / fused LSTM, with the rounds' interquartile
range of that ratio. A training step is zero_grad + forward + MSE loss on the final state + backward + Adam.
Goal (issue 31): every scripted variant <= 2.5x the fused LSTM.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from impl import measure, training_step  # noqa: E402

from rnnbench.models.cells import build_core  # noqa: E402
from rnnbench.models.variants import build_variant_core  # noqa: E402
from rnnbench.suite.variants import VARIANTS  # noqa: E402

GOAL = 2.5
INPUT = 2


def quartiles(xs: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(xs, n=4)
    return q[0], q[2]


def run_size(hidden: int, seq_len: int, batch: int, rounds: int) -> list[str]:
    torch.manual_seed(0)
    x = torch.randn(batch, seq_len, INPUT)
    target = torch.randn(batch, hidden)
    steps = {"fused lstm": training_step(build_core("lstm", "fused", INPUT, hidden, 1, False), x, target)}
    for variant in VARIANTS:
        steps[variant] = training_step(build_variant_core(variant, "scripted", INPUT, hidden, 1, False), x, target)
    samples = measure(steps, warmup=3, rounds=rounds)
    base = samples["fused lstm"]
    lines = [f"| h{hidden} T{seq_len} b{batch} | fused lstm | {statistics.median(base):.2f} ms | 1 | | |"]
    for variant in VARIANTS:
        ratios = [v / b for v, b in zip(samples[variant], base)]
        low, high = quartiles(ratios)
        ok = "yes" if statistics.median(ratios) <= GOAL else "no"
        lines.append(
            f"| h{hidden} T{seq_len} b{batch} | {variant} | {statistics.median(samples[variant]):.2f} ms | "
            f"{statistics.median(ratios):.2f}× | {low:.2f}–{high:.2f} | {ok} |"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--sizes", default="32x50x32,128x100x64", help="hidden x seq_len x batch, comma-separated")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    load = open("/proc/loadavg").read().split()[0] if os.path.exists("/proc/loadavg") else "?"
    print(f"# torch {torch.__version__}, {args.threads} thread(s), {args.rounds} rounds, load {load}")
    print(f"| size | model | train step (median) | ÷ fused LSTM (median of paired rounds) | IQR | ≤ {GOAL}× |")
    print("|---|---|---:|---:|---|---|")
    for size in args.sizes.split(","):
        hidden, seq_len, batch = (int(v) for v in size.split("x"))
        print("\n".join(run_size(hidden, seq_len, batch, args.rounds)))


if __name__ == "__main__":
    main()
