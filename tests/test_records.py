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


@pytest.mark.parametrize(("typed", "record"), PAIRS, ids=[p[0].__name__ for p in PAIRS])
def test_same_fields(typed, record):
    assert set(typed.__annotations__) == set(record.model_fields)


@pytest.mark.parametrize(("typed", "record"), PAIRS, ids=[p[0].__name__ for p in PAIRS])
def test_required_fields_agree(typed, record):
    required = {name for name, field in record.model_fields.items() if field.is_required()}
    assert required == set(typed.__required_keys__)
