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
from collections.abc import Callable
from typing import TYPE_CHECKING

from rnnbench.results.ab_protocol import Answer, CaseData, Request, SampleBlock
from rnnbench.run.worker_process import ChildChannel

if TYPE_CHECKING:  # torch only once the worker has said hello
    from torch import nn

    from rnnbench.measure.paired import Entry
    from rnnbench.run.build import Prepared


def main() -> int:
    channel = ChildChannel("json")
    try:
        import platform

        import torch

        import rnnbench
        from rnnbench.run.clock import clock_from_env
    except Exception as err:  # the orchestrator names the side and exits 2
        channel.send({"error": f"import failed: {type(err).__name__}: {err}".splitlines()[0]})
        return 3
    worker = _Worker(clock_from_env())  # a bad RNNBENCH_TEST_SLOWDOWN ends the worker: the side is named
    channel.send(
        {
            "hello": {
                "python": platform.python_version(),
                "executable": sys.executable,
                "torch": torch.__version__,
                "rnnbench": rnnbench.__version__,
                "rnnbench_path": rnnbench.__file__,
                "test_slowdown": getattr(worker.clock, "factor", None),
            }
        }
    )
    for request in channel:
        if request.get("cmd") == "quit":
            break
        try:
            channel.send(worker.answer(request))
        except Exception as err:
            channel.send({"error": f"{type(err).__name__}: {err}".splitlines()[0][:300]})
    return 0


class _Worker:
    """A side's prepared entries and how it times them: warm-ups on the plain clock, samples on `clock`."""

    def __init__(self, clock: Callable[[], float]) -> None:
        from rnnbench.measure.timer import make_sync

        self.clock = clock  # time.perf_counter, or the knob's PaddedClock (samples only, never warm-ups)
        self.entries: dict[str, Entry] = {}
        self.models: dict[str, tuple[nn.Module, bool, int, str]] = {}  # entry -> model, is inference, warm-up, label
        self.checked: dict[str, Prepared] = {}  # train entry -> its prepared model, task and batch (numerics)
        self.sync, self.use_events = make_sync("cpu"), False
        self.data: dict[str, CaseData] = {}  # model key -> its real data set's record, checked against the other side

    def answer(self, request: Request) -> Answer | SampleBlock:
        cmd = request.get("cmd")
        if cmd == "prepare":
            self.prepare(request["suite"])
            for name in self.entries:
                self.block(name, request.get("warmup", self.models[name][2]), padded=False)
            return {"entries": [[name, self.models[name][3]] for name in self.entries], "data": self.data}
        if cmd == "sample":
            return self.block(request["entry"], int(request["n"]), padded=True)
        if cmd == "outputs":
            from rnnbench.run.ab_outputs import load_and_run, save_and_run

            if "save" in request:
                chosen = {name: self.checked[name] for name in request["entries"] if name in self.checked}
                return {"outputs": save_and_run(chosen, request["save"], int(request["max_batch"]))}
            return {"outputs": load_and_run(self.checked, request["load"])}
        return {"error": f"unknown command {cmd!r}"}

    def prepare(self, suite_path: str) -> None:
        """Every model of the suite built (one per timing group's model), with its train and inference entries."""
        import torch

        from rnnbench.measure.env import resolve_device
        from rnnbench.measure.timer import make_sync
        from rnnbench.run.group_timing import inference_entry, prepare, representatives, train_entry
        from rnnbench.suite.expand import load_suite, timing_groups

        suite, cases, _ = load_suite(suite_path)
        if suite.threads is not None:
            torch.set_num_threads(suite.threads)
        device = resolve_device(suite.device)
        self.sync, self.use_events = make_sync(device), device.type == "cuda"
        for group in timing_groups(cases):
            prepared = prepare(representatives(group), device)
            s = group[0].settings
            for key, p in prepared.items():
                if (data := p.task.data_record()) is not None:
                    self.data[key] = {"task": p.case.task, "data": data}  # type: ignore[typeddict-item]
                self.entries[f"{key}|train"] = train_entry(p, s.grad_clip)
                self.models[f"{key}|train"] = (p.model, False, s.timing.warmup, p.case.label)
                self.checked[f"{key}|train"] = p
                for size in s.inference.batch_sizes:
                    self.entries[f"{key}|b{size}"] = inference_entry(p, size)
                    self.models[f"{key}|b{size}"] = (p.model, True, s.timing.warmup, p.case.label)

    def block(self, name: str, n: int, padded: bool) -> SampleBlock:
        """n iterations of one entry; inference entries run in eval mode under inference_mode."""
        import time

        import torch

        from rnnbench.measure.paired import iterate

        entry, (model, is_inference) = self.entries[name], self.models[name][:2]
        clock = self.clock if padded else time.perf_counter
        totals: list[float] = []
        phases: dict[str, list[float]] = {phase: [] for phase in entry.phases}
        if is_inference:
            model.eval()
        try:
            with torch.inference_mode(is_inference):
                for _ in range(n):
                    durations = iterate(entry, self.use_events, self.sync, clock)
                    for phase, d in zip(entry.phases, durations):
                        phases[phase].append(d)
                    totals.append(sum(durations))
        finally:
            model.train()
        return SampleBlock(total_ms=totals, phases_ms=phases)


if __name__ == "__main__":
    sys.exit(main())
