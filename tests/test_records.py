"""The TypedDicts readers use (results/records.py) name the same fields as the pydantic records that check files."""

from __future__ import annotations

import pytest

from rnnbench.results import records, schema

PAIRS = [
    (records.TimingJson, schema.TimingRecord),
    (records.FinalJson, schema.FinalRecord),
    (records.TrainJson, schema.TrainRecord),
    (records.InferenceJson, schema.InferenceRecord),
    (records.FlopsJson, schema.FlopsRecord),
    (records.TrainingMemoryJson, schema.TrainingMemoryRecord),
    (records.InferenceMemoryJson, schema.InferenceMemoryRecord),
    (records.MemoryJson, schema.MemoryRecord),
    (records.DataJson, schema.DataRecord),
    (records.PairedJson, schema.PairedRecord),
    (records.RanOnJson, schema.RanOnRecord),
    (records.PluginJson, schema.PluginRecord),
    (records.CaseJson, schema.CaseRecord),
    (records.ResultsJson, schema.ResultsDoc),
]

# keys the driver writes that the schema leaves free-form
DRIVER_WRITES = {
    "CaseJson": {
        "settings",
        "hidden_size",
        "hidden_sizes",
        "num_layers",
        "input_size",
        "batch_size",
        "train_size",
        "impl",
        "task_options",
        "n_core_params",
        "matched",
        "started_at",
        "wall_s",
        "serving",
    },
    "PairedJson": {"blocks"},
    "TimingJson": {"ci_coverage"},
    "ResultsJson": {"rnnbench_version", "suite_path", "started_at", "finished_at"},
}


@pytest.mark.parametrize(("typed", "record"), PAIRS, ids=[p[0].__name__ for p in PAIRS])
def test_same_fields(typed, record):
    extra = DRIVER_WRITES.get(typed.__name__, set())
    assert set(typed.__annotations__) == set(record.model_fields) | extra


@pytest.mark.parametrize(("typed", "record"), PAIRS, ids=[p[0].__name__ for p in PAIRS])
def test_required_fields_agree(typed, record):
    required = {name for name, field in record.model_fields.items() if field.is_required()}
    assert required == set(typed.__required_keys__)


def test_golden_file_has_no_unknown_case_keys():
    """The golden file's documents and cases use only keys the TypedDicts name."""
    import json
    from pathlib import Path

    doc = json.loads((Path(__file__).parent / "data" / "golden_v1.json").read_text())
    assert set(doc) <= set(records.ResultsJson.__annotations__)
    for case in doc["cases"]:
        assert set(case) <= set(records.CaseJson.__annotations__)
        assert set(case.get("train", {})) <= set(records.TrainJson.__annotations__)
    assert set(doc["reference"]) <= set(records.ReferenceJson.__annotations__)


def test_comparison_row_json_names_every_row_field():
    import dataclasses

    from rnnbench.compare.rows import Row
    from rnnbench.export.json_doc import RowJson

    assert set(RowJson.__annotations__) == {f.name for f in dataclasses.fields(Row)} | {"ci_text"}


def test_event_kinds():
    """Every event type names its kind once; render/progress.py reads each of them."""
    import typing

    from rnnbench.results import events

    kinds = [typing.get_args(t.__annotations__["kind"])[0] for t in typing.get_args(events.Event)]
    assert kinds == ["run_start", "unit_start", "phase", "progress", "worker_lost", "case_end", "run_end"]
