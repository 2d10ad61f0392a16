"""Whether two sides' outputs agree: largest absolute and relative differences under an allclose tolerance (torch-free)."""

from __future__ import annotations

from typing import TypedDict

from rnnbench.allclose import Difference, difference

# |NEW - BASE| <= atol + rtol * |BASE| per value, as numpy.allclose; eps = float32's 2**-23 = 1.19e-7. atol ~ 8 eps covers outputs near zero,
# whose relative differences mean nothing (2e-3 measured from rounding alone); rtol ~ 84 eps. Measured by
# benchmarks/numerics_tolerance.py (docs/ci-gate.md): float32 reorderings (fused against cell kernels, a
# float64 reference, 1 or 2 threads) of rnn/lstm/gru/bilstm at hidden 64-1024, 50-200 steps stay within
# 1/19 of this tolerance, and a 1e-3 change of the features under the head exceeds it at least 4.5-fold.
DEFAULT_ATOL = 1e-6
DEFAULT_RTOL = 1e-5


class DifferenceJson(TypedDict):
    """How far NEW's values are from BASE's (compare.numerics.Difference as JSON)."""

    max_abs: float
    max_rel: float
    beyond: int
    n: int


class ModelCheckJson(TypedDict, total=False):
    """One model's outputs check (compare.numerics.model_check): status same | changed | not comparable."""

    label: str
    status: str
    reason: str
    outputs: DifferenceJson | None
    loss: DifferenceJson | None


class NumericsJson(TypedDict, total=False):
    """`rnnbench ab`'s outputs check (compare.output_check.check_outputs); empty when it did not run."""

    atol: float
    rtol: float
    batch: int
    status: str  # "checked", or "not available: …"
    models: dict[str, ModelCheckJson]


class OutputsAnswer(TypedDict, total=False):
    """A worker's answer for one model: its outputs on the fixed batch, or why it has none."""

    shape: list[int]
    values: list[float]
    loss: float
    error: str


def tolerance_text(atol: float, rtol: float) -> str:
    return f"|NEW − BASE| ≤ {atol:g} + {rtol:g}·|BASE|"


def model_check(base: OutputsAnswer, new: OutputsAnswer, atol: float, rtol: float) -> ModelCheckJson:
    """One model's record from both workers' answers ({shape, values, loss} or {error}):
    status same | changed | not comparable, a reason, and the outputs' and loss's differences."""
    for side, answer in (("base", base), ("new", new)):
        if "error" in answer:
            return ModelCheckJson(status="not comparable", reason=f"{side} side: {answer['error']}")
    outputs_diff = loss_diff = None
    if list(base["shape"]) != list(new["shape"]):
        reason = f"output shape {list(base['shape'])} → {list(new['shape'])}"
    else:
        outputs_diff = difference(base["values"], new["values"], atol, rtol)
        loss_diff = difference([base["loss"]], [new["loss"]], atol, rtol)
        reason = ", ".join(
            f"{what} {d.beyond} of {d.n} beyond"
            for what, d in (("outputs", outputs_diff), ("loss", loss_diff))
            if d.changed
        )
    return ModelCheckJson(
        status="changed" if reason else "same",
        reason=reason,
        outputs=_json(outputs_diff) if outputs_diff else None,
        loss=_json(loss_diff) if loss_diff else None,
    )


def _json(d: Difference) -> DifferenceJson:
    return DifferenceJson(max_abs=d.max_abs, max_rel=d.max_rel, beyond=d.beyond, n=d.n)
