"""Ctrl-C and SIGTERM during a run: raise a KeyboardInterrupt that knows its signal, and the command that resumes."""

from __future__ import annotations

import os
import shlex
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM during a run: a KeyboardInterrupt, so a case's `except Exception` lets it through."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.exit_code = 128 + signum  # the shell's convention: 130 for SIGINT, 143 for SIGTERM


SECOND_SIGNAL_GRACE_S = 3.0  # a repeated Ctrl-C this soon after the first waits for the save


@contextmanager
def interrupts_raise() -> Iterator[None]:
    """SIGINT and SIGTERM raise Interrupted; a repeat within the grace period is ignored so the final save completes."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    first: list[float] = []

    def handler(signum: int, frame: Any) -> None:
        if first and time.monotonic() - first[0] < SECOND_SIGNAL_GRACE_S:
            os.write(2, b"rnnbench: saving the results file, one moment\n")
            return
        first[:] = [time.monotonic()]
        raise Interrupted(signum)

    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def resume_command(suite: str, results: Path, device: str | None, max_cases: int | None) -> str:
    """The exact command that continues `results`, quoted for a POSIX shell; max_cases None: the default limit."""
    words = ["rnnbench", "run", suite, "--resume", str(results)]
    if device is not None:
        words += ["--device", device]
    if max_cases is not None:
        words += ["--max-cases", str(max_cases)]
    return shlex.join(words)
