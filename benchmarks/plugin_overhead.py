"""`torch.nn:LSTM` as a plugin vs the built-in `lstm`: train-step time ratio, measured interleaved in one process.

The two models get identical weights (same seed) and the same batch; each round times one step of
each, in alternating order, on 1 thread, so drift in machine load hits both alike. Prints the median
of the per-round ratios (plugin / built-in) with a 95 % CI for that median (order statistics).

    PYTHONPATH=. python benchmarks/plugin_overhead.py [--rounds 400] [--seq-len 50] [--hidden 64]
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from rnnbench.models.plugins import PluginModel
from rnnbench.models.registry import MODELS
from rnnbench.stats import ci_median, median


def _step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> float:
    optimizer.zero_grad(set_to_none=True)
    start = time.perf_counter()
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument("--seq-len", type=int, default=50)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(1)
    sizes = dict(input_size=2, output_size=1, output_kind="last", hidden_size=args.hidden)
    torch.manual_seed(0)
    builtin = MODELS["lstm"](**sizes)
    torch.manual_seed(0)
    plugin = PluginModel(arch="torch.nn:LSTM", **sizes)
    x, y = torch.randn(args.batch, args.seq_len, 2), torch.randn(args.batch, 1)
    optimizers = {m: torch.optim.Adam(m.parameters(), lr=1e-3) for m in (builtin, plugin)}
    for _ in range(10):  # warm-up: allocator, oneDNN primitives
        for m in (builtin, plugin):
            _step(m, optimizers[m], x, y)
    ratios = []
    for r in range(args.rounds):
        order = (builtin, plugin) if r % 2 == 0 else (plugin, builtin)
        times = {m: _step(m, optimizers[m], x, y) for m in order}
        ratios.append(times[plugin] / times[builtin])
    lo, hi = ci_median(ratios)
    print(
        f"plugin torch.nn:LSTM / built-in lstm train step: {median(ratios):.3f} [95% CI {lo:.3f}, {hi:.3f}] "
        f"over {args.rounds} interleaved rounds (T={args.seq_len}, H={args.hidden}, B={args.batch}, 1 thread)"
    )


if __name__ == "__main__":
    main()
