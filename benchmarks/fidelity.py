"""Does rnnbench measure what a careful hand measurement measures? Side-by-side ratios on the CPU.

Run on a quiet machine:  PYTHONPATH=src python benchmarks/fidelity.py [--rounds 3] [--threads N]

Prints one figure per line:
  fidelity_ratio        rnnbench forward latency / torch.utils.benchmark median   target 1.00 +- 0.03
  train_overhead_ratio  rnnbench train step / bare hand-written loop (medians)     target <= 1.05
  seconds_to_target_ci  how long the adaptive timer took to reach its 2 % CI       target converged within 2 s
Each ratio is the median over `rounds` alternating rounds (A, B, A, B, ...), so a
burst of load from elsewhere hits both sides alike instead of biasing one.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from types import SimpleNamespace

import torch
from torch import nn
from torch.utils import benchmark

from rnnbench.measure.backend import set_threads
from rnnbench.measure.phases import time_inference, time_train_step
from rnnbench.measure.timer import time_fn_detailed

SEQ_LEN, BATCH_SIZE, INPUT_SIZE, HIDDEN_SIZE = 100, 64, 32, 128
TIMING = SimpleNamespace(warmup=5, min_repeats=10, max_repeats=10_000, max_seconds=2.0, target_rel_ci=0.02)


class LastStepRegressor(nn.Module):
    """nn.LSTM with a linear read-out of the last step: the shape of rnnbench's `last` models."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(INPUT_SIZE, HIDDEN_SIZE, batch_first=True)
        self.head = nn.Linear(HIDDEN_SIZE, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.lstm(x)[0][:, -1])


def loss_fn(outputs: torch.Tensor, batch: SimpleNamespace) -> torch.Tensor:
    return nn.functional.mse_loss(outputs, batch.targets)


def reference_forward_ms(model: nn.Module, inputs: torch.Tensor) -> float:
    """Median forward latency by torch.utils.benchmark, same module, input, mode and thread count."""
    timer = benchmark.Timer(
        stmt="model(inputs)", globals={"model": model, "inputs": inputs}, num_threads=torch.get_num_threads()
    )
    with torch.inference_mode():
        return timer.blocked_autorange(min_run_time=TIMING.max_seconds).median * 1e3


def bare_train_step_ms(model: nn.Module, batch: SimpleNamespace, steps: int) -> float:
    """Median step of a plain training loop: no harness, perf_counter around forward..optimizer.step."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    durations = []
    for index in range(TIMING.warmup + steps):
        optimizer.zero_grad(set_to_none=True)  # outside the timed region, as in rnnbench
        start = time.perf_counter()
        loss = loss_fn(model(batch.inputs), batch)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        end = time.perf_counter()
        if index >= TIMING.warmup:
            durations.append((end - start) * 1e3)
    return statistics.median(durations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per comparison")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: unchanged)")
    args = parser.parse_args()

    torch.manual_seed(0)
    template = LastStepRegressor().eval()
    generator = torch.Generator().manual_seed(1)
    batch = SimpleNamespace(
        inputs=torch.randn(BATCH_SIZE, SEQ_LEN, INPUT_SIZE, generator=generator),
        targets=torch.randn(BATCH_SIZE, 1, generator=generator),
    )
    with set_threads(args.threads):
        forward_ratios, train_ratios = [], []
        for _ in range(args.rounds):
            ours = time_inference(template, batch.inputs, TIMING, "cpu")["latency_ms"]["median"]
            reference = reference_forward_ms(template, batch.inputs)
            forward_ratios.append(ours / reference)

            harnessed = copy.deepcopy(template).train()
            optimizer = torch.optim.Adam(harnessed.parameters(), lr=1e-3)
            step = time_train_step(harnessed, optimizer, batch, loss_fn, 1.0, TIMING, "cpu")["step_ms"]
            bare = bare_train_step_ms(copy.deepcopy(template).train(), batch, steps=step["n"])
            train_ratios.append(step["median"] / bare)

        with torch.inference_mode():
            convergence = time_fn_detailed(
                lambda: template(batch.inputs),
                warmup=TIMING.warmup,
                min_repeats=TIMING.min_repeats,
                max_repeats=TIMING.max_repeats,
                max_seconds=TIMING.max_seconds,
                target_rel_ci=TIMING.target_rel_ci,
            )

        print(f"torch={torch.__version__} threads={torch.get_num_threads()} rounds={args.rounds}")
        print(f"fidelity_ratio={statistics.median(forward_ratios):.4f}")
        print(f"fidelity_ratio_rounds={','.join(f'{r:.4f}' for r in forward_ratios)}")
        print(f"train_overhead_ratio={statistics.median(train_ratios):.4f}")
        print(f"train_overhead_ratio_rounds={','.join(f'{r:.4f}' for r in train_ratios)}")
        print(f"seconds_to_target_ci={convergence.elapsed_s:.3f}")
        print(f"samples_to_target_ci={len(convergence.samples_ms)}")
        print(f"converged_within_{TIMING.max_seconds:g}s={convergence.converged}")


if __name__ == "__main__":
    main()
