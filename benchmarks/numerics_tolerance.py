"""Where `ab`'s default outputs tolerance comes from: float32 rounding against a 1e-3 change, per model and size.

Usage: python benchmarks/numerics_tolerance.py

For each built-in model, task and size (8 sequences, eval mode, seed 0) it prints the worst value of
|Δ| / (atol + rtol·|BASE|) for a few (atol, rtol) pairs: "noise" is the largest of float32 against a
float64 copy, the fused kernel against rnnbench's cell loop on the same weights (two orderings of
the same sums, as a torch upgrade may bring) and 2 threads against 1; "signal" scales the head's weights by 1 + 1e-3 (the
features under the head changed by 0.1 %). A tolerance fits when noise stays well below 1 and signal
well above it. Nothing here is timed.
"""

from __future__ import annotations

import copy

import torch

from rnnbench.compare.numerics import DEFAULT_ATOL, DEFAULT_RTOL
from rnnbench.models.registry import MODELS
from rnnbench.tasks.registry import TASKS

CANDIDATES = [(1e-5, 1e-4), (1e-6, 1e-4), (DEFAULT_ATOL, DEFAULT_RTOL), (1e-7, 1e-5)]
SIZES = [(64, 50), (256, 200), (1024, 100)]  # (hidden, steps)


def _worst(base: torch.Tensor, new: torch.Tensor, atol: float, rtol: float) -> float:
    return ((new - base).abs() / (atol + rtol * base.abs())).max().item()


def main() -> None:
    torch.set_num_threads(1)
    print("task   size        model  | " + " | ".join(f"atol {a:g} rtol {r:g}: noise signal" for a, r in CANDIDATES))
    totals = {pair: [0.0, float("inf")] for pair in CANDIDATES}
    for task_name in ("adding", "copy"):
        for hidden, steps in SIZES:
            task = TASKS[task_name](seq_len=steps)
            for arch in ("rnn", "lstm", "gru", "bilstm"):
                torch.manual_seed(0)
                sizes = dict(
                    input_size=task.input_size,
                    output_size=task.output_size,
                    output_kind=task.output_kind,
                    hidden_size=hidden,
                )
                fused = MODELS[arch](**sizes, impl="fused").eval()
                cell = MODELS[arch](**sizes, impl="cell").eval()
                cell.load_state_dict(fused.state_dict())
                changed = copy.deepcopy(fused)
                head = [m for m in changed.modules() if isinstance(m, torch.nn.Linear)][-1]
                x = task.sample(8, torch.Generator().manual_seed(1)).inputs
                with torch.no_grad():
                    head.weight.mul_(1 + 1e-3)
                    y, y_cell, y_changed = fused(x), cell(x), changed(x)
                    y64 = copy.deepcopy(fused).double()(x.double()).float()
                    torch.set_num_threads(2)
                    y_threads = fused(x)
                    torch.set_num_threads(1)
                cells = []
                for pair in CANDIDATES:
                    noise = max(_worst(y64, y, *pair), _worst(y, y_cell, *pair), _worst(y, y_threads, *pair))
                    signal = _worst(y, y_changed, *pair)
                    totals[pair] = [max(totals[pair][0], noise), min(totals[pair][1], signal)]
                    cells.append(f"{noise:8.3f} {signal:8.2f}")
                print(f"{task_name:6} H{hidden:<4} T{steps:<4} {arch:6} | " + " | ".join(cells), flush=True)
    for (atol, rtol), (noise, signal) in totals.items():
        print(
            f"atol {atol:g} rtol {rtol:g}: worst noise {noise:.3f} (margin ×{1 / noise:.0f}), weakest signal {signal:.2f}"
        )


if __name__ == "__main__":
    main()
