"""Serving timed in several processes: the process as the ratio's unit, the record's blocks, rebuilding a path
without a second export, and the fall-back to the case's own process when a timing process fails or dies."""

from __future__ import annotations

import math
import os
import signal

import numpy as np
import pytest
import torch
import yaml

from rnnbench.analysis.serving import case_rows, path_ratio
from rnnbench.models.registry import MODELS
from rnnbench.render.serving import serving_table
from rnnbench.run import serve_processes
from rnnbench.run.timing_processes import TimingProcessError
from rnnbench.run.worker_process import live_workers
from rnnbench.serve import onnx_path
from rnnbench.serve.case import serve_case, timed_inputs
from rnnbench.serve.paths import PathContext, prepare_path
from rnnbench.serve.timing import TimedPaths, TimingRequest, remake_path, time_in_process
from rnnbench.suite.expand import expand, parse_suite
from rnnbench.tasks.registry import TASKS

CPU = torch.device("cpu")


def _suite(paths: list[str], processes: int = 2, seconds: float = 0.01, models: tuple[str, ...] = ("lstm",)) -> dict:
    return {
        "name": "serve-processes-test",
        "device": "cpu",
        "threads": 1,
        "defaults": {
            "hidden_size": 8,
            "batch_size": 4,
            "train": {"max_steps": 4, "max_seconds": 5, "eval_every": 2, "eval_size": 8},
            "timing": {
                "warmup": 1,
                "min_repeats": 5,
                "max_repeats": 400,
                "max_seconds": seconds,
                "processes": processes,
            },
            "inference": {"batch_sizes": [1, 4], "paths": paths},
        },
        "models": list(models),
        "tasks": [{"task": "adding", "seq_len": 5}],
    }


def _case(paths: list[str], processes: int = 2, seconds: float = 0.01):
    return expand(parse_suite(_suite(paths, processes, seconds), "test"))[0]


def _model():
    torch.manual_seed(0)
    return MODELS["lstm"](input_size=2, output_size=1, output_kind="last", hidden_size=8, impl="fused").eval()


def _held_out(task):
    return task.sample(8, torch.Generator().manual_seed(1))


def _biased_processes(biases: list[float], rounds: int = 40, seed: int = 0):
    """Eager's and a path's samples over several processes: each process's ratio is 0.5 × its own bias, tight rounds."""
    rng = np.random.default_rng(seed)
    eager, path = [], []
    for bias in biases:
        base = 1.0 + 0.01 * rng.standard_normal(rounds)
        eager += base.tolist()
        path += (0.5 * bias * base * (1.0 + 0.002 * rng.standard_normal(rounds))).tolist()
    return eager, path


def _paths(eager: list[float], path: list[float]) -> tuple[dict, dict]:
    def record(samples):
        return {"status": "ok", "inference": {"b1": {"latency_ms": {"samples": samples}}}}

    return record(path), record(eager)


def test_the_process_is_the_unit_where_there_are_several():
    """Six processes, each tight inside but with its own bias (0.9 … 1.1): their spread sets the interval."""
    biases = [0.9, 0.95, 1.0, 1.02, 1.06, 1.1]
    path, eager = _paths(*_biased_processes(biases))
    pooled = path_ratio(path, eager, "b1")
    per_process = path_ratio(path, eager, "b1", [40] * 6)
    assert pooled is not None and per_process is not None
    assert pooled.processes == 0 and per_process.processes == 6 and per_process.rounds == 240
    # the mean of the six process medians, and a t interval over six units that holds the biases' spread
    assert per_process.ratio == pytest.approx(0.5 * math.exp(np.mean(np.log(biases))), rel=2e-3)
    assert per_process.low < 0.5 * 0.97 and per_process.high > 0.5 * 1.03
    assert per_process.half_width > 2 * pooled.half_width  # the pooled rounds cannot see the processes' bias


def test_blocks_that_do_not_add_up_or_one_process_read_as_rounds():
    path, eager = _paths(*_biased_processes([0.9, 1.1]))
    assert path_ratio(path, eager, "b1", [40, 39]).processes == 0  # a record whose blocks do not match its samples
    assert path_ratio(path, eager, "b1", [80]).processes == 0


def test_case_rows_read_the_blocks_of_the_serving_record():
    eager, path = _biased_processes([0.9, 1.0, 1.1])
    served = {"status": "ok", "inference": {"b1": {"latency_ms": {"samples": path, "median": 0.5}, "seq_per_s": 2e3}}}
    case = {
        "arch": "lstm",
        "task": "adding",
        "seq_len": 5,
        "serving": {
            "rounds": {"b1": 120},
            "blocks": {"b1": [40, 40, 40]},
            "processes": 3,
            "paths": {
                "eager": {"status": "ok", "inference": {"b1": {"latency_ms": {"samples": eager, "median": 1.0}}}},
                "onnxruntime": served,
            },
        },
    }
    [_, ort] = case_rows(case)
    assert ort.ratio_small is not None and ort.ratio_small.processes == 3 and 0.45 < ort.ratio_small.ratio < 0.55
    table = serving_table({"cases": [case]})
    assert table is not None and "in 3 processes" in str(table.caption)


def test_merged_processes_keep_their_order_and_rounds():
    a = TimedPaths({1: {"eager": [1.0, 2.0], "int8": [3.0, 4.0]}}, {1: [2]}, [50.0])
    b = TimedPaths({1: {"eager": [5.0], "int8": [6.0]}}, {1: [1]}, [60.0])
    merged = serve_processes.merge_parts([a, b], ["eager", "int8"])
    assert merged.samples == {1: {"eager": [1.0, 2.0, 5.0], "int8": [3.0, 4.0, 6.0]}}
    assert merged.rounds == {1: [2, 1]} and merged.ready_ms == [50.0, 60.0]
    with pytest.raises(TimingProcessError, match="other paths"):
        serve_processes.merge_parts([a, TimedPaths({1: {"eager": [1.0]}}, {1: [1]})], ["eager", "int8"])


def test_a_process_turns_join_as_one_block_in_time_order():
    first = TimedPaths(
        {1: {"eager": [1.0, 2.0], "int8": [3.0, 4.0]}, 4: {"eager": [9.0], "int8": [8.0]}}, {1: [2], 4: [1]}
    )
    second = TimedPaths({1: {"eager": [5.0], "int8": [6.0]}, 4: {"eager": [7.0], "int8": [6.5]}}, {1: [1], 4: [1]})
    joined = serve_processes.join_turns([first, second], ["eager", "int8"], 42.0)
    assert joined.samples == {
        1: {"eager": [1.0, 2.0, 5.0], "int8": [3.0, 4.0, 6.0]},
        4: {"eager": [9.0, 7.0], "int8": [8.0, 6.5]},
    }
    assert joined.rounds == {1: [3], 4: [2]} and joined.ready_ms == [42.0]  # one process: one block


def test_serving_record_keeps_each_process_rounds_and_the_note():
    """A timer that reports two processes: the record sums the rounds, keeps each process's and its ready cost."""
    case, task = _case(["eager", "int8"]), TASKS["adding"](seq_len=5)
    seen: list[TimingRequest] = []

    def two_processes(request: TimingRequest) -> TimedPaths:
        seen.append(request)
        samples = {size: {name: [1.0, 1.0, 1.0] for name in request.ready} for size in request.inputs}
        return TimedPaths(samples, {size: [2, 1] for size in request.inputs}, [70.0, 80.0], note="a note")

    serving = serve_case(case, task, _model(), CPU, _held_out(task), two_processes)
    assert sorted(seen[0].ready) == ["eager", "int8"]
    assert serving["rounds"] == {"b1": 3, "b4": 3} and serving["blocks"] == {"b1": [2, 1], "b4": [2, 1]}
    assert serving["processes"] == 2 and serving["process_ready_ms"] == [70.0, 80.0]
    assert serving["timing_note"] == "a note"
    assert len(serving["paths"]["int8"]["inference"]["b4"]["latency_ms"]["samples"]) == 3


def test_a_failing_timing_process_falls_back_to_the_case_process_with_a_note(monkeypatch):
    def dies(request, processes, on_event):
        raise TimingProcessError("serving timing process 2: was killed by SIGKILL: no output while waiting for …")

    monkeypatch.setattr(serve_processes, "time_in_processes", dies)
    case, task = _case(["eager", "torchscript"]), TASKS["adding"](seq_len=5)
    timer = serve_processes.serving_timer(2, lambda _: None)
    serving = serve_case(case, task, _model(), CPU, _held_out(task), timer)
    assert "killed by SIGKILL" in serving["timing_note"] and "processes" not in serving
    assert serving["paths"]["torchscript"]["inference"]["b1"]["latency_ms"]["samples"]  # timed all the same
    assert serve_processes.serving_timer(1, lambda _: None) is time_in_process


def test_onnx_runtime_is_rebuilt_from_the_exported_graph_without_exporting_again(monkeypatch):
    pytest.importorskip("onnxruntime")
    x = torch.randn(4, 5, 2)
    ctx = PathContext(_model(), x, CPU, "float32", 1)
    first = prepare_path("onnxruntime", ctx)
    assert first.graph is not None

    def no_export(*args, **kwargs):
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_path, "export_onnx", no_export)
    again = remake_path("onnxruntime", ctx, first.graph)
    torch.testing.assert_close(again.call(x), first.call(x))


def _request(paths: list[str], seconds: float = 0.02) -> TimingRequest:
    case, task = _case(paths, seconds=seconds), TASKS["adding"](seq_len=5)
    model = _model()
    inputs = timed_inputs(case, task, CPU)
    ctx = PathContext(model, inputs[4], CPU, "float32", 1)
    ready = {name: prepare_path(name, ctx) for name in paths}
    return TimingRequest(case, model, ready, inputs, ctx)


@pytest.mark.processes
def test_paths_timed_in_two_processes_under_load(cpu_burner):
    """Two timing processes with a busy loop on the other core: every process's rounds, every path, nothing left."""
    request = _request(["eager", "torchscript", "onnxruntime"])
    try:
        timed = serve_processes.serving_timer(2, lambda _: None)(request)
        again = serve_processes.time_in_processes(request, 2, lambda _: None)  # the processes are reused
    finally:
        serve_processes.close_pool()
    assert timed.note is None and len(timed.ready_ms) == 2
    for result in (timed, again):
        assert set(result.rounds) == {1, 4} and all(len(counts) == 2 for counts in result.rounds.values())
        assert all(min(counts) >= 5 for counts in result.rounds.values())  # min_repeats in each process
        for size, counts in result.rounds.items():
            assert {len(s) for s in result.samples[size].values()} == {sum(counts)}
    assert max(again.ready_ms) < max(timed.ready_ms)  # a kept process prepares without starting again
    assert not [w for w in live_workers() if "serving" in w.name]


@pytest.mark.processes
def test_a_timing_process_killed_while_timing_falls_back(monkeypatch):
    real = serve_processes.answer

    def kill_the_second(process, timeout, waiting_for):
        if waiting_for == "its timings" and process.name.endswith("2"):
            os.kill(process.pid, signal.SIGKILL)
        return real(process, timeout, waiting_for)

    monkeypatch.setattr(serve_processes, "answer", kill_the_second)
    request = _request(["eager", "int8"])
    timed = serve_processes.serving_timer(2, lambda _: None)(request)
    assert timed.note is not None and "SIGKILL" in timed.note
    assert all(counts and len(counts) == 1 for counts in timed.rounds.values())  # timed here, in one process
    assert not [w for w in live_workers() if "serving" in w.name]


@pytest.mark.processes
def test_a_timing_process_that_cannot_start_falls_back(monkeypatch):
    monkeypatch.setattr(serve_processes, "CHILD_MODULE", "rnnbench.no_such_module")
    serve_processes.close_pool()
    timed = serve_processes.serving_timer(3, lambda _: None)(_request(["eager", "int8"]))
    assert timed.note is not None and "No module named" in timed.note
    assert not [w for w in live_workers() if "serving" in w.name]


@pytest.mark.processes
def test_a_run_serves_each_case_in_its_timing_processes(write_suite, tmp_path):
    """`rnnbench run` end to end: every served case's record holds two processes' rounds and reads per process."""
    from helpers import rnnbench_run

    from rnnbench.results.store import load_results

    out = tmp_path / "out.json"
    suite = yaml.safe_dump(_suite(["eager", "torchscript", "int8"], seconds=0.02, models=("lstm", "gru")))
    done = rnnbench_run("run", str(write_suite(suite)), "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    doc = load_results(out)
    for case in doc["cases"]:
        serving = case["serving"]
        assert serving["processes"] == 2 and "timing_note" not in serving
        assert all(
            len(counts) == 2 and sum(counts) == serving["rounds"][key] for key, counts in serving["blocks"].items()
        )
        assert len(serving["process_ready_ms"]) == 2
        rows = case_rows(case)
        assert all(r.ratio_small.processes == 2 for r in rows if r.path != "eager")
    first, second = (c["serving"]["process_ready_ms"] for c in doc["cases"])
    assert max(second) < min(first)  # the second case finds its timing processes started


@pytest.mark.processes
def test_a_run_stops_its_serving_timing_processes_when_it_ends(tmp_path):
    """The timing processes are kept from case to case within a run, never past it (run_suite, in this process)."""
    from rnnbench.run.driver import run_suite

    suite = parse_suite(_suite(["eager", "torchscript"], seconds=0.02), "test")
    doc = run_suite(suite, expand(suite), tmp_path / "out.json")
    assert doc["cases"][0]["serving"]["processes"] == 2
    assert not [w for w in live_workers() if "serving" in w.name]
