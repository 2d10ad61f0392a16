"""The serving goals, measured: the `serve` suite's wall time and ratio intervals, repeat-run agreement, a run with the
serve extra missing and torch.compile failing, and the output differences of every built-in model.

1. `--runs N` (default 3): `rnnbench run serve` N times, each a fresh process. Printed: each run's wall time
   (goal: at most 180 s on the 2-core VM) and, per model, path and batch size, the paired ratio to eager, its
   95 % interval's half-width (goal: at most 5 %) and the spread of the N runs' ratios around their median
   (goal: every run within ±5 %), with each case's timing processes (rounds per process, start-to-ready cost)
   and the load average before and after each run. `--report FILE…` prints the same from kept results files.
2. `--simulate`: one run with onnx and onnxruntime absent (`sys.modules[name] = None`) and torch.compile failing
   at its first call as a compiler error would (on this machine the built-ins compile with no C compiler at
   all: the LSTM/GRU kernels graph-break to eager). Printed: every path's status; goal: the run completes.
3. `--numerics`: every built-in model (fused where it has the kernel; then each as a cell loop and as a scripted
   loop, every LSTM variant in both, three with two layers), untrained, hidden 64, on 64 held-out adding
   sequences: TorchScript, torch.compile and ONNX Runtime against eager at T = 50 and T = 100. Goal: largest
   |Δ| at most 1e-5 for every path; printed: the largest, and every ok path beyond it.
4. `--loop-speed`: six models that loop over time (peephole cell and scripted, bipeephole, a CIFG LSTM, an LSTM
   cell loop, a scripted GRU) served by `rnnbench run` with the serve suite's settings: each path's ratio to eager.

    PYTHONPATH=$PWD python benchmarks/serve.py [--runs 3] [--simulate] [--numerics] [--loop-speed] [--keep DIR]
        [--report FILE…]
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
    files = []
    for i in range(n):
        out = folder / f"serve-{i}.json"
        load = _uptime()
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "rnnbench", "run", "serve", "--out", str(out), "--quiet"], env=_env(), check=True
        )
        wall = time.perf_counter() - started
        verdict = "met" if wall <= GOAL_SECONDS else "NOT met"
        print(
            f"run {i + 1}: {wall:.0f} s (goal ≤ {GOAL_SECONDS:.0f} s: {verdict}), load before {load}, after {_uptime()}"
        )
        files.append(out)
    report(files)


def _process_costs(path: Path) -> None:
    """Each served case's timing processes: how many, rounds per process, start-to-ready costs, any fall-back note."""
    for case in json.loads(path.read_text())["cases"]:
        serving = case.get("serving") or {}
        ready = [f"{ms / 1e3:.1f}" for ms in serving.get("process_ready_ms", [])]
        rounds = {key: f"{min(c)}-{max(c)}" for key, c in (serving.get("blocks") or {}).items()}
        note = serving.get("timing_note", "")
        print(
            f"  {case['label']:8} processes {serving.get('processes', 1)}, rounds/process {rounds}, ready s {ready} {note}"
        )


def report(files: list[Path]) -> None:
    """Per ratio: each run's value and half-width, the spread around the runs' median; then the worst of each."""
    per_run = [_load_rows(f) for f in files]
    for f in files:
        print(f"{f.name}:")
        _process_costs(f)
    n = len(files)
    print(
        f"\n{'model':8} {'path':12} {'batch':5} "
        + " ".join(f"{'run ' + str(i + 1):>16}" for i in range(n))
        + "   spread  unit"
    )
    worst_half, worst_spread, misses, count = 0.0, 0.0, [], 0
    for index, row in enumerate(per_run[0]):
        for which in ("small", "large"):
            ratios = [getattr(rows[index], f"ratio_{which}") for rows in per_run]
            if any(r is None for r in ratios):
                continue
            count += 1
            mid = statistics.median(r.ratio for r in ratios)
            spread = max(abs(r.ratio / mid - 1) for r in ratios)
            half = max(r.half_width for r in ratios)
            worst_half, worst_spread = max(worst_half, half), max(worst_spread, spread)
            batch = row.small_batch if which == "small" else row.large_batch
            if spread > GOAL_AGREEMENT or half > GOAL_HALF_WIDTH:
                misses.append(
                    f"{row.label} {row.path} b{batch} (spread ±{100 * spread:.1f}%, half-width {100 * half:.1f}%)"
                )
            cells = " ".join(f"{r.ratio:6.3f} ±{100 * r.half_width:4.1f}%  " for r in ratios)
            unit = f"{ratios[0].processes} processes" if ratios[0].processes else "rounds"
            print(f"{row.label:8} {row.path:12} b{batch:<4} {cells} ±{100 * spread:.1f}%  {unit}")
    print(
        f"\n{count} ratios; largest half-width {100 * worst_half:.1f} % (goal ≤ {100 * GOAL_HALF_WIDTH:.0f} %); "
        f"largest spread around the runs' median {100 * worst_spread:.1f} % (goal ±{100 * GOAL_AGREEMENT:.0f} %)"
    )
    print(f"ratios missing a goal: {len(misses)}" + "".join(f"\n  {m}" for m in misses))


def simulate(folder: Path) -> None:
    out = folder / "serve-simulated.json"
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", SIMULATE, str(out)], env=_env())
    print(f"simulated run: exit {done.returncode}, {time.perf_counter() - started:.0f} s")
    for row in _load_rows(out):
        print(f"  {row.label:8} {row.path:12} {row.status}")


TWO_LAYER_MODELS = [
    ("peephole", "scripted", {"num_layers": 2}),
    ("bipeephole", "cell", {"num_layers": 2}),
    ("bilstm", "scripted", {"variant": "fgr", "num_layers": 2}),
]


def numerics_models() -> list[tuple[str, str, dict]]:
    """Every built-in model fused where it has the kernel, then every one as a cell loop and scripted loop, every
    Greff variant in both, and three with two layers: (arch, impl, options)."""
    from rnnbench.catalog import CELL_IMPLS, MODEL_SPECS
    from rnnbench.suite.variants import VARIANTS

    variants = [("lstm", impl, {"variant": v}) for v in VARIANTS for impl in ("cell", "scripted")]
    fused = [(arch, "fused", {}) for arch, spec in MODEL_SPECS.items() if "fused" in CELL_IMPLS[spec.cell]]
    loops = [(arch, impl, {}) for arch in MODEL_SPECS for impl in ("cell", "scripted")]
    return fused + loops + variants + TWO_LAYER_MODELS


def _figures(outputs: dict) -> str:
    return ", ".join(
        f"{k} {'error: ' + d['error'][:50] if d.get('error') else format(d['max_abs'], '.1e')}"
        for k, d in outputs.items()
    )


def numerics() -> None:
    import torch

    from rnnbench.models.registry import MODELS
    from rnnbench.serve.case import check_path, eager_references, prepare_one
    from rnnbench.serve.loop_model import loops_in_python
    from rnnbench.serve.paths import PathContext
    from rnnbench.tasks.registry import TASKS

    torch.set_num_threads(1)
    task = TASKS["adding"](seq_len=50)
    held = task.sample(64, torch.Generator().manual_seed(0))
    worst, beyond = 0.0, []
    for arch, impl, options in numerics_models():
        torch.manual_seed(0)
        model = MODELS[arch](input_size=2, output_size=1, output_kind="last", hidden_size=64, impl=impl, **options)
        model.eval()
        references = eager_references(model, held)
        # as serve_case decides it for a built-in: the model steps through time itself (compile: unsupported)
        ctx = PathContext(
            model, held.inputs[:32], torch.device("cpu"), "float32", 1, loops_over_time=loops_in_python(model)
        )
        name = f"{arch} {impl} {' '.join(f'{k}={v}' for k, v in options.items())}".strip()
        for path in ("torchscript", "compile", "onnxruntime"):
            started = time.perf_counter()
            state = prepare_one(path, ctx, {1: held.inputs[:1], 32: held.inputs[:32]})
            if state.served is not None:
                check_path(state, held, references, task)
            outputs = state.record.get("outputs", {})
            if state.record.get("within_tolerance"):
                worst = max(worst, *(d["max_abs"] for d in outputs.values()))
            elif state.record["status"] == "ok":
                beyond.append(f"{name} {path}")
            print(
                f"{name:34} {path:12} {state.record['status'][:60]:12} {_figures(outputs)}  ({time.perf_counter() - started:.1f} s)"
            )
    print(f"largest |Δ| of the paths within tolerance: {worst:.1e} (goal ≤ {GOAL_DIFF:g})")
    print(f"ok paths beyond tolerance: {len(beyond)} {beyond}")


LOOP_SPEED_MODELS = [
    "peephole",
    {"arch": "peephole", "impl": "scripted"},
    {"arch": "bipeephole", "impl": "scripted"},
    {"arch": "lstm", "impl": "scripted", "variant": "cifg"},
    {"arch": "lstm", "impl": "cell"},
    {"arch": "gru", "impl": "scripted"},
]


def loop_speed(folder: Path) -> None:
    """The models that loop over time served through TorchScript and ONNX Runtime, timed paired with eager
    by `rnnbench run` (the serve suite's settings, two seconds of training)."""
    import yaml

    suite = yaml.safe_load((ROOT / "suites" / "serve.yaml").read_text())
    suite.update(name="serve-loops", models=LOOP_SPEED_MODELS)
    suite["defaults"].update(
        impl="cell", train={"max_steps": 100, "max_seconds": 2, "eval_every": 50, "eval_size": 256}
    )
    suite["defaults"]["inference"]["paths"] = ["eager", "torchscript", "compile", "onnxruntime"]
    path, out = folder / "serve-loops.yaml", folder / "serve-loops.json"
    path.write_text(yaml.safe_dump(suite))
    load, started = _uptime(), time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "rnnbench", "run", str(path), "--out", str(out), "--quiet"], env=_env(), check=True
    )
    print(f"loop models: {time.perf_counter() - started:.0f} s, load before {load}")
    for row in _load_rows(out):
        ratios = " ".join(
            f"b{batch} {r.ratio:.3f} [{r.low:.3f}, {r.high:.3f}]"
            for batch, r in ((row.small_batch, row.ratio_small), (row.large_batch, row.ratio_large))
            if r is not None
        )
        delta = "-" if row.max_abs is None else f"{row.max_abs:.1e}"
        prepare = "-" if row.prepare_ms is None else f"{row.prepare_ms:.0f} ms"
        print(f"  {row.label:28} {row.path:12} {row.status[:50]:10} |Δ| {delta:8} prepare {prepare:9} {ratios}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--simulate", action="store_true")
    parser.add_argument("--numerics", action="store_true")
    parser.add_argument("--loop-speed", action="store_true", help="the models that loop over time, timed vs eager")
    parser.add_argument("--keep", type=Path, default=None, help="folder to keep the results files in")
    parser.add_argument("--report", type=Path, nargs="+", help="print the --runs report of kept results files, no run")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="rnnbench-serve-"))
    folder.mkdir(parents=True, exist_ok=True)
    if args.report:
        report(args.report)
        return
    print(f"load average at start: {_uptime()}; results in {folder}")
    if args.runs:
        runs(args.runs, folder)
    if args.simulate:
        simulate(folder)
    if args.numerics:
        numerics()
    if args.loop_speed:
        loop_speed(folder)


if __name__ == "__main__":
    main()
