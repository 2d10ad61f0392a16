"""The order workers take units in: timings first, then training heaviest first, so none idles while the last runs."""

from __future__ import annotations

from rnnbench.catalog import CELL_BLOCKS, MODEL_SPECS
from rnnbench.run.executors.base import Unit
from rnnbench.suite.schema import Case


def case_work(case: Case) -> float:
    """A case's training work up to its step cap, in weight-multiplies: a ranking, not a time.

    Steps x sequence x batch x weight blocks x directions x layers x hidden^2. A plugin counts as
    an LSTM (its size is its own business); a time cap that stops training earlier is not foreseen.
    """
    s = case.settings
    spec = MODEL_SPECS.get(case.arch)
    blocks = CELL_BLOCKS[spec.cell] if spec else CELL_BLOCKS["lstm"]
    directions = spec.directions if spec else 1
    return float(
        s.train.max_steps * case.seq_len * s.batch_size * blocks * directions * s.num_layers * s.hidden_size**2
    )


def longest_first(units: list[Unit]) -> list[Unit]:
    """Timing units first, in run order, then training units heaviest first (LPT: the last to finish is a short one).

    A case's record is complete only once its group is timed, so timings go first: records are saved
    as training units finish rather than all at the end. Their budgets are bounded and alike, and a
    timing carries no training work to rank. Ties keep run order.
    """
    return sorted(units, key=lambda unit: (unit.kind != "timing", -sum(case_work(c) for c in unit.cases)))
