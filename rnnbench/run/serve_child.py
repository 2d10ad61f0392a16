"""A serving timing process: import torch, rebuild a case's ok paths from its job file, time them when told, exit.

See run/serve_processes.py. Its start-to-ready cost (interpreter start, imports, the model rebuilt, the
paths re-made and called once on each input: compile compiles here) is reported with its timings.
"""

from __future__ import annotations

import gc
import sys
import time
from typing import TYPE_CHECKING

from rnnbench.run.worker_process import ChildChannel

if TYPE_CHECKING:
    import torch

    from rnnbench.run.serve_processes import ServingJob
    from rnnbench.serve.paths import Served


def rebuild_ready(job: ServingJob) -> tuple[dict[str, Served], torch.device]:
    """The job's ok paths re-made on its trained weights (ONNX Runtime from the graph), each called once per input."""
    import torch

    from rnnbench.measure.env import resolve_device
    from rnnbench.run.build import build_case_model, with_dtype
    from rnnbench.serve.capture import captured
    from rnnbench.serve.paths import PathContext
    from rnnbench.serve.timing import remake_path
    from rnnbench.tasks.registry import build_task

    case = job.case
    torch.set_num_threads(job.threads)
    device = resolve_device(case.device)
    task = build_task(case.task, case.seq_len, case.task_options)
    model = with_dtype(build_case_model(case, task, device), device, case.dtype)
    model.load_state_dict(job.state)
    model.eval()
    ctx = PathContext(
        model, job.example.to(device), device, case.dtype, job.threads, loops_over_time=job.loops_over_time
    )
    ready = {}
    with captured():  # the paths' console output, as in the case's process
        for name in job.names:
            ready[name] = remake_path(name, ctx, job.graph)
            with torch.inference_mode():
                for x in job.inputs.values():
                    ready[name].call(x.to(device))
    return ready, device


def serve_requests(channel: ChildChannel, since: float | None) -> None:
    """ "prepare" a case (answer: the cost until ready, ms), "time" it in turns, "release" it; again for the next case."""
    import torch

    from rnnbench.measure.allocator import steady_malloc
    from rnnbench.measure.timer import using_clock
    from rnnbench.run.clock import clock_from_env
    from rnnbench.serve.timing import time_ready

    clock = clock_from_env()
    steady_malloc()
    ready, job = None, None
    for message in channel:
        try:
            if message[0] == "prepare":
                since = since if since is not None else time.time()
                job = torch.load(message[1], weights_only=False)  # written by this checkout's parent, a moment ago
                ready, device = rebuild_ready(job)
                # what lives until the case ends leaves the collector's reach: each turn's gc.collect() then costs
                # milliseconds, not the 0.17 s a full pass over torch, compile and the paths takes
                gc.collect()
                gc.freeze()
                channel.send(("ok", (time.time() - since) * 1e3))
            elif message[0] == "release":  # the case's paths go: the next case brings its own (no answer)
                ready, job = None, None
                gc.unfreeze()
            else:
                assert ready is not None and job is not None, "asked to time before preparing"
                inputs = {size: x.to(device) for size, x in job.inputs.items()}
                with using_clock(clock):
                    channel.send(("ok", time_ready(ready, job.case, inputs, device, *message[1:])))
        except Exception as err:  # the parent raises it as one line, then times in the case's process
            channel.send(("error", f"{type(err).__name__}: {err}".splitlines()[0]))
        since = None


def main() -> int:
    channel = ChildChannel("pickle")
    try:
        from rnnbench.run.serve_processes import started_at  # torch and the serving paths come with it
    except Exception as err:
        channel.send(("error", f"import failed: {type(err).__name__}: {err}".splitlines()[0]))
        return 3
    serve_requests(channel, started_at())
    return 0


if __name__ == "__main__":
    sys.exit(main())
