"""Models that step through time in Python or TorchScript, served with their loop kept a loop: TorchScript scripts
`serve/loop_model.py`, ONNX Runtime runs its `Loop`; both agree with eager at the suite's length and at twice it."""

from __future__ import annotations

import pytest
import torch

from rnnbench.models.registry import MODELS
from rnnbench.serve.case import check_path, eager_references, prepare_one, serve_case
from rnnbench.serve.loop_model import loop_model, loops_in_python, scripted_loop_model
from rnnbench.serve.onnx_loop import LOOP_EXPORTER, RNN_EXPORTER, export_onnx_loop, has_rnn_kernel
from rnnbench.serve.paths import PathContext
from rnnbench.suite.expand import expand, parse_suite
from rnnbench.suite.variants import VARIANTS
from rnnbench.tasks.registry import TASKS

CPU = torch.device("cpu")
TASK = TASKS["adding"](seq_len=5)


def _model(arch: str = "peephole", impl: str = "cell", **options):
    torch.manual_seed(0)
    kind = options.pop("output_kind", "last")
    return MODELS[arch](input_size=2, output_size=1, output_kind=kind, hidden_size=6, impl=impl, **options).eval()


def _served(path: str, model):
    held = TASK.sample(8, torch.Generator().manual_seed(1))
    ctx = PathContext(model, held.inputs, CPU, "float32", 1, loops_over_time=True)
    state = prepare_one(path, ctx, {1: held.inputs[:1]})
    assert state.served is not None, state.record["status"]
    check_path(state, held, eager_references(model, held), TASK)
    return state.record


@pytest.mark.parametrize(
    ("arch", "impl", "options"),
    [
        ("peephole", "cell", {}),  # Greff's vanilla LSTM under its old name
        ("lstm", "scripted", {"variant": "cifg"}),
        ("bipeephole", "scripted", {"num_layers": 2}),
        ("bigru", "cell", {}),
    ],
)
@pytest.mark.parametrize("path", ["torchscript", "onnxruntime"])
def test_a_loop_model_is_served_within_tolerance_at_both_lengths(path, arch, impl, options, capfd):
    if path == "onnxruntime":
        pytest.importorskip("onnxruntime")
    record = _served(path, _model(arch, impl, **options))
    assert record["status"] == "ok" and set(record["outputs"]) == {"T5", "T10"}, record
    assert all(d["max_abs"] <= 1e-5 for d in record["outputs"].values()) and record["within_tolerance"] is True
    named = record["details"]["exporter" if path == "onnxruntime" else "torchscript"]
    assert named == LOOP_EXPORTER if path == "onnxruntime" else named.startswith("torch.jit.script")
    if path == "onnxruntime":  # the legacy exporter's deprecation warning: in the log, never on the console
        assert "legacy TorchScript-based ONNX export" in record["log"]
    out, err = capfd.readouterr()
    assert "legacy" not in out + err and "deprecated" not in out + err


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("impl", ["cell", "scripted"])
def test_the_scripted_loop_matches_every_variant_at_two_lengths(variant, impl):
    model = _model("lstm", impl, variant=variant)
    scripted = scripted_loop_model(model)
    with torch.no_grad():
        for steps in (4, 9):
            x = torch.randn(3, steps, 2)
            torch.testing.assert_close(scripted(x), model(x), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize(
    ("arch", "impl"), [("rnn", "cell"), ("gru", "scripted"), ("lstm", "cell"), ("birnn", "scripted")]
)
def test_the_loop_of_each_core_is_a_real_loop_in_both_graphs(arch, impl):
    """A TorchScript `prim::Loop` and an ONNX `Loop`: the graphs step as many times as the input has steps."""
    onnx = pytest.importorskip("onnx")
    model = _model(arch, impl)
    assert "prim::Loop" in str(scripted_loop_model(model).inlined_graph)
    graph = onnx.load_from_string(export_onnx_loop(model, torch.randn(4, 3, 2))).graph
    assert "Loop" in {node.op_type for node in graph.node}
    with torch.no_grad():
        x = torch.randn(2, 7, 2)
        torch.testing.assert_close(loop_model(model)(x), model(x), atol=1e-6, rtol=1e-5)


def test_only_the_looping_cores_are_written_as_loops_and_packed_ones_get_a_status():
    assert loops_in_python(_model("peephole", "scripted")) and not loops_in_python(_model("lstm", "fused"))
    record = prepare_one(
        "torchscript",
        PathContext(_model("lstm", "fused"), torch.randn(2, 5, 2), CPU, "float32", 1, loops_over_time=True),
        {1: torch.randn(1, 5, 2)},
    ).record
    assert record["status"] == "unsupported: FusedLSTM does not loop over time in Python or TorchScript"
    packed = _model("peephole", "cell", packed=True)
    for path in ("torchscript", "onnxruntime"):
        ctx = PathContext(packed, torch.randn(2, 5, 2), CPU, "float32", 1, loops_over_time=True)
        status = prepare_one(path, ctx, {1: torch.randn(1, 5, 2)}).record["status"]
        assert status == "unsupported: a packed model (left-padded lengths) is not written as a loop for serving"


def test_a_served_peephole_case_takes_the_loops_and_leaves_compile_unsupported():
    """`serve_case` marks a cell-loop case as looping over time: TorchScript scripts, ONNX Runtime runs a Loop."""
    pytest.importorskip("onnxruntime")
    suite = parse_suite(
        {
            "name": "serve-loops",
            "device": "cpu",
            "threads": 1,
            "defaults": {
                "hidden_size": 6,
                "impl": "cell",
                "timing": {"warmup": 1, "min_repeats": 3, "max_repeats": 4, "max_seconds": 0.01},
                "inference": {"batch_sizes": [1, 4], "paths": ["eager", "torchscript", "compile", "onnxruntime"]},
            },
            "models": ["peephole"],
            "tasks": [{"task": "adding", "seq_len": 5}],
        },
        "test",
    )
    case = expand(suite)[0]
    serving = serve_case(case, TASK, _model(), CPU, TASK.sample(8, torch.Generator().manual_seed(1)))
    paths = serving["paths"]
    assert paths["compile"]["status"].startswith("unsupported: torch.compile unrolls this model's loop")
    for name in ("torchscript", "onnxruntime"):
        assert paths[name]["status"] == "ok" and paths[name]["within_tolerance"] is True, paths[name]
        assert paths[name]["outputs"]["T10"]["max_abs"] <= 1e-5 and "b4" in paths[name]["inference"]
    assert paths["onnxruntime"]["details"]["exporter"] == LOOP_EXPORTER


@pytest.mark.parametrize("output_kind", ["last", "sequence"])  # sequence: the head at every step, y has a time axis
def test_a_loop_exported_at_three_steps_runs_at_any_length(output_kind):
    """The exported graph itself, without the path around it: batch and time both free."""
    ort = pytest.importorskip("onnxruntime")
    model = _model("bipeephole", "scripted", output_kind=output_kind)
    session = ort.InferenceSession(export_onnx_loop(model, torch.randn(4, 3, 2)), providers=["CPUExecutionProvider"])
    for batch, steps in ((1, 1), (5, 12)):
        x = torch.randn(batch, steps, 2)
        with torch.no_grad():
            expected = model(x)
        got = torch.from_numpy(session.run(None, {"x": x.numpy()})[0])
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("arch", ["rnn", "birnn"])
def test_a_fused_rnn_keeps_its_time_axis_through_onnx_runtime(arch):
    """dynamo decomposes nn.RNN into steps fixed at the export length (|Δ| about 1e-1 at T = 10 when exported at 3);
    the TorchScript-based exporter gives ONNX's RNN op, correct at both lengths. nn.LSTM stays on dynamo."""
    pytest.importorskip("onnxruntime")
    held = TASK.sample(8, torch.Generator().manual_seed(1))
    model = _model(arch, "fused")
    state = prepare_one("onnxruntime", PathContext(model, held.inputs, CPU, "float32", 1), {1: held.inputs[:1]})
    check_path(state, held, eager_references(model, held), TASK)
    record = state.record
    assert record["details"]["exporter"] == RNN_EXPORTER and record["within_tolerance"] is True, record
    assert all(d["max_abs"] <= 1e-5 for d in record["outputs"].values()) and set(record["outputs"]) == {"T5", "T10"}
    assert has_rnn_kernel(model) and not has_rnn_kernel(_model("lstm", "fused"))
