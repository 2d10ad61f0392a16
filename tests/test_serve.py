"""Serving paths: every status (ok, unsupported, failed), the numerics that catch a frozen time axis, the paired
ratio to eager, the Serving table's rows, and `inference.paths` as a suite setting."""

from __future__ import annotations

import io
import sys
import textwrap
import time

import pytest
import torch
import yaml
from helpers import rnnbench_run
from rich.console import Console

from rnnbench.analysis.serving import case_rows, fastest_correct, path_ratio, serving_cost_ratio, serving_rows
from rnnbench.models.plugins import PluginModel
from rnnbench.models.registry import MODELS
from rnnbench.render.serving import serving_table
from rnnbench.results.store import load_results
from rnnbench.serve.case import (
    PathState,
    check_path,
    eager_references,
    ok_paths,
    prepare_one,
    serve_case,
    serving_paths,
)
from rnnbench.serve.numerics import output_difference
from rnnbench.serve.paths import PathContext, Served
from rnnbench.serve.timing import time_ready
from rnnbench.suite.expand import SuiteError, expand, parse_suite
from rnnbench.tasks.registry import TASKS

CPU = torch.device("cpu")


def _case(paths: list[str], batch_sizes: tuple[int, ...] = (1, 4), arch: str = "lstm"):
    suite = parse_suite(
        {
            "name": "serve-test",
            "device": "cpu",
            "threads": 1,
            "defaults": {
                "hidden_size": 8,
                "timing": {"warmup": 1, "min_repeats": 3, "max_repeats": 5, "max_seconds": 0.01},
                "inference": {"batch_sizes": list(batch_sizes), "paths": paths},
            },
            "models": [arch],
            "tasks": [{"task": "adding", "seq_len": 5}],
        },
        "test",
    )
    return expand(suite)[0]


def _model(impl: str = "fused", arch: str = "lstm"):
    torch.manual_seed(0)
    return MODELS[arch](input_size=2, output_size=1, output_kind="last", hidden_size=8, impl=impl).eval()


def _held_out(task, size: int = 8):
    return task.sample(size, torch.Generator().manual_seed(1))


def test_paths_default_to_eager_and_serve_nothing():
    case = _case(["eager"])
    assert case.settings.inference.paths == ["eager"] and serving_paths(case) == []
    assert serving_paths(_case(["int8", "eager"])) == ["eager", "int8"]
    assert serving_paths(_case(["torchscript"])) == ["eager", "torchscript"]  # eager joins as the reference


@pytest.mark.parametrize(
    ("paths", "message"),
    [(["eager", "tensorrt"], "inference.paths"), (["eager", "int8", "int8"], "paths must be distinct")],
)
def test_bad_paths_name_the_field(paths, message):
    with pytest.raises(SuiteError, match=message):
        _case(paths)


def test_missing_extra_and_failing_compiler_give_statuses_and_the_rest_runs(monkeypatch):
    """onnxruntime absent (simulated) is unsupported, a compiler that fails is failed; eager, TorchScript and int8 run."""
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` raises ImportError

    def no_compiler(model, **_):
        def call(*args):
            raise RuntimeError("InductorError: CppCompileError: C++ compile error\nno compiler found on PATH")

        return call

    monkeypatch.setattr(torch, "compile", no_compiler)
    case = _case(["eager", "torchscript", "compile", "onnxruntime", "int8"])
    task = TASKS["adding"](seq_len=5)
    serving = serve_case(case, task, _model(), CPU, _held_out(task))
    status = {name: path["status"] for name, path in serving["paths"].items()}
    assert status == {
        "eager": "ok",
        "torchscript": "ok",
        "compile": "failed: RuntimeError: InductorError: CppCompileError: C++ compile error",
        "onnxruntime": "unsupported: onnxruntime is not installed: pip install 'rnnbench[serve]'",
        "int8": "ok",
    }
    timed = {name for name, path in serving["paths"].items() if "inference" in path}
    assert timed == {"eager", "torchscript", "int8"} and set(serving["rounds"]) == {"b1", "b4"}
    eager, script, int8 = (serving["paths"][n] for n in ("eager", "torchscript", "int8"))
    assert script["within_tolerance"] is True and script["outputs"]["T10"]["max_abs"] < 1e-5
    assert int8["within_tolerance"] is False and int8["outputs"]["T5"]["max_abs"] > 1e-5  # int8 rounds: marked
    assert "deprecated" in int8["log"]  # torch.ao.quantization's warning, captured
    assert eager["metric"] == pytest.approx(script["metric"], abs=1e-6) and eager["prepare_ms"] >= 0
    rows = case_rows(
        {"id": case.id, "arch": "lstm", "task": "adding", "seq_len": 5, "seed": 0, "status": "ok", "serving": serving}
    )
    assert fastest_correct(rows).path in ("eager", "torchscript")  # int8 is out of tolerance however fast


def test_onnx_missing_is_named_before_onnxruntime(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    ctx = PathContext(_model(), torch.randn(2, 5, 2), CPU, "float32", 1)
    state = prepare_one("onnxruntime", ctx, {1: torch.randn(1, 5, 2)})
    assert state.record["status"] == "unsupported: onnx is not installed: pip install 'rnnbench[serve]'"
    assert state.served is None and state.record["prepare_ms"] is None


def test_bfloat16_suites_serve_eager_only():
    ctx = PathContext(_model(), torch.randn(2, 5, 2), CPU, "bfloat16", 1)
    state = prepare_one("int8", ctx, {1: torch.randn(1, 5, 2)})
    assert state.record["status"].startswith("unsupported: serving paths run float32")


def test_traced_python_loop_is_caught_at_the_second_length():
    """TorchScript traces the cell loop at T = 5: at T = 5 it agrees, at T = 10 it cannot run."""
    task = TASKS["adding"](seq_len=5)
    model, held = _model(impl="cell"), _held_out(task)
    state = prepare_one("torchscript", PathContext(model, held.inputs, CPU, "float32", 1), {1: held.inputs[:1]})
    check_path(state, held, eager_references(model, held), task)
    assert state.record["status"] == "ok" and state.record["outputs"]["T5"]["within"] is True
    assert state.record["outputs"]["T10"]["within"] is False and state.record["within_tolerance"] is False


def test_output_difference_reports_shape_and_non_finite():
    ref = torch.tensor([[1.0, 0.0, -2.0]])
    same = output_difference(ref, ref + torch.tensor([[1e-6, 0.0, 0.0]]))
    assert (
        same["within"]
        and same["max_abs"] == pytest.approx(1e-6, rel=0.1)
        and same["max_rel"] == pytest.approx(1e-6, rel=0.1)
    )
    far = output_difference(ref, ref + torch.tensor([[0.0, 0.0, 0.1]]))
    assert not far["within"] and far["beyond"] == 1 and far["max_rel"] == pytest.approx(0.05)
    assert output_difference(ref, ref[:, :2])["error"].startswith("output shape [1, 2]")
    assert "non-finite" in output_difference(ref, ref * float("nan"))["error"]
    at_zero = output_difference(ref, ref + torch.tensor([[0.0, 2e-6, 0.0]]))  # eager's 0: no relative difference
    assert at_zero["within"] and at_zero["max_abs"] == pytest.approx(2e-6) and at_zero["max_rel"] is None


def test_paired_ratio_sees_a_path_slowed_down():
    """A path that does eager's work twice reads about 2x eager, paired round by round; a copy of eager reads 1x."""
    model = _model()
    x = torch.randn(4, 5, 2)

    def served(call) -> Served:
        return Served(call=model, bind=lambda _x: call)

    once = lambda: model(x)  # noqa: E731
    twice = lambda: (model(x), model(x))  # noqa: E731
    states = {
        "eager": PathState({"status": "ok"}, served(once)),
        "copy": PathState({"status": "ok"}, served(once)),
        "slow": PathState({"status": "ok"}, served(twice)),
    }
    case = _case(["eager"], batch_sizes=(4,)).model_copy(deep=True)
    timing = case.settings.timing.model_copy(update={"min_repeats": 60, "max_repeats": 60, "max_seconds": 0.001})
    case = case.model_copy(update={"settings": case.settings.model_copy(update={"timing": timing})})
    timed = time_ready(ok_paths(states), case, {4: x}, CPU)
    paths = {name: {"inference": {"b4": {"latency_ms": {"samples": timed.samples[4][name]}}}} for name in states}
    slow, copy = path_ratio(paths["slow"], paths["eager"], "b4"), path_ratio(paths["copy"], paths["eager"], "b4")
    assert timed.rounds == {4: [60]} and 10 <= slow.rounds <= 60  # the rounds of the fast speed state count
    assert 1.5 < slow.ratio < 2.6 and slow.low > 1.2
    assert 0.75 < copy.ratio < 1.33 and copy.ratio < slow.low
    # a process that times the case in 4 turns takes a quarter of the minimum rounds in each
    assert time_ready(ok_paths(states), case, {4: x}, CPU, share=0.25, turns=4).rounds == {4: [15]}


def _served_path(status: str, samples: dict[str, list[float]], max_abs: float = 0.0, within: bool = True, metric=0.9):
    record: dict = {"status": status, "prepare_ms": 12.0, "metric": metric if status == "ok" else None}
    if status == "ok":
        record["outputs"] = {
            "T5": {"max_abs": max_abs, "max_rel": max_abs, "beyond": 0 if within else 3, "within": within},
            "T10": {"max_abs": max_abs, "max_rel": max_abs, "beyond": 0 if within else 3, "within": within},
        }
        record["within_tolerance"] = within
        record["inference"] = {
            key: {"latency_ms": {"samples": s, "median": sorted(s)[len(s) // 2]}, "seq_per_s": 4000.0 / s[0]}
            for key, s in samples.items()
        }
    return record


def _doc() -> dict:
    eager = {"b1": [1.0, 1.1, 0.9, 1.0, 1.2, 1.0, 1.0], "b4": [2.0] * 7}
    fast = {"b1": [0.5, 0.55, 0.45, 0.5, 0.6, 0.5, 0.5], "b4": [1.0, 1.1, 0.9, 1.0, 1.2, 1.0, 1.0]}
    faster_but_wrong = {"b1": [0.1] * 7, "b4": [0.2] * 7}
    paths = {
        "eager": _served_path("ok", eager),
        "onnxruntime": _served_path("ok", fast, max_abs=3e-8),
        "int8": _served_path("ok", faster_but_wrong, max_abs=2e-3, within=False, metric=0.7),
        "compile": _served_path("failed: RuntimeError: no compiler", {}),
        "torchscript": _served_path("unsupported: onnx is not installed: pip install 'rnnbench[serve]'", {}),
    }
    serving = {"atol": 1e-5, "rtol": 1e-5, "lengths": [5, 10], "rounds": {"b1": 7, "b4": 7}, "paths": paths}
    serving["metric_name"] = "mse"
    bilstm_paths = {"eager": _served_path("ok", {k: [x * 3 for x in v] for k, v in eager.items()})}
    bilstm = {"atol": 1e-5, "rtol": 1e-5, "lengths": [5, 10], "rounds": {"b1": 7, "b4": 7}, "paths": bilstm_paths}
    bilstm["metric_name"] = "mse"
    base = {"task": "adding", "seq_len": 5, "seed": 0, "status": "ok"}
    return {
        "cases": [
            {"id": "adding/T5/lstm/h8/s0", "arch": "lstm", "label": "lstm", **base, "serving": serving},
            {"id": "adding/T5/lstm/h8/s1", "arch": "lstm", "label": "lstm", **base, "serving": serving},  # a 2nd seed
            {"id": "adding/T5/bilstm/h8/s0", "arch": "bilstm", "label": "bilstm", **base, "serving": bilstm},
            {"id": "adding/T5/gru/h8/s0", "arch": "gru", "label": "gru", **base},  # not served
        ]
    }


def test_serving_rows_on_a_small_document():
    rows = serving_rows(_doc())
    assert [(r.label, r.path) for r in rows] == [
        ("lstm", "eager"),
        ("lstm", "torchscript"),
        ("lstm", "compile"),
        ("lstm", "onnxruntime"),
        ("lstm", "int8"),
        ("bilstm", "eager"),
    ]
    by_path = {r.path: r for r in rows if r.label == "lstm"}
    ort = by_path["onnxruntime"]
    assert ort.ratio_small.ratio == pytest.approx(0.5) and ort.ratio_large.ratio == pytest.approx(0.5)
    assert ort.latency_ms == pytest.approx(0.5) and ort.throughput == pytest.approx(4000.0)
    assert ort.max_abs == pytest.approx(3e-8) and ort.correct and ort.prepare_ms == 12.0
    assert by_path["int8"].ratio_small.ratio == pytest.approx(0.1) and not by_path["int8"].correct
    assert by_path["compile"].ratio_small is None and by_path["compile"].latency_ms is None
    assert fastest_correct(list(by_path.values())).path == "onnxruntime"  # int8 is faster but out of tolerance
    # Bi-LSTM on its fastest correct path (eager, 3 ms) over LSTM on its own (ONNX Runtime, 0.5 ms)
    assert serving_cost_ratio(_doc(), "bilstm", "lstm") == pytest.approx((6.0, "eager", "onnxruntime"))


def test_serving_table_renders_statuses_marks_and_the_fastest_line():
    console = Console(file=io.StringIO(), width=220)
    console.print(serving_table(_doc()))
    text = console.file.getvalue()
    assert "Serving" in text and "failed: RuntimeError: no compiler" in text and "'rnnbench[serve]'" in text
    assert "2.0e-03 ✘ beyond tolerance" in text and "×0.50 [" in text and "held-out mse" in text
    assert "lstm (adding T5): fastest correct path onnxruntime at b1 (0.50× eager)" in text
    assert serving_table({"cases": [c for c in _doc()["cases"] if "serving" not in c]}) is None
    two_tasks = _doc()
    two_tasks["cases"][2] = {**two_tasks["cases"][2], "seq_len": 9}  # the Bi-LSTM served at another length
    console = Console(file=io.StringIO(), width=220)
    console.print(serving_table(two_tasks))
    assert "lstm (adding T5)" in console.file.getvalue() and "bilstm (adding T9)" in console.file.getvalue()


PLUGIN = """
import torch
from torch import nn


@torch.library.custom_op("rnnbench_serve_test::reverse_features", mutates_args=())
def reverse_features(x: torch.Tensor) -> torch.Tensor:
    return x.flip(-1)  # a kernel of its own, with no shape function: no exporter can trace through it


class CustomKernel(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers=1, batch_first=True, bidirectional=False):
        super().__init__()
        self.rnn = nn.GRU(input_size, hidden_size, num_layers, batch_first=True)

    def forward(self, x):
        return self.rnn(reverse_features(x))[0]
"""


def test_a_plugin_that_cannot_be_exported_fails_its_path_alone(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    (tmp_path / "serve_custom_kernel.py").write_text(textwrap.dedent(PLUGIN))
    monkeypatch.syspath_prepend(str(tmp_path))
    model = PluginModel(
        arch="serve_custom_kernel:CustomKernel", input_size=2, output_size=1, output_kind="last", hidden_size=8
    ).eval()
    ctx = PathContext(model, torch.randn(2, 5, 2), CPU, "float32", 1)
    started = time.perf_counter()
    states = {
        name: prepare_one(name, ctx, {1: torch.randn(1, 5, 2)}) for name in ("eager", "torchscript", "onnxruntime")
    }
    assert states["eager"].record["status"] == "ok" and states["torchscript"].record["status"] == "ok"
    status = states["onnxruntime"].record["status"]
    assert status.startswith("failed: TorchExportError: Failed to export the model"), status
    assert "\x1b[" not in status and "torch.export" in states["onnxruntime"].record["log"]  # captured, not printed
    assert time.perf_counter() - started < 120


def test_onnxruntime_is_ok_within_tolerance_at_both_lengths(capfd):
    """Exported at 3 steps with the time axis dynamic, ONNX Runtime agrees with eager at T = 5 and T = 10; the
    exporter's lines are in the log, never on the console."""
    pytest.importorskip("onnxruntime")
    task = TASKS["adding"](seq_len=5)
    model, held = _model(), _held_out(task)
    state = prepare_one("onnxruntime", PathContext(model, held.inputs, CPU, "float32", 1), {1: held.inputs[:1]})
    check_path(state, held, eager_references(model, held), task)
    record = state.record
    assert record["status"] == "ok" and record["within_tolerance"] is True, record
    assert all(d["max_abs"] <= 1e-5 for d in record["outputs"].values()) and set(record["outputs"]) == {"T5", "T10"}
    assert record["details"]["exported_at"] == [8, 3, 2] and record["details"]["intra_op_threads"] == 1
    assert record["details"]["providers"] == ["CPUExecutionProvider"] and "[torch.onnx]" in record["log"]
    out, err = capfd.readouterr()
    assert "[torch.onnx]" not in out + err


def test_a_graph_exported_with_a_static_length_is_caught_at_the_second_length():
    pytest.importorskip("onnxruntime")
    task = TASKS["adding"](seq_len=5)
    model, held = _model(), _held_out(task)
    ctx = PathContext(model, held.inputs, CPU, "float32", 1, dynamic_time=False)
    state = prepare_one("onnxruntime", ctx, {1: held.inputs[:1]})
    check_path(state, held, eager_references(model, held), task)
    outputs = state.record["outputs"]
    assert state.record["status"] == "ok" and outputs["T5"]["within"] is True
    assert outputs["T10"]["within"] is False and outputs["T10"]["max_abs"] is None and outputs["T10"]["error"]
    assert state.record["within_tolerance"] is False


def test_serve_suite_is_valid_and_names_every_path():
    from rnnbench.suite.files import resolve_suite_path

    data = yaml.safe_load(resolve_suite_path("serve").read_text())
    cases = expand(parse_suite(data, "serve"))
    assert sorted(c.arch for c in cases) == ["bilstm", "gru", "lstm"]
    assert all(serving_paths(c) == ["eager", "torchscript", "compile", "onnxruntime", "int8"] for c in cases)
    assert all(c.settings.inference.batch_sizes == [1, 32] for c in cases)


def test_bilstm_cost_claim_gains_the_serving_view():
    from rnnbench.claims.speed_rules import bilstm_cost_rule
    from rnnbench.claims.types import ClaimSettings

    findings = bilstm_cost_rule(_doc(), ("bilstm", "lstm"), ClaimSettings())
    served = [m for f in findings for m in f.measures if m.name.startswith("serving latency bilstm/lstm")]
    assert len(served) == 1 and served[0].value == pytest.approx(6.0)
    assert served[0].detail.startswith("bilstm on eager, lstm on onnxruntime")


SERVED_SUITE = """
name: served
device: cpu
threads: 1
defaults:
  hidden_size: 8
  batch_size: 4
  train: {max_steps: 4, max_seconds: 5, eval_every: 2, eval_size: 8}
  timing: {warmup: 1, min_repeats: 3, max_repeats: 5, max_seconds: 0.01}
  inference: {batch_sizes: [1, 4], paths: [eager, torchscript, int8]}
models: [lstm, gru]
tasks:
  - {task: adding, seq_len: 5}
"""


def test_a_run_serves_its_trained_cases_and_reports_the_serving_table(write_suite, tmp_path):
    from typer.testing import CliRunner

    from rnnbench.cli.main import app

    path = write_suite(SERVED_SUITE)
    out = tmp_path / "out.json"
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(out), "--quiet"], env={"COLUMNS": "220"})
    assert result.exit_code == 0, result.output
    doc = load_results(out)
    for case in doc["cases"]:
        paths = case["serving"]["paths"]
        assert list(paths) == ["eager", "int8", "torchscript"]  # keys sorted in the file; the table orders them
        assert paths["eager"]["metric"] == pytest.approx(case["train"]["final"]["metric"], rel=1e-5)
        assert case["inference"]["b1"]["latency_ms"]["samples"]  # the timing group's eager timing is kept
    assert "Serving" in result.output and "fastest correct path" in result.output
    assert [r.path for r in serving_rows(doc)[:3]] == ["eager", "torchscript", "int8"]


def test_a_path_that_raises_on_the_held_out_batch_fails_with_its_first_line():
    task = TASKS["adding"](seq_len=5)
    model, held = _model(), _held_out(task)

    def broken(x):
        raise RuntimeError("no kernel for this shape\nsecond line")

    state = PathState({"status": "ok", "prepare_ms": 1.0}, Served(call=broken, bind=lambda x: lambda: None))
    check_path(state, held, eager_references(model, held), task)
    assert state.record["status"] == "failed: RuntimeError: no kernel for this shape" and state.record["metric"] is None
    assert (
        time_ready(ok_paths({"broken": state}), _case(["eager"]), {1: held.inputs[:1]}, CPU).samples == {}
    )  # nothing left


@pytest.mark.processes
def test_local_workers_serve_like_the_serial_run(write_suite, tmp_path):
    """Serving runs in the training unit, so on a worker too: its record travels back whole."""

    path, out = write_suite(SERVED_SUITE), tmp_path / "workers.json"
    done = rnnbench_run("run", str(path), "--out", str(out), "--quiet", "--workers", "2")
    assert done.returncode == 0, done.stderr
    doc = load_results(out)
    assert {c["serving"]["paths"]["torchscript"]["status"] for c in doc["cases"]} == {"ok"}
    assert all(c["serving"]["paths"]["int8"]["inference"]["b4"]["latency_ms"]["samples"] for c in doc["cases"])
    assert {c["ran_on"]["worker"] for c in doc["cases"]} <= {"w1", "w2"}


def test_compile_refuses_a_loop_over_time_before_it_starts_compiling(monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("torch.compile was called")

    monkeypatch.setattr(torch, "compile", never)
    ctx = PathContext(_model(impl="cell"), torch.randn(2, 5, 2), CPU, "float32", 1, loops_over_time=True)
    status = prepare_one("compile", ctx, {1: torch.randn(1, 5, 2)}).record["status"]
    assert status.startswith("unsupported: torch.compile unrolls this model's loop over 5 time steps")


def test_removed_apis_make_their_paths_unsupported(monkeypatch):
    import torch.ao.quantization as quantization

    monkeypatch.delattr(quantization, "quantize_dynamic")
    monkeypatch.delattr(torch.jit, "trace")
    ctx = PathContext(_model(), torch.randn(2, 5, 2), CPU, "float32", 1)
    int8 = prepare_one("int8", ctx, {1: torch.randn(1, 5, 2)}).record["status"]
    script = prepare_one("torchscript", ctx, {1: torch.randn(1, 5, 2)}).record["status"]
    assert int8 == f"unsupported: torch.ao.quantization.quantize_dynamic is gone in torch {torch.__version__}"
    assert script == f"unsupported: torch.jit.trace is not available in torch {torch.__version__}"
