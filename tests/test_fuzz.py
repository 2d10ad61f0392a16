"""Property-based fuzzing of the loaders: whatever the input, the only exception is the tool's own error type."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from results_factory import case, document
from rich.console import Console

from rnnbench.render.recap import recap_table
from rnnbench.results.schema import ResultsError
from rnnbench.results.store import load_results
from rnnbench.suite.expand import load_suite, parse_suite
from rnnbench.suite.files import SuiteError

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=12)
json_like = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)

SUITE_KEYS = [
    "name",
    "description",
    "device",
    "dtype",
    "threads",
    "seeds",
    "defaults",
    "models",
    "tasks",
    "matrix",
    "thresholds",
]
VALID_SUITE = {
    "name": "fuzz",
    "device": "cpu",
    "seeds": [0, 1],
    "defaults": {"hidden_size": 8, "optimizer": {"name": "adam", "lr": 0.01}, "train": {"max_steps": 4}},
    "models": ["lstm", {"arch": "gru", "hidden_size": 16, "impl": "cell"}],
    "tasks": [{"task": "adding", "seq_len": 5}, {"task": "temporal_order", "seq_len": 10, "symbols": 3}],
    "matrix": {"seq_len": [10, 20]},
}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "suite.yaml"


def _load(path: Path) -> None:
    """load_suite either succeeds or raises SuiteError with one line naming the file."""
    try:
        load_suite(path, max_cases=1000)
    except SuiteError as err:
        assert "\n" not in str(err) and str(path) in str(err)


@FUZZ
@given(data=json_like)
def test_parse_suite_on_arbitrary_data(data):
    try:
        parse_suite(data, "fuzz.yaml")
    except SuiteError as err:
        assert str(err).startswith("fuzz.yaml: ") and "\n" not in str(err)


@FUZZ
@given(data=st.dictionaries(st.sampled_from(SUITE_KEYS), json_like, max_size=8))
def test_parse_suite_on_arbitrary_suite_shaped_data(data):
    try:
        parse_suite(data, "fuzz.yaml")
    except SuiteError:
        pass


def _paths(value, prefix=()):
    """Every key path inside a nested dict/list value."""
    yield prefix
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _paths(inner, (*prefix, index))


ALL_PATHS = [p for p in _paths(VALID_SUITE) if p]


@FUZZ
@given(
    where=st.sampled_from(ALL_PATHS),
    value=json_like,
    mode=st.sampled_from(["replace", "add", "delete"]),
    key=st.text(min_size=1, max_size=8),
)
def test_load_suite_on_a_valid_suite_with_one_field_broken(scratch, where, value, mode, key):
    """Deep mutations reach validation and expansion, which arbitrary data rarely does."""
    data = copy.deepcopy(VALID_SUITE)
    parent = data
    for part in where[:-1]:
        parent = parent[part]
    if mode == "replace":
        parent[where[-1]] = value
    elif mode == "add" and isinstance(parent[where[-1]], dict):
        parent[where[-1]][key] = value
    elif mode == "delete":
        del parent[where[-1]]
    try:
        text = yaml.safe_dump(data)
    except (yaml.YAMLError, ValueError):
        return
    scratch.write_text(text)
    _load(scratch)


YAML_TOKENS = list("&*!{}[]:,-|>?'\"#% \n\t@`abc01.~<=") + [
    "<<: ",
    "!!python/",
    "!!binary ",
    "name: ",
    "models: ",
    "*a",
    "&a ",
]
yaml_ish = st.lists(st.sampled_from(YAML_TOKENS), max_size=40).map("".join)


@FUZZ
@given(text=yaml_ish)
def test_load_suite_on_arbitrary_yaml_like_text(scratch, text):
    scratch.write_text(text)
    _load(scratch)


@FUZZ
@given(text=st.text(max_size=200))
def test_load_suite_on_arbitrary_text(scratch, text):
    scratch.write_text(text, encoding="utf-8", errors="surrogatepass")
    _load(scratch)


@FUZZ
@given(raw=st.binary(max_size=200))
def test_load_suite_on_arbitrary_bytes(scratch, raw):
    scratch.write_bytes(raw)
    _load(scratch)


GOOD_RESULTS = document(
    [case("lstm"), case("gru", seed=1, status="diverged"), case("rnn", status="failed")], name="fuzz"
)
RESULT_PATHS = [p for p in _paths(GOOD_RESULTS) if p]


@pytest.fixture(scope="module")
def results_scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "results.json"


@FUZZ
@given(where=st.sampled_from(RESULT_PATHS), value=json_like, delete=st.booleans())
def test_a_results_file_that_loads_also_renders(results_scratch, where, value, delete):
    """load_results is the gate for every reader: what it accepts, the recap table can show."""
    doc = copy.deepcopy(GOOD_RESULTS)
    parent = doc
    for part in where[:-1]:
        parent = parent[part]
    if delete:
        del parent[where[-1]]
    else:
        parent[where[-1]] = value
    results_scratch.write_text(json.dumps(doc))
    try:
        loaded = load_results(results_scratch)
    except ResultsError as err:
        assert "\n" not in str(err) and str(results_scratch) in str(err)
        return
    Console(file=io.StringIO(), width=120).print(recap_table(loaded))


@FUZZ
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_load_results_on_arbitrary_bytes(results_scratch, raw):
    results_scratch.write_bytes(raw)
    try:
        load_results(results_scratch)
    except ResultsError:
        pass
