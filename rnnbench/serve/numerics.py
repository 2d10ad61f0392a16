"""How far a path's outputs are from eager's: largest absolute and relative difference, judged by one tolerance.

The tolerance is numpy.allclose's rule, |path − eager| ≤ atol + rtol·|eager| per value. 1e-5 each: a
path that runs the same float32 arithmetic in another order (TorchScript, torch.compile, ONNX Runtime)
stays below 1e-6 on the built-in models (docs/serving.md), while dynamic int8 differs by about 1e-3,
and a graph whose time axis was frozen differs by the whole signal at the second length.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnbench.results.serving import OutputDiffJson

SERVE_ATOL = 1e-5
SERVE_RTOL = 1e-5


def second_length(inputs: Tensor) -> Tensor:
    """The held-out inputs at twice their length (each sequence followed by itself): a graph exported at
    the first length with its time axis fixed either refuses these or reads only their first half."""
    return torch.cat([inputs, inputs], dim=1)


def output_difference(
    reference: Tensor, outputs: Tensor, atol: float = SERVE_ATOL, rtol: float = SERVE_RTOL
) -> OutputDiffJson:
    """Value by value against eager's `reference`; another shape, or a non-finite value where eager has
    a finite one, is out of tolerance with the reason in `error`."""
    if tuple(reference.shape) != tuple(outputs.shape):
        return _no_comparison(f"output shape {list(outputs.shape)}, eager's {list(reference.shape)}")
    ref, out = reference.detach().double().cpu(), outputs.detach().double().cpu()
    if bool((torch.isfinite(ref) & ~torch.isfinite(out)).any()):
        return _no_comparison("non-finite outputs where eager's are finite")
    gap = (out - ref).abs().nan_to_num(0.0)  # NaN against NaN is no change
    nonzero = ref != 0
    max_rel = float((gap[nonzero] / ref[nonzero].abs()).max()) if bool(nonzero.any()) else 0.0
    beyond = int((gap > atol + rtol * ref.abs().nan_to_num(0.0)).sum())
    return OutputDiffJson(
        max_abs=float(gap.max()) if gap.numel() else 0.0, max_rel=max_rel, beyond=beyond, within=beyond == 0
    )


def _no_comparison(reason: str) -> OutputDiffJson:
    return OutputDiffJson(max_abs=None, max_rel=None, beyond=None, within=False, error=reason)


def failed_difference(err: BaseException) -> OutputDiffJson:
    """The record of a length where the path raised instead of answering (a frozen time axis, often)."""
    return _no_comparison(f"{type(err).__name__}: {err}".strip().splitlines()[0][:300])
