"""Task plugins (`task: package.module:Name`, `rnnbench.tasks` entry points) and `args` for plugin models and tasks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import ROOT
from results_factory import case as make_case
from results_factory import document
from typer.testing import CliRunner

from rnnbench.claims.table import CLAIMS, context
from rnnbench.claims.types import SUPPORTED, ClaimResult, Finding
from rnnbench.cli.main import app
from rnnbench.compare.ab import AbError, AbOptions, Side, check_sides_data, run_ab
from rnnbench.compare.comparison import CompareError
from rnnbench.compare.pairing import compare
from rnnbench.results.store import save_atomic
from rnnbench.results.task_facts import case_task_spec
from rnnbench.suite.expand import load_suite

runner = CliRunner()

# The docs' minimal example (docs/plugins.md, "Task plugins"), plus broken variants for the checks.
TASKS_MODULE = '''
import os

import torch
from torch import Tensor, nn

from rnnbench.tasks.base import Batch, Evaluation, Task


class WalkSign(Task):
    """Whether a walk of T steps of +1 or -1 ends above zero, the answer after the last step."""

    name = "walk_sign"
    description = "sign of the sum of T random +1/-1 steps"
    causal = False
    output_kind = "last"
    metric_name = "accuracy"
    higher_is_better = True

    def __init__(self, seq_len: int, scale: float = 1.0) -> None:
        super().__init__(seq_len)
        self.scale = scale
        self.input_size, self.output_size = 1, 2

    @property
    def chance(self) -> float:
        return 0.5

    def sample(self, batch_size, generator, device="cpu"):
        bits = torch.randint(0, 2, (batch_size, self.seq_len, 1), generator=generator, device=generator.device)
        steps = bits.float() * 2 - 1
        return Batch(steps * self.scale, (steps.sum(dim=(1, 2)) > 0).long()).to(device)

    def loss(self, outputs: Tensor, batch: Batch) -> Tensor:
        return nn.functional.cross_entropy(outputs, batch.targets)

    def evaluate(self, outputs: Tensor, batch: Batch) -> Evaluation:
        accuracy = (outputs.argmax(-1) == batch.targets).float().mean().item()
        return Evaluation(self.loss(outputs, batch).item(), accuracy, solved=accuracy >= 0.95)

    def data_record(self):
        return {"dataset": "walks", "sha256": os.environ.get("WALK_SHA", "%SHA%")}


class Causal(WalkSign):
    causal = True


class NoCausal(WalkSign):
    causal = "maybe"


class TimeLast(WalkSign):
    def sample(self, batch_size, generator, device="cpu"):
        batch = super().sample(batch_size, generator, device)
        return Batch(batch.inputs.transpose(0, 1), batch.targets)


class Doubles(WalkSign):
    def sample(self, batch_size, generator, device="cpu"):
        batch = super().sample(batch_size, generator, device)
        return Batch(batch.inputs.double(), batch.targets)


class SampleRaises(WalkSign):
    def sample(self, batch_size, generator, device="cpu"):
        raise RuntimeError("no data")


class NotATask:
    causal = False
    output_kind = "last"
'''

SUITE = """
name: taskplug
device: cpu
seeds: [0]
defaults:
  hidden_size: 4
  batch_size: 4
  train: {{max_steps: 2, max_seconds: 5, eval_every: 1, eval_size: 4}}
  timing: {{warmup: 0, min_repeats: 2, max_repeats: 2, max_seconds: 0.02}}
  inference: {{batch_sizes: [1]}}
models: {models}
tasks:
  - {task}
"""


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    def write(sha: str = "a" * 64, name: str = "tptasks") -> Path:
        (tmp_path / f"{name}.py").write_text(TASKS_MODULE.replace("%SHA%", sha))
        return tmp_path

    monkeypatch.syspath_prepend(str(tmp_path))
    return write


def _suite(write_suite, task: str, models: str = "[lstm]") -> Path:
    return write_suite(SUITE.format(models=models, task=task))


def _one_error(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def test_task_plugin_from_a_temporary_module_runs_and_is_recorded(plugin_dir, write_suite, tmp_path):
    plugin_dir()
    task = '{task: "tptasks:WalkSign", seq_len: 3, args: {scale: 2.0}}'
    path = _suite(write_suite, task, '[lstm, bilstm, {arch: "torch.nn:GRU", args: {bias: false}}]')
    out = tmp_path / "o.json"
    result = runner.invoke(app, ["run", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    cases = {c["label"]: c for c in json.loads(out.read_text())["cases"]}
    assert set(cases) == {"lstm", "bilstm", "torch.nn:GRU(bias=False)"}
    gru = cases["torch.nn:GRU(bias=False)"]
    assert gru["id"] == "tptasks:WalkSign-scale=2.0/T3/torch.nn:GRU(bias=False)/h4/s0"
    assert gru["plugin"]["args"] == {"bias": False} and gru["task_options"] == {"scale": 2.0}
    assert gru["data"] == {"dataset": "walks", "sha256": "a" * 64}
    stated = gru["task_plugin"]
    assert stated["qualified_name"] == "tptasks.WalkSign" and len(stated["file_sha256"]) == 64
    assert (stated["causal"], stated["output_kind"]) == (False, "last")
    assert case_task_spec(gru).causal is False  # claims read causality from the record, importing nothing
    assert gru["train"]["final"]["metric_name"] == "accuracy" and gru["train"]["final"]["chance"] == 0.5


def test_task_plugin_through_an_entry_point(plugin_dir, write_suite, tmp_path):
    plugin_dir()
    dist = tmp_path / "walktasks-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: walktasks\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[rnnbench.tasks]\nwalk = tptasks:WalkSign\n")
    path = _suite(write_suite, "{task: walk, seq_len: 3}")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "walk/T3/lstm/h4/s0" in result.stdout


BAD_TASKS = {
    "no module": ('"nosuchpkg_xyz:Task"', "tasks[0].task: nosuchpkg_xyz:Task: module 'nosuchpkg_xyz' not found"),
    "no attribute": ('"tptasks:Nope"', "tasks[0].task: tptasks:Nope: module 'tptasks' has no attribute 'Nope'"),
    "no causal": (
        '"tptasks:NoCausal"',
        "tasks[0].task: tptasks:NoCausal: class attribute causal must be True or False",
    ),
    "not a task": (
        '"tptasks:NotATask"',
        "tasks[0].task: tptasks:NotATask: <class 'tptasks.NotATask'> is not a subclass",
    ),
    "wrong arg": (
        '"tptasks:WalkSign", args: {scael: 2}',
        "tasks[0].args.scael: tptasks:WalkSign: the constructor raised TypeError: WalkSign.__init__() got an unexpected",
    ),
    "time first": ('"tptasks:TimeLast"', "tptasks:TimeLast: sample inputs have shape [3, 2, 1], expected [2, T, 1]"),
    "float64": ('"tptasks:Doubles"', "tptasks:Doubles: sample inputs are torch.float64, expected torch.float32"),
    "sample raises": ('"tptasks:SampleRaises"', "tptasks:SampleRaises: sample raised RuntimeError: no data"),
    "option not under args": (
        '"tptasks:WalkSign", scale: 2',
        "tasks[0]: scale: a plugin task takes its options under args",
    ),
    "unknown name": ("nosuchtask", "tasks[0].task: unknown task 'nosuchtask'"),
}


@pytest.mark.parametrize("case", sorted(BAD_TASKS))
def test_bad_task_plugins_exit_2_with_one_line_naming_the_field(case, plugin_dir, write_suite, tmp_path):
    plugin_dir()
    task, expected = BAD_TASKS[case]
    path = _suite(write_suite, f"{{task: {task}, seq_len: 3}}")
    for command in ("validate", "run"):
        out = tmp_path / "o.json"
        result = runner.invoke(app, [command, str(path), *(["--out", str(out)] if command == "run" else [])])
        line = _one_error(result)
        assert f"{path}: " in line and expected in line, line
        assert not out.exists()


@pytest.mark.parametrize(
    ("models", "task", "expected"),
    [
        ("[{arch: lstm, args: {x: 1}}]", "{task: adding, seq_len: 3}", "models[0].args: only for plugins"),
        (
            '["torch.nn:GRU", {arch: "torch.nn:GRU", args: {bais: false}}]',
            "{task: adding, seq_len: 3}",
            "models[1].args.bais: torch.nn:GRU: the constructor raised TypeError",
        ),
        (
            '[{arch: "torch.nn:GRU", args: {hidden_size: 3}}]',
            "{task: adding, seq_len: 3}",
            "models[0].args.hidden_size: rnnbench passes hidden_size itself",
        ),
        ("[lstm]", "{task: adding, seq_len: 3, args: {x: 1}}", "tasks[0].args: only for plugin tasks"),
        ("[bilstm]", '{task: "tptasks:Causal", seq_len: 3}', "bidirectional bilstm on causal task tptasks:Causal"),
    ],
)
def test_args_and_plugin_task_facts_refused_in_one_line(models, task, expected, plugin_dir, write_suite):
    plugin_dir()
    line = _one_error(runner.invoke(app, ["validate", str(_suite(write_suite, task, models))]))
    assert expected in line, line


def test_entries_differing_only_in_args_get_distinct_ids(write_suite):
    path = _suite(
        write_suite,
        "{task: adding, seq_len: 3}",
        '[{arch: "torch.nn:GRU", args: {bias: true}}, {arch: "torch.nn:GRU", args: {bias: false}}]',
    )
    _, cases, _ = load_suite(path)
    assert [c.label for c in cases] == ["torch.nn:GRU(bias=True)", "torch.nn:GRU(bias=False)"]
    assert [c.model_args for c in cases] == [{"bias": True}, {"bias": False}]


# --- data identity: compare and ab refuse another data set, per case ---------------------------------


def _data_doc(shas: list[str]) -> dict:

    records = []
    for i, sha in enumerate(shas):  # two entries of one plugin task, each reading its own file
        record = make_case("lstm", "adding", 5)
        record.update(id=f"mod:Series-path=f{i}.csv/T5/lstm/h8/s0", task="mod:Series")
        record["data"] = {"dataset": f"f{i}.csv", "sha256": sha}
        records.append(record)
    return document(records, "owndata")


def test_compare_refuses_a_case_whose_data_hash_differs_naming_it_and_both_hashes(tmp_path):

    assert compare(_data_doc(["a" * 64, "b" * 64]), _data_doc(["a" * 64, "b" * 64])).rows
    # the first entries agree; the second entry's file changed: the refusal names that case, not the task's first
    base, new = _data_doc(["a" * 64, "b" * 64]), _data_doc(["a" * 64, "c" * 64])
    with pytest.raises(CompareError) as err:
        compare(base, new)
    assert "case mod:Series-path=f1.csv/T5/lstm/h8/s0" in str(err.value)
    assert f"sha256 {'b' * 64} vs {'c' * 64}" in str(err.value)
    save_atomic(tmp_path / "base.json", base)
    save_atomic(tmp_path / "new.json", new)
    result = runner.invoke(app, ["compare", str(tmp_path / "base.json"), str(tmp_path / "new.json")])
    assert "different data for task mod:Series, case mod:Series-path=f1.csv" in _one_error(result)


def test_ab_refuses_sides_whose_data_hash_differs():

    def side(sha: str) -> dict:
        return {"walk/T3/lstm/h4": {"task": "walk", "data": {"dataset": "walks", "sha256": sha}}}

    check_sides_data(side("a" * 64), side("a" * 64))
    check_sides_data(side("a" * 64), {})  # a side from before the data records: nothing to compare
    with pytest.raises(AbError, match=f"case walk/T3/lstm/h4 \\(sha256 {'a' * 64} vs {'b' * 64}\\)"):
        check_sides_data(side("a" * 64), side("b" * 64))


@pytest.mark.processes
def test_ab_stops_before_timing_when_the_sides_read_other_data(plugin_dir, write_suite, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", f"{plugin_dir()}:{ROOT}")
    path = _suite(write_suite, '{task: "tptasks:WalkSign", seq_len: 3}')
    base, new = Side("base", env={"WALK_SHA": "a" * 64}), Side("new", env={"WALK_SHA": "b" * 64})
    with pytest.raises(AbError, match="different data for task tptasks:WalkSign, case tptasks:WalkSign/T3/lstm/h4"):
        run_ab(str(path), base, new, AbOptions(pairs=1, seconds=0.2))


def test_claims_count_a_real_plugin_task_as_real_data():
    record = make_case("lstm", "adding", 5)
    stated = {"qualified_name": "mod.Series", "causal": True, "output_kind": "sequence", "real": True}
    record.update(id="mod:Series/T5/lstm/h8/s0", task="mod:Series", task_plugin={"task": "mod:Series", **stated})
    found = context(document([record]), ["lstm"])
    assert found["plugin_real_tasks"] == ["mod:Series"]
    findings = (Finding("mod:Series T5 h8", SUPPORTED, ()), Finding("adding T5 h8", SUPPORTED, ()))
    result = ClaimResult(CLAIMS["bilstm_better"], SUPPORTED, "", findings, found)
    assert result.by_data() == {"real": (SUPPORTED, ("mod:Series",)), "synthetic": (SUPPORTED, ("adding",))}
