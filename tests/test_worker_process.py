"""The worker-process helper: no line lost however the bytes arrive, one timeout naming what was awaited, one stop."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import psutil
import pytest

from rnnbench.run.worker_process import (
    WorkerExited,
    WorkerProcess,
    WorkerTimeout,
    child_env,
    stop_all,
)

# Every test starts child processes.
pytestmark = pytest.mark.processes


def _fake(body: str, name: str = "fake", codec: str = "json") -> WorkerProcess:
    """A child running `body`, with `out(bytes)` writing raw bytes to its stdout in one write."""
    prelude = "import os, sys, time, json\ndef out(data): os.write(1, data)\n"
    return WorkerProcess(name, [sys.executable, "-c", prelude + textwrap.dedent(body)], codec=codec)


@pytest.mark.parametrize("load", [False, True], ids=["idle", "burner"])
def test_two_answers_in_one_write_are_both_received(load, request):
    if load:
        request.getfixturevalue("cpu_burner")
    worker = _fake(
        """
        for line in sys.stdin:
            n = json.loads(line)["n"]
            out(json.dumps({"hello": n}).encode() + b"\\n" + json.dumps({"entries": n}).encode() + b"\\n")
        """
    )
    try:
        for n in range(50):  # many rounds: a reader that strands the second line hangs on one of them
            worker.send({"n": n})
            assert worker.receive(5.0, "hello") == {"hello": n}
            assert worker.receive(5.0, "entries") == {"entries": n}, "the second line of one write"
    finally:
        worker.stop()


def test_half_a_line_then_a_pause_is_one_message_and_a_timeout_names_what_was_awaited():
    worker = _fake(
        """
        out(b'{"part": ')
        time.sleep(0.6)
        out(b'1}\\n')
        time.sleep(30)
        """
    )
    try:
        with pytest.raises(WorkerTimeout, match=r"fake: no answer within 0.2 s while waiting for the rest"):
            worker.receive(0.2, "the rest")
        assert worker.receive(10.0, "the rest") == {"part": 1}, "the half line was kept, not lost or split"
        with pytest.raises(WorkerTimeout, match="hung"):
            worker.receive(0.2, "more")
    finally:
        worker.stop()


def test_a_child_that_dies_is_named_with_its_exit_code_and_last_stderr_line():
    worker = _fake('sys.stderr.write("first\\nbroken on purpose\\n"); sys.exit(3)', name="base side")
    with pytest.raises(WorkerExited, match=r"base side: exited \(code 3\): broken on purpose while waiting for hello"):
        worker.receive(10.0, "hello")
    worker.stop()


def test_pickle_codec_round_trips_python_objects():
    worker = _fake(
        """
        import base64, pickle
        for line in sys.stdin:
            value = pickle.loads(base64.b64decode(line))
            out(base64.b64encode(pickle.dumps((value, {1: (2.5, None)}))) + b"\\n")
        """,
        codec="pickle",
    )
    try:
        assert worker.ask({"a": float("nan")}, 10.0, "echo")[1] == {1: (2.5, None)}
    finally:
        worker.stop()


def test_stop_all_kills_a_child_that_ignores_sigterm_within_the_grace():
    stubborn = _fake(
        "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('x', flush=True)\ntime.sleep(60)"
    )
    polite = _fake("time.sleep(60)")
    stubborn.receive(10.0, "its start")  # SIGTERM is ignored from here on
    started = time.monotonic()
    stop_all([stubborn, polite], grace=0.5)
    assert time.monotonic() - started < 3.0
    assert stubborn.proc.returncode == -9 and polite.proc.returncode is not None, "both reaped"


def test_a_child_channel_keeps_stray_prints_out_of_the_protocol(tmp_path):
    worker = WorkerProcess(
        "channel",
        [
            sys.executable,
            "-c",
            "from rnnbench.run.worker_process import ChildChannel\n"
            "channel = ChildChannel('json')\n"
            "print('a library printing to stdout')\n"
            "for message in channel:\n"
            "    channel.send({'echo': message})\n",
        ],
        env=child_env(),
        codec="json",
    )
    try:
        assert worker.ask({"x": 1}, 20.0, "the echo") == {"echo": {"x": 1}}
        assert "a library printing" in worker.last_stderr()
    finally:
        worker.stop()


def test_a_child_ends_when_its_parent_is_killed(tmp_path):
    """A SIGKILLed parent cannot stop its children: a child channel watches for that and exits."""
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from rnnbench.run.worker_process import WorkerProcess, child_env\n"
            "w = WorkerProcess('orphan', [sys.executable, '-c', "
            "'from rnnbench.run.worker_process import ChildChannel\\n"
            "c = ChildChannel()\\nc.send(1)\\nimport time\\ntime.sleep(60)'], env=child_env())\n"
            "w.receive(30, 'ready')\n"
            "print(w.pid, flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    assert parent.stdout is not None
    child = psutil.Process(int(parent.stdout.readline()))
    parent.kill()
    parent.wait()
    _, alive = psutil.wait_procs([child], timeout=5)
    assert not alive, "the orphan exited"
