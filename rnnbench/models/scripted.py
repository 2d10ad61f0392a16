"""Hand-written recurrences with backpropagation through time written out, their time loops compiled with TorchScript.

`Recurrence` (a `torch.autograd.Function`) runs one cell over one layer and one
direction. Its input `xw` is the input projection of all steps at once,
x @ W_ih^T + bias, computed by the caller with one matmul (autograd carries that
part); the Function owns only the time loop and `W_hh` (plus the GRU's `b_hh`
and the peephole weights).

Why a custom backward: autograd through a cell loop records about ten nodes per
step and replays them one by one. Here the backward is rearranged so that every
factor that does not depend on the incoming gradient (sigmoid and tanh
derivatives, gate products) is computed in a few vectorised ops over a block of
8 steps just before the loop reaches them (still in cache then), leaving 2 (RNN),
3 (GRU) or 5 (LSTM, peephole LSTM) ops per step; the weight gradient is one
(T·B)-deep matmul after the loop. The forward writes every step into
preallocated (T, B, ·) buffers through out= and in-place ops on views made once
before the loop; those buffers are what the backward reads.

Layouts are time-major, (T, B, ·); the initial state is zero. Gate order is
PyTorch's: LSTM i, f, g, o; GRU r, z, n.
"""

from __future__ import annotations

import warnings
from functools import cache

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from rnnbench.models import bptt


class Loops:
    """The six loops, compiled one way."""

    def __init__(self, compile_fn) -> None:
        self.rnn_forward = compile_fn(bptt.rnn_forward)
        self.rnn_backward = compile_fn(bptt.rnn_backward)
        self.lstm_forward = compile_fn(bptt.lstm_forward)
        self.lstm_backward = compile_fn(bptt.lstm_backward)
        self.gru_forward = compile_fn(bptt.gru_forward)
        self.gru_backward = compile_fn(bptt.gru_backward)


def _script(fn):
    # torch.jit.script is deprecated (torch 2.13 warns) but works; cells.ScriptedCore says why it is used.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.script(fn)


# The ways to compile the loops that benchmarks/impl.py --routes compares; cells.ScriptedCore says why TorchScript.
LOOP_COMPILERS = {
    "torchscript": _script,
    "inductor": lambda fn: torch.compile(fn, dynamic=False),  # unrolls each loop: compiles per (T, B, H)
    "eager": lambda fn: fn,
}


@cache
def compiled_loops(compiler: str = "torchscript") -> Loops:
    """The loops compiled by `compiler`, once per process on first use (TorchScript takes about a second)."""
    return Loops(LOOP_COMPILERS[compiler])


# ---------------------------------------------------------------------------
# The autograd Function: one layer, one direction; the loops above do the work.


class Recurrence(torch.autograd.Function):
    """`cell`'s recurrence over xw (T, B, G·H) -> hs (T, B, H).

    `extra` is the GRU's b_hh, the peephole LSTM's (w_ci, w_cf, w_co) stacked (3, H), or None.
    """

    @staticmethod
    def forward(ctx, loops: Loops, cell: str, xw: Tensor, w_hh: Tensor, extra: Tensor | None) -> Tensor:
        if cell == "rnn":
            saved = (loops.rnn_forward(xw, w_hh.t()),)
        elif cell == "gru":
            saved = loops.gru_forward(xw, w_hh.t(), extra)
        else:
            saved = loops.lstm_forward(xw, w_hh.t(), extra)
        ctx.save_for_backward(*saved, w_hh, extra)
        ctx.loops, ctx.cell = loops, cell
        return saved[0]

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_hs: Tensor):
        *saved, w_hh, extra = ctx.saved_tensors
        grad_hs = grad_hs.contiguous()
        d_extra = None
        with torch.autocast(grad_hs.device.type, enabled=False):
            if ctx.cell == "rnn":
                d_xw, d_w_hh = ctx.loops.rnn_backward(grad_hs, *saved, w_hh)
            elif ctx.cell == "gru":
                d_xw, d_w_hh, d_extra = ctx.loops.gru_backward(grad_hs, *saved, w_hh)
            else:
                d_xw, d_w_hh, d_extra = ctx.loops.lstm_backward(grad_hs, *saved, w_hh, extra)
        return None, None, d_xw, d_w_hh, d_extra


def scripted_direction(
    cell: str,
    x: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor,
    b_hh: Tensor,
    peep: Tensor | None,
    reverse: bool,
    compiler: str = "torchscript",
) -> Tensor:
    """One layer, one direction: x (T, B, I) time-major -> hs (T, B, H), in x's time order.

    The input projection of every step is one matmul here; the Function runs the loop.
    Under autocast the projection comes out in the low-precision dtype and the loop
    follows it, with autocast off inside (its out= buffers take the inputs' dtype).
    """
    if reverse:
        x = x.flip(0)
    seq_len, batch, input_size = x.shape
    x_flat = x.reshape(seq_len * batch, input_size)
    bias = b_ih if cell == "gru" else b_ih + b_hh
    xw = torch.addmm(bias, x_flat, w_ih.t()).view(seq_len, batch, -1)
    extra = b_hh if cell == "gru" else peep
    with torch.autocast(x.device.type, enabled=False):
        hs = Recurrence.apply(
            compiled_loops(compiler), cell, xw, w_hh.to(xw.dtype), None if extra is None else extra.to(xw.dtype)
        )
    return hs.flip(0) if reverse else hs
