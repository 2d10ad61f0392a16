"""How far a path's outputs are from eager's: largest absolute and relative difference, judged by one tolerance.

The tolerance is numpy.allclose's rule, |path − eager| ≤ atol + rtol·|eager| per value. 1e-5 each: a
path that runs the same float32 arithmetic in another order (TorchScript, torch.compile, ONNX Runtime)
stays below 1e-6 on the built-in models (docs/serving.md), while dynamic int8 differs by about 1e-3,
and a graph whose time axis was frozen differs by the whole signal at the second length.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from rnnbench.allclose import difference
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
    diff = difference(ref.flatten().tolist(), out.flatten().tolist(), atol, rtol)
    # where eager's value is 0 a relative difference means nothing: the largest is then not stated
    max_rel = diff.max_rel if math.isfinite(diff.max_rel) else None
    return OutputDiffJson(max_abs=diff.max_abs, max_rel=max_rel, beyond=diff.beyond, within=not diff.changed)


def _no_comparison(reason: str) -> OutputDiffJson:
    return OutputDiffJson(max_abs=None, max_rel=None, beyond=None, within=False, error=reason)


def failed_difference(err: BaseException) -> OutputDiffJson:
    """The record of a length where the path raised instead of answering (a frozen time axis, often)."""
    return _no_comparison(f"{type(err).__name__}: {err}".strip().splitlines()[0][:300])
