"""docs/tasks.md against the task registry: every registered task documented, with the facts it has."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from rnnbench.catalog import TASK_SPECS, missing_extra
from rnnbench.tasks.base import Task
from rnnbench.tasks.registry import TASKS, load_task

DOC = Path(__file__).resolve().parents[1] / "docs" / "tasks.md"
HEADER = "| task | metric | better | output | causal | real data | min seq_len | T | chance at T |"


def documented() -> dict[str, list[str]]:
    """The registry table of docs/tasks.md: task name -> its cells after the name."""
    lines = DOC.read_text().splitlines()
    start = lines.index(HEADER) + 2  # past the header and the |---| line
    rows: dict[str, list[str]] = {}
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        name = re.fullmatch(r"`(\w+)`", cells[0])
        assert name, f"not a task name: {cells[0]!r}"
        assert name.group(1) not in rows, f"{name.group(1)} documented twice"
        rows[name.group(1)] = cells[1:]
    return rows


def yes(flag: bool) -> str:
    return "yes" if flag else "no"


def test_every_registered_task_is_documented_and_nothing_else():
    assert sorted(documented()) == sorted(TASK_SPECS)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_documented_facts_match_the_registry(name):
    metric, better, output, causal, real, min_seq_len, seq_len, chance = documented()[name]
    spec, cls = TASK_SPECS[name], TASKS[name]
    assert metric == cls.metric_name
    assert better == ("higher" if cls.higher_is_better else "lower")
    assert (output, causal, real) == (spec.output_kind, yes(spec.causal), yes(spec.real))
    assert int(min_seq_len) == spec.min_seq_len
    fixed = spec.seq_len_of(spec.options()) if spec.seq_len_of else None
    assert fixed is None or int(seq_len) == fixed
    if not re.fullmatch(r"[0-9.]+", chance):  # a chance that depends on the data (charlm's corpus)
        assert spec.real, f"{name}: a generated task documents its chance as a number"
        return
    if missing_extra(name):
        pytest.skip(missing_extra(name) or "")
    value = cls(seq_len=int(seq_len)).chance
    assert value is not None and math.isclose(value, float(chance), rel_tol=1e-3), (name, value, chance)


def test_load_task_refuses_what_is_not_a_task():
    assert load_task("rnnbench.tasks.adding:Adding").name == "adding"
    assert issubclass(load_task("rnnbench.tasks.copy:Copy"), Task)
    with pytest.raises(TypeError):
        load_task("rnnbench.tasks.adding:SOLVED_MSE")
