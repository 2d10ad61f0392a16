"""A timing process: import torch, say it is ready, time the group it is sent, answer, exit (run/timing_processes.py)."""

from __future__ import annotations

import sys

from rnnbench.run.worker_process import ChildChannel


def main() -> int:
    channel = ChildChannel("pickle")
    try:
        import torch

        from rnnbench.measure.allocator import steady_malloc
        from rnnbench.measure.timer import using_clock
        from rnnbench.run.clock import clock_from_env
        from rnnbench.run.group_timing import time_group

        clock = clock_from_env()
    except Exception as err:
        channel.send(("error", f"import failed: {type(err).__name__}: {err}".splitlines()[0]))
        return 3
    steady_malloc()
    channel.send(("ready", None))
    for request in channel:
        _, cases, share, threads = request
        torch.set_num_threads(threads)
        try:
            with using_clock(clock):
                channel.send(("ok", time_group(cases, lambda _: None, share)))
        except Exception as err:  # the parent raises it as one line
            channel.send(("error", f"{type(err).__name__}: {err}".splitlines()[0]))
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
