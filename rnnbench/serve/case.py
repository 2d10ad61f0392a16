"""A trained case served through its inference paths: each prepared (status, preparation time, captured log),
checked against eager (outputs at two lengths, the task's metric), then timed paired with eager in rounds.

Runs after the case has trained, on its trained weights, so the metric through each path is the
metric a deployment would get. Nothing here raises for a path: a path that cannot run gets a status.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnnbench.results.records import InferenceJson
from rnnbench.results.serving import OutputDiffJson, ServedPathJson, ServingJson
from rnnbench.serve.capture import captured, log_text
from rnnbench.serve.loop_model import loops_in_python
from rnnbench.serve.numerics import SERVE_ATOL, SERVE_RTOL, failed_difference, output_difference, second_length
from rnnbench.serve.paths import PathContext, Served, prepare_path
from rnnbench.serve.status import OK, status_of
from rnnbench.serve.timing import TimedPaths, Timer, TimingRequest, time_in_process
from rnnbench.stats import summarize
from rnnbench.suite.schema import Case
from rnnbench.tasks.base import Batch, Task

SERVE_SEED_OFFSET = 20_000  # the timed inputs come from a stream apart from training, evaluation and the timing group's
REFERENCE = "eager"


@dataclass
class PathState:
    """A path while it is served: its record so far and, when it prepared, the prepared path."""

    record: ServedPathJson
    served: Served | None = None


def serving_paths(case: Case) -> list[str]:
    """The case's paths, eager first; empty when eager is all the suite asks for (no serving block then)."""
    paths = case.settings.inference.paths
    return [] if set(paths) <= {REFERENCE} else [REFERENCE, *(p for p in paths if p != REFERENCE)]


def timed_inputs(case: Case, task: Task, device: torch.device) -> dict[int, Tensor]:
    generator = torch.Generator().manual_seed(SERVE_SEED_OFFSET + case.seed)
    return {size: task.sample(size, generator, device).inputs for size in case.settings.inference.batch_sizes}


def prepare_one(name: str, ctx: PathContext, inputs: dict[int, Tensor]) -> PathState:
    """Prepared, then called once on each timed input (compile compiles there): all of it is preparation."""
    started = time.perf_counter()
    with captured() as buffer:
        try:
            served = prepare_path(name, ctx)
            with torch.inference_mode():
                for x in inputs.values():
                    served.call(x)
        except Exception as err:  # any exception of a path is its status, never the run's end
            return PathState(ServedPathJson(status=status_of(err), prepare_ms=None, log=log_text(buffer)))
    prepare_ms = (time.perf_counter() - started) * 1e3
    record = ServedPathJson(status=OK, prepare_ms=prepare_ms, log=log_text(buffer), details=served.details)
    return PathState(record, served)


def check_path(state: PathState, held_out: Batch, references: dict[int, Tensor], task: Task) -> None:
    """Outputs against eager's at both lengths, and the task's metric on the held-out set, into the record."""
    assert state.served is not None
    outputs: dict[str, OutputDiffJson] = {}
    first = True
    for length, reference in references.items():
        x = held_out.inputs if first else second_length(held_out.inputs)
        try:
            with torch.inference_mode():
                got = state.served.call(x)
        except Exception as err:  # at the second length this is a frozen time axis, typically
            if first:
                state.record["status"], state.record["metric"] = status_of(err), None
                return
            outputs[f"T{length}"] = failed_difference(err)
            continue
        outputs[f"T{length}"] = output_difference(reference, got)
        if first:
            state.record["metric"] = task.evaluate(got.float(), held_out).metric
        first = False
    state.record["outputs"] = outputs
    state.record["within_tolerance"] = all(d["within"] for d in outputs.values())


def eager_references(model: nn.Module, held_out: Batch) -> dict[int, Tensor]:
    """Eager's outputs on the held-out inputs at the suite's length and at the second length."""
    x = held_out.inputs
    with torch.inference_mode():
        return {x.shape[1]: model(x), 2 * x.shape[1]: model(second_length(x))}


def ok_paths(states: dict[str, PathState]) -> dict[str, Served]:
    """The prepared paths that passed their checks: what is timed."""
    return {
        name: state.served
        for name, state in states.items()
        if state.served is not None and state.record["status"] == OK
    }


def serve_case(
    case: Case, task: Task, model: nn.Module, device: torch.device, held_out: Batch, timer: Timer = time_in_process
) -> ServingJson:
    """The case's `serving` record (see results/serving.py); the model is left in eval mode.

    `timer` times the ok paths once they are prepared and checked (here, or in fresh processes: `serve.timing`).
    """
    model.eval()
    inputs = timed_inputs(case, task, device)
    biggest = inputs[max(inputs)]
    # more than one sequence: the exporter would fix a batch axis of size 1
    example = biggest if biggest.shape[0] > 1 else held_out.inputs[:2].contiguous()
    loops = loops_in_python(model)  # the module decides: a core that steps through time itself
    ctx = PathContext(model, example, device, case.dtype, torch.get_num_threads(), loops_over_time=loops)
    states = {name: prepare_one(name, ctx, inputs) for name in serving_paths(case)}
    references = eager_references(model, held_out)
    for state in states.values():
        if state.served is not None:
            check_path(state, held_out, references, task)
    ready = ok_paths(states)
    timed = timer(TimingRequest(case, model, ready, inputs, ctx)) if ready else TimedPaths({}, {})
    for name, state in states.items():
        if timed.samples and all(name in by_path for by_path in timed.samples.values()):
            state.record["inference"] = {
                f"b{size}": _inference(by_path[name], size) for size, by_path in timed.samples.items()
            }
    serving = ServingJson(
        reference=REFERENCE,
        atol=SERVE_ATOL,
        rtol=SERVE_RTOL,
        lengths=list(references),
        held_out=len(held_out),
        metric_name=task.metric_name,
        higher_is_better=task.higher_is_better,
        threads=ctx.threads,
        rounds={f"b{size}": sum(counts) for size, counts in timed.rounds.items()},
        paths={name: state.record for name, state in states.items()},
    )
    return {**serving, **_process_fields(timed)}


def _process_fields(timed: TimedPaths) -> ServingJson:
    """Where the timing ran in several processes: how many, the rounds of each, their start-to-ready costs; any note."""
    out = ServingJson()
    if any(len(counts) >= 2 for counts in timed.rounds.values()):
        out["processes"] = max(len(counts) for counts in timed.rounds.values())
        out["blocks"] = {f"b{size}": counts for size, counts in timed.rounds.items()}
        out["process_ready_ms"] = timed.ready_ms
    if timed.note:
        out["timing_note"] = timed.note
    return out


def _inference(samples: list[float], size: int) -> InferenceJson:
    latency = summarize(samples)
    return InferenceJson(latency_ms=latency, seq_per_s=size / (latency["median"] * 1e-3))
