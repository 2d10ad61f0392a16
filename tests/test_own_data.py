"""The tasks over the user's files: `series` (numeric CSV) and `text` (labelled texts), on tiny files in tmp_path."""

from __future__ import annotations

import copy
import importlib.util
import io
import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from data_files import write_series_csv, write_text_csv
from helpers import learning, rnnbench_env
from results_factory import case as make_case
from results_factory import document
from rich.console import Console
from typer.testing import CliRunner

from rnnbench.catalog import missing_extra
from rnnbench.cli.main import app
from rnnbench.render.recap import recap_table
from rnnbench.run.runner import run_case
from rnnbench.suite.expand import load_suite
from rnnbench.tasks.data import eval_batch, train_batches
from rnnbench.tasks.series import Series
from rnnbench.tasks.tables import DataError
from rnnbench.tasks.text import Text, macro_f1
from rnnbench.tasks.text_data import tokenize

runner = CliRunner()

SUITE = """
name: own
seeds: [0]
device: cpu
defaults:
  hidden_size: 8
  batch_size: 8
  train: {{max_steps: 4, max_seconds: 5, eval_every: 2, eval_size: 32}}
  timing: {{warmup: 1, min_repeats: 3, max_repeats: 4, max_seconds: 0.1}}
  inference: {{batch_sizes: [1, 8]}}
models: [lstm, gru]
tasks:
  - {task}
"""


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def numbers_csv(path: Path, values, column: str = "y") -> Path:
    return write(path, [column, *(f"{v}" for v in values)])


# --- series: baselines, normalization, windows ------------------------------------------------


def test_series_baselines_in_closed_form(tmp_path):
    """y = row index: persistence misses by j at j steps ahead, seasonal (k=2) by 2, the train mean by its distance."""
    path = numbers_csv(tmp_path / "line.csv", range(20))
    task = Series(seq_len=3, path=str(path), column="y", horizon=2, season=2, split=[0.5, 0.5])
    assert task.parts.sizes() == {"train": 10, "test": 10} and task.n_test == 6  # starts 10..15
    truth = np.array([[s + 3, s + 4] for s in range(10, 16)], dtype=float)
    assert task.baselines["persistence"] == pytest.approx({"mse": 2.5, "mae": 1.5})
    assert task.baselines["seasonal"] == pytest.approx({"mse": 4.0, "mae": 2.0})
    mean = 4.5  # of rows 0..9
    assert task.baselines["train_mean"] == pytest.approx(
        {"mse": float(np.mean((truth - mean) ** 2)), "mae": float(np.mean(np.abs(truth - mean)))}
    )
    assert task.chance == pytest.approx(2.5)
    held = task.held_out(100, torch.Generator())
    persistence = held.inputs[:, -1, :].repeat(1, 2)  # normalized last value, for both steps ahead
    result = task.evaluate(persistence, held)
    assert result.metric == pytest.approx(2.5, rel=1e-5) and result.extra is not None
    assert result.extra["mse_ratio"] == pytest.approx(1.0) and result.extra["mae"] == pytest.approx(1.5, rel=1e-5)
    assert not result.solved
    assert task.evaluate(held.targets, held).solved  # a perfect forecast is solved


def test_series_leakage_no_test_row_in_normalization_or_any_training_window(tmp_path):
    """The test part shifted by +1000: normalization and every training window are unchanged by it."""
    rng = np.random.default_rng(0)
    values = rng.normal(size=100)
    plain = numbers_csv(tmp_path / "plain.csv", values)
    shifted = numbers_csv(tmp_path / "shifted.csv", np.concatenate([values[:80], values[80:] + 1000]))
    options = {"column": "y", "split": [0.7, 0.1, 0.2]}
    a, b = Series(seq_len=5, path=str(plain), **options), Series(seq_len=5, path=str(shifted), **options)
    assert np.array_equal(a.scaling.mean, b.scaling.mean) and np.array_equal(a.scaling.std, b.scaling.std)
    assert a.scaling.mean[0] == pytest.approx(values[:70].mean())
    # every training window and target, whether streamed or pooled, comes from rows 0..69
    stream = train_batches(b, b.n_train, seed=0)
    pool = next(train_batches(b, b.n_train, seed=0, train_size=b.n_train))
    assert torch.equal(
        next(train_batches(a, a.n_train, seed=0)).inputs, next(train_batches(b, b.n_train, seed=0)).inputs
    )
    for batch in (next(stream), pool):
        seen = torch.cat([batch.inputs.flatten(), batch.targets.flatten()]) * b.target_std + b.target_mean
        assert seen.max().item() < 100  # no shifted row
    assert len(torch.unique(next(stream).inputs[:, 0, 0])) == b.n_train == 70 - 5 - 1 + 1
    held = eval_batch(b, 1000, seed=0)
    assert (held.targets * b.target_std + b.target_mean).min().item() > 900  # scored on the test part only


def test_series_windows_are_views_of_one_float32_array(tmp_path):
    task = Series(seq_len=6, path=str(write_series_csv(tmp_path)), columns=["units", "temp"], target="units")
    inputs, targets = task.windows()
    base = task.values.untyped_storage().data_ptr()
    assert task.values.dtype == torch.float32 and task.values.shape == (120, 2)
    assert inputs.untyped_storage().data_ptr() == base and targets.untyped_storage().data_ptr() == base
    pool = task.pool(10, torch.Generator())
    assert pool.inputs.untyped_storage().data_ptr() == base
    assert torch.equal(inputs[7], task.values[7:13]) and torch.equal(targets[7], task.values[13:14, 0])


def test_series_train_size_is_the_most_recent_history(tmp_path):
    task = Series(seq_len=4, path=str(numbers_csv(tmp_path / "s.csv", range(50))), column="y", split=[0.8, 0.2])
    pool = task.pool(5, torch.Generator())
    rows = pool.inputs[:, 0, 0] * task.target_std + task.target_mean
    assert rows.round().tolist() == [31, 32, 33, 34, 35]  # the last 5 windows of rows 0..39 (targets up to row 39)


def test_missing_values_drop_and_interpolate_within_a_part(tmp_path):
    values = [str(float(i)) for i in range(20)]
    values[3] = ""  # inside the train part
    values[16] = ""  # the first row of the test part (rows 16..19 with split [0.8, 0.2])
    path = write(tmp_path / "gaps.csv", ["y", *values])
    with pytest.raises(DataError, match=r"gaps.csv: row 4 \(line 5\), column 'y': missing value"):
        Series(seq_len=2, path=str(path), column="y", split=[0.8, 0.2])
    dropped = Series(seq_len=2, path=str(path), column="y", split=[0.8, 0.2], missing="drop")
    assert dropped.rows_used == 18 and dropped.data_record()["rows_read"] == 20
    filled = Series(seq_len=2, path=str(path), column="y", split=[0.8, 0.2], missing="interpolate")
    rows = filled.values[:, 0] * filled.target_std + filled.target_mean
    assert rows[3].item() == pytest.approx(3.0)  # between its neighbours
    assert rows[16].item() == pytest.approx(17.0)  # from the test part alone, not from the train's 15
    assert filled.data_record()["rows_filled"] == 2


# --- text: split, vocabulary, metrics ----------------------------------------------------------


def unique_words_csv(path: Path, rows: int = 60) -> Path:
    """Each text has a word of its own (w<i>) and a word of its label: test texts hold words no train text has."""
    labels = ["a", "b", "c"]
    return write(path, ["text,label"] + [f"w{i} {labels[i % 3]}x,{labels[i % 3]}" for i in range(rows)])


def test_text_vocabulary_comes_from_the_train_split_only(tmp_path):
    task = Text(seq_len=4, path=str(unique_words_csv(tmp_path / "t.csv")), text="text", label="label", tokens="word")
    train_rows, test_rows = task.parts["train"], task.parts["test"]
    assert set(task.vocabulary) == {f"w{i}" for i in train_rows} | {"ax", "bx", "cx"}
    held = task.held_out(100, torch.Generator())
    unknown_step = torch.zeros(task.input_size)
    unknown_step[0] = 1.0
    assert all(torch.equal(seq[-2], unknown_step) for seq in held.inputs)  # each test text's own word: unknown
    assert len(test_rows) == 12 and not set(train_rows) & set(test_rows)


def test_text_split_is_stratified_seeded_and_counted(tmp_path):
    path = write_text_csv(tmp_path, rows=100)  # labels in turn: 34 net, 33 db, 33 ui
    task = Text(seq_len=8, path=str(path), text="body", label="team")
    assert task.counts == {
        "db": {"train": 26, "test": 7},
        "net": {"train": 27, "test": 7},
        "ui": {"train": 26, "test": 7},
    }
    again = Text(seq_len=8, path=str(path), text="body", label="team")
    other = Text(seq_len=8, path=str(path), text="body", label="team", split_seed=1)
    assert all(np.array_equal(task.parts[k], again.parts[k]) for k in task.parts)
    assert not np.array_equal(np.sort(task.parts["test"]), np.sort(other.parts["test"]))
    # chance: the test share of the train split's majority class (net, 27 of 79)
    assert task.labels[task.majority] == "net" and task.chance == pytest.approx(7 / 21)


def test_text_left_pads_and_truncates_like_the_variable_length_tasks(tmp_path):
    path = write(tmp_path / "t.tsv", ["text\tlabel", "ab\tx", "abcdef\ty", "ba\tx", "fedcba\ty"] * 1)
    task = Text(seq_len=4, path=str(path), text="text", label="label", split=[0.5, 0.5])
    assert task.left_padded and task.truncated == 2  # the two six-letter texts
    batch = task.sample(2, torch.Generator().manual_seed(0))
    real = (batch.inputs != 0).any(dim=-1)
    assert torch.equal(real.sum(dim=1), batch.lengths)
    assert all(bool(r[-int(n) :].all()) and not bool(r[: 4 - int(n)].any()) for r, n in zip(real, batch.lengths))
    assert tokenize("Hello, World!", "word") == ["hello", ",", "world", "!"]


def test_macro_f1_in_closed_form():
    truth = torch.tensor([0, 0, 1, 1, 2])
    predicted = torch.tensor([0, 1, 1, 1, 0])
    # class 0: tp 1, fp 1, fn 1 -> 0.5; class 1: tp 2, fp 1, fn 0 -> 0.8; class 2: tp 0 -> 0
    assert macro_f1(predicted, truth, 3) == pytest.approx((0.5 + 0.8 + 0.0) / 3)


def test_jsonl_labels_are_strings(tmp_path):
    rows = [json.dumps({"body": f"text {i}", "team": i % 2}) for i in range(20)]
    task = Text(seq_len=6, path=str(write(tmp_path / "t.jsonl", rows)), text="body", label="team")
    assert task.labels == ["0", "1"] and task.output_size == 2


# --- same seed, same result --------------------------------------------------------------------


def test_same_seed_same_splits_same_result(tmp_path, write_suite):
    series, texts = write_series_csv(tmp_path), write_text_csv(tmp_path)
    entries = (
        f"{{task: series, path: {series.name}, column: units, seq_len: 6}}",
        f"{{task: text, path: {texts.name}, text: body, label: team, seq_len: 8}}",
    )
    for entry in entries:
        _, cases, _ = load_suite(write_suite(SUITE.format(task=entry)))
        first, again = run_case(cases[0]), run_case(cases[0])
        assert first["status"] == "ok", first.get("error")
        assert learning(first) == learning(again) and first["data"] == again["data"]
        assert first["data"]["sha256"] and first["data"]["split"] and first["train"]["final"]["metrics"]


# --- bad input: one line naming the file and field, exit 2, no results file --------------------


def bad_files(folder: Path) -> dict[str, tuple[str, str]]:
    """name -> (task entry, what the one line must say)."""
    write(folder / "word.csv", ["y", "1", "2", "x3", "4"])
    write(folder / "gap.csv", ["y", "1", "", "3"])
    numbers_csv(folder / "short.csv", range(12))
    write(folder / "unsorted.csv", ["t,y", *(f"{t},{t}" for t in (1, 2, 3, 5, 4, 6, 7, 8, 9, 10, 11, 12))])
    write(folder / "singleton.csv", ["text,label", *(f"t{i},a" for i in range(9)), "lonely,b"])
    write(folder / "notext.csv", ["text,label", "hello,a", ",b"])
    write_series_csv(folder)
    return {
        "missing file": ("{task: series, path: nowhere.csv, column: y, seq_len: 2}", "nowhere.csv: no such file"),
        "missing column": ("{task: series, path: series.csv, column: load, seq_len: 2}", "no column 'load'"),
        "not a number": (
            "{task: series, path: word.csv, column: y, seq_len: 1}",
            "word.csv: row 3 (line 4), column 'y': 'x3' is not a number",
        ),
        "missing value": (
            "{task: series, path: gap.csv, column: y, seq_len: 1}",
            "gap.csv: row 2 (line 3), column 'y': missing value",
        ),
        "too few rows": ("{task: series, path: short.csv, column: y, seq_len: 4}", "short.csv: 12 rows split 8/1/3"),
        "unsorted time": (
            "{task: series, path: unsorted.csv, column: y, time: t, seq_len: 1, split: [0.5, 0.5]}",
            "unsorted.csv: row 5 (line 6), column 't': 4 comes before the previous row's 5",
        ),
        "label only in test": (
            "{task: text, path: singleton.csv, text: text, label: label, seq_len: 4, split: [0.4, 0.6]}",
            "singleton.csv: label 'b' has 1 row(s)",
        ),
        "missing text": ("{task: text, path: notext.csv, text: text, label: label, seq_len: 4}", "column 'text'"),
        "train_size over the windows": (
            "{task: series, path: series.csv, column: units, seq_len: 4, train_size: 500}",
            "train_size 500 is more than the 80 training examples",
        ),
    }


@pytest.mark.parametrize("command", ["validate", "run", "ab"])
@pytest.mark.parametrize(
    "case",
    [
        "missing file",
        "missing column",
        "not a number",
        "missing value",
        "too few rows",
        "unsorted time",
        "label only in test",
        "missing text",
        "train_size over the windows",
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_results_file(case, command, tmp_path, write_suite):
    entry, message = bad_files(tmp_path)[case]
    suite = write_suite(SUITE.format(task=entry))
    out = tmp_path / "results.json"
    flags = {"run": ["-o", str(out), "-q"], "ab": ["--out", str(out)]}.get(command, [])
    result = runner.invoke(app, [command, str(suite)] + flags)  # ab fails before it starts a side
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "tasks[0]" in lines[0], lines
    assert "Traceback" not in result.output and not out.exists()


def test_a_suite_over_files_without_pandas_names_the_extra(write_suite, monkeypatch, tmp_path):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a, **k: None if name == "pandas" else real_find_spec(name, *a, **k)
    )
    assert missing_extra("series") is not None and missing_extra("text") is not None
    write_series_csv(tmp_path)
    suite = write_suite(SUITE.format(task="{task: series, path: series.csv, column: units, seq_len: 4}"))
    result = runner.invoke(app, ["validate", str(suite)])
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and "pip install 'rnnbench[data]'" in lines[0], lines


def test_validate_shows_the_data_before_training(tmp_path, write_suite):
    write_series_csv(tmp_path)
    write_text_csv(tmp_path)
    entries = textwrap.dedent("""\
        {task: series, path: series.csv, column: units, seq_len: 6, season: 5}
          - {task: text, path: texts.csv, text: body, label: team, seq_len: 8}""")
    result = runner.invoke(app, ["validate", str(write_suite(SUITE.format(task=entries)))])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "rows train 84, validation 12, test 24; windows train 78, validation 6, test 18" in out
    assert "baseline persistence: MSE" in out and "baseline seasonal" in out and "baseline train_mean" in out
    assert "3 classes: db 40, net 40, ui 40" in out and "chance" in out and "split train 96, test 24" in out
    assert "series-series.csv-season=5/T6/lstm/h8/s0" in out  # the id names the file, never its folder


def test_parquet_without_pyarrow_is_one_line(tmp_path, monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a, **k: None if name == "pyarrow" else real_find_spec(name, *a, **k)
    )
    path = tmp_path / "data.parquet"
    path.write_bytes(b"PAR1")
    with pytest.raises(DataError, match=r"data.parquet: reading Parquet needs pyarrow, which is not installed"):
        Series(seq_len=2, path=str(path), column="y")


def test_differenced_series_scores_on_the_values(tmp_path):
    """y = i + (i mod 2): changes alternate 2, 0. Forecasting no change is persistence; the true changes are perfect."""
    path = numbers_csv(tmp_path / "steps.csv", [i + i % 2 for i in range(40)])
    task = Series(seq_len=4, path=str(path), column="y", horizon=2, split=[0.5, 0.5], difference=True)
    mean = 20 / 19  # rows 0..19 hold 19 changes: ten 2s, nine 0s
    std = math.sqrt(40 / 19 - mean**2)
    assert task.scaling.mean[0] == pytest.approx(mean) and task.scaling.std[0] == pytest.approx(std)
    assert task.n_test == 19 - 4 - 2 + 1  # the test part's 20 rows hold 19 changes
    # persistence: one step ahead misses by 2 in every other window, two steps ahead always by 2: (2 + 4) / 2
    assert task.chance == pytest.approx(3.0)
    held = task.held_out(100, torch.Generator())
    no_change = torch.full_like(held.targets, -mean / std)
    result = task.evaluate(no_change, held)
    assert result.metric == pytest.approx(3.0, rel=1e-5) and result.extra is not None
    assert result.extra["mse_ratio"] == pytest.approx(1.0, rel=1e-5)
    assert task.evaluate(held.targets, held).metric == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{task: series, path: s.csv, seq_len: 4}", "give either column (one series) or columns (with target)"),
        ("{task: series, path: s.csv, columns: [a, b], seq_len: 4}", "target: name the forecast column"),
        ("{task: series, path: s.csv, column: a, split: [0.5, 0.6], seq_len: 4}", "sum to 1"),
        ("{task: series, path: s.csv, column: a, season: 8, seq_len: 4}", "below series's minimum of 8"),
        ("{task: text, path: t.csv, text: body, label: body, seq_len: 4}", "text and label name the same column"),
    ],
)
def test_bad_options_are_one_line_suite_errors(entry, message, write_suite):
    result = runner.invoke(app, ["validate", str(write_suite(SUITE.format(task=entry)))])
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and message in lines[0] and "tasks[0]" in lines[0], lines


@pytest.mark.parametrize(
    ("suite", "expected"),
    [
        ("examples/series/co2.yaml", "2284 rows used of 2284"),
        ("examples/text/names.yaml", "4832 texts"),
    ],
)
def test_the_shipped_examples_validate_from_another_folder(suite, expected, monkeypatch, tmp_path):
    path = Path(__file__).resolve().parents[1] / suite
    monkeypatch.chdir(tmp_path)  # `path:` in the suite is read from the suite's folder, not from here
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert expected in result.output


@pytest.mark.processes
def test_workers_in_another_folder_read_the_same_files(tmp_path):
    """Two local workers, started from a folder that is neither the suite's nor the data's: same data, same results."""
    data = tmp_path / "data"
    data.mkdir()
    write_series_csv(data)
    write_text_csv(data)
    entries = textwrap.dedent("""\
        {task: series, path: data/series.csv, column: units, seq_len: 6}
          - {task: text, path: data/texts.csv, text: body, label: team, seq_len: 8}""")
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE.format(task=entries))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outs = {}
    for name, workers in (("serial", []), ("workers", ["--workers", "2"])):
        outs[name] = tmp_path / f"{name}.json"
        done = subprocess.run(
            [sys.executable, "-m", "rnnbench", "run", str(suite), "-q", "-o", str(outs[name]), *workers],
            cwd=elsewhere,
            env=rnnbench_env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
    serial, parallel = (json.loads(outs[name].read_text())["cases"] for name in ("serial", "workers"))
    assert [c["id"] for c in serial] == [c["id"] for c in parallel] and len(serial) == 4
    for a, b in zip(serial, parallel):
        assert a["status"] == b["status"] == "ok" and a["data"] == b["data"]
        assert learning(a) == learning(b)


def test_the_recap_shows_further_metrics_only_where_a_task_has_them():
    plain = document([make_case(arch, seed=s) for arch in ("lstm", "gru") for s in range(3)])
    with_f1 = copy.deepcopy(plain)
    for c, f1 in zip(with_f1["cases"], (0.5, 0.7, 0.6, 0.2, 0.4, 0.3)):
        c["train"]["final"]["metrics"] = {"macro_f1": f1}

    def shown(doc) -> str:
        console = Console(file=io.StringIO(), width=200)
        console.print(recap_table(doc))
        return console.file.getvalue()  # type: ignore[attr-defined]

    assert "further metrics" not in shown(plain)
    out = shown(with_f1)
    row = next(line for line in out.splitlines() if "further metrics" in line)
    assert "macro_f1 0.600" in row and "macro_f1 0.300" in row  # the median of each model's three seeds
