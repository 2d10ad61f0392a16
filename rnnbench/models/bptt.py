"""The time loops of the hand-written recurrences: forward into preallocated buffers, backward through time written out.

Plain TorchScript-compatible functions over time-major (T, B, ·) tensors; `scripted.compiled_loops()`
compiles them, and `scripted.Recurrence` says why the backward is written by hand.
"""

from __future__ import annotations

import torch
from torch import Tensor

# ---------------------------------------------------------------------------
# Time loops. Plain TorchScript-compatible functions; `compiled_loops()` scripts them.
# Every `out=` and in-place op writes into a slice of a buffer allocated once.


def rnn_forward(xw: Tensor, w_hh_t: Tensor) -> Tensor:
    hs = torch.empty_like(xw)
    x_steps, h_steps = xw.unbind(0), hs.unbind(0)
    h = torch.zeros_like(x_steps[0])
    for t in range(len(x_steps)):
        torch.addmm(x_steps[t], h, w_hh_t, out=h_steps[t])
        h_steps[t].tanh_()
        h = h_steps[t]
    return hs


def rnn_backward(grad_hs: Tensor, hs: Tensor, w_hh: Tensor) -> tuple[Tensor, Tensor]:
    seq_len = hs.size(0)
    tanh_derivative = 1.0 - hs * hs
    d_pre = torch.empty_like(hs)
    grad_steps, k_steps, d_steps = grad_hs.unbind(0), tanh_derivative.unbind(0), d_pre.unbind(0)
    dh = grad_steps[seq_len - 1]
    for t in range(seq_len - 1, -1, -1):
        torch.mul(dh, k_steps[t], out=d_steps[t])
        if t > 0:
            dh = torch.addmm(grad_steps[t - 1], d_steps[t], w_hh)
    return d_pre, weight_grad(d_pre, hs)


def weight_grad(d_pre: Tensor, hs: Tensor) -> Tensor:
    """dW_hh = sum_t d_pre_t^T h_{t-1}: one matmul over all steps but the first, whose h_{-1} is 0."""
    hidden = hs.size(2)
    return d_pre[1:].reshape(-1, d_pre.size(2)).t().mm(hs[:-1].reshape(-1, hidden))


def lstm_forward(xw: Tensor, w_hh_t: Tensor, peep: Tensor | None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Returns hs and, for the backward, the activated gates, the cell states and their tanh."""
    seq_len, batch, hidden = xw.size(0), xw.size(1), w_hh_t.size(0)
    gates = torch.empty_like(xw)
    cells = xw.new_empty([seq_len, batch, hidden])
    tanh_cells = torch.empty_like(cells)
    hs = torch.empty_like(cells)
    # Every per-step view made once up front: a slice or select inside the loop is a dispatcher call each.
    x_steps, gate_steps = xw.unbind(0), gates.unbind(0)
    i_steps, f_steps = gates[:, :, :hidden].unbind(0), gates[:, :, hidden : 2 * hidden].unbind(0)
    g_steps, o_steps = gates[:, :, 2 * hidden : 3 * hidden].unbind(0), gates[:, :, 3 * hidden :].unbind(0)
    if_steps = gates[:, :, : 2 * hidden].unbind(0)
    if_by_gate_steps = gates.view(seq_len, batch, 4, hidden)[:, :, :2].unbind(0)
    c_steps, tanh_c_steps, h_steps = cells.unbind(0), tanh_cells.unbind(0), hs.unbind(0)
    c_column_steps = cells.unsqueeze(2).unbind(0)  # (B, 1, H): broadcasts over the i and f blocks
    use_peep = peep is not None
    peep_if = xw.new_zeros([1, 2, hidden])
    peep_o = xw.new_zeros([hidden])
    if peep is not None:
        peep_if = peep[:2].unsqueeze(0)
        peep_o = peep[2]
    h = xw.new_zeros([batch, hidden])
    c = xw.new_zeros([batch, hidden])
    c_column = xw.new_zeros([batch, 1, hidden])
    for t in range(seq_len):
        torch.addmm(x_steps[t], h, w_hh_t, out=gate_steps[t])
        if use_peep:  # input and forget gates see c_{t-1}
            if_by_gate_steps[t].addcmul_(c_column, peep_if)
        if_steps[t].sigmoid_()
        g_steps[t].tanh_()
        c_t = c_steps[t]
        torch.mul(f_steps[t], c, out=c_t)
        c_t.addcmul_(i_steps[t], g_steps[t])
        if use_peep:  # the output gate sees c_t
            o_steps[t].addcmul_(c_t, peep_o)
        o_steps[t].sigmoid_()
        torch.tanh(c_t, out=tanh_c_steps[t])
        torch.mul(o_steps[t], tanh_c_steps[t], out=h_steps[t])
        h = h_steps[t]
        c = c_t
        c_column = c_column_steps[t]
    return hs, gates, cells, tanh_cells


def lstm_backward(
    grad_hs: Tensor,
    hs: Tensor,
    gates: Tensor,
    cells: Tensor,
    tanh_cells: Tensor,
    w_hh: Tensor,
    peep: Tensor | None,
    block: int = 8,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """Gradients w.r.t. the gate pre-activations (= d xw), W_hh and the peephole weights.

    With dh_t, dc_t the total gradients of h_t, c_t:
      dc_t  = dc_{t+1}·F_{t+1} + dh_t·A_t
      d pre = [dc_t·K_i, dc_t·K_f, dc_t·K_g, dh_t·K_o]
      dh_{t-1} = grad_{t-1} + d pre_t @ W_hh
    where K_i = g·i(1-i), K_f = c_{t-1}·f(1-f), K_g = i(1-g²), K_o = tanh(c)·o(1-o),
    A = o(1-tanh²c) [+ K_o·w_co], F = f [+ K_i·w_ci + K_f·w_cf] (bracketed: peephole only).
    The factors are made `block` steps at a time, just before the loop reaches those
    steps, so they are still in cache when it reads them.
    """
    seq_len, batch, hidden = hs.size(0), hs.size(1), hs.size(2)
    block = min(block, seq_len)
    factor_buffer = gates.new_empty([block, batch, 4 * hidden])
    a_buffer = hs.new_empty([block, batch, hidden])
    carry_buffer = hs.new_empty([block, batch, hidden])
    dc_buffer = hs.new_empty([block, batch, 1, hidden])
    d_pre = torch.empty_like(gates)
    d_peep = hs.new_zeros([3, hidden])
    grad_steps = grad_hs.unbind(0)
    dh = grad_steps[seq_len - 1]
    dc_carry = torch.zeros_like(dh)
    end = seq_len
    while end > 0:
        start = max(end - block, 0)
        n = end - start
        i, f, g, o = gates[start:end].chunk(4, 2)
        h_block, tanh_c = hs[start:end], tanh_cells[start:end]
        if start > 0:
            c_prev = cells[start - 1 : end - 1]
        else:
            c_prev = torch.cat([torch.zeros_like(cells[:1]), cells[: end - 1]])
        # s(1-s) = s - s·s in one addcmul; h = o·tanh(c) is at hand, so K_o = h - h·o and A = o - h·tanh(c).
        factors = factor_buffer[:n]
        k_i, k_f, k_g, k_o = factors.chunk(4, 2)
        torch.addcmul(i, i, i, value=-1.0, out=k_i).mul_(g)
        torch.addcmul(f, f, f, value=-1.0, out=k_f).mul_(c_prev)
        torch.addcmul(i, i * g, g, value=-1.0, out=k_g)
        torch.addcmul(h_block, h_block, o, value=-1.0, out=k_o)
        dh_to_dc = torch.addcmul(o, h_block, tanh_c, value=-1.0, out=a_buffer[:n])
        dc_to_dc_prev = f
        if peep is not None:
            dh_to_dc.addcmul_(k_o, peep[2])
            dc_to_dc_prev = torch.addcmul(f, k_i, peep[0], out=carry_buffer[:n]).addcmul_(k_f, peep[1])
        d_block = d_pre[start:end]
        d_steps, d_ifg_steps = d_block.unbind(0), d_block.view(n, batch, 4, hidden)[:, :, :3].unbind(0)
        d_o_steps, k_o_steps = d_block[:, :, 3 * hidden :].unbind(0), k_o.unbind(0)
        k_ifg_steps = factors.view(n, batch, 4, hidden)[:, :, :3].unbind(0)
        dc_steps, dc_column_steps = dc_buffer[:n].view(n, batch, hidden).unbind(0), dc_buffer[:n].unbind(0)
        a_steps, carry_steps = dh_to_dc.unbind(0), dc_to_dc_prev.unbind(0)
        for s in range(n - 1, -1, -1):
            torch.addcmul(dc_carry, dh, a_steps[s], out=dc_steps[s])
            torch.mul(k_ifg_steps[s], dc_column_steps[s], out=d_ifg_steps[s])
            torch.mul(k_o_steps[s], dh, out=d_o_steps[s])
            if start + s > 0:
                dc_carry = dc_steps[s] * carry_steps[s]
                dh = torch.addmm(grad_steps[start + s - 1], d_steps[s], w_hh)
        if peep is not None:
            d_i, d_f, d_g, d_o = d_block.chunk(4, 2)
            d_peep[0] += (d_i * c_prev).sum([0, 1])
            d_peep[1] += (d_f * c_prev).sum([0, 1])
            d_peep[2] += (d_o * cells[start:end]).sum([0, 1])
        end = start
    d_peep_out: Tensor | None = None
    if peep is not None:
        d_peep_out = d_peep
    return d_pre, weight_grad(d_pre, hs), d_peep_out


def gru_forward(xw: Tensor, w_hh_t: Tensor, b_hh: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """`xw` holds x @ W_ih^T + b_ih only: b_hh sits inside the reset product. Returns hs, gates, h @ W_hh^T + b_hh."""
    seq_len, batch, hidden = xw.size(0), xw.size(1), w_hh_t.size(0)
    gates = torch.empty_like(xw)
    hws = torch.empty_like(xw)
    hs = xw.new_empty([seq_len, batch, hidden])
    x_rz_steps, x_n_steps = xw[:, :, : 2 * hidden].unbind(0), xw[:, :, 2 * hidden :].unbind(0)
    hw_steps, hw_rz_steps = hws.unbind(0), hws[:, :, : 2 * hidden].unbind(0)
    hw_n_steps = hws[:, :, 2 * hidden :].unbind(0)
    rz_steps, r_steps = gates[:, :, : 2 * hidden].unbind(0), gates[:, :, :hidden].unbind(0)
    z_steps, n_steps = gates[:, :, hidden : 2 * hidden].unbind(0), gates[:, :, 2 * hidden :].unbind(0)
    h_steps = hs.unbind(0)
    h = xw.new_zeros([batch, hidden])
    for t in range(seq_len):
        torch.addmm(b_hh, h, w_hh_t, out=hw_steps[t])
        torch.add(x_rz_steps[t], hw_rz_steps[t], out=rz_steps[t])
        rz_steps[t].sigmoid_()
        n = n_steps[t]
        torch.addcmul(x_n_steps[t], r_steps[t], hw_n_steps[t], out=n)
        n.tanh_()
        torch.addcmul(n, z_steps[t], h - n, out=h_steps[t])  # (1-z)·n + z·h
        h = h_steps[t]
    return hs, gates, hws


def gru_backward(
    grad_hs: Tensor, hs: Tensor, gates: Tensor, hws: Tensor, w_hh: Tensor, block: int = 8
) -> tuple[Tensor, Tensor, Tensor]:
    """Gradients w.r.t. xw, W_hh and b_hh.

    Every pre-activation gradient is dh_t times a factor known before the loop:
      d(x-part) = dh·[K_r, K_z, K_n],  d(h-part) = dh·[K_r, K_z, K_n·r]
    with K_n = (1-z)(1-n²), K_z = (h_{t-1}-n)·z(1-z), K_r = K_n·(W_hn h + b_hn)·r(1-r);
      dh_{t-1} = grad_{t-1} + dh_t·z + d(h-part)_t @ W_hh.
    Only the h-part is needed inside the loop; the x-part is one op per block after it.
    Factors are made `block` steps at a time, as in `lstm_backward`.
    """
    seq_len, batch, hidden = hs.size(0), hs.size(1), hs.size(2)
    block = min(block, seq_len)
    x_factor_buffer = torch.empty_like(gates[:block])
    h_factor_buffer = torch.empty_like(gates[:block])
    dh_buffer = hs.new_empty([block, batch, 1, hidden])
    d_xw = torch.empty_like(gates)
    d_hw = torch.empty_like(gates)
    grad_steps = grad_hs.unbind(0)
    dh = grad_steps[seq_len - 1]
    end = seq_len
    while end > 0:
        start = max(end - block, 0)
        n = end - start
        r, z, new = gates[start:end].chunk(3, 2)
        if start > 0:
            h_prev = hs[start - 1 : end - 1]
        else:
            h_prev = torch.cat([torch.zeros_like(hs[:1]), hs[: end - 1]])
        x_factors, h_factors = x_factor_buffer[:n], h_factor_buffer[:n]
        k_r, k_z, k_n = x_factors.chunk(3, 2)
        one_minus_z = 1.0 - z
        torch.addcmul(one_minus_z, one_minus_z * new, new, value=-1.0, out=k_n)
        torch.sub(h_prev, new, out=k_z).mul_(one_minus_z.mul_(z))
        torch.mul(k_n, hws[start:end, :, 2 * hidden :], out=k_r).mul_(torch.addcmul(r, r, r, value=-1.0))
        h_factors[:, :, : 2 * hidden].copy_(x_factors[:, :, : 2 * hidden])
        torch.mul(k_n, r, out=h_factors[:, :, 2 * hidden :])
        dh_block = dh_buffer[:n]
        dh_steps, dh_column_steps = dh_block.view(n, batch, hidden).unbind(0), dh_block.unbind(0)
        d_hw_steps = d_hw[start:end].unbind(0)
        d_hw_by_gate_steps = d_hw[start:end].view(n, batch, 3, hidden).unbind(0)
        h_factor_steps, z_steps = h_factors.view(n, batch, 3, hidden).unbind(0), z.unbind(0)
        dh_steps[n - 1].copy_(dh)
        for s in range(n - 1, -1, -1):
            torch.mul(h_factor_steps[s], dh_column_steps[s], out=d_hw_by_gate_steps[s])
            if start + s > 0:
                through_z = torch.addcmul(grad_steps[start + s - 1], dh_steps[s], z_steps[s])
                if s > 0:
                    torch.addmm(through_z, d_hw_steps[s], w_hh, out=dh_steps[s - 1])
                else:
                    dh = torch.addmm(through_z, d_hw_steps[s], w_hh)
        torch.mul(x_factors.view(n, batch, 3, hidden), dh_block, out=d_xw[start:end].view(n, batch, 3, hidden))
        end = start
    return d_xw, weight_grad(d_hw, hs), d_hw.sum([0, 1])
