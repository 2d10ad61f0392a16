"""The paired-timing goals as rates and ratios (issue 12): A/A false alarms, slowdowns caught, wall time, ratio agreement.

Usage: python benchmarks/gate.py [--runs N] [--only aa,slow5,slow2,onemodel,within] [--burner]
Figures depend on the machine's load: print `uptime` beside them. --burner spins one core for the whole run:
load is what exposes races between the orchestrator and its workers (a run that ends in exit 2 counts as a hang
or error, and its last line is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import astuple
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITE = str(ROOT / "suites" / "ci.yaml")


def _load() -> str:
    return open("/proc/loadavg").read().split()[0] if os.path.exists("/proc/loadavg") else "?"


def _ab(*extra: str) -> tuple[int, float, dict, str]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "ab.json"
        start = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "rnnbench",
                "ab",
                SUITE,
                "--fail-on-regression",
                "--format",
                "json",
                "--out",
                str(out),
                *extra,
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        wall = time.perf_counter() - start
        doc = json.loads(out.read_text()) if out.exists() else {}
    last = (done.stderr.strip().splitlines() or [""])[-1]
    return done.returncode, wall, doc, last


def _flagged(doc: dict) -> set[str]:
    return {f"{r['label']}:{r['metric']}" for r in doc.get("rows", []) if r.get("regression")}


def ab_rate(name: str, runs: int, *extra: str) -> None:
    hits, errors, walls = 0, 0, []
    for i in range(runs):
        rc, wall, doc, last = _ab(*extra)
        walls.append(wall)
        hits += rc == 1
        errors += rc not in (0, 1)
        error = f", error: {last}" if rc not in (0, 1) else ""
        print(
            f"  {name} run {i + 1}: exit {rc}, {wall:.0f} s, load {_load()}, flagged {sorted(_flagged(doc))[:6]}{error}",
            flush=True,
        )
    print(
        f"{name}: flagged {hits}/{runs}; hangs or errors {errors}/{runs}; wall {min(walls):.0f}–{max(walls):.0f} s",
        flush=True,
    )


# Imported at start-up by the new side's interpreter only (it is on that side's PYTHONPATH): every
# nn.LSTM forward (the built-in lstm and bilstm) is padded by 20 % of its own duration; GRU and the
# tanh RNN are untouched. A "change that slows only one model", made outside rnnbench.
SLOW_LSTM = """
import time
import torch

_forward = torch.nn.LSTM.forward


def _slow_forward(self, *args, **kwargs):
    start = time.perf_counter()
    out = _forward(self, *args, **kwargs)
    end = start + (time.perf_counter() - start) * 1.20
    while time.perf_counter() < end:
        pass
    return out


torch.nn.LSTM.forward = _slow_forward
"""


def one_model(runs: int) -> None:
    """A change that slows only nn.LSTM: which rows does the gate flag?"""
    flagged_archs: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "sitecustomize.py").write_text(SLOW_LSTM)
        for i in range(runs):
            rc, wall, doc, _ = _ab("--new-path", folder)
            archs = sorted({name.split(":")[0] for name in _flagged(doc)})
            for arch in archs:
                flagged_archs[arch] = flagged_archs.get(arch, 0) + 1
            print(
                f"  nn.LSTM +20 % run {i + 1}: exit {rc}, {wall:.0f} s, load {_load()}, flagged {sorted(_flagged(doc))}"
            )
    print(f"nn.LSTM forward +20 %: runs flagging each architecture: {flagged_archs} of {runs}")


def within(runs: int, keep: str | None = None) -> None:
    """GRU/LSTM and Bi-LSTM/LSTM paired train-step ratios from repeated `rnnbench run ci` (files kept in `keep`)."""
    sys.path.insert(0, str(ROOT))
    from rnnbench.analysis.paired import paired_ratio_of

    found = []
    for i in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "ci.json"
            subprocess.run(
                [sys.executable, "-m", "rnnbench", "run", SUITE, "--quiet", "--out", str(out)],
                check=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                capture_output=True,
            )
            doc = json.loads(out.read_text())
            if keep:
                Path(keep).mkdir(parents=True, exist_ok=True)
                (Path(keep) / f"run{i + 1}.json").write_text(out.read_text())
        by = {arch: [c for c in doc["cases"] if c["arch"] == arch] for arch in ("lstm", "gru", "bilstm")}
        # the interval the claims and the recap print (analysis.paired.paired_ratio_of)
        gru, bi = (astuple(paired_ratio_of(by[arch], by["lstm"])) for arch in ("gru", "bilstm"))
        found.append((gru, bi))
        print(
            f"  run {i + 1} (load {_load()}): gru/lstm {gru[0]:.3f} [{gru[1]:.3f}, {gru[2]:.3f}], "
            f"bilstm/lstm {bi[0]:.3f} [{bi[1]:.3f}, {bi[2]:.3f}]"
        )
    for k, name in ((0, "gru/lstm"), (1, "bilstm/lstm")):
        values = [f[k][0] for f in found]
        covered = sum(f[k][1] <= o[k][0] <= f[k][2] for f in found for o in found if o is not f)
        pairs = len(found) * (len(found) - 1)
        print(
            f"{name}: {min(values):.3f}–{max(values):.3f} (spread ±{(max(values) / min(values) - 1) / 2:.1%}); "
            f"an interval covers another run's ratio in {covered}/{pairs}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--only", default="aa,slow5,slow2,onemodel,within")
    parser.add_argument("--within-runs", type=int, default=5, help="identical `rnnbench run ci` runs (goal: 3)")
    parser.add_argument("--keep", help="folder to keep the within runs' results files in, for a closer look")
    parser.add_argument("--burner", action="store_true", help="spin one core (a CPU burner) for the whole run")
    args = parser.parse_args()
    print(f"load average at start: {_load()}")
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.burner else None
    try:
        _measure(args)
    finally:
        if burner is not None:
            burner.kill()
            burner.wait()


def _measure(args: argparse.Namespace) -> None:
    todo = args.only.split(",")
    if "aa" in todo:
        ab_rate("A/A", args.runs)
    if "slow5" in todo:
        ab_rate("5% slowdown", args.runs, "--new-env", "RNNBENCH_TEST_SLOWDOWN=1.05")
    if "slow2" in todo:
        ab_rate(
            "2% slowdown, threshold 1%", args.runs, "--new-env", "RNNBENCH_TEST_SLOWDOWN=1.02", "--threshold", "0.01"
        )
    if "onemodel" in todo:
        one_model(min(args.runs, 3))
    if "within" in todo:
        within(args.within_runs, args.keep)


if __name__ == "__main__":
    main()
