"""The body of one local worker process: pin itself, then run the units the driver sends until told to stop.

Imports nothing heavy at module level: CUDA_VISIBLE_DEVICES must be set before torch is first imported.
"""

from __future__ import annotations

import os
import signal
from typing import Any


def worker_main(worker: str, cores: list[int], threads: int, gpu: int | None, conn: Any) -> None:
    # Ctrl-C reaches the whole process group; the driver alone decides what an interrupt means.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if gpu is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(gpu)
    if cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cores)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    import torch

    from rnnbench.run.executors.unit import run_unit

    torch.set_num_threads(threads)
    while True:
        message = conn.recv()
        if message is None:
            return
        index, cases, options = message
        records = run_unit(cases, options, worker, lambda event, index=index: conn.send(("event", index, event)))
        conn.send(("done", index, records))
