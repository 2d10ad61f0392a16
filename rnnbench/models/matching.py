"""Parameter matching: the hidden size that gives a model the recurrent-core parameter count of a reference.

Torch-free and exact: counts come from the formula in `models.params`, which a test checks
against the built models' `n_core_params`. The head is left out of the
count on purpose: it is the same kind of readout for every architecture and depends on the
task's output size, while the recap's "complex structure" is about the core.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from rnnbench.catalog import MODEL_SPECS
from rnnbench.models.params import core_params, model_core_params

if TYPE_CHECKING:
    from rnnbench.suite.schema import Case


@dataclass(frozen=True)
class ParamMatch:
    """The outcome of matching one model to a reference; stored in the results as `matched`."""

    reference: str | int  # the reference model's name, or the integer target given in the suite
    target_params: int  # core parameters to match
    hidden_size: int  # the chosen size, the same for every layer
    n_params: int  # core parameters at that size
    rel_error: float  # (n_params - target_params) / target_params

    def as_record(self) -> dict[str, Any]:
        return {**asdict(self), "counted": "core"}


def target_params(reference: str | int, input_size: int, hidden_size: int | list[int], num_layers: int) -> int:
    """The count to match: the reference model's core at the case's own sizes, or the integer itself."""
    if isinstance(reference, int):
        return reference
    if reference not in MODEL_SPECS:
        raise ValueError(f"match_params: unknown model {reference!r} (known: {', '.join(sorted(MODEL_SPECS))})")
    return core_params(reference, input_size, hidden_size, num_layers)


def closest_hidden_size(arch: str, input_size: int, num_layers: int, target: int, variant: str | None = None) -> int:
    """The h ≥ 1 whose core count (of `arch`, or of its LSTM `variant`) is nearest `target` (the smaller h on a tie).

    The count grows strictly with h, so a bisection finds the first h at or above the target
    and the answer is it or the one before.
    """
    if target < 1:
        raise ValueError(f"match_params: the target parameter count must be positive, got {target}")

    def count(h: int) -> int:
        return model_core_params(arch, input_size, h, num_layers, variant)

    high = 1
    while count(high) < target:
        high *= 2
    low = high // 2 + 1 if high > 1 else 1  # count(high // 2) < target, so the answer's upper bound is in [low, high]
    while low < high:
        mid = (low + high) // 2
        if count(mid) >= target:
            high = mid
        else:
            low = mid + 1
    if high > 1 and target - count(high - 1) <= count(high) - target:
        return high - 1
    return high


def match_params(
    arch: str,
    reference: str | int,
    input_size: int,
    hidden_size: int | list[int],
    num_layers: int,
    variant: str | None = None,
) -> ParamMatch:
    """Choose `arch`'s hidden size so its core count (its LSTM `variant`'s, where given: an FGR layer holds 9h²
    more, an NFG layer one block fewer) is as close as possible to the reference's."""
    target = target_params(reference, input_size, hidden_size, num_layers)
    h = closest_hidden_size(arch, input_size, num_layers, target, variant)
    n = model_core_params(arch, input_size, h, num_layers, variant)
    return ParamMatch(
        reference=reference, target_params=target, hidden_size=h, n_params=n, rel_error=(n - target) / target
    )


def match_case(case: Case, input_size: int) -> ParamMatch | None:
    """`match_params` for a suite `Case` on a task with `input_size` inputs; None when the case does not ask for it."""
    s = case.settings
    if s.match_params is None:
        return None
    return match_params(case.arch, s.match_params, input_size, s.hidden_size, s.num_layers, s.variant)
