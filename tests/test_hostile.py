"""Hostile input through the command line: every malformed suite or results file is one clear line and exit 2."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from results_factory import case, document
from typer.testing import CliRunner

from rnnbench.cli.main import app
from rnnbench.results.store import MAX_RESULTS_BYTES
from rnnbench.suite.files import MAX_SUITE_BYTES

cli = CliRunner()

BASE = "name: t\nmodels: [lstm]\ntasks: [{task: adding, seq_len: 5}]\n"
TASK = "tasks: [{task: adding, seq_len: 5}]\n"


def _laughs(levels: int = 9) -> str:
    """The "billion laughs" document: 10 aliases per level, 10^levels strings once expanded."""
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 10) + "]")
    return "\n".join(lines) + f"\nname: t\nmodels: [lstm]\n{TASK}description: *l{levels - 1}\n"


# (id, suite text, a fragment the one-line error must contain)
MALFORMED_SUITES = [
    ("unknown top-level key", BASE + "epochs: 3\n", "epochs: Extra inputs are not permitted"),
    ("unknown key in defaults", BASE + "defaults: {dropout: 0.1}\n", "defaults.dropout"),
    (
        "unknown key in defaults.optimizer",
        BASE + "defaults: {optimizer: {name: adam, momentum: 0.9}}\n",
        "defaults.optimizer.momentum",
    ),
    (
        "unknown key in defaults.inference",
        BASE + "defaults: {inference: {batch_size: [1]}}\n",
        "defaults.inference.batch_size",
    ),
    ("unknown key in a model entry", f"name: t\nmodels: [{{arch: lstm, dropout: 0.1}}]\n{TASK}", "models[0].dropout"),
    (
        "unknown key in a task's train",
        "name: t\nmodels: [lstm]\ntasks: [{task: adding, seq_len: 5, train: {max_step: 3}}]\n",
        "tasks[0].train.max_step",
    ),
    ("unknown matrix axis", BASE + "matrix: {dropout: [0.1]}\n", "matrix.dropout"),
    ("unknown key holding a newline", BASE + '"bad\\nkey": 1\n', "['bad\\nkey']: Extra inputs are not permitted"),
    ("seeds not a list", BASE + "seeds: zero\n", "seeds"),
    ("models a string", f"name: t\nmodels: lstm\n{TASK}", "models"),
    ("batch_size a list", BASE + "defaults: {batch_size: [4]}\n", "defaults.batch_size"),
    ("hidden_size a boolean", BASE + "defaults: {hidden_size: true}\n", "defaults.hidden_size"),
    ("lr a word", BASE + "defaults: {optimizer: {lr: fast}}\n", "defaults.optimizer.lr"),
    ("zero batch_size", BASE + "defaults: {batch_size: 0}\n", "defaults.batch_size: Input should be greater than 0"),
    ("negative seq_len", "name: t\nmodels: [lstm]\ntasks: [{task: adding, seq_len: -5}]\n", "tasks[0].seq_len"),
    ("zero eval_every", BASE + "defaults: {train: {eval_every: 0}}\n", "defaults.train.eval_every"),
    ("negative lr", BASE + "defaults: {optimizer: {lr: -0.1}}\n", "defaults.optimizer.lr"),
    ("no inference batch sizes", BASE + "defaults: {inference: {batch_sizes: []}}\n", "defaults.inference.batch_sizes"),
    ("NaN learning rate", BASE + "defaults: {optimizer: {lr: .nan}}\n", "finite number"),
    (
        "infinite time budget",
        BASE + "defaults: {train: {max_seconds: .inf}}\n",
        "defaults.train.max_seconds: Input should be a finite number",
    ),
    ("negative seed", BASE + "seeds: [-1]\n", "seeds[0]"),
    ("empty model list", f"name: t\nmodels: []\n{TASK}", "models: List should have at least 1 item"),
    ("empty task list", "name: t\nmodels: [lstm]\ntasks: []\n", "tasks: List should have at least 1 item"),
    ("no tasks at all", "name: t\nmodels: [lstm]\n", "tasks: Field required"),
    ("duplicate case ids", f"name: t\nmodels: [gru, gru]\n{TASK}", "duplicate case id adding/T5/gru/h64/s0"),
    ("duplicate seeds", BASE + "seeds: [0, 0]\n", "seeds must be distinct"),
    ("unknown model", f"name: t\nmodels: [lstmm]\n{TASK}", "unknown model 'lstmm'"),
    ("unknown task", "name: t\nmodels: [lstm]\ntasks: [{task: addition, seq_len: 5}]\n", "unknown task 'addition'"),
    (
        "bidirectional on reber",
        "name: t\nmodels: [bilstm]\ntasks: [{task: reber, seq_len: 20}]\n",
        "bidirectional bilstm on causal task reber",
    ),
    (
        "bidirectional on sine",
        "name: t\nmodels: [lstm, bigru]\ntasks: [{task: sine, seq_len: 20}]\n",
        "models[1] / tasks[0]: bidirectional bigru on causal task sine",
    ),
    (
        "seq_len below the task's minimum",
        "name: t\nmodels: [lstm]\ntasks: [{task: reber, seq_len: 3}]\n",
        "seq_len 3 is below reber's minimum of 9",
    ),
    (
        "matrix seq_len a boolean",
        BASE + "matrix: {seq_len: [true]}\n",
        "matrix.seq_len: True is not a positive integer",
    ),
    ("name that is a path", "name: ../../etc\nmodels: [lstm]\n" + TASK, "name: String should match pattern"),
    ("YAML syntax error", "name: t\nmodels: [lstm\ntasks: []\n", "invalid YAML at line 3"),
    ("tab indentation", "name: t\n\tmodels: [lstm]\n", "invalid YAML at line 2, column 1"),
    (
        "python/name tag",
        "name: !!python/name:os.system\n",
        "could not determine a constructor for the tag 'tag:yaml.org,2002:python/name:os.system'",
    ),
    (
        "duplicate key",
        BASE + "defaults: {hidden_size: 8}\ndefaults: {batch_size: 4}\n",
        "invalid YAML at line 5, column 1: duplicate key 'defaults'",
    ),
    ("two YAML documents", BASE + "---\n" + BASE, "but found another document"),
    ("billion laughs", _laughs(), "aliases expand it to more than 100000 nodes"),
    (
        "merge-key bomb",
        "m0: &m0 {a: 1}\n"
        + "".join(f"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}], k{i}: 1}}\n" for i in range(1, 30))
        + BASE,
        "aliases expand it",
    ),
    ("cyclic alias", f"name: t\nmodels: &loop [lstm, *loop]\n{TASK}", "an alias refers to a node that contains it"),
    ("deeply nested", BASE + "description: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 64 levels deep"),
    ("empty file", "", "a suite must be a YAML mapping"),
    ("only a comment", "# nothing here\n", "a suite must be a YAML mapping"),
    (
        "a list, not a mapping",
        "- lstm\n- gru\n",
        "a suite must be a YAML mapping (name:, models:, tasks:, …), not list",
    ),
    ("a bare scalar", "42\n", "not int"),
]


def _one_line_error(args: list[str], *fragments: str) -> str:
    result = cli.invoke(app, args)
    output = result.output.strip()
    assert result.exit_code == 2, output
    assert "Traceback" not in output and "\n" not in output, f"one line, no traceback: {output}"
    assert output.startswith("error: ")
    for fragment in fragments:
        assert fragment in output.replace("\n", "")
    return output


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("text, expected", [pytest.param(t, e, id=i) for i, t, e in MALFORMED_SUITES])
def test_malformed_suite_is_one_line_naming_file_and_field(tmp_path, command, text, expected):
    path = tmp_path / "suite.yaml"
    path.write_text(text)
    out = tmp_path / "results.json"
    started = time.monotonic()
    _one_line_error([command, str(path)] + (["--out", str(out)] if command == "run" else []), str(path), expected)
    assert time.monotonic() - started < 10, "refused at once, never expanded"
    assert not out.exists(), "nothing is run or written"


def test_python_object_tags_are_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "suite.yaml"
    path.write_text(f'!!python/object/apply:os.system ["touch {marker}"]\n')
    for command in ("validate", "run"):
        _one_line_error([command, str(path)], "invalid YAML at line 1", "could not determine a constructor")
    assert not marker.exists()


def _huge(tmp_path: Path) -> Path:
    path = tmp_path / "huge.yaml"
    path.write_text(BASE + ("# padding\n" * (MAX_SUITE_BYTES // 10 + 1)))
    return path


def _binary(tmp_path: Path) -> Path:
    path = tmp_path / "garbage.yaml"
    path.write_bytes(bytes(range(256)) * 8)
    return path


def _latin1(tmp_path: Path) -> Path:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(BASE.encode() + "description: café\n".encode("latin-1"))
    return path


def _nul(tmp_path: Path) -> Path:
    path = tmp_path / "nul.yaml"
    path.write_bytes(BASE.encode() + b"\x00\x00\x00")
    return path


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize(
    "make, expected",
    [
        (_huge, f"too large for a suite file (limit {MAX_SUITE_BYTES})"),
        (_binary, "not UTF-8 text (byte 128)"),
        (_latin1, "not UTF-8 text (byte"),
        (_nul, "binary data, not a YAML suite"),
        (_fifo, "not a regular file"),
        (lambda tmp: tmp, "is a directory, not a suite file"),
        (lambda tmp: tmp / "absent.yaml", "no such file"),
        (lambda tmp: tmp / ("x" * 300 + ".yaml"), "cannot read: File name too long"),
    ],
    ids=["huge", "binary", "non-utf8", "nul-bytes", "fifo", "directory", "missing", "name-too-long"],
)
def test_unreadable_suite_files(tmp_path, make, expected):
    path = make(tmp_path)
    for command in ("validate", "run"):
        _one_line_error([command, str(path)], expected)


def test_absurd_case_count_is_refused_with_an_override(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text(
        BASE.replace("[lstm]", "[lstm, gru, rnn]")
        + "seeds: "
        + str(list(range(100)))
        + "\nmatrix: {seq_len: "
        + str(list(range(2, 102)))
        + "}\n"
    )
    for command in ("validate", "run"):
        _one_line_error(
            [command, str(path)], "expands to 30000 cases, more than the limit of 5000 (raise it with --max-cases)"
        )
    _one_line_error(["validate", str(path), "--max-cases", "29999"], "limit of 29999")
    small = tmp_path / "small.yaml"
    small.write_text(BASE + "seeds: [0, 1, 2]\n")
    _one_line_error(["validate", str(small), "--max-cases", "2"], "3 cases, more than the limit of 2")
    assert cli.invoke(app, ["validate", str(small), "--max-cases", "3"]).exit_code == 0


def test_device_and_dtype_this_machine_lacks_are_refused_by_run(tmp_path):
    path = tmp_path / "half.yaml"
    path.write_text(BASE + "device: cpu\ndtype: float16\n")
    result = cli.invoke(app, ["run", str(path), "--out", str(tmp_path / "r.json")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip().splitlines()[-1] == f"error: {path}: dtype: float16 is not supported on cpu here"


def test_a_path_that_looks_like_markup_is_printed_as_is(tmp_path):
    path = tmp_path / "[bold]odd[red].yaml"
    path.write_text("name: t\n")
    _one_line_error(["validate", str(path)], str(path), "models: Field required")


# Results files: for report, compare, export and run --resume.


def _good_doc() -> dict:
    return document([case("lstm"), case("gru")], name="t")


def _with(edit) -> str:
    doc = _good_doc()
    edit(doc)
    return json.dumps(doc)


def _first_case(doc: dict) -> dict:
    return doc["cases"][0]


MALFORMED_RESULTS = [
    ("truncated", json.dumps(_good_doc())[:2000], "not valid JSON (line 1"),
    ("empty file", "", "not valid JSON"),
    (
        "NaN string",
        _with(lambda d: _first_case(d)["train"]["final"].update(metric="NaN")),
        "field cases.0.train.final.metric: Input should be a valid number (case adding/T10/lstm/h8/s0)",
    ),
    (
        "NaN literal",
        _with(lambda d: _first_case(d)["train"]["step_ms"].update(median=float("nan"))),
        "train.step_ms.median: Input should be a finite number",
    ),
    (
        "number as string",
        _with(lambda d: _first_case(d).update(seq_len="10")),
        "field cases.0.seq_len: Input should be a valid integer",
    ),
    ("boolean as number", _with(lambda d: _first_case(d)["train"].update(wall_ms=True)), "cases.0.train.wall_ms"),
    ("case missing its status", _with(lambda d: _first_case(d).pop("status")), "field cases.0.status: Field required"),
    ("unknown status", _with(lambda d: _first_case(d).update(status="great")), "field cases.0.status"),
    (
        "ok case without training",
        _with(lambda d: _first_case(d).pop("train")),
        "a case with status ok must have train.final",
    ),
    ("null label", _with(lambda d: _first_case(d).update(label=None)), "label is null"),
    ("bad inference key", _with(lambda d: _first_case(d)["inference"].update(bx={})), "cases.0.inference.bx"),
    ("short curve row", _with(lambda d: _first_case(d)["train"].update(curve=[[1]])), "cases.0.train.curve.0"),
    (
        "duplicate case ids",
        _with(lambda d: d["cases"].append(dict(d["cases"][0]))),
        "case adding/T10/lstm/h8/s0 appears twice",
    ),
    ("cases not a list", _with(lambda d: d.update(cases={"a": 1})), "field cases: Input should be a valid list"),
    ("no env", _with(lambda d: d.pop("env")), "field env: Field required"),
    (
        "schema version 2",
        _with(lambda d: d.update(schema_version=2)),
        "schema_version 2 is not supported (this rnnbench reads 1)",
    ),
    ("schema version true", _with(lambda d: d.update(schema_version=True)), "schema_version True is not supported"),
    (
        "foreign JSON",
        json.dumps({"name": "left-pad", "version": "1.3.0"}),
        "not an rnnbench results file (no schema_version)",
    ),
    ("a JSON list", "[1, 2, 3]", "not an rnnbench results file"),
    ("deeply nested JSON", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("binary garbage", bytes(range(256)), "not UTF-8"),
]


def _commands(bad: Path, good: Path, suite: Path) -> list[list[str]]:
    return [
        ["report", str(bad)],
        ["compare", str(bad), str(good)],
        ["compare", str(good), str(bad)],
        ["export", str(bad)],
        ["run", str(suite), "--resume", str(bad)],
    ]


@pytest.mark.parametrize("content, expected", [pytest.param(c, e, id=i) for i, c, e in MALFORMED_RESULTS])
def test_malformed_results_file_is_one_line_naming_it(tmp_path, content, expected):
    bad, good, suite = tmp_path / "bad.json", tmp_path / "good.json", tmp_path / "t.yaml"
    bad.write_bytes(content if isinstance(content, bytes) else content.encode())
    good.write_text(json.dumps(_good_doc()))
    suite.write_text(BASE)
    for args in _commands(bad, good, suite):
        _one_line_error(args, str(bad), expected)


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda tmp: tmp, "is a directory, not a results file"),
        (lambda tmp: tmp / "absent.json", "no such file"),
        (_fifo, "not a regular file"),
    ],
    ids=["directory", "missing", "fifo"],
)
def test_unreadable_results_files(tmp_path, make, expected):
    bad, good, suite = make(tmp_path), tmp_path / "good.json", tmp_path / "t.yaml"
    good.write_text(json.dumps(_good_doc()))
    suite.write_text(BASE)
    for args in _commands(bad, good, suite):
        _one_line_error(args, expected)


def test_oversized_results_file_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr("rnnbench.results.store.MAX_RESULTS_BYTES", 1000)
    bad = tmp_path / "big.json"
    bad.write_text(json.dumps(_good_doc()))
    assert bad.stat().st_size > 1000 and MAX_RESULTS_BYTES > 1000
    _one_line_error(["report", str(bad)], "too large to be an rnnbench results file")


def test_the_good_results_file_used_above_is_accepted(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_good_doc()))
    assert cli.invoke(app, ["report", str(good)]).exit_code == 0
    assert cli.invoke(app, ["compare", str(good), str(good)]).exit_code == 0
