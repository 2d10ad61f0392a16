"""Forget-gate initialisation of every LSTM layer in a model: a constant bias (Jozefowicz et al. 2015) or chrono.

Chrono (Tallec & Ollivier 2018, "Can recurrent neural networks warp time?"): b_f ~ log U[1, T_max - 1] per
unit and b_i = -b_f, so the forget gates start with characteristic times spread over 1 … T_max. PyTorch's
layers hold two bias vectors that are added (bias_ih + bias_hh): the value goes into bias_ih and bias_hh's
slice becomes 0, so the sum is the intended bias; the fused nn.LSTM takes it the same way.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnbench.models.cells import _HandWiredCore
from rnnbench.models.variants import VariantCore
from rnnbench.suite.variants import ForgetBias

PYTORCH_BLOCKS = ("i", "f", "g", "o")


def chrono_biases(hidden: int, t_max: int, generator: torch.Generator | None = None) -> Tensor:
    """b_f for `hidden` units: log of a uniform draw in [1, T_max - 1] (T_max >= 2; T_max = 2 gives 0)."""
    if t_max < 2:
        raise ValueError(f"chrono needs T_max >= 2, got {t_max}")
    uniform = torch.rand(hidden, generator=generator) * (t_max - 2) + 1.0
    return uniform.log()


def _lstm_layers(core: nn.Module) -> list[tuple[nn.Module, tuple[str, ...], bool]]:
    """(module, its weight blocks in PyTorch order, f coupled to i) for every LSTM layer holder in `core`."""
    found = []
    for module in core.modules():
        if isinstance(module, VariantCore):
            found.append((module, module.spec.blocks, module.spec.forget_gate == "coupled"))
        elif isinstance(module, (nn.LSTM, nn.LSTMCell)) or (
            isinstance(module, _HandWiredCore) and module.cell in ("lstm", "peephole")
        ):
            found.append((module, PYTORCH_BLOCKS, False))
    return found


def init_forget_gate(
    core: nn.Module, forget_bias: ForgetBias, t_max: int | None = None, generator: torch.Generator | None = None
) -> None:
    """Set the forget (and, for chrono, input) gate biases of every LSTM layer in `core`.

    A number b: b_f = b. `chrono`: b_f ~ log U[1, T_max - 1], b_i = -b_f. A coupled forget gate
    (CIFG, f = 1 - i = sigmoid(-pre_i)) takes b_f as b_i = -b_f; a variant without a forget gate
    (NFG) is left as it is, and so are GRU and tanh-RNN layers (one setting serves a mixed suite).
    """
    if forget_bias == "chrono" and t_max is None:
        raise ValueError("chrono needs T_max (the task's seq_len or chrono_tmax)")
    for module, blocks, coupled in _lstm_layers(core):
        with torch.no_grad():
            for name, bias_ih in module.named_parameters(recurse=False):
                if not name.startswith("bias_ih"):
                    continue
                bias_hh = getattr(module, name.replace("bias_ih", "bias_hh"))
                _set_layer(bias_ih, bias_hh, blocks, coupled, forget_bias, t_max, generator)


def _set_layer(
    bias_ih: Tensor,
    bias_hh: Tensor,
    blocks: tuple[str, ...],
    coupled: bool,
    forget_bias: ForgetBias,
    t_max: int | None,
    generator: torch.Generator | None,
) -> None:
    hidden = bias_ih.shape[0] // len(blocks)
    if forget_bias == "chrono":
        assert t_max is not None
        b_f = chrono_biases(hidden, t_max, generator).to(bias_ih.dtype)
    else:
        b_f = torch.full((hidden,), float(forget_bias), dtype=bias_ih.dtype)
    targets = {}
    if "f" in blocks:
        targets["f"] = b_f
        if forget_bias == "chrono" and "i" in blocks:
            targets["i"] = -b_f
    elif coupled:
        targets["i"] = -b_f  # f = sigmoid(-pre_i): a forget bias b is an input bias -b
    for gate, value in targets.items():
        k = blocks.index(gate)
        bias_ih[k * hidden : (k + 1) * hidden] = value.to(bias_ih.device)
        bias_hh[k * hidden : (k + 1) * hidden] = 0.0
