"""One helper for every child process: start it, exchange one message per line without losing any, time out, stop it.

The parent's side reads each child's stdout on a thread of its own and queues every complete line,
so an answer that arrives together with the next one in a single read, or half a line that pauses,
is never stranded in a buffer that `select` cannot see. The child's side (`ChildChannel`) keeps its
protocol on a private copy of stdout and points file descriptor 1 at stderr, so a library that
prints cannot corrupt the protocol. Torch-free: `rnnbench ab` (compare/) uses it too.

Codecs: "json" for workers of another environment (`rnnbench ab`: the base side may be an older
rnnbench), "pickle" (base64 on the line) for workers of this very interpreter and checkout.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

STOP_GRACE_S = 2.0  # how long a child asked to stop may take before it is killed (Ctrl-C must end all within 5 s)
EXITED = object()  # queued by a reader thread at end of file: the child closed its stdout or died
# Every child this process started and has not reaped: what `stop_all(live_workers())` stops on the way out, and
# what a SIGTERM is passed on to. Strong references: a child whose WorkerProcess was never handed to its caller
# (an interrupt just after it started) must still be found.
_LIVE: set[WorkerProcess] = set()

PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder that holds this checkout's `rnnbench`


class WorkerError(Exception):
    """A child that could not start, stopped answering, or died; the message names it and what was awaited."""


class WorkerTimeout(WorkerError):
    """No complete message within the time allowed."""


class WorkerExited(WorkerError):
    """The child's output ended (it exited or was killed) while an answer was awaited."""


def encode(message: Any, codec: str) -> bytes:
    if codec == "json":
        return json.dumps(message).encode() + b"\n"
    return base64.b64encode(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)) + b"\n"


def decode(line: bytes, codec: str) -> Any:
    if codec == "json":
        return json.loads(line)
    return pickle.loads(base64.b64decode(line))


@dataclass(frozen=True)
class Received:
    """One message from one worker (what a shared inbox holds)."""

    worker: WorkerProcess
    message: Any  # the decoded message, or EXITED


class WorkerProcess:
    """A child process speaking one message per line on stdin/stdout.

    `inbox`: a queue shared by several workers, for a parent that waits on whichever answers first
    (`next_message`); without one, each worker has its own and `receive` reads it.
    """

    def __init__(
        self,
        name: str,
        argv: list[str],
        *,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        codec: str = "pickle",
        inbox: queue.Queue[Received] | None = None,
    ) -> None:
        self.name = name
        self.codec = codec
        self._inbox: queue.Queue[Received] = inbox if inbox is not None else queue.Queue()
        self._stderr = tempfile.TemporaryFile()
        self._closed = False
        try:
            with _signals_deferred():  # started and registered as one step: an interrupt cannot leave it unknown
                self._start(argv, env, cwd)
        except OSError as err:
            self._stderr.close()
            raise WorkerError(f"{name}: cannot start {argv[0]}: {err.strerror or err}") from None

    def _start(self, argv: list[str], env: dict[str, str] | None, cwd: str | None) -> None:
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            cwd=cwd,
            # Ctrl-C reaches the parent only; the parent stops its children itself (`stop_all`)
            start_new_session=True,
        )
        _LIVE.add(self)
        assert self.proc.stdout is not None
        self._reader = threading.Thread(
            target=self._read_lines, args=(self.proc.stdout,), name=f"rnnbench-read-{self.name}", daemon=True
        )
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read_lines(self, stream: BinaryIO) -> None:
        # readline on a buffered binary stream returns one complete line at a time, however the bytes arrived
        try:
            for line in iter(stream.readline, b""):
                if not line.endswith(b"\n"):
                    break  # end of file in mid-line: the child died while writing
                try:
                    message = decode(line, self.codec)
                except (ValueError, pickle.UnpicklingError, EOFError):
                    message = {"error": f"unreadable line from the worker: {line[:200]!r}"}
                self._inbox.put(Received(self, message))
        except (OSError, ValueError):
            pass  # the pipe was closed by `stop`
        self._inbox.put(Received(self, EXITED))

    def send(self, message: Any) -> None:
        """Write one message; a child that has gone is reported by the next `receive`, which names its exit."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(encode(message, self.codec))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass

    def receive(self, timeout: float, waiting_for: str) -> Any:
        """The next message from this worker (its own inbox), or WorkerTimeout / WorkerExited naming it."""
        try:
            item = self._inbox.get(timeout=timeout)
        except queue.Empty:
            raise WorkerTimeout(
                f"{self.name}: no answer within {timeout:g} s while waiting for {waiting_for} (hung)"
            ) from None
        return self.check(item.message, waiting_for)

    def check(self, message: Any, waiting_for: str) -> Any:
        if message is EXITED:
            raise WorkerExited(f"{self.name}: {self.exit_description()} while waiting for {waiting_for}")
        return message

    def ask(self, message: Any, timeout: float, waiting_for: str) -> Any:
        self.send(message)
        return self.receive(timeout, waiting_for)

    def exit_description(self) -> str:
        """'exited (code 3): last stderr line' or 'was killed by SIGKILL: …', after reaping the child."""
        try:
            code = self.proc.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            return "closed its output but is still running"
        how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited (code {code})"
        return f"{how}: {self.last_stderr()}"

    def last_stderr(self) -> str:
        if self._stderr.closed:
            return "no output"
        self._stderr.seek(0)
        lines = [ln for ln in self._stderr.read().decode(errors="replace").splitlines() if ln.strip()]
        return lines[-1].strip()[:300] if lines else "no output"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal_stop(self) -> None:
        """The first half of stopping: end of input (a polite child quits) and SIGTERM (a busy one ends)."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        if self.proc.poll() is None:
            try:
                self.proc.terminate()
            except ProcessLookupError:
                pass

    def reap(self, deadline: float) -> None:
        """The second half: wait until `deadline` (time.monotonic), then kill; always reaped, pipes closed."""
        try:
            self.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self._reader.join(timeout=1.0)
            self.proc.stdout.close()
        if not self._stderr.closed:
            self._stderr.close()
        self._closed = True
        _LIVE.discard(self)

    def stop(self, grace: float = STOP_GRACE_S) -> None:
        stop_all([self], grace)


def stop_all(workers: Iterable[WorkerProcess], grace: float = STOP_GRACE_S) -> None:
    """Stop every worker at once: all are signalled first, then all share one grace period before SIGKILL."""
    workers = [w for w in workers if not w._closed]
    for worker in workers:
        worker.signal_stop()
    deadline = time.monotonic() + grace
    for worker in workers:
        worker.reap(deadline)


def live_workers() -> list[WorkerProcess]:
    """Every child this process started and has not stopped yet."""
    return list(_LIVE)


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """SIGINT and SIGTERM held back during the block, then handled as they would have been (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {int(sig): signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for number in previous:
        signal.signal(number, lambda received, frame: caught.append(received))
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for number in caught:
            handler = previous[number]
            if callable(handler):
                handler(number, None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(number)


def next_message(inbox: queue.Queue[Received], timeout: float | None) -> Received | None:
    """The next message from any worker sharing `inbox`; None after `timeout` seconds without one."""
    try:
        return inbox.get(timeout=timeout)
    except queue.Empty:
        return None


def python_module(module: str, python: str | None = None) -> list[str]:
    """argv that runs `module` under `python` (default: this interpreter)."""
    return [python or sys.executable, "-m", module]


def child_env(extra: dict[str, str] | None = None, path: str | None = PACKAGE_ROOT) -> dict[str, str]:
    """This environment, `path` first on PYTHONPATH (the child imports the same rnnbench), and `extra` on top."""
    env = {**os.environ, **(extra or {})}
    if path:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (path, env.get("PYTHONPATH", "")) if p)
    return env


class ChildChannel:
    """The child's side: messages in from stdin, out on a private copy of stdout (fd 1 then goes to stderr)."""

    def __init__(self, codec: str = "pickle") -> None:
        self.codec = codec
        self._out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
        sys.stdout.flush()
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print goes to stderr, not into the protocol
        self._in = sys.stdin.buffer
        self._lock = threading.Lock()  # events may be sent from a progress callback on another thread
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent alone decides what an interrupt means
        # SIGTERM (the parent's `stop`) ends this child at once, passing the signal on to children of its own
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        _exit_with_parent()

    def send(self, message: Any) -> None:
        data = encode(message, self.codec)
        with self._lock:
            try:
                self._out.write(data)
                self._out.flush()
            except (BrokenPipeError, OSError):
                os._exit(0)  # the parent has gone: nobody will read what this child computes

    def __iter__(self) -> Iterator[Any]:
        for line in iter(self._in.readline, b""):
            if line.strip():
                yield decode(line, self.codec)


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    # No unwinding and no interpreter shutdown (torch's takes a second or more on a loaded machine): what a
    # stopped child computed is discarded anyway. Its own children get the same signal and do the same.
    for worker in list(_LIVE):
        if worker.proc.returncode is None:
            try:
                os.kill(worker.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    os._exit(128 + signum)


def _exit_with_parent(period_s: float = 1.0) -> None:
    """A daemon thread that ends this child when its parent dies (a SIGKILLed parent cannot stop its children)."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(period_s)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="rnnbench-parent-watch", daemon=True).start()
