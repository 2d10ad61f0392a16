"""`rnnbench ab`'s numerics check: the comparison maths, its rows and notes, older workers, and real plugin sides."""

from __future__ import annotations

import copy
import io
import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
from helpers import ROOT, rnnbench_run
from rich.console import Console

from rnnbench.compare.ab import AbOptions, comparison_of
from rnnbench.compare.comparison import CompareOptions, Comparison
from rnnbench.compare.numerics import DEFAULT_ATOL, DEFAULT_RTOL, difference, model_check, tolerance_text
from rnnbench.compare.output_check import CHANGED, CHECK_BATCH, add_numerics, check_outputs
from rnnbench.compare.rows import Row
from rnnbench.export.registry import export_comparison
from rnnbench.models.registry import MODELS
from rnnbench.render.compare import comparison_renderable
from rnnbench.tasks.registry import TASKS

ENTRY = "adding/T5/net/h8|train"

# --- the comparison maths: exact answers on small lists --------------------------------------------


def test_difference_exact_answers():
    # values exact in binary: abs gaps 0.5, 0, 0.25; relative 0.25, 0, 0.5
    d = difference([2.0, -4.0, 0.5], [2.5, -4.0, 0.25], atol=0.0, rtol=0.0)
    assert (d.max_abs, d.max_rel, d.beyond, d.n) == (0.5, 0.5, 2, 3)
    same = difference([1.0, -3.0], [1.0, -3.0], atol=0.0, rtol=0.0)
    assert (same.max_abs, same.max_rel, same.beyond, same.changed) == (0.0, 0.0, 0, False)


@pytest.mark.parametrize(
    ("base", "new", "beyond"),
    [
        (2.0, 3.25, 0),  # gap 1.25 = atol 0.25 + rtol 0.5 * |2|: on the edge is within (as numpy.allclose)
        (2.0, 3.5, 1),
        (-2.0, -3.25, 0),  # |BASE|, not BASE
        (-2.0, -0.5, 1),
        (0.0, 0.25, 0),  # at zero only atol counts
        (0.0, 0.5, 1),
    ],
)
def test_tolerance_edges(base, new, beyond):
    assert difference([base], [new], atol=0.25, rtol=0.5).beyond == beyond


def test_zero_base_is_infinitely_relative_but_may_be_within_atol():
    d = difference([0.0], [1e-7], atol=1e-6, rtol=0.0)
    assert d.max_rel == math.inf and d.max_abs == 1e-7 and not d.changed


def test_nan_and_infinity():
    nan, inf = math.nan, math.inf
    assert difference([nan, inf, -inf], [nan, inf, -inf], 0.0, 0.0).beyond == 0  # nothing changed
    appeared = difference([1.0], [nan], 1.0, 1.0)
    assert appeared.beyond == 1 and appeared.max_abs == inf
    assert difference([inf], [-inf], 1.0, 1.0).beyond == 1
    assert difference([nan], [0.0], 1.0, 1.0).max_rel == inf


def test_lengths_must_match():
    with pytest.raises(ValueError, match="2 BASE values against 1"):
        difference([1.0, 2.0], [1.0], 0.0, 0.0)


def _answer(values: list[float], loss: float, shape: list[int] | None = None) -> dict[str, Any]:
    return {"shape": shape or [len(values), 1], "values": values, "loss": loss}


def test_model_check_verdicts():
    same = model_check(_answer([1.0, 2.0], 0.5), _answer([1.0, 2.0], 0.5), 0.0, 0.0)
    assert same["status"] == "same" and same["reason"] == "" and same["outputs"]["max_abs"] == 0.0
    loss_only = model_check(_answer([1.0], 0.5), _answer([1.0], 0.75), 0.0, 0.0)
    assert loss_only["status"] == "changed" and loss_only["reason"] == "loss 1 of 1 beyond"
    assert loss_only["loss"]["max_abs"] == 0.25 and loss_only["loss"]["max_rel"] == 0.5
    reshaped = model_check(_answer([1.0, 2.0], 0.5), _answer([1.0, 2.0], 0.5, [1, 2]), 0.0, 0.0)
    assert reshaped["status"] == "changed" and reshaped["reason"] == "output shape [2, 1] → [1, 2]"
    base_failed = model_check({"error": "boom"}, {"error": "other"}, 0.0, 0.0)
    assert base_failed == {"status": "not comparable", "reason": "base side: boom"}
    new_failed = model_check(_answer([1.0], 0.5), {"error": "cannot load"}, 0.0, 0.0)
    assert new_failed == {"status": "not comparable", "reason": "new side: cannot load"}


def test_tolerance_text():
    assert tolerance_text(1e-6, 1e-5) == "|NEW − BASE| ≤ 1e-06 + 1e-05·|BASE|"


def test_default_tolerance_separates_float32_rounding_from_a_small_change():
    """Fused kernel against a float64 copy (rounding only) passes; head weights scaled by 1 + 1e-3 do not."""
    task = TASKS["copy"](seq_len=50)
    sizes = dict(input_size=task.input_size, output_size=task.output_size, output_kind=task.output_kind)
    for arch in ("lstm", "gru"):
        torch.manual_seed(0)
        model = MODELS[arch](**sizes, hidden_size=64).eval()
        changed = copy.deepcopy(model)
        x = task.sample(CHECK_BATCH, torch.Generator().manual_seed(1)).inputs
        with torch.no_grad():
            [m for m in changed.modules() if isinstance(m, torch.nn.Linear)][-1].weight.mul_(1 + 1e-3)
            y = model(x).flatten().tolist()
            y64 = copy.deepcopy(model).double()(x.double()).float().flatten().tolist()
            y_changed = changed(x).flatten().tolist()
        rounding = difference(y64, y, DEFAULT_ATOL, DEFAULT_RTOL)
        assert 0 < rounding.max_abs and not rounding.changed, (arch, rounding)
        assert difference(y, y_changed, DEFAULT_ATOL, DEFAULT_RTOL).changed, arch


# --- the orchestrator's side, with stand-in workers ------------------------------------------------


class FakeWorker:
    """Answers `outputs` requests from a script; records what it was asked."""

    def __init__(self, answer: dict[str, Any]) -> None:
        self.reply, self.asked = answer, []

    def answer(self, request: dict[str, Any], waiting_for: str) -> dict[str, Any]:
        self.asked.append(request)
        return self.reply


ENTRIES = [(ENTRY, "net"), ("adding/T5/net/h8|b1", "net")]


def test_an_older_base_worker_makes_the_check_not_available():
    base, new = FakeWorker({"error": "unknown command 'outputs'"}), FakeWorker({})
    record = check_outputs(base, new, ENTRIES, 1e-6, 1e-5)
    assert record["status"] == "not available: base side: unknown command 'outputs' (its rnnbench predates the check)"
    assert record["models"] == {} and new.asked == []
    assert base.asked[0]["entries"] == [ENTRY] and base.asked[0]["max_batch"] == CHECK_BATCH  # train entries only


def test_an_older_new_worker_makes_the_check_not_available():
    base = FakeWorker({"outputs": {ENTRY: {"file": "/x/model0.pt", **_answer([1.0], 0.5)}}})
    new = FakeWorker({"error": "unknown command 'outputs'"})
    record = check_outputs(base, new, ENTRIES, 1e-6, 1e-5)
    assert record["status"].startswith("not available: new side: unknown command")
    assert new.asked == [{"cmd": "outputs", "load": {ENTRY: "/x/model0.pt"}}]


def test_check_outputs_judges_each_model():
    base = FakeWorker({"outputs": {ENTRY: {"file": "/x/model0.pt", **_answer([1.0, 2.0], 0.5)}}})
    new = FakeWorker({"outputs": {ENTRY: _answer([1.0, 2.5], 0.5)}})
    record = check_outputs(base, new, ENTRIES, 1e-6, 1e-5)
    check = record["models"][ENTRY]
    assert record["status"] == "checked" and check["label"] == "net" and check["status"] == "changed"
    assert check["outputs"]["max_abs"] == 0.5 and check["outputs"]["max_rel"] == 0.25


def _comparison_with(record: dict[str, Any]) -> Comparison:
    comparison = Comparison("base", "new", "s", CompareOptions())
    for metric, label in (("step", "net"), ("step", "other")):
        config = ENTRY.rsplit("|", 1)[0] if label == "net" else "adding/T5/other/h8"
        comparison.rows.append(Row(config, label, metric, "timing", "ms", 1.0, 1.0, ratio=1.0))
    add_numerics(comparison, record)
    return comparison


def _record(status: str, **check: Any) -> dict[str, Any]:
    model = {"label": "net", "status": status, "reason": "", "outputs": None, "loss": None, **check}
    return {"atol": 1e-6, "rtol": 1e-5, "batch": 8, "status": "checked", "models": {ENTRY: model}}


def test_a_changed_model_is_a_gating_row_in_every_format():
    figures = {"max_abs": 2.5e-5, "max_rel": 1e-3, "beyond": 3, "n": 8}
    comparison = _comparison_with(_record("changed", reason="outputs 3 of 8 beyond", outputs=figures))
    row = comparison.rows[1]  # beside the model's own rows, before the next model's
    assert (row.label, row.metric, row.verdict, row.regression) == ("net", "outputs", CHANGED, True)
    assert comparison.regressions == [row] and "2.5e-05" in row.reason
    assert any("max |Δ| 2.5e-05 (rel 0.001): outputs changed" in note for note in comparison.notes)
    md = export_comparison(comparison, "md")
    assert "#### Regressions" in md and CHANGED in md
    shown = json.loads(export_comparison(comparison, "json"))
    assert shown["regressed"] and shown["numerics"]["models"][ENTRY]["status"] == "changed"
    console = Console(file=io.StringIO(), width=120)
    console.print(comparison_renderable(comparison))
    assert CHANGED in console.file.getvalue()


def test_same_and_not_comparable_are_notes_not_rows():
    figures = {"max_abs": 0.0, "max_rel": 0.0, "beyond": 0, "n": 8}
    same = _comparison_with(_record("same", outputs=figures, loss=figures))
    assert not same.regressions and len(same.rows) == 2
    assert any(note.endswith("outputs max |Δ| 0 (rel 0), loss max |Δ| 0 (rel 0): same") for note in same.notes)
    lost = _comparison_with(_record("not comparable", reason="new side: cannot load the base's weights: X"))
    assert not lost.regressions
    assert any("not comparable: new side: cannot load the base's weights: X" in note for note in lost.notes)


# --- end to end: two plugin folders, real workers --------------------------------------------------

NET = """
from torch import nn


class Net(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, batch_first):
        super().__init__()
        self.{name} = nn.Linear(input_size, hidden_size)

    def forward(self, x):
        return self.{name}(x).tanh() * {scale}
"""

SUITE = """
name: tiny-numerics
device: cpu
threads: 1
seeds: [0]
defaults:
  hidden_size: 8
  batch_size: 8
  train: {max_steps: 2, max_seconds: 5, eval_every: 2, eval_size: 16}
  timing: {warmup: 1, min_repeats: 5, max_repeats: 12, max_seconds: 0.01, target_rel_ci: 0.05}
  inference: {batch_sizes: [1]}
models: [{arch: "mymodel:Net", label: net}]
tasks:
  - {task: adding, seq_len: 5}
"""


def _plugin(folder: Path, name: str = "proj", scale: str = "1.0") -> str:
    folder.mkdir(parents=True)
    (folder / "mymodel.py").write_text(NET.format(name=name, scale=scale))
    return str(folder)


def _ab(suite: Path, out: Path, base: str, new: str) -> tuple[int, dict[str, Any]]:
    """A short run whose timings cannot gate (threshold 500 %): its exit code is the numerics check's.
    Returns the exit code and the --out document, with the printed JSON report under "shown"."""
    args = ["ab", str(suite), "--pairs", "2", "--seconds", "1"]
    args += ["--threshold", "500%", "--base-path", base, "--new-path", new, "--fail-on-regression"]
    done = rnnbench_run(*args, "--format", "json", "--out", str(out))
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, {**json.loads(out.read_text()), "shown": json.loads(done.stdout)}


def _changed_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in doc["rows"] if r["verdict"] == CHANGED]


@pytest.fixture
def suite(write_suite) -> Path:
    return write_suite(SUITE)


@pytest.mark.processes
def test_a_perturbed_new_side_is_flagged_and_aa_is_not(suite, tmp_path):
    base = _plugin(tmp_path / "base")
    new = _plugin(tmp_path / "new", scale="(1 + 1e-3)")
    rc, doc = _ab(suite, tmp_path / "ab.json", base, new)
    check = doc["numerics"]["models"][ENTRY]
    assert check["status"] == "changed" and check["outputs"]["n"] == 8
    assert _changed_rows(doc) and _changed_rows(doc["shown"]) and rc == 1
    rc, doc = _ab(suite, tmp_path / "aa.json", base, base)
    check = doc["numerics"]["models"][ENTRY]
    assert check["status"] == "same" and check["outputs"]["n"] == 8 and check["loss"]["n"] == 1
    assert not _changed_rows(doc) and not _changed_rows(doc["shown"]) and rc == 0


@pytest.mark.processes
def test_a_new_side_that_cannot_load_the_weights_is_not_comparable(suite, tmp_path):
    rc, doc = _ab(suite, tmp_path / "ab.json", _plugin(tmp_path / "base"), _plugin(tmp_path / "new", name="renamed"))
    check = doc["numerics"]["models"][ENTRY]
    assert check["status"] == "not comparable" and "cannot load the base's weights" in check["reason"]
    assert "renamed" in check["reason"] and not _changed_rows(doc) and rc == 0


@pytest.mark.processes
def test_an_older_rnnbench_on_the_base_side_runs_without_the_check(suite, tmp_path):
    older = tmp_path / "older"
    shutil.copytree(ROOT / "rnnbench", older / "rnnbench", ignore=shutil.ignore_patterns("__pycache__"))
    worker = older / "rnnbench" / "run" / "ab_worker.py"
    text = worker.read_text()
    assert 'cmd == "outputs"' in text, "the worker dispatches on the command's name"
    worker.write_text(text.replace('cmd == "outputs"', 'cmd == "outputs-not-yet"'))
    shutil.copy(_plugin(tmp_path / "plugin") + "/mymodel.py", older / "mymodel.py")
    rc, doc = _ab(suite, tmp_path / "ab.json", str(older), str(tmp_path / "plugin"))
    assert doc["sides"]["base"]["rnnbench_path"].startswith(str(older))
    assert doc["numerics"]["status"] == (
        "not available: base side: unknown command 'outputs' (its rnnbench predates the check)"
    )
    assert rc == 0 and doc["rows"] and not _changed_rows(doc)


@pytest.mark.processes
def test_bad_tolerance_is_one_line_naming_the_flag(suite):
    for flag, value in (("--atol", "abc"), ("--rtol", "-1"), ("--atol", "nan")):
        done = rnnbench_run("ab", str(suite), flag, value, timeout=60)
        assert done.returncode == 2 and flag in done.stderr and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def test_an_ab_document_without_the_check_has_no_numerics():
    comparison = comparison_of({"suite": "s.yaml", "pairs": []}, AbOptions())
    assert comparison.numerics == {} and not any(note.startswith("numerics") for note in comparison.notes)
    with_check = comparison_of({"suite": "s.yaml", "pairs": [], "numerics": _record("same")}, AbOptions())
    assert with_check.numerics["models"][ENTRY]["status"] == "same"
