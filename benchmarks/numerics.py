"""How often `rnnbench ab` flags "outputs changed": a 0.1 % output change on the new side, and A/A runs.

Usage: python benchmarks/numerics.py [--runs 10] [--pairs 2] [--seconds 2]

suites/ci.yaml's models (tanh RNN, LSTM, GRU, Bi-LSTM; hidden 64, batch 32, adding T50, one thread)
as plugins wrapping torch.nn.RNN/LSTM/GRU: the base folder's pass their outputs through, the new
folder's multiply them by 1 + 1e-3. Each run draws its own seed (weights and batch), so the runs are
10 models apiece, not one repeated. Goal: every perturbed run flagged, no A/A run flagged. The
timings' threshold is 500 % so that the exit code is the numerics check's alone.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MODELS = """
from torch import nn


class _Scaled:
    scale = {scale}

    def forward(self, x):
        out, state = super().forward(x)
        return out * self.scale, state


class RNN(_Scaled, nn.RNN):
    pass


class LSTM(_Scaled, nn.LSTM):
    pass


class GRU(_Scaled, nn.GRU):
    pass
"""

# suites/ci.yaml's settings; the seed varies per run
SUITE = """
name: numerics-ci
device: cpu
dtype: float32
threads: 1
seeds: [{seed}]
defaults:
  hidden_size: 64
  batch_size: 32
  optimizer: {{name: adam, lr: 0.01}}
  grad_clip: 1.0
  train: {{max_steps: 30, max_seconds: 60, eval_every: 15, eval_size: 256}}
  timing: {{warmup: 5, min_repeats: 20, max_repeats: 2000, max_seconds: 0.5, target_rel_ci: 0.01}}
  inference: {{batch_sizes: [1, 32]}}
models:
  - {{arch: "cimodels:RNN", label: rnn}}
  - {{arch: "cimodels:LSTM", label: lstm}}
  - {{arch: "cimodels:GRU", label: gru}}
  - {{arch: "cimodels:LSTM", bidirectional: true, label: bilstm}}
tasks:
  - {{task: adding, seq_len: 50}}
"""


def _folder(path: Path, scale: str) -> str:
    path.mkdir()
    (path / "cimodels.py").write_text(MODELS.format(scale=scale))
    return str(path)


def _run(tmp: Path, seed: int, base: str, new: str, args: argparse.Namespace) -> tuple[int, dict]:
    suite, out = tmp / f"suite{seed}.yaml", tmp / f"ab{seed}.json"
    suite.write_text(SUITE.format(seed=seed))
    argv = [sys.executable, "-m", "rnnbench", "ab", str(suite), "--base-path", base, "--new-path", new]
    argv += ["--pairs", str(args.pairs), "--seconds", str(args.seconds), "--threshold", "500%"]
    argv += ["--fail-on-regression", "--format", "json", "--out", str(out)]
    done = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode not in (0, 1):
        sys.exit(f"ab failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    return done.returncode, json.loads(out.read_text())


def _line(doc: dict) -> str:
    parts = []
    for check in doc["numerics"]["models"].values():
        o, loss = check.get("outputs") or {}, check.get("loss") or {}
        parts.append(
            f"{check['label']} {check['status']} (outputs {o.get('beyond')}/{o.get('n')} beyond, "
            f"max |Δ| {o.get('max_abs', 0):.1e} rel {o.get('max_rel', 0):.1e}; loss rel {loss.get('max_rel', 0):.1e})"
        )
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        base, new = _folder(tmp / "base", "1.0"), _folder(tmp / "new", "(1 + 1e-3)")
        for kind, other in (("perturbed", new), ("A/A", base)):
            flagged = exits = 0
            for seed in range(args.runs):
                rc, doc = _run(tmp, seed, base, other, args)
                changed = [r for r in doc["rows"] if r["verdict"] == "outputs changed"]
                flagged += bool(changed)
                exits += rc == 1
                print(
                    f"  {kind} seed {seed}: exit {rc}, {len(changed)} rows 'outputs changed': {_line(doc)}", flush=True
                )
            print(f"{kind}: flagged 'outputs changed' in {flagged} of {args.runs} runs; exit 1 in {exits}", flush=True)


if __name__ == "__main__":
    main()
