"""Steady malloc: glibc's thresholds fixed in-process (mallopt) and, for `ab` sides, through GLIBC_TUNABLES."""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rnnbench.measure import allocator

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
LD_SO = next((p for p in ("/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1") if Path(p).exists()), None)


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.setattr(allocator, "_applied", None)
    monkeypatch.delenv(allocator.MALLOC_ENV, raising=False)
    return allocator


@pytest.mark.processes
@pytest.mark.skipif(not GLIBC, reason="glibc only")
def test_glibc_accepts_every_setting_once(fresh):
    # in a subprocess: the thresholds stay with the process that sets them
    code = "from rnnbench.measure.allocator import steady_malloc as s; a = s(); print(a, a is s())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    record, same = out.rsplit(" ", 1)
    assert "'mode': 'steady'" in record and "refused" not in record
    assert same.strip() == "True"  # applied once: the second call returns the record in force


def test_opt_out_leaves_malloc_alone(fresh, monkeypatch):
    monkeypatch.setenv(allocator.MALLOC_ENV, "default")
    monkeypatch.setattr(allocator, "_glibc", lambda: pytest.fail("mallopt must not be reached"))
    assert fresh.steady_malloc() == {"mode": "default", "why": "RNNBENCH_MALLOC=default"}
    assert fresh.steady_env() == {}


def test_not_glibc_is_recorded_not_an_error(fresh, monkeypatch):
    monkeypatch.setattr(allocator, "_glibc", lambda: None)
    assert fresh.steady_malloc() == {"mode": "default", "why": "not glibc"}
    assert fresh.steady_env({}) == {}


@pytest.mark.skipif(not GLIBC, reason="glibc only")
def test_tunables_keep_the_users_own(fresh):
    env = fresh.steady_env({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"})["GLIBC_TUNABLES"]
    assert env.startswith("glibc.malloc.arena_max=2:")
    assert "glibc.malloc.mmap_threshold=33554432" in env


@pytest.mark.processes
@pytest.mark.skipif(not (GLIBC and LD_SO and shutil.which("env")), reason="needs glibc's ld.so --list-tunables")
def test_the_loader_reads_the_tunables_as_meant(fresh):
    env = fresh.steady_env({})
    out = subprocess.run([LD_SO, "--list-tunables"], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("this ld.so cannot list tunables")
    read = {
        name.strip(): int(rest.split()[0], 16)
        for name, _, rest in (line.partition(":") for line in out.stdout.splitlines())
        if name.startswith("glibc.malloc.")
    }
    for name, (_, value) in allocator.STEADY.items():
        assert read[f"glibc.malloc.{name}"] == value


def test_the_env_block_says_which_malloc_timed(fresh, monkeypatch):
    from rnnbench.measure.env import env_fingerprint

    monkeypatch.setenv(allocator.MALLOC_ENV, "default")
    assert env_fingerprint(__import__("torch").device("cpu"), "float32")["malloc"]["mode"] == "default"


def test_ab_sides_start_with_the_tunables(fresh, monkeypatch):
    from rnnbench.compare import ab
    from rnnbench.run import worker_process

    seen = {}

    def fake_popen(args, **kwargs):
        seen.update(kwargs["env"])
        raise OSError(2, "stop here")

    monkeypatch.setattr(worker_process.subprocess, "Popen", fake_popen)
    with pytest.raises(ab.AbError, match="base side: cannot start"):
        ab.Worker(ab.Side("base"), reply_timeout_s=1.0)
    assert seen.get("GLIBC_TUNABLES", "") == fresh.steady_env().get("GLIBC_TUNABLES", "")
    if GLIBC:
        assert "mmap_threshold" in seen["GLIBC_TUNABLES"]
