"""One local worker process: pin itself, then run the units the driver sends, streaming events, until told to stop.

Run as `python -m rnnbench.run.executors.local_worker NAME THREADS GPU CORES` (GPU '-' for none,
CORES comma-separated). Imports nothing heavy first: CUDA_VISIBLE_DEVICES must be set before torch.
"""

from __future__ import annotations

import os
import sys

from rnnbench.cores import pin_self
from rnnbench.run.worker_process import ChildChannel


def main(argv: list[str]) -> int:
    name, threads, gpu, cores = argv[0], int(argv[1]), argv[2], [int(c) for c in argv[3].split(",") if c]
    channel = ChildChannel("pickle")
    if gpu != "-":
        os.environ["CUDA_VISIBLE_DEVICES"] = gpu
    pin_self(cores)  # before torch starts its threads: they inherit it
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    import torch

    from rnnbench.measure.timer import using_clock
    from rnnbench.run.clock import clock_from_env

    torch.set_num_threads(threads)
    channel.send(("ready", None, None))
    with using_clock(clock_from_env()):  # the driver checked the knob: it is valid here
        for message in channel:
            if message is None:
                break
            run_unit, unit, options = message
            on_event = lambda event, index=unit.index: channel.send(("event", index, event))  # noqa: E731
            channel.send(("done", unit.index, run_unit(unit, options, name, on_event)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
