"""Ctrl-C under load: every command that starts workers stops them all and exits within 5 s, leaving no process."""

from __future__ import annotations

import signal
import subprocess
import textwrap
import time
from pathlib import Path

import psutil
import pytest
from helpers import rnnbench_process
from suite_texts import AB_SUITE, tiny_suite_text, wall_clock_suite

# Every test starts `python -m rnnbench` and its workers, then sends SIGINT.
pytestmark = pytest.mark.processes

EXIT_WITHIN_S = 5.0

# Three models timed in 4 fresh processes each with a long budget: Ctrl-C lands while a timing process runs.
PROCESSES_SUITE = (
    tiny_suite_text(models=("lstm", "gru", "rnn"), batch_sizes=(1,), timing_processes=4)
    .replace("max_repeats: 12", "max_repeats: 1000")
    .replace("max_seconds: 0.01", "max_seconds: 20")
)


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _start(args: list[str], sigint_ignored: bool = False) -> subprocess.Popen:
    return rnnbench_process(
        *args,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # never a full pipe that blocks the process under test
        preexec_fn=_ignore_sigint if sigint_ignored else None,
    )


def _wait_for(process: subprocess.Popen, ready, what: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, f"ended (code {process.returncode}) before {what}"
        if ready():
            return
        time.sleep(0.1)
    process.kill()
    pytest.fail(f"never got to {what}")


def _running(module: str):
    def ready_for(process: subprocess.Popen):
        return lambda: any(module in " ".join(p.cmdline()) for p in _descendants(process.pid) if _alive(p))

    return ready_for


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _interrupt_and_check(process: subprocess.Popen) -> None:
    workers = _descendants(process.pid)
    assert workers, "the command has worker processes when interrupted"
    process.send_signal(signal.SIGINT)
    sent = time.monotonic()
    try:
        code = process.wait(timeout=EXIT_WITHIN_S + 25)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("still running 30 s after SIGINT")
    took = time.monotonic() - sent
    print(f"exited {took:.2f} s after SIGINT")  # shown with -s: the margin under the 5 s limit
    _, alive = psutil.wait_procs(workers, timeout=0.5)
    assert not alive, f"orphans: {[p.pid for p in alive]}"
    assert took <= EXIT_WITHIN_S, f"exited {took:.1f} s after SIGINT"
    assert code == 130


@pytest.fixture
def suite_file(tmp_path):
    def write(text: str) -> Path:
        path = tmp_path / "suite.yaml"
        path.write_text(textwrap.dedent(text))
        return path

    return write


@pytest.mark.parametrize("load", [False, True], ids=["idle", "burner"])
def test_run_with_two_workers(load, request, suite_file, tmp_path):
    if load:
        request.getfixturevalue("cpu_burner")
    suite = suite_file(wall_clock_suite("sigint", 60.0, [5, 6, 7]))
    process = _start(["run", str(suite), "--out", str(tmp_path / "r.json"), "--workers", "2", "--quiet"])
    _wait_for(process, _running("rnnbench.run.executors.local_worker")(process), "its workers")
    time.sleep(2.0)  # into the units
    _interrupt_and_check(process)


@pytest.mark.parametrize("load", [False, True], ids=["idle", "burner"])
def test_run_with_timing_processes(load, request, suite_file, tmp_path):
    if load:
        request.getfixturevalue("cpu_burner")
    suite = suite_file(PROCESSES_SUITE)
    process = _start(["run", str(suite), "--out", str(tmp_path / "r.json"), "--quiet"])
    _wait_for(process, _running("rnnbench.run.timing_child")(process), "a timing process")
    time.sleep(1.0)
    _interrupt_and_check(process)


@pytest.mark.parametrize("load", [False, True], ids=["idle", "burner"])
def test_ab(load, request, suite_file):
    if load:
        request.getfixturevalue("cpu_burner")
    suite = suite_file(AB_SUITE)
    process = _start(["ab", str(suite), "--pairs", "3", "--seconds", "60"])
    _wait_for(process, _running("rnnbench.run.ab_worker")(process), "its workers")
    time.sleep(1.0)
    _interrupt_and_check(process)


def test_ab_hears_ctrl_c_even_when_started_with_sigint_ignored(suite_file):
    """A parent that ignores SIGINT (a pool worker, a CI runner) passes that on to its children through exec."""
    suite = suite_file(AB_SUITE)
    process = _start(["ab", str(suite), "--pairs", "3", "--seconds", "60"], sigint_ignored=True)
    _wait_for(process, _running("rnnbench.run.ab_worker")(process), "its workers")
    _interrupt_and_check(process)
