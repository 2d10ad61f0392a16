"""Executor goals, measured side by side: --workers 2 vs serial wall time, Ray's per-unit overhead, Ray vs workers 2,
and identical final metrics per case id.

Run: PYTHONPATH=. python benchmarks/executor.py [--layout groups|seeds] [--steps N] [--units K] [--pairs P] [--no-ray]
  groups: K timing groups (seq_len 20, 21, ...) of an LSTM and a GRU, one seed (goal: workers 2 <= 0.60x serial);
  seeds:  one configuration (adding T30, LSTM and GRU) over 4 seeds: 8 cases, a single timing group (goal <= 0.65x).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from rnnbench.run.driver import run_suite
from rnnbench.run.executors.base import Plan
from rnnbench.suite.expand import load_suite

# Training-bound, fixed step counts so each executor does the same work. Two layouts:
# groups: `--units` timing groups (seq_len 20, 21, ...), one seed, tiny timing blocks;
# seeds: one configuration over 4 seeds, one timing group whose training spreads over the workers
# (0.5 s timing blocks: the group's one timing unit, 8 x 0.5 s a block, cannot be shared out).
LAYOUTS = {
    "groups": {
        "seeds": [0],
        "timing": "{warmup: 0, min_repeats: 2, max_repeats: 2, max_seconds: 0.05}",
        "batch_sizes": [1],
        "tasks": "[{task: adding, seq_len: 20}]\nmatrix: {seq_len: LENGTHS}",
    },
    "seeds": {
        "seeds": [0, 1, 2, 3],
        "timing": "{max_seconds: 0.5}",
        "batch_sizes": [1, 16],
        "tasks": "[{task: adding, seq_len: 30}]",
    },
}


def suite_text(layout: str, steps: int, units: int) -> str:
    spec = LAYOUTS[layout]
    tasks = str(spec["tasks"]).replace("LENGTHS", str(list(range(20, 20 + units))))
    return f"""
name: executor-{layout}
seeds: {spec["seeds"]}
device: cpu
threads: 1
defaults:
  hidden_size: 32
  batch_size: 16
  train: {{max_steps: {steps}, max_seconds: 600, eval_every: 50, eval_size: 64}}
  timing: {spec["timing"]}
  inference: {{batch_sizes: {spec["batch_sizes"]}}}
models: [lstm, gru]
tasks: {tasks}
"""


def _timed(suite, cases, path, out: Path, plan: Plan) -> tuple[float, dict]:
    started = time.perf_counter()
    doc = run_suite(suite, cases, out, suite_path=str(path), plan=plan)
    return time.perf_counter() - started, doc


def ray_overhead(record: dict, n: int = 40) -> float:
    """Seconds per unit for scheduling a task and moving one case record back, on a running local Ray."""
    import ray

    @ray.remote(num_cpus=1, max_retries=0)
    def echo(payload: dict) -> dict:
        return payload

    ray.get(echo.remote(record))  # the first task starts a worker process: not per-unit overhead
    started = time.perf_counter()
    for _ in range(n):
        ray.get(echo.remote(record))
    return (time.perf_counter() - started) / n


# The machine's own ceiling: the same single-thread LSTM training loop, alone and as two processes at once.
PROBE = """
import time, torch
torch.set_num_threads(1)
torch.manual_seed(0)
model = torch.nn.LSTM(8, 32, batch_first=True)
opt = torch.optim.Adam(model.parameters())
x = torch.randn(16, 24, 8)
start = time.perf_counter()
for _ in range(600):
    opt.zero_grad()
    model(x)[0].sum().backward()
    opt.step()
print(time.perf_counter() - start)
"""


def parallel_efficiency() -> float:
    """Solo time / time when two copies run at once on two cores: 1.0 would be perfect scaling."""

    def run(n: int) -> float:
        procs = [subprocess.Popen([sys.executable, "-c", PROBE], stdout=subprocess.PIPE, text=True) for _ in range(n)]
        return max(float(p.communicate()[0]) for p in procs)

    run(1)  # warm the file cache
    solo = min(run(1) for _ in range(2))
    both = min(run(2) for _ in range(2))
    return solo / both


def main() -> None:
    parser = argparse.ArgumentParser()
    # 2000 steps: the goal is for a training-bound suite; at 1000 a case's fixed costs (timing, evaluation,
    # a worker's 2.7 s of imports) are 8-10 % of the serial wall, which the workers cannot share out
    parser.add_argument("--steps", type=int, default=2000, help="training steps per case")
    parser.add_argument("--units", type=int, default=8, help="timing groups (seq_len 20, 21, ...)")
    parser.add_argument("--pairs", type=int, default=2, help="serial / workers 2 pairs, run alternately")
    parser.add_argument("--layout", choices=("groups", "seeds"), default="groups")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray measurements")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="rnnbench-executor-"))
    suite_file = folder / "suite.yaml"
    suite_file.write_text(textwrap.dedent(suite_text(args.layout, args.steps, args.units)))
    goal = 0.65 if args.layout == "seeds" else 0.60
    suite, cases, path = load_suite(suite_file)
    walls, docs = {}, {}
    plans = {"serial": Plan("serial", 1, None), "workers2": Plan("local", 2, None)}
    # serial and workers 2 alternate (S W W S ...): the machine's speed drifts, so each ratio is taken
    # between neighbours, and the figure is the median of those ratios, never one unpaired pair
    order = [
        name for i in range(args.pairs) for name in (("serial", "workers2") if i % 2 == 0 else ("workers2", "serial"))
    ]
    runs: dict[str, list[float]] = {"serial": [], "workers2": []}
    for k, name in enumerate(order):
        wall, docs[name] = _timed(suite, cases, path, folder / f"{name}-{k}.json", plans[name])
        runs[name].append(wall)
        print(f"{name:9s} wall {wall:7.2f} s (load {open('/proc/loadavg').read().split()[0]})", flush=True)
    walls = {name: statistics.median(values) for name, values in runs.items()}
    pair_ratios = [w / s for w, s in zip(runs["workers2"], runs["serial"])]
    if args.no_ray:
        same = {c["id"]: c["train"]["final"]["metric"] for c in docs["serial"]["cases"]} == {
            c["id"]: c["train"]["final"]["metric"] for c in docs["workers2"]["cases"]
        }
        print(f"layout {args.layout}: cases {len(cases)}, timing groups {len({c.seq_len for c in cases})}")
        print(f"workers 2 / serial wall: {statistics.median(pair_ratios):.2f}x, median of {len(pair_ratios)} pairs "
              f"({', '.join(f'{r:.3f}' for r in pair_ratios)}; goal <= {goal:.2f}x)")  # fmt: skip
        print(f"identical final metrics per case id (serial, workers 2): {same}")
        return
    started = time.perf_counter()  # Ray's start-up counts: the embedded default starts and stops it
    walls["ray"], docs["ray"] = _timed(suite, cases, path, folder / "ray.json", Plan("ray", 1, None))
    walls["ray"] = time.perf_counter() - started
    print(f"{'ray':9s} wall {walls['ray']:7.2f} s (start-up and shut-down included)", flush=True)
    import ray

    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    overhead = ray_overhead(docs["serial"]["cases"][0])
    ray.shutdown()
    finals = {name: {c["id"]: c["train"]["final"]["metric"] for c in doc["cases"]} for name, doc in docs.items()}
    same = finals["serial"] == finals["workers2"] == finals["ray"]
    print(f"units {len({c.seq_len for c in cases})}, cases {len(cases)}")
    efficiency = parallel_efficiency()
    print(f"machine: two single-thread processes at once each run at {efficiency:.2f} of solo speed")
    print(f"workers 2 / serial wall: {statistics.median(pair_ratios):.2f}x, median of {len(pair_ratios)} side-by-side "
          f"pairs ({', '.join(f'{r:.3f}' for r in pair_ratios)}; goal <= {goal:.2f}x; "
          f"best this machine allows, start-up aside: {0.5 / efficiency:.2f}x)")  # fmt: skip
    print(f"ray / workers 2 wall:    {walls['ray'] / walls['workers2']:.2f}x (goal <= 1.3x)")
    print(f"ray per-unit overhead:   {overhead * 1000:.1f} ms (goal <= 500 ms)")
    print(f"identical final metrics per case id: {same}")


if __name__ == "__main__":
    main()
