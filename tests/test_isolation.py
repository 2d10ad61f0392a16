"""One bad case never ends a run: divergence and failures are recorded and shown as such; runs are reproducible."""

from __future__ import annotations

import io
import math

import pytest
import torch
from results_factory import case as made_case
from results_factory import document
from rich.console import Console
from typer.testing import CliRunner

from rnnbench.cli.main import app
from rnnbench.models.registry import MODELS
from rnnbench.render.recap import recap_table
from rnnbench.results.store import load_results, save_atomic
from rnnbench.run import driver as driver_module
from rnnbench.run.build import build_case_model
from rnnbench.run.train import TrainLimits, make_optimizer, train
from rnnbench.suite.expand import load_suite
from rnnbench.tasks.data import eval_batch, train_batches
from rnnbench.tasks.registry import TASKS

cli = CliRunner()

FAST = """
device: cpu
defaults:
  hidden_size: 8
  batch_size: 4
  train: {max_steps: 4, max_seconds: 10, eval_every: 2, eval_size: 16}
  timing: {warmup: 0, min_repeats: 1, max_repeats: 1, max_seconds: 0.05}
  inference: {batch_sizes: [1]}
tasks:
  - {task: adding, seq_len: 5}
"""


def test_diverged_and_failed_cases_are_recorded_and_the_suite_goes_on(write_suite, tmp_path, monkeypatch):
    path = write_suite(
        "name: isolation\n"
        + FAST
        + "models: [rnn, {arch: gru, grad_clip: null, optimizer: {name: sgd, lr: 1.0e+30}}, lstm]\n"
    )
    real_build = build_case_model

    def out_of_memory_for_rnn(case, task, device):
        if case.arch == "rnn":
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return real_build(case, task, device)

    for module in ("runner", "speed", "group_timing"):  # training, solo timing and group timing all build it
        monkeypatch.setattr(f"rnnbench.run.{module}.build_case_model", out_of_memory_for_rnn)
    out = tmp_path / "r.json"
    result = cli.invoke(app, ["run", str(path), "--out", str(out), "--quiet"], env={"COLUMNS": "160"})
    assert result.exit_code == 1, result.output
    assert "1 case(s) failed" in result.output and "Traceback" not in result.output

    rnn, gru, lstm = load_results(out)["cases"]
    assert rnn["status"] == "failed" and rnn["error"].startswith("OutOfMemoryError: CUDA out of memory")
    assert gru["status"] == "diverged" and gru["train"]["diverged_at"] == 2
    assert gru["error"] == "loss became non-finite at step 2"
    assert gru["train"]["final"]["loss"] is None, "a non-finite loss is written as null"
    assert lstm["status"] == "ok" and lstm["train"]["steps"] == 4, "the case after them ran in full"

    recap = result.output[result.output.index("Measured recap") :]
    for row in ("time to solve", "mse (chance)", "solved (seeds)"):
        line = next(line for line in recap.splitlines() if row in line)
        cells = [cell.strip() for cell in line.split("│")[2:5]]
        assert cells[0] == "1 failed" and cells[1] == "1 diverged", line
        assert "failed" not in cells[2] and "diverged" not in cells[2]
    train_step = next(line for line in recap.splitlines() if "train step" in line)
    assert train_step.split("│")[2].strip() == "1 failed", "a failed case has no timing to show"


def test_a_nan_loss_stops_training_at_the_step_it_is_seen():
    task = TASKS["adding"](seq_len=5)
    torch.manual_seed(0)
    model = MODELS["lstm"](
        input_size=task.input_size, output_size=task.output_size, output_kind=task.output_kind, hidden_size=8
    )
    calls = []

    def nan_from_third_step(outputs, batch):
        calls.append(1)
        loss = task.loss(outputs, batch)
        return loss * math.nan if len(calls) >= 3 else loss

    class NanTask:
        def __getattr__(self, name):
            return getattr(task, name)

        loss = staticmethod(nan_from_third_step)

    outcome = train(
        model,
        make_optimizer("adam", model.parameters(), 0.01),
        NanTask(),
        train_batches(task, 4, 0, torch.device("cpu")),
        eval_batch(task, 16, 0, torch.device("cpu")),
        TrainLimits(max_steps=10, max_seconds=30, eval_every=1, grad_clip=1.0),
    )
    assert (outcome.status, outcome.diverged_at, outcome.steps) == ("diverged", 3, 3)
    assert len(outcome.curve) == 2 and math.isnan(outcome.final["loss"])


@pytest.mark.parametrize(
    "statuses, code",
    [(["ok", "ok"], 0), (["ok", "diverged"], 0), (["diverged", "failed"], 1), (["ok", "failed"], 1)],
)
def test_exit_code_says_whether_any_case_failed(write_suite, tmp_path, monkeypatch, statuses, code):
    cases = [made_case("lstm", seed=seed, status=status) for seed, status in enumerate(statuses)]

    def finished_run(suite, cases_, out_path, **kwargs):
        doc = document(cases)
        save_atomic(out_path, doc)
        return doc

    monkeypatch.setattr(driver_module, "run_suite", finished_run)
    path = write_suite("name: t\nmodels: [lstm]\ntasks: [{task: adding, seq_len: 5}]\n")
    result = cli.invoke(app, ["run", str(path), "--out", str(tmp_path / "r.json"), "--quiet"])
    assert result.exit_code == code, result.output


def test_recap_names_the_seeds_that_gave_no_training_result():
    doc = document(
        [
            made_case("lstm", seed=0, metric=0.02, solved=True, ms_to_solve=50.0),
            made_case("lstm", seed=1, status="diverged"),
            made_case("gru", seed=0, status="interrupted"),
        ]
    )
    console = Console(file=io.StringIO(), width=160)
    console.print(recap_table(doc))
    lines = console.file.getvalue().splitlines()
    solved = next(line for line in lines if "solved (seeds)" in line)
    assert "1 diverged" in solved.split("│")[2] and "1 interrupted" in solved.split("│")[3]
    metric = next(line for line in lines if "(chance)" in line)
    assert "0.020" in metric.split("│")[2], "the finished seed's number is still shown"


def test_same_suite_and_seed_give_identical_losses_and_metrics(write_suite, tmp_path):
    suite, cases, path = load_suite(write_suite("name: repro\nseeds: [0, 1]\nmodels: [lstm, gru]\n" + FAST))
    first = driver_module.run_suite(suite, cases, tmp_path / "a.json", suite_path=str(path))
    second = driver_module.run_suite(suite, cases, tmp_path / "b.json", suite_path=str(path))

    def outcome(record):
        train_ = record["train"]
        return (
            [(step, loss, metric) for step, _ms, loss, metric in train_["curve"]],
            train_["final"],
            record["n_params"],
        )

    for a, b in zip(first["cases"], second["cases"], strict=True):
        assert a["status"] == b["status"] == "ok"
        assert outcome(a) == outcome(b), a["id"]
    by_id = {c["id"]: c for c in first["cases"]}
    assert outcome(by_id["adding/T5/lstm/h8/s0"]) != outcome(by_id["adding/T5/lstm/h8/s1"]), "the seed matters"

    saved = load_results(tmp_path / "a.json")
    assert saved["suite"]["seeds"] == [0, 1] and {c["seed"] for c in saved["cases"]} == {0, 1}
    env = saved["env"]
    assert env["torch"] == torch.__version__ and env["python"] and saved["rnnbench_version"]
    for flag in ("deterministic_algorithms", "cudnn_deterministic", "cudnn_benchmark", "tf32_matmul", "threads"):
        assert flag in env["flags"], flag
