"""Greff et al. (2017)'s LSTM variants as recurrent cores, in the cell-loop and scripted implementations.

`VariantCore` holds nn.LSTM-style parameters for the weight blocks a variant owns (`suite/variants.py`), in
PyTorch's order i, f, g, o, plus its peepholes (`weight_ci` …) and, for FGR, `weight_fgr` (3H, 3H: the
previous step's i, f, o into this step's i, f, o). Each forward assembles full 4-gate tensors in the loops'
order i, f, o, g (zeros where the variant owns nothing) and runs either `variant_step` per step under
autograd (`cell`) or the TorchScript loops of `variant_loops.py` with their written-out backward (`scripted`).
`np` with `impl: fused` is nn.LSTM itself; every other variant has no fused kernel.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import torch
from torch import Tensor, nn

from rnnbench.models import variant_loops
from rnnbench.models.cells import _FUSED, FusedStack, _HandWiredCore
from rnnbench.models.scripted import _script
from rnnbench.suite.variants import FUSED_VARIANTS, VARIANTS, VariantSpec, canonical_variant

LOOP_ORDER = ("i", "f", "o", "g")  # the loops' gate order: the three sigmoid gates side by side
PEEPHOLE_PARAMS = {"i": "weight_ci", "f": "weight_cf", "o": "weight_co"}
FORGET_MODES = {"own": 0, "none": 1, "coupled": 2}


@dataclass
class FullWeights:
    """One layer and direction's weights as full 4-gate tensors in LOOP_ORDER (zeros where the variant has none)."""

    w_ih: Tensor  # (4H, I)
    w_hh: Tensor  # (4H, H)
    bias: Tensor  # (4H,) bias_ih + bias_hh
    peep: Tensor  # (3, H) w_ci, w_cf, w_co
    fgr: Tensor | None  # (3H, 3H) or None


def _full(spec: VariantSpec, owned: Tensor, hidden: int) -> Tensor:
    """`owned` (B·H, …) in the variant's block order -> (4H, …) in LOOP_ORDER, zero blocks for the gates it lacks."""
    blocks = dict(zip(spec.blocks, owned.split(hidden, 0)))
    zero = owned.new_zeros((hidden, *owned.shape[1:]))
    return torch.cat([blocks.get(name, zero) for name in LOOP_ORDER], 0)


def variant_step(
    x_t: Tensor, h: Tensor, c: Tensor, a_prev: Tensor | None, weights: FullWeights, spec: VariantSpec
) -> tuple[Tensor, Tensor, Tensor]:
    """One step of `spec`'s recurrence in eager ops: (h, c, a) where a = (i, f, o) feeds FGR's next step."""
    hidden = h.shape[1]
    pre = torch.addmm(weights.bias, x_t, weights.w_ih.t()) + h @ weights.w_hh.t()
    if weights.fgr is not None and a_prev is not None:
        pre = pre + torch.cat([a_prev @ weights.fgr.t(), pre.new_zeros(pre.shape[0], hidden)], 1)
    pre_i, pre_f, pre_o, pre_g = pre.chunk(4, 1)
    w_ci, w_cf, w_co = weights.peep
    ones = torch.ones_like(h)
    i = torch.sigmoid(pre_i + w_ci * c) if spec.input_gate else ones
    if spec.forget_gate == "own":
        f = torch.sigmoid(pre_f + w_cf * c)
    else:
        f = ones if spec.forget_gate == "none" else 1.0 - i
    g = torch.tanh(pre_g) if spec.input_activation else pre_g
    c = f * c + i * g
    o = torch.sigmoid(pre_o + w_co * c) if spec.output_gate else ones
    h = o * (torch.tanh(c) if spec.output_activation else c)
    return h, c, torch.cat([i, f, o], 1)


class VariantRecurrence(torch.autograd.Function):
    """One layer and direction of a variant over xw (T, B, 4H, LOOP_ORDER) -> hs (T, B, H)."""

    @staticmethod
    def forward(ctx, spec: VariantSpec, xw: Tensor, w_hh: Tensor, peep: Tensor, r: Tensor) -> Tensor:  # type: ignore[override]
        flags = _flags(spec)
        loops = variant_loops_compiled()
        saved = loops.forward(xw, w_hh.t(), peep, r.t(), spec.input_gate, *flags)
        ctx.save_for_backward(*saved, w_hh, peep, r)
        ctx.flags = flags
        return saved[0]

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_hs: Tensor):  # type: ignore[override]
        hs, gates, cells, ys, w_hh, peep, r = ctx.saved_tensors
        forget_mode, _, input_activation, output_activation, use_peep, fgr = ctx.flags
        d_xw, d_w_hh, d_peep, d_r = variant_loops_compiled().backward(
            grad_hs.contiguous(), hs, gates, cells, ys, w_hh, peep, r,
            forget_mode, input_activation, output_activation, use_peep, fgr,
        )  # fmt: skip
        return None, d_xw, d_w_hh, d_peep, d_r


def _flags(spec: VariantSpec) -> tuple[int, bool, bool, bool, bool, bool]:
    """The loops' flags after `input_gate`: forget mode, output gate, activations, peepholes, gate recurrence."""
    return (
        FORGET_MODES[spec.forget_gate],
        spec.output_gate,
        spec.input_activation,
        spec.output_activation,
        bool(spec.peepholes),
        spec.full_gate_recurrence,
    )


class _Loops:
    def __init__(self) -> None:
        self.forward = _script(variant_loops.variant_forward)
        self.backward = _script(variant_loops.variant_backward)


@cache
def variant_loops_compiled() -> _Loops:
    """The variant loops compiled by TorchScript, once per process on first use."""
    return _Loops()


class VariantCore(_HandWiredCore):
    """A stack of `variant` LSTM layers, `cell` (autograd through `variant_step`) or `scripted` (the loops)."""

    def __init__(self, variant: str, impl: str, input_size: int, hidden_sizes: list[int], bidirectional: bool) -> None:
        self.variant = canonical_variant(variant)
        self.spec = VARIANTS[self.variant]
        self.impl = impl
        super().__init__("lstm", input_size, hidden_sizes, bidirectional)

    def _layer_shapes(self, hidden: int, layer_input: int) -> dict[str, tuple[int, ...]]:
        blocks = len(self.spec.blocks)
        shapes: dict[str, tuple[int, ...]] = {
            "weight_ih": (blocks * hidden, layer_input),
            "weight_hh": (blocks * hidden, hidden),
            "bias_ih": (blocks * hidden,),
            "bias_hh": (blocks * hidden,),
        }
        shapes.update({PEEPHOLE_PARAMS[gate]: (hidden,) for gate in self.spec.peepholes})
        if self.spec.full_gate_recurrence:
            shapes["weight_fgr"] = (3 * hidden, 3 * hidden)
        return shapes

    def full_weights(self, suffix: str) -> FullWeights:
        """The layer's weights (parameter name suffix `_l{k}[_reverse]`) as full 4-gate tensors, under autograd."""
        get = lambda name: getattr(self, name + suffix)  # noqa: E731
        w_hh = get("weight_hh")
        hidden = w_hh.shape[1]
        zero = w_hh.new_zeros(hidden)
        peep = torch.stack([get(PEEPHOLE_PARAMS[g]) if g in self.spec.peepholes else zero for g in ("i", "f", "o")])
        return FullWeights(
            w_ih=_full(self.spec, get("weight_ih"), hidden),
            w_hh=_full(self.spec, w_hh, hidden),
            bias=_full(self.spec, get("bias_ih") + get("bias_hh"), hidden),
            peep=peep,
            fgr=get("weight_fgr") if self.spec.full_gate_recurrence else None,
        )

    def _layer_params(self, suffix: str) -> tuple:
        return (self.full_weights(suffix),)

    def _direction(self, x: Tensor, params: tuple, reverse: bool) -> Tensor:
        (weights,) = params
        if reverse:
            x = x.flip(0)
        hs = self._scripted(x, weights) if self.impl == "scripted" else self._cell_loop(x, weights)
        return hs.flip(0) if reverse else hs

    def _cell_loop(self, x: Tensor, weights: FullWeights) -> Tensor:
        batch, hidden = x.shape[1], weights.w_hh.shape[1]
        h = c = x.new_zeros(batch, hidden)
        a: Tensor | None = None
        hs = []
        for x_t in x.unbind(0):
            h, c, a = variant_step(x_t, h, c, a, weights, self.spec)
            hs.append(h)
        return torch.stack(hs)

    def _scripted(self, x: Tensor, weights: FullWeights) -> Tensor:
        seq_len, batch, input_size = x.shape
        xw = torch.addmm(weights.bias, x.reshape(seq_len * batch, input_size), weights.w_ih.t())
        r = weights.fgr if weights.fgr is not None else x.new_zeros(1, 1)
        with torch.autocast(x.device.type, enabled=False):
            dtype = xw.dtype
            return VariantRecurrence.apply(
                self.spec, xw.view(seq_len, batch, -1), weights.w_hh.to(dtype), weights.peep.to(dtype), r.to(dtype)
            )

    def extra_repr(self) -> str:
        return f"variant={self.variant}, impl={self.impl}, " + super().extra_repr()


def build_variant_core(
    variant: str, impl: str, input_size: int, hidden_size: int | list[int], num_layers: int, bidirectional: bool
) -> nn.Module:
    """A core for `variant`; `np` with `fused` is nn.LSTM, any other variant with `fused` is a ValueError."""
    variant = canonical_variant(variant)
    hidden_sizes = list(hidden_size) if isinstance(hidden_size, (list, tuple)) else [hidden_size] * num_layers
    if impl == "fused":
        if variant not in FUSED_VARIANTS:
            raise ValueError(f"LSTM variant {variant!r} has no fused implementation (only np, nn.LSTM, has one)")
        if len(set(hidden_sizes)) == 1:
            return _FUSED["lstm"](
                input_size, hidden_sizes[0], num_layers, batch_first=True, bidirectional=bidirectional
            )
        return FusedStack("lstm", input_size, hidden_sizes, bidirectional)
    if impl not in ("cell", "scripted"):
        raise ValueError(f"unknown impl {impl!r}; expected fused, cell or scripted")
    return VariantCore(variant, impl, input_size, hidden_sizes, bidirectional)
