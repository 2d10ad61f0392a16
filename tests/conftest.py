"""Shared fixtures: tiny suites written to a temporary folder, the reference matmul stubbed, ratio_ci computed once per
input, the `processes` tier kept honest (a test that starts a Python process is marked so), a CPU burner."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from suite_texts import TINY_SUITE

# Tests run on the CPU with tiny sizes; one thread keeps them predictable next to other work.
torch.set_num_threads(1)

PYTHON = os.path.realpath(sys.executable)


@pytest.fixture(autouse=True)
def _stub_reference_matmul(request, monkeypatch):
    """The reference matmul (a 1024² matmul timed for up to 1 s, at the start and the end of every run) is a fixed
    number unless a test is marked `reference_matmul`: it measures the machine, which no other test looks at."""
    if request.node.get_closest_marker("reference_matmul"):
        return
    from rnnbench.run import driver
    from rnnbench.stats import summarize

    def fixed(device, size: int = 1024) -> dict:
        timing = summarize([2.0] * 10)  # ms: 1074 GFLOP/s, plausible and never measured
        gflops = 2 * size**3 / (timing["median"] * 1e-3) / 1e9
        return {"matmul_gflops": gflops, "matmul_ms": timing, "size": size, "dtype": "float32"}

    monkeypatch.setattr(driver, "reference_matmul_gflops", fixed)


_RATIO_CIS: dict[tuple, tuple[float, float, float]] = {}


@pytest.fixture(autouse=True)
def _ratio_ci_once_per_input(monkeypatch):
    """`stats.ratio_ci` inverts a Mann-Whitney test by bisection: about 100 scipy calls, 0.1-0.2 s here, and it was
    half the default tier's time before this cache. It is a pure function and tests compare the same synthetic documents
    again and again, so an input seen before in this session gets the result computed for it then (by the real
    function: a wrong interval fails the first test that computes it, and every later one the same way)."""
    from rnnbench import stats
    from rnnbench.render import recap

    real = stats.ratio_ci

    def once_per_input(base, new, confidence: float = 0.95):
        if not (isinstance(base, (list, tuple, np.ndarray)) and isinstance(new, (list, tuple, np.ndarray))):
            return real(base, new, confidence)
        try:
            key = (tuple(float(x) for x in base), tuple(float(x) for x in new), float(confidence))
        except (TypeError, ValueError):
            return real(base, new, confidence)  # not numbers: ratio_ci's own error
        if key not in _RATIO_CIS:
            _RATIO_CIS[key] = real(base, new, confidence)
        return _RATIO_CIS[key]

    monkeypatch.setattr(stats, "ratio_ci", once_per_input)
    monkeypatch.setattr(recap, "ratio_ci", once_per_input)


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


def _freeze_what_lives() -> None:
    gc.collect()
    gc.freeze()


def pytest_collection_finish(session):
    """The timer collects garbage before every measured block (gc.collect); with pytest's objects, every test module
    and the libraries they import in the heap, that took 0.2 s a call, seconds a test. Frozen (after a collection:
    nothing alive is lost, no garbage kept), they are never scanned again: a collection then looks only at what
    the tests made since."""
    _freeze_what_lives()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Again after each test module, its fixtures torn down: the libraries its tests imported (scipy.stats,
    matplotlib, the profiler) stay for the session."""
    result = yield
    if nextitem is None or getattr(nextitem, "module", None) is not getattr(item, "module", None):
        _freeze_what_lives()
    return result
