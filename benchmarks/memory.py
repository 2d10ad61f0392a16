"""Training memory counted against the formula: per model, and the ratios a reader compares (batch, Bi-LSTM/LSTM, LSTM/GRU).

For LSTM, GRU and Bi-LSTM on the adding problem (the default suites' task) at T=100, H=128, Adam,
one training step of each model at batch 8 and 128 is counted (`measure.memory.training_memory`,
CPU) and set beside `models.memory_formula` on the kernel path the forward ran on. Printed:
each model's counted total, the formula's, their % difference, the saved-for-backward share and
the allocator's peak during the step; then (a) batch 128 / batch 8 and (b) Bi-LSTM / LSTM and
LSTM / GRU, counted against the formula, each with its % difference.

    PYTHONPATH=$PWD python benchmarks/memory.py [--impl fused|cell|scripted] [--seq-len 100] [--hidden 128]
"""

from __future__ import annotations

import argparse

import torch

from rnnbench.measure.backend import detect_backend
from rnnbench.measure.memory import training_memory
from rnnbench.models.memory_formula import formula_path, training_memory_formula
from rnnbench.models.registry import MODELS
from rnnbench.run.train import make_optimizer
from rnnbench.tasks.registry import TASKS

ARCHS = ("lstm", "gru", "bilstm")
BATCHES = (8, 128)
MIB = 2**20


def measure(arch: str, impl: str, seq_len: int, hidden: int, batch_size: int) -> dict:
    task = TASKS["adding"](seq_len=seq_len)
    torch.manual_seed(0)
    model = MODELS[arch](
        input_size=task.input_size,
        output_size=task.output_size,
        output_kind=task.output_kind,
        hidden_size=hidden,
        impl=impl,
    )
    batch = task.sample(batch_size, torch.Generator().manual_seed(0))
    counted = training_memory(model, lambda p: make_optimizer("adam", p, 0.01), batch, task.loss, 1.0, "cpu")
    path = formula_path(impl, detect_backend(model, batch.inputs))
    formula = training_memory_formula(
        arch,
        path,
        seq_len=seq_len,
        batch_size=batch_size,
        input_size=task.input_size,
        hidden_size=hidden,
        output_size=task.output_size,
        output_kind=task.output_kind,
        loss="mse",
        optimizer="adam",
    )
    return {"path": path, "counted": counted, "formula": formula}


def pct(counted: float, formula: float) -> str:
    return f"{100.0 * (counted - formula) / formula:+.2f} %"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", default="fused", choices=("fused", "cell", "scripted"))
    parser.add_argument("--seq-len", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=128)
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = {(a, b): measure(a, args.impl, args.seq_len, args.hidden, b) for a in ARCHS for b in BATCHES}

    print(f"adding, T={args.seq_len}, H={args.hidden}, impl {args.impl}, Adam; MiB (2^20 bytes)")
    head = f"{'model':8} {'path':8} {'batch':>5} {'counted':>10} {'formula':>10} {'diff':>9} {'saved':>7} {'alloc peak':>11}"
    print(head)
    for (arch, batch_size), r in results.items():
        counted, formula = r["counted"]["total_bytes"], r["formula"]["total_bytes"]
        saved = r["counted"]["saved_for_backward_bytes"] / counted
        peak = r["counted"]["peak_allocated_bytes"]
        print(
            f"{arch:8} {r['path']:8} {batch_size:5d} {counted / MIB:10.3f} {formula / MIB:10.3f} "
            f"{pct(counted, formula):>9} {saved:7.1%} {'' if peak is None else f'{peak / MIB:11.3f}'}"
        )

    def ratio(top: tuple, bottom: tuple) -> tuple[float, float]:
        totals = [(results[k]["counted"]["total_bytes"], results[k]["formula"]["total_bytes"]) for k in (top, bottom)]
        return totals[0][0] / totals[1][0], totals[0][1] / totals[1][1]

    rows = [(f"{a} batch {BATCHES[1]} / batch {BATCHES[0]}", (a, BATCHES[1]), (a, BATCHES[0])) for a in ARCHS]
    rows += [(f"bilstm / lstm, batch {b}", ("bilstm", b), ("lstm", b)) for b in BATCHES]
    rows += [(f"lstm / gru, batch {b}", ("lstm", b), ("gru", b)) for b in BATCHES]
    print(f"\n{'ratio':30} {'counted':>8} {'formula':>8} {'diff':>9}")
    for name, top, bottom in rows:
        counted, formula = ratio(top, bottom)
        print(f"{name:30} {counted:8.3f} {formula:8.3f} {pct(counted, formula):>9}")


if __name__ == "__main__":
    main()
