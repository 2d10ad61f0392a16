"""Where a run happens: device resolution and the environment fingerprint stored with every result."""

from __future__ import annotations

import platform
import socket
import subprocess
import sys
from pathlib import Path

import torch

from rnnbench.cores import available_cores
from rnnbench.measure.allocator import steady_malloc
from rnnbench.measure.backend import dtype_supported, env_flags
from rnnbench.measure.timer import test_slowdown


class DeviceError(Exception):
    """The suite asks for a device or dtype this machine cannot give."""


def resolve_device(spec: str) -> torch.device:
    """`auto` picks CUDA when present; an explicit CUDA device that is missing is an error, never a fallback."""
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(spec)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(
                f"device: {spec} requested, but this machine has no CUDA device (torch {torch.__version__})"
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DeviceError(f"device: {spec} requested, but only {torch.cuda.device_count()} CUDA device(s) exist")
    return device


def check_dtype(device: torch.device, dtype: str) -> None:
    if not dtype_supported(device.type, dtype):
        raise DeviceError(f"dtype: {dtype} is not supported on {device.type} here")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_sha() -> str | None:
    """The commit of the working directory, if it is a git checkout: which code was measured."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_model()


def env_fingerprint(device: torch.device, dtype: str) -> dict:
    """Everything that makes two timings comparable or not."""
    cuda = device.type == "cuda"
    return {
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "device": device.type,
        "device_index": device.index,
        "device_name": device_name(device),
        "cuda": torch.version.cuda if cuda else None,
        "cudnn": torch.backends.cudnn.version() if cuda else None,
        "threads": torch.get_num_threads(),
        "cpu_model": cpu_model(),
        "dtype": dtype,
        "git_sha": git_sha(),
        "flags": env_flags(),
        "test_slowdown": test_slowdown(),  # the installed clock pads samples: a test run
        "malloc": steady_malloc(),
    }


def placement(device: torch.device, worker: str) -> dict:
    """Where one case ran: recorded with it, so that timings are paired only within one host and device type."""
    return {
        "host": socket.gethostname(),
        "device": device.type,
        "device_name": device_name(device),
        "cpu_model": cpu_model(),
        "worker": worker,
        "cores": len(available_cores()),
        "threads": torch.get_num_threads(),
    }
