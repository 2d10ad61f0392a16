"""The serving goals, measured: the `serve` suite's wall time and ratio intervals, repeat-run agreement, a run with the
serve extra missing and torch.compile failing, and the output differences of every built-in model.

1. `--runs N` (default 3): `rnnbench run serve` N times, each a fresh process. Printed: each run's wall time
   (goal: at most 180 s on the 2-core VM) and, per model, path and batch size, the paired ratio to eager, its
   95 % interval's half-width (goal: at most 5 %) and the spread of the N runs' ratios around their median
   (goal: every run within ±5 %).
2. `--simulate`: one run with onnx and onnxruntime absent (`sys.modules[name] = None`) and torch.compile failing
   at its first call as a compiler error would (on this machine the built-ins compile with no C compiler at
   all: the LSTM/GRU kernels graph-break to eager). Printed: every path's status; goal: the run completes.
3. `--numerics`: every built-in model (fused where it has the kernel, else scripted; `--cell` adds the loop), untrained,
   hidden 64, on 64 held-out adding sequences: TorchScript, torch.compile and ONNX Runtime against eager at
   T = 50 and T = 100. Goal: largest |Δ| at most 1e-5 for every correct path.

    PYTHONPATH=$PWD python benchmarks/serve.py [--runs 3] [--simulate] [--numerics]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS, GOAL_HALF_WIDTH, GOAL_AGREEMENT, GOAL_DIFF = 180.0, 0.05, 0.05, 1e-5

SIMULATE = """
import sys, torch
sys.modules["onnx"] = None
sys.modules["onnxruntime"] = None
def no_compiler(model, **_):
    def call(*args, **kwargs):
        raise RuntimeError("InductorError: CppCompileError: C++ compile error (simulated: no C compiler)")
    return call
torch.compile = no_compiler
from rnnbench.cli.main import main
sys.argv = ["rnnbench", "run", "serve", "--out", sys.argv[1], "--quiet"]
main()
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}


def _load_rows(path: Path):
    from rnnbench.analysis.serving import serving_rows

    return serving_rows(json.loads(path.read_text()))


def _uptime() -> str:
    loadavg = Path("/proc/loadavg")
    return " ".join(loadavg.read_text().split()[:3]) if loadavg.exists() else "?"


def runs(n: int, folder: Path) -> None:
    per_run = []
    for i in range(n):
        out = folder / f"serve-{i}.json"
        load = _uptime()
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "rnnbench", "run", "serve", "--out", str(out), "--quiet"], env=_env(), check=True
        )
        wall = time.perf_counter() - started
        print(
            f"run {i + 1}: {wall:.0f} s (goal ≤ {GOAL_SECONDS:.0f} s: {'met' if wall <= GOAL_SECONDS else 'NOT met'}), load before {load}"
        )
        per_run.append(_load_rows(out))
    print(
        f"\n{'model':8} {'path':12} {'batch':5} "
        + " ".join(f"{'run ' + str(i + 1):>16}" for i in range(n))
        + "   spread"
    )
    worst_half, worst_spread = 0.0, 0.0
    for index, row in enumerate(per_run[0]):
        for which in ("small", "large"):
            ratios = [getattr(rows[index], f"ratio_{which}") for rows in per_run]
            if any(r is None for r in ratios):
                continue
            mid = statistics.median(r.ratio for r in ratios)
            spread = max(abs(r.ratio / mid - 1) for r in ratios)
            worst_half, worst_spread = max(worst_half, *(r.half_width for r in ratios)), max(worst_spread, spread)
            batch = row.small_batch if which == "small" else row.large_batch
            cells = " ".join(f"{r.ratio:6.3f} ±{100 * r.half_width:4.1f}%  " for r in ratios)
            print(f"{row.label:8} {row.path:12} b{batch:<4} {cells} ±{100 * spread:.1f}%")
    print(
        f"\nlargest half-width {100 * worst_half:.1f} % (goal ≤ {100 * GOAL_HALF_WIDTH:.0f} %); "
        f"largest spread around the runs' median {100 * worst_spread:.1f} % (goal ±{100 * GOAL_AGREEMENT:.0f} %)"
    )


def simulate(folder: Path) -> None:
    out = folder / "serve-simulated.json"
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", SIMULATE, str(out)], env=_env())
    print(f"simulated run: exit {done.returncode}, {time.perf_counter() - started:.0f} s")
    for row in _load_rows(out):
        print(f"  {row.label:8} {row.path:12} {row.status}")


def numerics(cell: bool = False) -> None:
    import torch

    from rnnbench.catalog import CELL_IMPLS, MODEL_SPECS
    from rnnbench.models.registry import MODELS
    from rnnbench.serve.case import check_path, eager_references, prepare_one
    from rnnbench.serve.paths import PathContext

    torch.set_num_threads(1)
    from rnnbench.tasks.registry import TASKS

    task = TASKS["adding"](seq_len=50)
    held = task.sample(64, torch.Generator().manual_seed(0))
    worst = 0.0
    for arch, spec in MODEL_SPECS.items():
        # the peephole LSTM has no fused kernel: its scripted core (TorchScript loop); `--cell` adds the Python loop,
        # whose torch.compile unrolls 50 and 100 steps (minutes per model on this VM)
        impls = ["fused"] if "fused" in CELL_IMPLS[spec.cell] else ["scripted", *(["cell"] if cell else [])]
        for impl in impls:
            torch.manual_seed(0)
            model = MODELS[arch](input_size=2, output_size=1, output_kind="last", hidden_size=64, impl=impl).eval()
            references = eager_references(model, held)
            ctx = PathContext(model, held.inputs[:32], torch.device("cpu"), "float32", 1)
            for path in ("torchscript", "compile", "onnxruntime"):
                started = time.perf_counter()
                state = prepare_one(path, ctx, {1: held.inputs[:1], 32: held.inputs[:32]})
                if state.served is not None:
                    check_path(state, held, references, task)
                outputs = state.record.get("outputs", {})
                figures = ", ".join(
                    f"{k} {'error: ' + d['error'][:50] if d.get('error') else format(d['max_abs'], '.1e')}"
                    for k, d in outputs.items()
                )
                if state.record.get("within_tolerance"):
                    worst = max(worst, *(d["max_abs"] for d in outputs.values()))
                print(
                    f"{arch:10} {impl:8} {path:12} {state.record['status'][:60]:12} {figures}  ({time.perf_counter() - started:.1f} s)"
                )
    print(f"largest |Δ| of the paths within tolerance: {worst:.1e} (goal ≤ {GOAL_DIFF:g})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--simulate", action="store_true")
    parser.add_argument("--numerics", action="store_true")
    parser.add_argument("--cell", action="store_true", help="--numerics: the peephole LSTMs' cell loop too (slow)")
    parser.add_argument("--keep", type=Path, default=None, help="folder to keep the results files in")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="rnnbench-serve-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"load average at start: {_uptime()}; results in {folder}")
    if args.runs:
        runs(args.runs, folder)
    if args.simulate:
        simulate(folder)
    if args.numerics:
        numerics(args.cell)


if __name__ == "__main__":
    main()
