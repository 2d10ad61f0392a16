"""The plugin CI gate tried end to end (issue 13): a git repository holding a small plugin, its target branch
checked out as a worktree, `rnnbench ab --base-path ../base --fail-on-regression` on a commit that slows the
plugin (must exit 1, flagging the plugin only) and on a neutral commit (must exit 0).

Usage: python benchmarks/plugin_gate.py [--extra N]   (N extra elementwise passes per forward in the slow commit)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SUITE = """
name: mycell-gate
device: cpu
threads: 1
seeds: [0]
defaults:
  hidden_size: 32
  batch_size: 32
  train: {max_steps: 2, max_seconds: 5, eval_every: 2}
  inference: {batch_sizes: [1]}
models: [lstm, {arch: "mycell.model:MyLSTM", label: mylstm}]
tasks:
  - {task: adding, seq_len: 50}
"""

MODEL = '''
"""My LSTM: nn.LSTM plus an optional extra cost, the change under review."""
import torch
from torch import nn

EXTRA = {extra}  # extra elementwise passes over the output per forward{comment}


class MyLSTM(nn.LSTM):
    def forward(self, x):
        out, state = super().forward(x)
        for _ in range(EXTRA):
            out = torch.tanh(out) * 1.0 + 0.0 * out
        return out, state
'''


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def commit(repo: Path, extra: int, comment: str, message: str) -> None:
    (repo / "mycell" / "model.py").write_text(MODEL.format(extra=extra, comment=comment))
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=gate", "-c", "user.email=gate@example.invalid", "commit", "-qm", message)


def gate(repo: Path, base: Path) -> tuple[int, float, list[str]]:
    out = repo.parent / "ab.json"
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "rnnbench", "ab", "suite.yaml", "--base-path", str(base), "--new-path", ".",
         "--fail-on-regression", "--format", "md", "--summary", str(repo.parent / "summary.md"), "--out", str(out)],
        cwd=repo, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    wall = time.perf_counter() - start
    rows = json.loads(out.read_text())["rows"] if out.exists() else []
    flagged = [f"{r['label']}:{r['metric']} {r['ratio']:.3f}x [{r['ci'][0]:.3f}, {r['ci'][1]:.3f}]" for r in rows
               if r["regression"]]  # fmt: skip
    if done.returncode not in (0, 1):
        print(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no output")
    return done.returncode, wall, flagged


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--extra", type=int, default=4)
    args = parser.parse_args()
    print(f"load average at start: {open('/proc/loadavg').read().split()[0]}")
    with tempfile.TemporaryDirectory() as folder:
        repo, base = Path(folder) / "repo", Path(folder) / "base"
        (repo / "mycell").mkdir(parents=True)
        (repo / "mycell" / "__init__.py").write_text("")
        (repo / "suite.yaml").write_text(textwrap.dedent(SUITE))
        git(repo, "init", "-q")
        commit(repo, 0, "", "base: the cell as on the target branch")
        git(repo, "worktree", "add", "-q", "--detach", str(base), "HEAD")
        commit(repo, args.extra, "", f"slow: {args.extra} extra passes per forward")
        rc, wall, flagged = gate(repo, base)
        print(f"slow commit ({args.extra} extra passes): exit {rc} in {wall:.1f} s; flagged {flagged}")
        commit(repo, 0, " (a comment, the only change)", "neutral: a comment changed")
        rc, wall, flagged = gate(repo, base)
        print(f"neutral commit: exit {rc} in {wall:.1f} s; flagged {flagged}")
        print("summary written:", (Path(folder) / "summary.md").stat().st_size, "bytes of Markdown")


if __name__ == "__main__":
    main()
