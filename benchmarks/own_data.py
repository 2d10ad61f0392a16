"""How fast `series` and `text` read a large file, and what the series data costs in memory while training.

1. Series: a CSV of `--series-rows` rows (default 1,000,000) and 4 numeric columns (about 40 MB),
   written once into `--folder`. Timed: building the task (pandas read, checks, split, train-only
   normalization, baselines on the test part, hashing the file) and drawing the windows and a first
   training batch and pool. Memory: the bytes of every tensor storage the task keeps (counted once
   per storage) next to the float32 array of the data (rows × columns × 4 bytes), and the resident
   set before and after the build (garbage collected, the heap's free pages given back with glibc's
   malloc_trim, and without that) and at its peak (pandas' parsing buffers).
2. Text: a CSV of `--text-rows` rows (default 200,000) of about 250 characters (about 50 MB), three
   labels. Timed: building the task with character tokens and with word tokens (read, stratified
   split, train-only vocabulary, encoding every text), each from a cold read.

Absolute wall times on a shared machine: the load average is printed beside them.

    PYTHONPATH=$PWD python benchmarks/own_data.py [--folder /tmp/own-data] [--series-rows N] [--text-rows N]
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import os
import resource
import time
from pathlib import Path

import numpy as np
import torch

from rnnbench.tasks import series, text
from rnnbench.tasks.series import Series
from rnnbench.tasks.text import Text

WORDS = ("packet", "router", "query", "index", "button", "colour", "latency", "disk", "login", "cache", "alpha", "beta")


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def trim_heap() -> None:
    """Give the heap's free pages back (glibc): the resident set then counts live memory, not what malloc kept."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux


def write_series(path: Path, rows: int) -> None:
    if path.exists():
        return
    rng = np.random.default_rng(0)
    t = np.arange(rows)
    data = np.column_stack(
        [t, np.sin(t / 24) + 0.1 * rng.normal(size=rows), rng.normal(size=rows), np.cos(t / 168) + t / rows]
    )
    np.savetxt(path, data, delimiter=",", fmt=["%d", "%.6f", "%.6f", "%.6f"], header="step,a,b,load", comments="")


def write_texts(path: Path, rows: int) -> None:
    if path.exists():
        return
    rng = np.random.default_rng(0)
    labels = ("net", "db", "ui")
    with path.open("w") as handle:
        handle.write("body,team\n")
        for i in range(rows):
            words = rng.choice(WORDS, size=36)
            handle.write(f'"{" ".join(words)} ticket {i}",{labels[i % 3]}\n')


def storage_bytes(*tensors: torch.Tensor) -> int:
    seen: dict[int, int] = {}
    for tensor in tensors:
        storage = tensor.untyped_storage()
        seen[storage.data_ptr()] = storage.nbytes()
    return sum(seen.values())


def series_goal(path: Path, warm_up: Path) -> None:
    Series(seq_len=48, path=str(warm_up), columns=["a", "b", "load"], target="load", time="step", horizon=4)
    series.prepare.cache_clear()  # pandas imported and its code paths run once: the resident set then grows by the data
    gc.collect()
    trim_heap()
    before = rss_bytes()
    started = time.perf_counter()
    task = Series(seq_len=48, path=str(path), columns=["a", "b", "load"], target="load", time="step", horizon=4)
    built = time.perf_counter() - started
    inputs, targets = task.windows()
    generator = torch.Generator().manual_seed(0)
    batch = task.sample(64, generator)
    pool = task.pool(task.n_train, generator)
    total = time.perf_counter() - started
    gc.collect()  # what training keeps: the task's tensors (the cached preparation holds the same ones)
    untrimmed = rss_bytes()
    trim_heap()
    after = rss_bytes()
    array = task.values.shape[0] * task.values.shape[1] * 4
    kept = storage_bytes(task.values, inputs, targets, pool.inputs, pool.targets)
    print(f"series: {task.rows_used:,} rows x {task.input_size} columns, {path.stat().st_size / 1e6:.1f} MB")
    print(f"  build {built:.2f} s; build + windows + a batch + the whole-train pool {total:.2f} s (goal <= 10 s)")
    print(f"  windows {inputs.shape[0]:,} of {tuple(inputs.shape[1:])}, all views: {kept == array}")
    print(f"  tensor storage kept {kept / 1e6:.1f} MB = {kept / array:.2f}x the float32 array ({array / 1e6:.1f} MB)")
    print(f"  a batch of 64 windows: {storage_bytes(batch.inputs, batch.targets) / 1e3:.1f} kB (a copy)")
    print(
        f"  resident set: {(after - before) / 1e6:.1f} MB more after the build = {(after - before) / array:.2f}x "
        f"the array (goal <= 3x), {(untrimmed - before) / 1e6:.1f} MB before malloc_trim gave back the heap's free "
        f"pages; the process's peak {peak_rss_bytes() / 1e6:.0f} MB, {(peak_rss_bytes() - before) / 1e6:.0f} MB above "
        "its resident set before the build (pandas' parsing, float64 copies: transient)"
    )


def text_goal(path: Path) -> None:
    print(f"text: {path.stat().st_size / 1e6:.1f} MB")
    for tokens in ("char", "word"):
        text.prepare.cache_clear()
        gc.collect()
        started = time.perf_counter()
        task = Text(seq_len=200, path=str(path), text="body", label="team", tokens=tokens)  # type: ignore[arg-type]
        took = time.perf_counter() - started
        print(
            f"  {tokens}: {task.rows:,} texts read, split {task.n_train:,}/{task.n_test:,}, vocabulary "
            f"{task.input_size}, encoded to {task.seq_len} tokens in {took:.2f} s (goal <= 30 s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=Path("/tmp/own-data"))
    parser.add_argument("--series-rows", type=int, default=1_000_000)
    parser.add_argument("--text-rows", type=int, default=200_000)
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    series_file = args.folder / f"series-{args.series_rows}.csv"
    texts_file = args.folder / f"texts-{args.text_rows}.csv"
    write_series(series_file, args.series_rows)
    warm_up = args.folder / "series-warm-up.csv"
    write_series(warm_up, 2_000)
    write_texts(texts_file, args.text_rows)
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    series_goal(series_file, warm_up)
    text_goal(texts_file)


if __name__ == "__main__":
    main()
