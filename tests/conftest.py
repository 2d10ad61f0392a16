"""Shared fixtures: tiny suites written to a temporary folder."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import torch
from suite_texts import TINY_SUITE

# Tests run on the CPU with tiny sizes; one thread keeps them predictable next to other work.
torch.set_num_threads(1)

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
    import subprocess
    import sys

    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield burner
    finally:
        burner.kill()
        burner.wait()
