"""Packed sequences for left-padded batches: the recurrence starts at each sequence's real first step.

The variable-length tasks (`adding1997`, `temporal_order`, variable-length `parity`) pad on the
LEFT with all-zero steps, so the last step is real for a `last` read-out. Unpacked, that padding
runs through the recurrence and the state reaching the first real symbol is not the zero state.
Packed, it is, as in the papers. Two routes give the same states:

- `pack`: re-align each sequence to start at step 0 and run the fused module on
  `pack_padded_sequence` (cuDNN skips the padding). Fused cores take it on CUDA.
- `realign`: the forward direction runs on the sequences rolled to start at step 0, so its
  padding comes after the real end, where nothing reads it; the backward direction runs on the
  left-padded layout, whose padding it meets only after the real first step. Each direction's
  state on the real steps is then exactly that of the unpadded sequence, the same as holding the
  state through the padding (the steps after the real end are computed and thrown away). A
  unidirectional core runs once, unchanged, on the rolled batch; a bidirectional one runs layer
  by layer, one call per direction (one oneDNN kernel call each for fused cores). The cell-loop
  and scripted cores take this route (their hand-written backward is untouched), and so do fused
  cores on the CPU, where `pack` falls off oneDNN onto ATen's packed loop, about 3x slower per
  step (`benchmarks/packing.py`; docs/evidence/packing.md has one machine's figures).

Padded positions of the outputs are 0 in both routes, and outputs keep the input's left-padded
layout. `lengths_from_padding` reads the lengths off the inputs: a real sequence never starts with
an all-zero step in these tasks (tests hold them to it).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

# direction(layer, x time-major (T, B, I), reverse) -> hs (T, B, H) in x's time order
Direction = Callable[[int, Tensor, bool], Tensor]


def lengths_from_padding(x: Tensor) -> Tensor:
    """(B,) int64: the steps after the leading all-zero ones of each sequence of x (B, T, F)."""
    real = (x != 0).any(dim=-1)  # (B, T)
    first_real = torch.where(real.any(dim=1), real.int().argmax(dim=1), x.shape[1])
    return x.shape[1] - first_real


def real_steps(lengths: Tensor, steps: int) -> Tensor:
    """(B, T) bool: True on the real steps of sequences left-padded to `steps`."""
    return torch.arange(steps, device=lengths.device).unsqueeze(0) >= (steps - lengths).unsqueeze(1)


def roll_steps(x: Tensor, shift: Tensor, time_dim: int) -> Tensor:
    """Each sequence rolled `shift[b]` steps toward the start along `time_dim` (1 batch-first, 0 time-major).

    One index_select over the flattened (time, batch) rows: its backward is an index_add, cheaper
    than gather's scatter over an expanded index.
    """
    steps, batch = x.shape[time_dim], x.shape[1 - time_dim]
    position = (torch.arange(steps, device=x.device).unsqueeze(0) + shift.unsqueeze(1)) % steps  # (B, T)
    sequence = torch.arange(batch, device=x.device).unsqueeze(1)
    rows = (position * batch + sequence).t() if time_dim == 0 else sequence * steps + position
    return x.reshape(-1, x.shape[-1]).index_select(0, rows.reshape(-1)).view(x.shape)


def _at_step(hs: Tensor, index: Tensor) -> Tensor:
    """hs (T, B, H) time-major at step index[b] of each sequence -> (B, H)."""
    return hs.gather(0, index.view(1, -1, 1).expand(1, -1, hs.shape[2])).squeeze(0)


def packed_call(run, x: Tensor, lengths: Tensor) -> tuple[Tensor, object]:
    """The `pack` route: `run` (an nn.RNN/LSTM/GRU forward, batch-first) over packed x -> (outputs in x's layout, state)."""
    steps = x.shape[1]
    pad = steps - lengths
    packed = pack_padded_sequence(roll_steps(x, pad, 1), lengths.cpu(), batch_first=True, enforce_sorted=False)
    outputs, state = run(packed)
    outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=steps)
    return roll_steps(outputs, -pad, 1), state


def realigned_forward(run: Callable[[Tensor], Tensor], x: Tensor, lengths: Tensor, final_only: bool):
    """The `realign` route of a unidirectional core: `run` (batch-first x -> outputs, every layer) once on
    the rolled sequences -> (outputs in x's layout, or None with `final_only`; final (B, H))."""
    pad = x.shape[1] - lengths
    rolled = run(roll_steps(x, pad, 1))  # (B, T, H): real steps first, padding after the real end
    final = rolled.gather(1, (lengths - 1).view(-1, 1, 1).expand(-1, 1, rolled.shape[2])).squeeze(1)
    if final_only:
        return None, final
    return roll_steps(rolled, -pad, 1) * real_steps(lengths, x.shape[1]).unsqueeze(-1), final


def realigned(direction: Direction, num_layers: int, x: Tensor, lengths: Tensor, final_only: bool = False):
    """The `realign` route of a bidirectional core over left-padded x (B, T, I), one layer and
    direction at a time -> (outputs (B, T, 2H), or None with `final_only`; final (B, 2H)).

    A layer's outputs on the padded steps are whatever the directions left there: the next layer's
    directions never read them before a real step, so only the returned outputs are masked."""
    pad = x.shape[1] - lengths
    layer_input = x.transpose(0, 1)
    for layer in range(num_layers):
        rolled = direction(layer, roll_steps(layer_input, pad, 0), False)  # real steps first
        backward = direction(
            layer, layer_input, True
        )  # reads T-1 down to 0: the padding comes after the real first step
        # the forward state after the real last step, the backward one after the real first (at index pad)
        final = torch.cat([_at_step(rolled, lengths - 1), _at_step(backward, pad)], dim=1)
        if final_only and layer == num_layers - 1:
            return None, final
        layer_input = torch.cat([roll_steps(rolled, -pad, 0), backward], dim=2)
    return layer_input.transpose(0, 1) * real_steps(lengths, x.shape[1]).unsqueeze(-1), final


_FUSED_KERNELS = {nn.LSTM: torch.lstm, nn.GRU: torch.gru, nn.RNN: torch.rnn_tanh}


def fused_direction(module: nn.RNNBase, layer: int, x: Tensor, reverse: bool) -> Tensor:
    """One layer and direction of a fused nn.RNN/LSTM/GRU as one single-direction kernel call (oneDNN on the CPU)."""
    suffix = f"_l{layer}" + ("_reverse" if reverse else "")
    params = [getattr(module, name + suffix) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    if reverse:
        x = x.flip(0)
    h0 = x.new_zeros(1, x.shape[1], module.hidden_size)
    kernel = next(fn for kind, fn in _FUSED_KERNELS.items() if isinstance(module, kind))
    state = (h0, h0) if isinstance(module, nn.LSTM) else h0
    hs = kernel(x, state, params, True, 1, 0.0, module.training, False, False)[0]
    return hs.flip(0) if reverse else hs
