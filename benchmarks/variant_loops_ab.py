"""Train step of scripted LSTM variants with two versions of the variant loops, paired in one process.

    git show main:rnnbench/models/variant_loops.py > /tmp/base_loops.py
    PYTHONPATH=. python benchmarks/variant_loops_ab.py --base /tmp/base_loops.py [--rounds 150] [--variants vanilla,fgr]

The base file must keep the loops' signatures (`variant_forward`, `variant_backward`). Each round, the fused
nn.LSTM and every variant with the base loops and with this tree's loops take turns in a shuffled order, on the
same cores and inputs, so a machine's load hits both sides alike; printed per size: each side's median ratio to
the fused LSTM and the median (with IQR) of the per-round ratio this tree ÷ base. A benchmark for changes to
`models/variant_loops.py`, where `variant_step.py` run twice would compare two different load windows.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from impl import training_step  # noqa: E402

from rnnbench.models import variant_loops, variants  # noqa: E402
from rnnbench.models.cells import build_core  # noqa: E402
from rnnbench.models.scripted import _script  # noqa: E402

SIZES = ((32, 50, 32), (128, 100, 64))  # hidden, seq_len, batch: the suite's size and a larger one
INPUT = 2


class Loops:
    def __init__(self, module) -> None:
        self.forward = _script(module.variant_forward)
        self.backward = _script(module.variant_backward)


def load_base(path: str) -> Loops:
    spec = importlib.util.spec_from_file_location("base_variant_loops", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return Loops(module)


def size_steps(hidden: int, seq_len: int, batch: int, names: list[str]) -> dict[str, tuple[str, Callable]]:
    """name -> (which loops, training step): the fused LSTM, then each variant with the base and this tree's loops."""
    torch.manual_seed(0)
    x, target = torch.randn(batch, seq_len, INPUT), torch.randn(batch, hidden)
    steps = {"fused": ("", training_step(build_core("lstm", "fused", INPUT, hidden, 1, False), x, target))}
    for name in names:
        for side in ("base", "tree"):
            core = variants.build_variant_core(name, "scripted", INPUT, hidden, 1, False)
            steps[f"{name} {side}"] = (side, training_step(core, x, target))
    return steps


def measure(steps: dict[str, tuple[str, Callable]], loops: dict[str, Loops], rounds: int) -> dict[str, list[float]]:
    current = {"side": "tree"}
    variants.variant_loops_compiled = lambda: loops[current["side"]]  # type: ignore[assignment]
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for round_index in range(rounds + 3):
        order = list(steps)
        random.shuffle(order)
        for name in order:
            side, step = steps[name]
            current["side"] = side or current["side"]
            start = time.perf_counter()
            step()
            if round_index >= 3:  # the first rounds warm up (TorchScript's profiling runs)
                samples[name].append((time.perf_counter() - start) * 1e3)
    return samples


def summary(samples: dict[str, list[float]], names: list[str]) -> str:
    fused = samples["fused"]
    parts = [f"fused {statistics.median(fused):.2f} ms"]
    for name in names:
        base, tree = samples[f"{name} base"], samples[f"{name} tree"]
        ratios = [t / b for t, b in zip(tree, base)]
        low, _, high = statistics.quantiles(ratios, n=4)
        to_fused = [statistics.median([v / f for v, f in zip(side, fused)]) for side in (base, tree)]
        parts.append(
            f"{name}: base {to_fused[0]:.2f}×, tree {to_fused[1]:.2f}× fused; "
            f"tree ÷ base {statistics.median(ratios):.3f} (IQR {low:.3f}–{high:.3f})"
        )
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="a variant_loops.py to compare against")
    parser.add_argument("--rounds", type=int, default=150)
    parser.add_argument("--variants", default="vanilla,fgr")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    names = args.variants.split(",")
    loops = {"base": load_base(args.base), "tree": Loops(variant_loops)}
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    print(f"# torch {torch.__version__}, {args.threads} thread(s), load {load}")
    for hidden, seq_len, batch in SIZES:
        rounds = args.rounds if hidden <= 32 else max(10, args.rounds // 4)  # the large size takes ~30x longer
        samples = measure(size_steps(hidden, seq_len, batch, names), loops, rounds)
        print(f"h{hidden} T{seq_len} b{batch} ({rounds} rounds): {summary(samples, names)}", flush=True)


if __name__ == "__main__":
    main()
