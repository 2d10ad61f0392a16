"""Hand-written recurrences with backpropagation through time written out, their time loops compiled with TorchScript.

Each cell's recurrence is a `torch.autograd.Function` over one layer and one
direction. Its input `xw` is the input projection of all steps at once,
x @ W_ih^T + bias, computed by the caller with one matmul (autograd carries that
part); the Function owns only the time loop and `W_hh` (plus the GRU's `b_hh`
and the peephole weights).

Why a custom backward: autograd through a cell loop records about ten nodes per
step and replays them one by one. Here the backward is rearranged so that every
factor that does not depend on the incoming gradient (sigmoid and tanh
derivatives, gate products) is computed for all steps in a few vectorised ops
before the loop, leaving 2 (RNN), 3 (GRU) or 5 (LSTM, peephole LSTM) ops per
step; the weight gradient is one (T·B)-deep matmul after the loop. The forward
writes every step into preallocated (T, B, ·) buffers (out= and in-place ops),
which are what the backward reads.

Layouts are time-major, (T, B, ·); the initial state is zero. Gate order is
PyTorch's: LSTM i, f, g, o; GRU r, z, n.
"""

from __future__ import annotations

import warnings
from functools import cache
from typing import Optional

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

# ---------------------------------------------------------------------------
# Time loops. Plain TorchScript-compatible functions; `compiled_loops()` scripts them.
# Every `out=` and in-place op writes into a slice of a buffer allocated once.


def _rnn_forward(xw: Tensor, w_hh_t: Tensor) -> Tensor:
    seq_len = xw.size(0)
    hs = torch.empty_like(xw)
    h = torch.zeros_like(xw[0])
    for t in range(seq_len):
        torch.addmm(xw[t], h, w_hh_t, out=hs[t])
        hs[t].tanh_()
        h = hs[t]
    return hs


def _rnn_backward(grad_hs: Tensor, hs: Tensor, w_hh: Tensor) -> tuple[Tensor, Tensor]:
    seq_len, batch, hidden = hs.size(0), hs.size(1), hs.size(2)
    tanh_derivative = 1.0 - hs * hs
    d_pre = torch.empty_like(hs)
    dh = grad_hs[seq_len - 1]
    for t in range(seq_len - 1, -1, -1):
        torch.mul(dh, tanh_derivative[t], out=d_pre[t])
        if t > 0:
            dh = torch.addmm(grad_hs[t - 1], d_pre[t], w_hh)
    h_prev = torch.cat([torch.zeros_like(hs[:1]), hs[:-1]])
    d_w_hh = d_pre.view(seq_len * batch, hidden).t().mm(h_prev.view(seq_len * batch, hidden))
    return d_pre, d_w_hh


def _lstm_forward(xw: Tensor, w_hh_t: Tensor, peep: Optional[Tensor]) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Returns hs and, for the backward, the activated gates, the cell states and their tanh."""
    seq_len, batch, hidden = xw.size(0), xw.size(1), w_hh_t.size(0)
    gates = torch.empty_like(xw)
    cells = xw.new_empty([seq_len, batch, hidden])
    tanh_cells = torch.empty_like(cells)
    hs = torch.empty_like(cells)
    h = xw.new_zeros([batch, hidden])
    c = xw.new_zeros([batch, hidden])
    use_peep = peep is not None
    peep_if = xw.new_zeros([1, 2, hidden])
    peep_o = xw.new_zeros([hidden])
    if peep is not None:
        peep_if = peep[:2].unsqueeze(0)
        peep_o = peep[2]
    for t in range(seq_len):
        g = gates[t]
        torch.addmm(xw[t], h, w_hh_t, out=g)
        if use_peep:  # input and forget gates see c_{t-1}
            g.view(batch, 4, hidden)[:, :2].addcmul_(c.unsqueeze(1), peep_if)
        g[:, : 2 * hidden].sigmoid_()
        g[:, 2 * hidden : 3 * hidden].tanh_()
        c_t = cells[t]
        torch.mul(g[:, hidden : 2 * hidden], c, out=c_t)
        c_t.addcmul_(g[:, :hidden], g[:, 2 * hidden : 3 * hidden])
        o = g[:, 3 * hidden :]
        if use_peep:  # the output gate sees c_t
            o.addcmul_(c_t, peep_o)
        o.sigmoid_()
        torch.tanh(c_t, out=tanh_cells[t])
        torch.mul(o, tanh_cells[t], out=hs[t])
        h = hs[t]
        c = c_t
    return hs, gates, cells, tanh_cells


def _lstm_backward(
    grad_hs: Tensor, hs: Tensor, gates: Tensor, cells: Tensor, tanh_cells: Tensor, w_hh: Tensor, peep: Optional[Tensor]
) -> tuple[Tensor, Tensor, Optional[Tensor]]:
    """Gradients w.r.t. the gate pre-activations (= d xw), W_hh and the peephole weights.

    With dh_t, dc_t the total gradients of h_t, c_t:
      dc_t  = dc_{t+1}·F_{t+1} + dh_t·A_t
      d pre = [dc_t·K_i, dc_t·K_f, dc_t·K_g, dh_t·K_o]
      dh_{t-1} = grad_{t-1} + d pre_t @ W_hh
    where K_i = g·i(1-i), K_f = c_{t-1}·f(1-f), K_g = i(1-g²), K_o = tanh(c)·o(1-o),
    A = o(1-tanh²c) [+ K_o·w_co], F = f [+ K_i·w_ci + K_f·w_cf] (bracketed: peephole only).
    """
    seq_len, batch, hidden = hs.size(0), hs.size(1), hs.size(2)
    i, f, g, o = gates.chunk(4, 2)
    c_prev = torch.cat([torch.zeros_like(cells[:1]), cells[:-1]])
    factors = torch.empty_like(gates)
    k_i, k_f, k_g, k_o = factors.chunk(4, 2)
    torch.mul(g, i * (1.0 - i), out=k_i)
    torch.mul(c_prev, f * (1.0 - f), out=k_f)
    torch.mul(i, 1.0 - g * g, out=k_g)
    torch.mul(tanh_cells, o * (1.0 - o), out=k_o)
    dh_to_dc = o * (1.0 - tanh_cells * tanh_cells)
    dc_to_dc_prev = f
    if peep is not None:
        dh_to_dc = dh_to_dc + k_o * peep[2]
        dc_to_dc_prev = f + k_i * peep[0] + k_f * peep[1]
    d_pre = torch.empty_like(gates)
    dh = grad_hs[seq_len - 1]
    dc_carry = torch.zeros_like(dh)
    for t in range(seq_len - 1, -1, -1):
        dc = torch.addcmul(dc_carry, dh, dh_to_dc[t])
        d_t = d_pre[t]
        torch.mul(factors[t].view(batch, 4, hidden)[:, :3], dc.unsqueeze(1), out=d_t.view(batch, 4, hidden)[:, :3])
        torch.mul(k_o[t], dh, out=d_t[:, 3 * hidden :])
        if t > 0:
            dc_carry = dc * dc_to_dc_prev[t]
            dh = torch.addmm(grad_hs[t - 1], d_t, w_hh)
    h_prev = torch.cat([torch.zeros_like(hs[:1]), hs[:-1]])
    d_w_hh = d_pre.view(seq_len * batch, 4 * hidden).t().mm(h_prev.view(seq_len * batch, hidden))
    d_peep: Optional[Tensor] = None
    if peep is not None:
        d_i, d_f, d_g, d_o = d_pre.chunk(4, 2)
        d_peep = torch.stack([(d_i * c_prev).sum([0, 1]), (d_f * c_prev).sum([0, 1]), (d_o * cells).sum([0, 1])])
    return d_pre, d_w_hh, d_peep


def _gru_forward(xw: Tensor, w_hh_t: Tensor, b_hh: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """`xw` holds x @ W_ih^T + b_ih only: b_hh sits inside the reset product. Returns hs, gates, h @ W_hh^T + b_hh."""
    seq_len, batch, hidden = xw.size(0), xw.size(1), w_hh_t.size(0)
    gates = torch.empty_like(xw)
    hws = torch.empty_like(xw)
    hs = xw.new_empty([seq_len, batch, hidden])
    h = xw.new_zeros([batch, hidden])
    for t in range(seq_len):
        hw = hws[t]
        g = gates[t]
        x_t = xw[t]
        torch.addmm(b_hh, h, w_hh_t, out=hw)
        rz = g[:, : 2 * hidden]
        torch.add(x_t[:, : 2 * hidden], hw[:, : 2 * hidden], out=rz)
        rz.sigmoid_()
        n = g[:, 2 * hidden :]
        torch.addcmul(x_t[:, 2 * hidden :], g[:, :hidden], hw[:, 2 * hidden :], out=n)
        n.tanh_()
        torch.addcmul(n, g[:, hidden : 2 * hidden], h - n, out=hs[t])  # (1-z)·n + z·h
        h = hs[t]
    return hs, gates, hws


def _gru_backward(
    grad_hs: Tensor, hs: Tensor, gates: Tensor, hws: Tensor, w_hh: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    """Gradients w.r.t. xw, W_hh and b_hh.

    Every pre-activation gradient is dh_t times a factor known before the loop:
      d(x-part) = dh·[K_r, K_z, K_n],  d(h-part) = dh·[K_r, K_z, K_n·r]
    with K_n = (1-z)(1-n²), K_z = (h_{t-1}-n)·z(1-z), K_r = K_n·(W_hn h + b_hn)·r(1-r);
      dh_{t-1} = grad_{t-1} + dh_t·z + d(h-part)_t @ W_hh.
    Only the h-part is needed inside the loop; the x-part is one op over all steps after it.
    """
    seq_len, batch, hidden = hs.size(0), hs.size(1), hs.size(2)
    r, z, n = gates.chunk(3, 2)
    h_prev = torch.cat([torch.zeros_like(hs[:1]), hs[:-1]])
    x_factors = torch.empty_like(gates)
    k_r, k_z, k_n = x_factors.chunk(3, 2)
    torch.mul(1.0 - z, 1.0 - n * n, out=k_n)
    torch.mul(h_prev - n, z * (1.0 - z), out=k_z)
    torch.mul(k_n * hws[:, :, 2 * hidden :], r * (1.0 - r), out=k_r)
    h_factors = x_factors.clone()
    h_factors[:, :, 2 * hidden :].mul_(r)
    d_hw = torch.empty_like(gates)
    dhs = torch.empty_like(hs)
    dhs[seq_len - 1] = grad_hs[seq_len - 1]
    for t in range(seq_len - 1, -1, -1):
        dh = dhs[t]
        torch.mul(h_factors[t].view(batch, 3, hidden), dh.unsqueeze(1), out=d_hw[t].view(batch, 3, hidden))
        if t > 0:
            torch.addmm(torch.addcmul(grad_hs[t - 1], dh, z[t]), d_hw[t], w_hh, out=dhs[t - 1])
    d_xw = (x_factors.view(seq_len, batch, 3, hidden) * dhs.unsqueeze(2)).view(seq_len, batch, 3 * hidden)
    d_hw_flat = d_hw.view(seq_len * batch, 3 * hidden)
    d_w_hh = d_hw_flat.t().mm(h_prev.view(seq_len * batch, hidden))
    return d_xw, d_w_hh, d_hw_flat.sum(0)


class Loops:
    """The six loops, compiled one way."""

    def __init__(self, compile_fn) -> None:
        self.rnn_forward = compile_fn(_rnn_forward)
        self.rnn_backward = compile_fn(_rnn_backward)
        self.lstm_forward = compile_fn(_lstm_forward)
        self.lstm_backward = compile_fn(_lstm_backward)
        self.gru_forward = compile_fn(_gru_forward)
        self.gru_backward = compile_fn(_gru_backward)


def _script(fn):
    # torch.jit.script is deprecated from torch 2.10 on (it still works); see `cells.py` for why it is used.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.script(fn)


LOOP_COMPILERS = {"torchscript": _script, "eager": lambda fn: fn}  # eager: for comparison in benchmarks/impl.py


@cache
def compiled_loops(compiler: str = "torchscript") -> Loops:
    """The loops compiled by `compiler`, once per process on first use (TorchScript takes about a second)."""
    return Loops(LOOP_COMPILERS[compiler])


# ---------------------------------------------------------------------------
# autograd Functions: one layer, one direction; the loops above do the work.


class RNNRecurrence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, loops: Loops, xw: Tensor, w_hh: Tensor) -> Tensor:
        hs = loops.rnn_forward(xw, w_hh.t())
        ctx.save_for_backward(hs, w_hh)
        ctx.loops = loops
        return hs

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_hs: Tensor):
        hs, w_hh = ctx.saved_tensors
        with torch.autocast(grad_hs.device.type, enabled=False):
            return None, *ctx.loops.rnn_backward(grad_hs.contiguous(), hs, w_hh)


class LSTMRecurrence(torch.autograd.Function):
    """LSTM, or with `peep` (3, H) = (w_ci, w_cf, w_co) the peephole LSTM of Gers & Schmidhuber (2000)."""

    @staticmethod
    def forward(ctx, loops: Loops, xw: Tensor, w_hh: Tensor, peep: Optional[Tensor]) -> Tensor:
        hs, gates, cells, tanh_cells = loops.lstm_forward(xw, w_hh.t(), peep)
        ctx.save_for_backward(hs, gates, cells, tanh_cells, w_hh, peep)
        ctx.loops = loops
        return hs

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_hs: Tensor):
        hs, gates, cells, tanh_cells, w_hh, peep = ctx.saved_tensors
        with torch.autocast(grad_hs.device.type, enabled=False):
            return None, *ctx.loops.lstm_backward(grad_hs.contiguous(), hs, gates, cells, tanh_cells, w_hh, peep)


class GRURecurrence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, loops: Loops, xw: Tensor, w_hh: Tensor, b_hh: Tensor) -> Tensor:
        hs, gates, hws = loops.gru_forward(xw, w_hh.t(), b_hh)
        ctx.save_for_backward(hs, gates, hws, w_hh)
        ctx.loops = loops
        return hs

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_hs: Tensor):
        hs, gates, hws, w_hh = ctx.saved_tensors
        with torch.autocast(grad_hs.device.type, enabled=False):
            return None, *ctx.loops.gru_backward(grad_hs.contiguous(), hs, gates, hws, w_hh)


def scripted_direction(
    cell: str,
    x: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor,
    b_hh: Tensor,
    peep: Optional[Tensor],
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
    dtype = xw.dtype
    loops = compiled_loops(compiler)
    with torch.autocast(x.device.type, enabled=False):
        if cell == "rnn":
            hs = RNNRecurrence.apply(loops, xw, w_hh.to(dtype))
        elif cell == "gru":
            hs = GRURecurrence.apply(loops, xw, w_hh.to(dtype), b_hh.to(dtype))
        else:
            hs = LSTMRecurrence.apply(loops, xw, w_hh.to(dtype), None if peep is None else peep.to(dtype))
    return hs.flip(0) if reverse else hs
