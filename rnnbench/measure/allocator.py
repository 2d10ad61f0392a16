"""One malloc behaviour in every timing process: glibc's dynamic mmap threshold off, so a process's luck is not timed.

glibc raises its mmap threshold each time a large mmapped block is freed, so whether a buffer of
a given size comes from the heap or from a fresh mmap (page faults on every call) depends on the
order of the process's earlier frees. oneDNN's LSTM allocates a ~1 MB workspace per call, so
in some fresh processes nn.LSTM ran markedly slower beside an unchanged GRU, a bias of the
process rather than of the code. The thresholds fixed below remove that source of it
(docs/paired-timing.md; measurements: docs/evidence/paired-timing.md). Set RNNBENCH_MALLOC=default
to opt out.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
from typing import Any

MALLOC_ENV = "RNNBENCH_MALLOC"

# mallopt(3) parameters (malloc.h). Setting any of them turns the dynamic threshold off.
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
STEADY = {
    # the largest threshold glibc accepts on 64-bit (HEAP_MAX/2): blocks below it come from the heap
    "mmap_threshold": (M_MMAP_THRESHOLD, 32 * 1024 * 1024),
    # freed memory stays with the process, so a later step does not page-fault it back in
    "trim_threshold": (M_TRIM_THRESHOLD, 1024 * 1024 * 1024),
    "top_pad": (M_TOP_PAD, 64 * 1024 * 1024),
}

_applied: dict[str, Any] | None = None


def _glibc() -> Any | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def steady_malloc() -> dict[str, Any]:
    """Fix glibc's malloc thresholds in this process (once); what is in force, for the results' env block."""
    global _applied
    if _applied is not None:
        return _applied
    if os.environ.get(MALLOC_ENV, "").strip().lower() == "default":
        _applied = {"mode": "default", "why": f"{MALLOC_ENV}=default"}
        return _applied
    libc = _glibc()
    if libc is None or not hasattr(libc, "mallopt"):
        _applied = {"mode": "default", "why": "not glibc"}
        return _applied
    refused = [name for name, (param, value) in STEADY.items() if libc.mallopt(param, value) != 1]
    _applied = {"mode": "steady", **{name: value for name, (_, value) in STEADY.items() if name not in refused}}
    if refused:
        _applied["refused"] = refused
    return _applied


def steady_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The same settings as GLIBC_TUNABLES, for a subprocess whose own code may not call `steady_malloc` (an
    `ab` side at an older revision): both sides then allocate alike whatever their rnnbench. Empty on opt-out."""
    environ = dict(os.environ) if environ is None else environ
    if environ.get(MALLOC_ENV, "").strip().lower() == "default" or _glibc() is None:
        return {}
    ours = ":".join(f"glibc.malloc.{name}={value}" for name, (_, value) in STEADY.items())
    theirs = environ.get("GLIBC_TUNABLES", "")
    return {"GLIBC_TUNABLES": f"{theirs}:{ours}" if theirs else ours}
