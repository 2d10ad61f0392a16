"""Packed sequences for left-padded batches: the recurrence starts at each sequence's real first step.

The variable-length tasks (`adding1997`, `temporal_order`, variable-length `parity`) pad on the
LEFT with all-zero steps, so the last step is real for a `last` read-out. Unpacked, that padding
runs through the recurrence and the state reaching the first real symbol is not the zero state.
Packed, it is, as in the papers:

- fused cores re-align each sequence to start at step 0 and run `pack_padded_sequence`
  (cuDNN / ATen skip the padding);
- the cell-loop and scripted cores re-align instead of masking step by step: the forward
  direction runs on the sequences shifted to start at step 0 (its padding then comes after the
  real end, where nothing reads it), the backward direction runs on the left-padded layout, whose
  padding it meets only after the real first step. Each direction's state on the real steps is
  then exactly that of the unpadded sequence, the same as holding the state through the padding,
  without touching the hand-written backward of `bptt.py`; padded positions of the outputs are 0,
  as `pad_packed_sequence` leaves them.

Outputs keep the input's left-padded layout. `lengths_from_padding` reads the lengths off the
inputs: a real sequence never starts with an all-zero step in these tasks (tests hold them to it).
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


def lengths_from_padding(x: Tensor) -> Tensor:
    """(B,) int64: the steps after the leading all-zero ones of each sequence of x (B, T, F)."""
    real = (x != 0).any(dim=-1)  # (B, T)
    first_real = torch.where(real.any(dim=1), real.int().argmax(dim=1), x.shape[1])
    return x.shape[1] - first_real


def real_steps(lengths: Tensor, steps: int) -> Tensor:
    """(B, T) bool: True on the real steps of sequences left-padded to `steps`."""
    return torch.arange(steps, device=lengths.device).unsqueeze(0) >= (steps - lengths).unsqueeze(1)


def roll_steps(x: Tensor, shift: Tensor, time_dim: int) -> Tensor:
    """Each sequence rolled `shift[b]` steps toward the start along `time_dim` (1 batch-first, 0 time-major)."""
    steps = x.shape[time_dim]
    index = (torch.arange(steps, device=x.device).unsqueeze(0) + shift.unsqueeze(1)) % steps  # (B, T)
    if time_dim == 0:
        index = index.t()
    return x.gather(time_dim, index.unsqueeze(-1).expand_as(x))


def fused_packed(run, x: Tensor, lengths: Tensor) -> tuple[Tensor, object]:
    """`run` (an nn.RNN/LSTM/GRU forward, batch-first) over packed x: (outputs in x's layout, its final state)."""
    steps = x.shape[1]
    pad = steps - lengths
    packed = pack_padded_sequence(roll_steps(x, pad, 1), lengths.cpu(), batch_first=True, enforce_sorted=False)
    outputs, state = run(packed)
    outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=steps)
    return roll_steps(outputs, -pad, 1), state


def hand_wired_packed(core, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
    """A cell-loop or scripted core's forward over left-padded x (B, T, I) with the state started at the real steps."""
    steps = x.shape[1]
    pad = steps - lengths
    real = real_steps(lengths, steps).t().unsqueeze(-1)  # (T, B, 1)
    layer_input = x.transpose(0, 1)
    for layer in range(len(core.hidden_sizes)):
        hs = []
        for suffix in core._suffixes(layer):
            params = core._layer_params(suffix)
            if suffix.endswith("_reverse"):  # reads T-1 down to 0: the padding comes after the real first step
                h = core._direction(layer_input, params, reverse=True)
            else:  # starts at the real first step, the padding moved past the real end
                h = roll_steps(core._direction(roll_steps(layer_input, pad, 0), params, reverse=False), -pad, 0)
            hs.append(h * real)
        layer_input = torch.cat(hs, dim=2) if len(hs) == 2 else hs[0]
    final = [hs[0][-1]]  # the forward state after the real last step, which is the last step
    if len(hs) == 2:  # the backward state after the real first step, at index pad
        final.append(hs[1].gather(0, pad.view(1, -1, 1).expand(1, -1, hs[1].shape[2])).squeeze(0))
    return layer_input.transpose(0, 1), torch.cat(final, dim=1)
