"""The worker of `rnnbench ab`: JSON lines on stdin/stdout; times one block of one entry per request, nothing in between.

Protocol (one JSON object per line): the worker says {"hello": fingerprint} once imported; then
{"cmd": "prepare", "suite": PATH} -> {"entries": [...]} (models built, warmed up);
{"cmd": "sample", "entry": NAME, "n": K} -> {"total_ms": [...], "phases_ms": {...}};
{"cmd": "outputs", "save": DIR, "entries": [NAME|train, ...], "max_batch": N} -> {"outputs": {NAME: {file, shape,
values, loss} or {error}}}: each model's weights and first N training sequences saved in DIR, and its outputs;
{"cmd": "outputs", "load": {NAME: FILE}} -> the same answer, on the weights and inputs the other side saved
(run/ab_outputs.py; a worker that predates it answers {"error": "unknown command ..."});
{"cmd": "quit"} or end of input ends it. Only the side that was asked runs: the other waits on its pipe.
"""

from __future__ import annotations

import sys
from typing import Any

from rnnbench.run.worker_process import ChildChannel


def main() -> int:
    channel = ChildChannel("json")
    _reply = channel.send
    try:
        import platform

        import torch

        import rnnbench
        from rnnbench.measure.env import resolve_device
        from rnnbench.measure.timer import make_sync, slowdown_factor
        from rnnbench.run.group_timing import inference_entry, prepare, representatives, train_entry
        from rnnbench.suite.expand import load_suite, timing_groups
    except Exception as err:  # the orchestrator names the side and exits 2
        _reply({"error": f"import failed: {type(err).__name__}: {err}".splitlines()[0]})
        return 3
    _reply(
        {
            "hello": {
                "python": platform.python_version(),
                "executable": sys.executable,
                "torch": torch.__version__,
                "rnnbench": rnnbench.__version__,
                "rnnbench_path": rnnbench.__file__,
                "test_slowdown": slowdown_factor() if slowdown_factor() != 1.0 else None,
            }
        }
    )
    entries: dict[str, Any] = {}
    models: dict[str, Any] = {}
    checked: dict[str, dict[str, Any]] = {}  # train entry -> its prepared model, task and batch (numerics check)
    factor, sync, use_events = 1.0, make_sync("cpu"), False
    for request in channel:
        cmd = request.get("cmd")
        try:
            if cmd == "prepare":
                suite, cases, _ = load_suite(request["suite"])
                if suite.threads is not None:
                    torch.set_num_threads(suite.threads)
                device = resolve_device(suite.device)
                sync, use_events, factor = make_sync(device), device.type == "cuda", slowdown_factor()
                for group in timing_groups(cases):
                    prepared = prepare(representatives(group), device)
                    s = group[0].settings
                    for key, p in prepared.items():
                        entries[f"{key}|train"] = train_entry(p, s.grad_clip)
                        models[f"{key}|train"] = (p["model"], False, s.timing.warmup, p["case"].label)
                        checked[f"{key}|train"] = p
                        for size in s.inference.batch_sizes:
                            entries[f"{key}|b{size}"] = inference_entry(p, size)
                            models[f"{key}|b{size}"] = (p["model"], True, s.timing.warmup, p["case"].label)
                for name in entries:
                    _block(entries[name], models[name], request.get("warmup", models[name][2]), sync, use_events, 1.0)
                _reply({"entries": [[name, models[name][3]] for name in entries]})
            elif cmd == "sample":
                name = request["entry"]
                _reply(_block(entries[name], models[name], int(request["n"]), sync, use_events, factor))
            elif cmd == "outputs":
                from rnnbench.run.ab_outputs import load_and_run, save_and_run

                if "save" in request:
                    chosen = {name: checked[name] for name in request["entries"] if name in checked}
                    _reply({"outputs": save_and_run(chosen, request["save"], int(request["max_batch"]))})
                else:
                    _reply({"outputs": load_and_run(checked, request["load"])})
            elif cmd == "quit":
                break
            else:
                _reply({"error": f"unknown command {cmd!r}"})
        except Exception as err:
            _reply({"error": f"{type(err).__name__}: {err}".splitlines()[0][:300]})
    return 0


def _block(entry, model_info, n: int, sync, use_events: bool, factor: float) -> dict[str, Any]:
    """n iterations of one entry; inference entries run in eval mode under inference_mode."""
    import torch

    from rnnbench.measure.paired import _iteration

    model, is_inference = model_info[0], model_info[1]
    totals: list[float] = []
    phases: dict[str, list[float]] = {name: [] for name in entry.phases}
    if is_inference:
        model.eval()
    try:
        with torch.inference_mode(is_inference):
            for _ in range(n):
                durations = _iteration(entry, use_events, sync, time_clock, factor)
                for name, d in zip(entry.phases, durations):
                    phases[name].append(d)
                totals.append(sum(durations))
    finally:
        model.train()
    return {"total_ms": totals, "phases_ms": phases}


def time_clock() -> float:
    import time

    return time.perf_counter()


if __name__ == "__main__":
    sys.exit(main())
