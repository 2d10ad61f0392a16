"""The spine end to end at tiny sizes: run_case records, run_suite files, the recap table, the CLI."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console
from typer.testing import CliRunner

from rnnbench import __version__
from rnnbench.cli.main import app
from rnnbench.render.recap import recap_table
from rnnbench.results.store import load_results
from rnnbench.run.driver import run_suite
from rnnbench.run.runner import run_case
from rnnbench.suite.expand import load_suite

runner = CliRunner()


def test_run_case_record_has_every_section(tiny_suite):
    _, cases, _ = load_suite(tiny_suite)
    events = []
    record = run_case(cases[0], on_event=events.append)
    assert record["status"] == "ok", record.get("traceback")
    assert record["id"] == "adding/T5/lstm/h8/s0"
    train = record["train"]
    assert train["steps"] == 4 and len(train["curve"]) == 2
    assert [point[0] for point in train["curve"]] == [2, 4]
    step = train["step_ms"]
    assert step["n"] == len(step["samples"]) >= 3 and step["ci95"][0] <= step["median"] <= step["ci95"][1]
    assert set(train["phases_ms"]) == {"forward", "backward", "optimizer"}
    assert set(record["inference"]) == {"b1", "b4"}
    assert train["final"]["chance"] == pytest.approx(1 / 6)
    assert record["n_params"] > record["n_core_params"] > 0
    assert record["backend"] in {"onednn", "native", "python-loop", "cudnn"}
    training = record["memory"]["training"]
    parts = ("saved_for_backward_bytes", "parameters_bytes", "gradients_bytes", "optimizer_state_bytes")
    assert all(training[part] > 0 for part in parts) and training["total_bytes"] == sum(training[p] for p in parts)
    assert set(record["memory"]["inference"]) == {"b1", "b4"}
    assert record["flops"]["train_step"] == 3 * record["flops"]["forward"] > 0
    assert any(e["kind"] == "progress" for e in events)


def test_training_is_reproducible_for_a_seed(tiny_suite):
    _, cases, _ = load_suite(tiny_suite)
    first, second = run_case(cases[1]), run_case(cases[1])
    assert first["train"]["curve"] and [p[2:] for p in first["train"]["curve"]] == [
        p[2:] for p in second["train"]["curve"]
    ]


@pytest.mark.reference_matmul  # the one in-process run that measures the real reference matmul
def test_run_suite_saves_after_every_case_and_renders(tiny_suite, tmp_path):
    suite, cases, path = load_suite(tiny_suite)
    out = tmp_path / "r.json"
    saved_counts = []
    doc = run_suite(
        suite,
        cases,
        out,
        suite_path=str(path),
        on_event=lambda e: saved_counts.append(len(load_results(out)["cases"])) if e["kind"] == "case_end" else None,
    )
    # lstm and gru differ only in model: one timing unit, then a training unit each; a case is saved once both end
    assert saved_counts == [1, 2], "the file on disk holds each case as soon as it is complete"
    loaded = load_results(out)
    assert loaded["status"] == "complete" and loaded["cases"] == json.loads(json.dumps(doc["cases"]))
    assert loaded["reference"]["start"]["matmul_gflops"] > 0
    assert loaded["env"]["torch"] and loaded["env"]["device"] == "cpu"
    console = Console(file=io.StringIO(), width=120)
    console.print(recap_table(loaded))
    text = console.file.getvalue()
    for expected in (
        "lstm",
        "gru",
        "gates",
        "train step",
        "inference b1",
        "training memory",
        "KiB",
        "mse (chance)",
        "0.167",
        "adding T5 h8",
    ):
        assert expected in text


def test_recap_shows_failed_cases_as_such():
    doc = {
        "suite": {"name": "x"},
        "env": {},
        "cases": [
            {
                "id": "adding/T5/lstm/h8/s0",
                "label": "lstm",
                "arch": "lstm",
                "status": "failed",
                "error": "boom",
                "gates": 3,
            },
        ],
    }
    console = Console(file=io.StringIO(), width=120)
    console.print(recap_table(doc))
    text = console.file.getvalue()
    assert "1 failed" in text and "ms" not in text


def test_cli_version_list_validate():
    assert runner.invoke(app, ["--version"]).stdout.strip() == f"rnnbench {__version__}"
    listed = runner.invoke(app, ["list"])
    assert listed.exit_code == 0 and "bilstm" in listed.stdout and "adding" in listed.stdout
    validated = runner.invoke(app, ["validate", "quick"])
    assert validated.exit_code == 0 and "lookahead/T10/bilstm/h16/s2" in validated.stdout


def test_cli_run_writes_results_and_prints_recap(tiny_suite, tmp_path):
    out = tmp_path / "out.json"
    result = runner.invoke(app, ["run", str(tiny_suite), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "Measured recap" in result.stdout and f"results: {out}" in result.stdout.replace("\n", "")
    assert len(load_results(out)["cases"]) == 2


@pytest.mark.parametrize(
    "args", [["run", "/nonexistent.yaml"], ["validate", "nosuchbuiltin"], ["run", "quick", "--device", "cuda:x"]]
)
def test_cli_bad_input_exits_2_with_one_line(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output and result.output.strip().count("\n") == 0


def test_cuda_requested_without_cuda_is_a_clear_error(write_suite):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    path = write_suite("name: t\ndevice: cuda\nmodels: [lstm]\ntasks: [{task: adding, seq_len: 5}]\n")
    result = runner.invoke(app, ["run", str(path)])
    assert result.exit_code == 2 and "no CUDA device" in result.output and "Traceback" not in result.output


@pytest.mark.slow
def test_lstm_solves_adding_at_t50_on_the_cpu(write_suite):
    path = write_suite(
        """
        name: adding50
        device: cpu
        seeds: [0]
        defaults:
          hidden_size: 64
          batch_size: 64
          optimizer: {name: adam, lr: 0.01}
          train: {max_steps: 3000, max_seconds: 240, eval_every: 50, eval_size: 1000}
          timing: {warmup: 1, min_repeats: 3, max_repeats: 5, max_seconds: 0.2}
          inference: {batch_sizes: [1]}
        models: [lstm]
        tasks: [{task: adding, seq_len: 50}]
        """
    )
    _, cases, _ = load_suite(path)
    record = run_case(cases[0])
    final = record["train"]["final"]
    assert record["status"] == "ok" and final["solved"], final
    assert final["metric"] < 0.01 and record["train"]["steps_to_solve"] is not None
