"""Where ab workers run: core slots for a pair's turns, the next pair started off the timed cores."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from rnnbench.cores import core_slots, pin


def test_slots_of_the_suites_threads():
    assert core_slots(1, [0, 1]) == [[0], [1]]
    assert core_slots(2, [0, 1, 2, 3]) == [[0, 1], [2, 3]]
    assert core_slots(1, [0, 1, 2]) == [[0], [1], [2]]


def test_one_slot_when_a_pair_needs_more_than_half_the_cores():
    assert core_slots(2, [0, 1]) == [[0, 1]]
    assert core_slots(None, [0, 1, 2, 3]) == [[0, 1, 2, 3]]


@pytest.mark.processes
@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no affinity call on this platform")
def test_pin_moves_every_thread_of_a_running_process():
    code = (
        "import threading, time\nthreading.Thread(target=time.sleep, args=(30,), daemon=True).start()\ntime.sleep(30)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        core = sorted(os.sched_getaffinity(0))[-1]
        for _ in range(100):  # wait for the second thread
            if len(os.listdir(f"/proc/{proc.pid}/task")) >= 2:
                break
            __import__("time").sleep(0.02)
        pin(proc.pid, [core])
        tids = [int(t) for t in os.listdir(f"/proc/{proc.pid}/task")]
        assert len(tids) >= 2 and all(os.sched_getaffinity(t) == {core} for t in tids)
    finally:
        proc.kill()
        proc.wait()
