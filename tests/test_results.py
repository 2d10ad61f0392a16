"""Results files: atomic save, round trip, and one-line errors for files that are not results."""

from __future__ import annotations

import json
import math

import pytest

from rnnbench.results.resume import finished_ids, new_document
from rnnbench.results.schema import ResultsError
from rnnbench.results.store import load_results, save_atomic


def _doc() -> dict:
    doc = new_document({"name": "t"}, "t.yaml", {"device": "cpu", "torch": "x"}, "0")
    doc["cases"].append(
        {
            "id": "adding/T5/lstm/h8/s0",
            "arch": "lstm",
            "task": "adding",
            "seq_len": 5,
            "seed": 0,
            "status": "ok",
            "train": {"final": {"loss": math.nan, "metric": 0.5}},
        }
    )
    doc["cases"].append(
        {"id": "adding/T5/gru/h8/s0", "arch": "gru", "task": "adding", "seq_len": 5, "seed": 0, "status": "interrupted"}
    )
    return doc


def test_round_trip_keeps_everything_and_writes_nan_as_null(tmp_path):
    path = tmp_path / "sub" / "r.json"
    save_atomic(path, _doc())
    loaded = load_results(path)
    assert loaded["cases"][0]["train"]["final"] == {"loss": None, "metric": 0.5}
    assert loaded["suite"] == {"name": "t"}
    assert list(tmp_path.joinpath("sub").iterdir()) == [path], "no temporary file left behind"
    text = path.read_text()
    assert json.loads(text) == loaded and text.index('"cases"') < text.index('"schema_version"'), "keys sorted"


def test_finished_ids_skip_interrupted_cases():
    assert finished_ids(_doc()) == {"adding/T5/lstm/h8/s0"}


def test_save_replaces_whole_file(tmp_path):
    path = tmp_path / "r.json"
    save_atomic(path, _doc())
    doc = _doc()
    doc["cases"] = doc["cases"][:1]
    save_atomic(path, doc)
    assert len(load_results(path)["cases"]) == 1


@pytest.mark.parametrize(
    "content, expected",
    [
        ('{"schema_version": 1, "suite": {}, "env": {}, "cases": [', "not valid JSON"),
        ('{"schema_version": 99, "suite": {}, "env": {}, "cases": []}', "schema_version 99 is not supported"),
        ('{"hello": "world"}', "not an rnnbench results file"),
        ("[1, 2, 3]", "not an rnnbench results file"),
        ('{"schema_version": 1, "suite": {}, "env": {}, "cases": [{"id": 3}]}', "field cases.0"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
    ],
)
def test_bad_results_files(tmp_path, content, expected):
    path = tmp_path / "bad.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ResultsError) as info:
        load_results(path)
    assert expected in str(info.value) and str(path) in str(info.value) and "\n" not in str(info.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ResultsError, match="no such file"):
        load_results(tmp_path / "nope.json")
    with pytest.raises(ResultsError, match="directory"):
        load_results(tmp_path)


def test_saved_file_gets_the_umask_mode_not_mkstemps_0600(tmp_path):
    import os

    from rnnbench.results.store import _plain_file_mode

    path = tmp_path / "r.json"
    save_atomic(path, _doc())
    assert os.stat(path).st_mode & 0o777 == _plain_file_mode()
