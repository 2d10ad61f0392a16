"""Shared fixtures: tiny suites written to a temporary folder, the `processes` tier kept honest (a test that starts a
Python process is marked so), a CPU burner."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from suite_texts import TINY_SUITE

# Tests run on the CPU with tiny sizes; one thread keeps them predictable next to other work.
torch.set_num_threads(1)

PYTHON = os.path.realpath(sys.executable)


@pytest.fixture(autouse=True)
def _python_processes_only_when_marked(request, monkeypatch):
    """A test that starts a Python process (`python -m rnnbench`, workers, timing processes, Ray) belongs to the
    `processes` tier, outside the default run: unmarked, it fails here and says so."""
    if request.node.get_closest_marker("processes"):
        return
    real = subprocess.Popen._execute_child

    def refuse_python(self, args, executable, *rest, **kwargs):
        program = os.fsdecode(executable or (args[0] if isinstance(args, (list, tuple)) else str(args).split()[0]))
        if os.path.realpath(shutil.which(program) or program) == PYTHON:
            pytest.fail(f"starts a Python process ({' '.join(map(str, args))[:80]}): mark it @pytest.mark.processes")
        return real(self, args, executable, *rest, **kwargs)

    monkeypatch.setattr(subprocess.Popen, "_execute_child", refuse_python)


@pytest.fixture
def write_suite(tmp_path: Path):
    """Write YAML text (dedented) to a file and return its path."""

    def write(text: str, name: str = "suite.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write


@pytest.fixture
def tiny_suite(write_suite) -> Path:
    return write_suite(TINY_SUITE, "tiny.yaml")


@pytest.fixture
def cpu_burner():
    """A process spinning on one core for the length of the test: load is what exposes races between processes."""
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield burner
    finally:
        burner.kill()
        burner.wait()
