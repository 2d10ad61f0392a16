"""Helpers shared by test modules: `python -m rnnbench` as a child process of this checkout, what a run learned.

Test modules import from here, `suite_texts` and `results_factory`, never from one another (tests/test_layout.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the checkout: its `rnnbench/` is what a child process imports


def rnnbench_env(**extra: str) -> dict[str, str]:
    """The environment of a child process: this checkout's package first, lines wide enough not to wrap."""
    return {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", **extra}


def rnnbench_process(*args: str, **popen) -> subprocess.Popen:
    """`python -m rnnbench *args` started, not waited for; stdout and stderr piped as text unless `popen` says."""
    options = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, **popen}
    return subprocess.Popen([sys.executable, "-m", "rnnbench", *args], env=rnnbench_env(), **options)


def rnnbench_run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m rnnbench *args` run to its end: its exit code, stdout and stderr (text)."""
    return subprocess.run(
        [sys.executable, "-m", "rnnbench", *args], capture_output=True, text=True, env=rnnbench_env(), timeout=timeout
    )


def learning(record: dict) -> tuple:
    """What must not depend on where a case ran: the curve without its clock, the final metric and loss."""
    train = record["train"]
    curve = [(step, loss, metric) for step, _ms, loss, metric in train["curve"]]
    return curve, train["final"]["metric"], train["final"]["loss"], record["n_params"]
