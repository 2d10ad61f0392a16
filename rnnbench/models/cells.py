"""Recurrent cores (tanh RNN, LSTM, GRU, peephole LSTM) in three implementations: fused, cell loop, scripted.

`build_core(cell, impl, ...)` returns an `nn.Module` whose `forward(x, lengths=None)` takes a
batch-first x (B, T, input_size) (with `lengths`, left-padded and packed: `packing.py`) and returns `(outputs, final)`:
outputs (B, T, directions·H_last), and final (B, directions·H_last), the last
layer's forward state after the last step next to its backward state after it
has read the whole sequence (t = 0). For the LSTMs the state is h, not c.
The initial state is zero.

Implementations:

- `fused`: nn.RNN (tanh) / nn.LSTM / nn.GRU, batch_first, one call over the whole
  sequence (cuDNN on CUDA, oneDNN on the CPU). Per-layer sizes that differ
  become a stack of single-layer modules (parameters `layers.{k}.weight_ih_l0`…).
- `cell`: one step at a time in a Python loop per layer and direction, as Keras'
  `RNN(LSTMCell)` does. The step is the kernel nn.RNNCell / nn.LSTMCell /
  nn.GRUCell call (`torch.rnn_tanh_cell`, `torch.lstm_cell`, `torch.gru_cell`),
  each step projecting its own input; for the peephole LSTM, which PyTorch lacks,
  the same step written out in eager ops (`peephole_step`). Autograd records
  every step.
- `scripted`: the hand-written cells of `scripted.py` (time loops in `bptt.py`): the input projection of all
  steps in one matmul, then a time loop with the backward written out (a custom
  autograd Function), both loops compiled with TorchScript.

  `ScriptedCore` says why TorchScript and not torch.compile.

Parameters of the `cell` and `scripted` cores have nn.RNN/nn.LSTM/nn.GRU's names,
shapes and initialisation (`weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`,
`bias_hh_l{k}`, suffix `_reverse` for the backward direction), so
`core.load_state_dict(fused_core.state_dict())` moves weights between them. The
peephole LSTM adds `weight_ci_l{k}`, `weight_cf_l{k}`, `weight_co_l{k}` (h each).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import torch
from torch import Tensor, nn

from rnnbench.catalog import CELL_BLOCKS, CELL_IMPLS, IMPLS
from rnnbench.models.packing import fused_direction, packed_call, realigned, realigned_forward
from rnnbench.models.scripted import scripted_direction

CELLS = tuple(CELL_BLOCKS)  # rnn, lstm, gru, peephole
PEEPHOLE_NAMES = ("weight_ci", "weight_cf", "weight_co")


def _final_from_outputs(directions_outputs: list[Tensor]) -> Tensor:
    """Forward direction after the last step, backward direction after reading everything (time-major hs)."""
    final = [directions_outputs[0][-1]]
    if len(directions_outputs) == 2:
        final.append(directions_outputs[1][0])
    return torch.cat(final, dim=1)


# ---------------------------------------------------------------------------
# fused


class _FusedOutputs:
    """Mixin for nn.RNN / nn.LSTM / nn.GRU: forward(x) -> (outputs, final) from the zero state."""

    # How `lengths` are honoured per device type (models/packing.py): `pack` loses oneDNN on the CPU.
    packing_routes = {"cpu": "realign", "cuda": "pack"}

    def forward(self, x: Tensor, lengths: Tensor | None = None, final_only: bool = False):
        """`lengths`: left-padded x, packed (models/packing.py); None: every step runs through the recurrence.
        `final_only` (with `lengths`): outputs may come back None, when skipping them saves work."""
        if lengths is None:
            outputs, state = super().forward(x)
        elif self.packing_routes.get(x.device.type, "pack") == "pack":
            outputs, state = packed_call(super().forward, x, lengths)
        elif self.bidirectional:
            return realigned(partial(fused_direction, self), self.num_layers, x, lengths, final_only)
        else:
            return realigned_forward(
                lambda rolled: super(_FusedOutputs, self).forward(rolled)[0], x, lengths, final_only
            )
        h_n = state[0] if isinstance(state, tuple) else state  # the LSTM's (h, c)
        directions = 2 if self.bidirectional else 1
        return outputs, torch.cat(list(h_n[-directions:]), dim=1)

    @property
    def output_size(self) -> int:
        return (2 if self.bidirectional else 1) * self.hidden_size


class FusedRNN(_FusedOutputs, nn.RNN):
    pass


class FusedLSTM(_FusedOutputs, nn.LSTM):
    pass


class FusedGRU(_FusedOutputs, nn.GRU):
    pass


_FUSED = {"rnn": FusedRNN, "lstm": FusedLSTM, "gru": FusedGRU}


class FusedStack(nn.Module):
    """Single-layer fused modules stacked, for per-layer hidden sizes a multi-layer nn.LSTM cannot hold."""

    def __init__(self, cell: str, input_size: int, hidden_sizes: list[int], bidirectional: bool) -> None:
        super().__init__()
        directions = 2 if bidirectional else 1
        inputs = [input_size] + [directions * h for h in hidden_sizes[:-1]]
        self.layers = nn.ModuleList(
            _FUSED[cell](i, h, num_layers=1, batch_first=True, bidirectional=bidirectional)
            for i, h in zip(inputs, hidden_sizes)
        )
        self.output_size = directions * hidden_sizes[-1]

    def forward(self, x: Tensor, lengths: Tensor | None = None, final_only: bool = False):
        for layer in self.layers:
            x, final = layer(x, lengths)
        return x, final


# ---------------------------------------------------------------------------
# cell loop and scripted: nn.RNN-style parameters on the core itself


def peephole_step(
    x_t: Tensor, state: tuple[Tensor, Tensor], w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor, peep: Tensor
) -> tuple[Tensor, Tensor]:
    """One peephole LSTM step (Gers & Schmidhuber 2000) in eager ops: i, f see c_{t-1}; o sees c_t."""
    h, c = state
    pre_i, pre_f, pre_g, pre_o = (x_t @ w_ih.t() + b_ih + h @ w_hh.t() + b_hh).chunk(4, dim=1)
    w_ci, w_cf, w_co = peep
    i = torch.sigmoid(pre_i + w_ci * c)
    f = torch.sigmoid(pre_f + w_cf * c)
    c = f * c + i * torch.tanh(pre_g)
    o = torch.sigmoid(pre_o + w_co * c)
    return o * torch.tanh(c), c


def _torch_cell_step(cell: str) -> Callable:
    """The kernel nn.{RNN,LSTM,GRU}Cell.forward calls, taking the weights as arguments."""
    return {"rnn": torch.rnn_tanh_cell, "lstm": torch.lstm_cell, "gru": torch.gru_cell}[cell]


class _HandWiredCore(nn.Module):
    """Parameters named, shaped and initialised as nn.RNN/LSTM/GRU's; subclasses supply the direction pass."""

    def __init__(self, cell: str, input_size: int, hidden_sizes: list[int], bidirectional: bool) -> None:
        super().__init__()
        self.cell = cell
        self.hidden_sizes = list(hidden_sizes)
        self.bidirectional = bidirectional
        self.directions = 2 if bidirectional else 1
        self.output_size = self.directions * hidden_sizes[-1]
        layer_input = input_size
        for layer, hidden in enumerate(hidden_sizes):
            for suffix in self._suffixes(layer):
                for name, shape in self._layer_shapes(hidden, layer_input).items():
                    self.register_parameter(name + suffix, nn.Parameter(torch.empty(shape)))
            layer_input = self.directions * hidden
        self.reset_parameters()

    def _layer_shapes(self, hidden: int, layer_input: int) -> dict[str, tuple[int, ...]]:
        """The parameters of one layer and direction, by name without suffix (a subclass may own others)."""
        blocks = CELL_BLOCKS[self.cell]
        shapes: dict[str, tuple[int, ...]] = {
            "weight_ih": (blocks * hidden, layer_input),
            "weight_hh": (blocks * hidden, hidden),
            "bias_ih": (blocks * hidden,),
            "bias_hh": (blocks * hidden,),
        }
        if self.cell == "peephole":
            shapes.update({name: (hidden,) for name in PEEPHOLE_NAMES})
        return shapes

    def _suffixes(self, layer: int) -> list[str]:
        return [f"_l{layer}", f"_l{layer}_reverse"][: self.directions]

    def reset_parameters(self) -> None:
        """nn.RNNBase's init: every weight (peepholes too) uniform in ±1/sqrt(h)."""
        for layer, hidden in enumerate(self.hidden_sizes):
            bound = 1.0 / math.sqrt(hidden)
            for suffix in self._suffixes(layer):
                for name, param in self.named_parameters():
                    if name.endswith(suffix):
                        nn.init.uniform_(param, -bound, bound)

    def _layer_params(self, suffix: str) -> tuple:
        get = lambda name: getattr(self, name + suffix)  # noqa: E731
        peep = torch.stack([get(name) for name in PEEPHOLE_NAMES]) if self.cell == "peephole" else None
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"), peep

    def _direction(self, x: Tensor, params: tuple, reverse: bool) -> Tensor:
        raise NotImplementedError

    def _layer_direction(self, layer: int, x: Tensor, reverse: bool) -> Tensor:
        return self._direction(x, self._layer_params(self._suffixes(layer)[int(reverse)]), reverse)

    def forward(self, x: Tensor, lengths: Tensor | None = None, final_only: bool = False):
        """`lengths`: left-padded x, the state started at the real steps (models/packing.py); with
        `final_only` the outputs may come back None."""
        if lengths is not None and self.bidirectional:
            return realigned(self._layer_direction, len(self.hidden_sizes), x, lengths, final_only)
        if lengths is not None:
            return realigned_forward(lambda rolled: self.forward(rolled)[0], x, lengths, final_only)
        layer_input = x.transpose(0, 1)  # time-major inside
        for layer in range(len(self.hidden_sizes)):
            hs = [
                self._direction(layer_input, self._layer_params(suffix), reverse=suffix.endswith("_reverse"))
                for suffix in self._suffixes(layer)
            ]
            layer_input = torch.cat(hs, dim=2) if len(hs) == 2 else hs[0]
        return layer_input.transpose(0, 1), _final_from_outputs(hs)

    def extra_repr(self) -> str:
        return f"cell={self.cell}, hidden_sizes={self.hidden_sizes}, bidirectional={self.bidirectional}"


class CellLoopCore(_HandWiredCore):
    """`cell`: one cell call per step in Python, each step projecting its own input (Keras' RNN(LSTMCell))."""

    def _direction(self, x: Tensor, params: tuple, reverse: bool) -> Tensor:
        w_ih, w_hh, b_ih, b_hh, peep = params
        seq_len, batch = x.shape[0], x.shape[1]
        h = x.new_zeros(batch, w_hh.shape[1])
        state = (h, h) if self.cell in ("lstm", "peephole") else h
        steps = range(seq_len - 1, -1, -1) if reverse else range(seq_len)
        x_steps = x.unbind(0)  # not x[t]: each x[t]'s backward would fill a zero gradient of all of x
        hs = [None] * seq_len
        for t in steps:
            if self.cell == "peephole":
                state = peephole_step(x_steps[t], state, w_ih, w_hh, b_ih, b_hh, peep)
            else:
                state = _torch_cell_step(self.cell)(x_steps[t], state, w_ih, w_hh, b_ih, b_hh)
            hs[t] = state[0] if isinstance(state, tuple) else state
        return torch.stack(hs)


class ScriptedCore(_HandWiredCore):
    """`scripted`: one input matmul for all steps, then a TorchScript loop with a hand-written backward.

    Why this route. The hand-written backward does most of the work (5 ops per step are left,
    see `scripted.Recurrence`); TorchScript then takes the Python interpreter out of both loops, which
    brings a training step to about the fused kernel's. torch.compile came close on speed but
    unrolls the time loop and compiles again, for minutes, for every new sequence length, which
    a seq_len sweep or a variable-length task brings constantly. `benchmarks/impl.py --routes`
    compares the routes; one machine's figures are in docs/evidence/implementations.md.
    torch.jit.script is deprecated (torch 2.13 warns; `scripted._script` silences it) but works;
    the loops are plain Python, so another compiler is one entry in `scripted.LOOP_COMPILERS`
    and one `compiler` value here.
    """

    # How the loops are compiled: a key of scripted.LOOP_COMPILERS (benchmarks/impl.py --routes sets others).
    compiler = "torchscript"

    def _direction(self, x: Tensor, params: tuple, reverse: bool) -> Tensor:
        w_ih, w_hh, b_ih, b_hh, peep = params
        return scripted_direction(self.cell, x, w_ih, w_hh, b_ih, b_hh, peep, reverse, self.compiler)


# ---------------------------------------------------------------------------
# public API


def build_core(
    cell: str, impl: str, input_size: int, hidden_size: int | list[int], num_layers: int, bidirectional: bool
) -> nn.Module:
    """A recurrent core: forward(x (B, T, input_size)) -> (outputs (B, T, D·H_last), final (B, D·H_last)).

    `hidden_size` is one size for all `num_layers` layers or a list of per-layer sizes.
    Raises ValueError for an unknown cell or impl, `fused` with `peephole`, or sizes that don't fit.
    """
    if cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}; expected one of {', '.join(CELLS)}")
    if impl not in IMPLS:
        raise ValueError(f"unknown impl {impl!r}; expected one of {', '.join(IMPLS)}")
    if impl not in CELL_IMPLS[cell]:
        raise ValueError(f"cell {cell!r} has no {impl!r} implementation; use one of {', '.join(CELL_IMPLS[cell])}")
    if num_layers < 1:
        raise ValueError(f"num_layers must be >= 1, got {num_layers}")
    if input_size < 1:
        raise ValueError(f"input_size must be >= 1, got {input_size}")
    hidden_sizes = list(hidden_size) if isinstance(hidden_size, (list, tuple)) else [hidden_size] * num_layers
    if len(hidden_sizes) != num_layers:
        raise ValueError(f"{len(hidden_sizes)} hidden sizes given for num_layers={num_layers}")
    if any(h < 1 for h in hidden_sizes):
        raise ValueError(f"hidden sizes must be >= 1, got {hidden_sizes}")
    if impl == "fused":
        if len(set(hidden_sizes)) == 1:
            return _FUSED[cell](input_size, hidden_sizes[0], num_layers, batch_first=True, bidirectional=bidirectional)
        return FusedStack(cell, input_size, hidden_sizes, bidirectional)
    core_class = CellLoopCore if impl == "cell" else ScriptedCore
    return core_class(cell, input_size, hidden_sizes, bidirectional)
