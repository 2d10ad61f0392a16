"""What packed sequences cost: train-step time packed vs padded (paired), and the time to solve `temporal_order`.

1. Step time. For each configuration, two copies of one model with the same weights, one packed
   and one padded, time a whole training step (forward + loss, backward, clip + Adam) on the same
   fixed `temporal_order` batch in interleaved rounds (A B, B A, ...: `measure.paired`), one
   thread. Printed: the median per-round ratio packed / padded with its 95 % sign-test interval
   (`stats.paired_ratio_ci`), and each side's median step. Fused cores are packed by re-aligning
   on the CPU (models/packing.py); their other route, pack_padded_sequence, runs as a third entry.
2. Time to solve `temporal_order` (fresh sequences every step, `run.train`), packed and padded,
   seeds 0-2, the seeds' runs alternating between the two so that load drifts hit both.

    PYTHONPATH=$PWD python benchmarks/packing.py [--quick] [--seconds 6] [--solve-seq-len 30]
"""

from __future__ import annotations

import argparse
import copy
import time

import torch

from rnnbench.measure.paired import time_interleaved
from rnnbench.models.registry import MODELS
from rnnbench.run.group_timing import train_entry
from rnnbench.run.train import TrainLimits, make_optimizer, train
from rnnbench.stats import paired_ratio_ci
from rnnbench.tasks.data import eval_batch, train_batches
from rnnbench.tasks.registry import TASKS

# (arch, impl, seq_len, hidden, batch): the recap's sizes and a longer sequence; bilstm for the backward direction
CONFIGS = [
    ("lstm", "fused", 30, 32, 64),
    ("gru", "fused", 30, 32, 64),
    ("bilstm", "fused", 30, 32, 64),
    ("lstm", "fused", 100, 64, 32),
    ("lstm", "scripted", 30, 32, 64),
    ("gru", "scripted", 30, 32, 64),
    ("lstm", "cell", 30, 32, 64),
]
QUICK = CONFIGS[:1] + CONFIGS[4:5]


def build(task, arch: str, impl: str, hidden: int, packed: bool, seed: int = 0):
    torch.manual_seed(seed)
    return MODELS[arch](
        input_size=task.input_size,
        output_size=task.output_size,
        output_kind=task.output_kind,
        hidden_size=hidden,
        impl=impl,
        packed=packed,
    )


def step_time(arch: str, impl: str, seq_len: int, hidden: int, batch_size: int, seconds: float) -> dict:
    task = TASKS["temporal_order"](seq_len=seq_len)
    batch = task.sample(batch_size, torch.Generator().manual_seed(0))
    padded = build(task, arch, impl, hidden, packed=False)
    models = {"padded": padded, "packed": copy.deepcopy(padded)}
    models["packed"].packed = True
    if impl == "fused":  # the fused cores' other route, pack_padded_sequence (their CUDA route)
        models["pack_padded_sequence"] = copy.deepcopy(models["packed"])
        models["pack_padded_sequence"].core.packing_routes = {"cpu": "pack"}
    entries = {}
    for name, model in models.items():
        optimizer = make_optimizer("adam", model.parameters(), 0.01)
        entries[name] = train_entry({"model": model, "optimizer": optimizer, "batch": batch, "task": task}, 1.0)
    result = time_interleaved(entries, warmup=5, min_repeats=20, max_repeats=2000, max_seconds=seconds)
    out = {"rounds": result.rounds}
    for name, samples in result.total_ms.items():
        out[f"{name}_ms"] = sorted(samples)[len(samples) // 2]
        if name != "padded":
            out[name] = paired_ratio_ci(result.total_ms["padded"], samples)[:3]
    return out


def solve(arch: str, seq_len: int, packed: bool, seed: int, max_steps: int, max_seconds: float) -> dict:
    task = TASKS["temporal_order"](seq_len=seq_len)
    model = build(task, arch, "fused", 32, packed, seed)
    optimizer = make_optimizer("adam", model.parameters(), 0.01)
    outcome = train(
        model,
        optimizer,
        task,
        train_batches(task, 64, seed),
        eval_batch(task, 500, seed),
        TrainLimits(max_steps=max_steps, max_seconds=max_seconds, eval_every=50, grad_clip=1.0),
    )
    return {
        "steps": outcome.steps_to_solve,
        "s": None if outcome.ms_to_solve is None else outcome.ms_to_solve / 1e3,
        "final": outcome.final.get("metric"),
        "ran_s": outcome.wall_ms / 1e3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two step-time configurations, no solve runs")
    parser.add_argument("--seconds", type=float, default=6.0, help="timing budget per configuration")
    parser.add_argument("--solve-seq-len", type=int, default=30)
    parser.add_argument("--solve-archs", default="lstm,gru")
    parser.add_argument("--max-steps", type=int, default=2000)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, 1 thread; temporal_order (lengths T..T+T/10, left-padded)")
    print("\nstep time (forward + loss + backward + clip + Adam), paired rounds, packed / padded:")
    print(
        f"{'arch':>7} {'impl':>9} {'T':>4} {'h':>3} {'B':>3} {'padded ms':>10} {'packed ms':>10} "
        f"{'packed/padded [95 % CI]':>26}   {'pack_padded_sequence/padded':>28} {'rounds':>7}"
    )
    for arch, impl, seq_len, hidden, batch_size in QUICK if args.quick else CONFIGS:
        r = step_time(arch, impl, seq_len, hidden, batch_size, args.seconds)
        ratio = "{:>10.3f} [{:.3f}, {:.3f}]".format(*r["packed"])
        pack = "{:>10.3f} [{:.3f}, {:.3f}]".format(*r["pack_padded_sequence"]) if "pack_padded_sequence" in r else "-"
        print(
            f"{arch:>7} {impl:>9} {seq_len:>4} {hidden:>3} {batch_size:>3} {r['padded_ms']:>10.2f} "
            f"{r['packed_ms']:>10.2f} {ratio:>26}   {pack:>28} {r['rounds']:>7}",
            flush=True,
        )
    if args.quick:
        return
    print(
        f"\ntime to solve temporal_order T={args.solve_seq_len} (fused, h32, batch 64, Adam 0.01, "
        f"eval 500 every 50 steps, cap {args.max_steps} steps / {args.max_seconds:g} s):"
    )
    print(f"{'arch':>5} {'seed':>4} {'padded: steps':>14} {'s':>6} {'packed: steps':>14} {'s':>6}")
    for arch in args.solve_archs.split(","):
        for seed in range(3):
            row = {}
            order = (False, True) if seed % 2 == 0 else (True, False)  # alternate who runs first
            for packed in order:
                row[packed] = solve(arch, args.solve_seq_len, packed, seed, args.max_steps, args.max_seconds)
            cells = []
            for packed in (False, True):
                r = row[packed]
                steps = "not solved" if r["steps"] is None else str(r["steps"])
                secs = f"{r['s']:.1f}" if r["s"] is not None else f"({r['ran_s']:.0f})"
                cells.append(f"{steps:>14} {secs:>6}")
            print(f"{arch:>5} {seed:>4} {' '.join(cells)}", flush=True)
    print(f"\nfinished {time.strftime('%H:%M:%S')}")


if __name__ == "__main__":
    main()
