"""The time loops of the LSTM variants (Greff et al. 2017), forward and backward through time written out.

One loop serves every variant: the caller hands it full 4-gate tensors in the order i, f, o, g (the three
sigmoid gates side by side, so full gate recurrence reads them as one block), zero blocks where a variant owns
no weights, and flags. An absent gate is written as the constant 1, whose sigmoid derivative i·(1 - i) is then 0,
so the backward needs no case for it; the coupled forget gate (f = 1 - i) is the one gate with its own case.
Plain TorchScript-compatible functions over time-major (T, B, ·) tensors, compiled by `variants.variant_loops()`.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnbench.models.bptt import weight_grad


def variant_forward(
    xw: Tensor,
    w_hh_t: Tensor,
    peep: Tensor,
    r_t: Tensor,
    input_gate: bool,
    forget_mode: int,
    output_gate: bool,
    input_activation: bool,
    output_activation: bool,
    use_peep: bool,
    fgr: bool,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """xw (T, B, 4H) in order i, f, o, g; forget_mode 0 own, 1 none (f = 1), 2 coupled (f = 1 - i).

    Returns hs, the activated gates, the cell states and y = tanh(c) (or c without the output activation).
    """
    seq_len, batch, hidden = xw.size(0), xw.size(1), w_hh_t.size(0)
    gates = torch.empty_like(xw)
    cells = xw.new_empty([seq_len, batch, hidden])
    ys = torch.empty_like(cells)
    hs = torch.empty_like(cells)
    x_steps, gate_steps = xw.unbind(0), gates.unbind(0)
    i_steps, f_steps = gates[:, :, :hidden].unbind(0), gates[:, :, hidden : 2 * hidden].unbind(0)
    o_steps, g_steps = gates[:, :, 2 * hidden : 3 * hidden].unbind(0), gates[:, :, 3 * hidden :].unbind(0)
    ifo_steps = gates[:, :, : 3 * hidden].unbind(0) if fgr else x_steps  # FGR's input and output only
    c_steps, y_steps, h_steps = cells.unbind(0), ys.unbind(0), hs.unbind(0)
    if_steps = gates[:, :, : 2 * hidden].unbind(0)
    if_by_gate_steps = gates.view(seq_len, batch, 4, hidden)[:, :, :2].unbind(0)
    c_column_steps = cells.unsqueeze(2).unbind(0)  # (B, 1, H): broadcasts over the i and f blocks
    peep_if = peep[:2].unsqueeze(0)  # (1, 2, H): w_ci, w_cf against the (B, 1, H) column of c_{t-1}
    h = xw.new_zeros([batch, hidden])
    c = xw.new_zeros([batch, hidden])
    c_column = xw.new_zeros([batch, 1, hidden])
    for t in range(seq_len):
        torch.addmm(x_steps[t], h, w_hh_t, out=gate_steps[t])
        if fgr and t > 0:
            ifo_steps[t].addmm_(ifo_steps[t - 1], r_t)
        i_t, f_t, c_t = i_steps[t], f_steps[t], c_steps[t]
        _input_and_forget(
            i_t, f_t, if_steps[t], if_by_gate_steps[t], c, c_column, peep, peep_if, input_gate, forget_mode, use_peep
        )
        _cell_and_output(
            (i_t, f_t, o_steps[t], g_steps[t]), c, c_t, y_steps[t], h_steps[t], peep,
            (output_gate, input_activation, output_activation, use_peep),
        )  # fmt: skip
        h = h_steps[t]
        c = c_t
        c_column = c_column_steps[t]
    return hs, gates, cells, ys


def _input_and_forget(
    i_t: Tensor,
    f_t: Tensor,
    if_t: Tensor,
    if_by_gate_t: Tensor,
    c: Tensor,
    c_column: Tensor,
    peep: Tensor,
    peep_if: Tensor,
    input_gate: bool,
    forget_mode: int,
    use_peep: bool,
) -> None:
    """Step t's input and forget gates, activated in place (they see c_{t-1} through their peepholes)."""
    if input_gate and forget_mode == 0:  # side by side: one op each for both gates' peepholes and sigmoids
        if use_peep:
            if_by_gate_t.addcmul_(c_column, peep_if)
        if_t.sigmoid_()
        return
    if input_gate:
        if use_peep:
            i_t.addcmul_(c, peep[0])
        i_t.sigmoid_()
    else:
        i_t.fill_(1.0)
    if forget_mode == 0:
        if use_peep:
            f_t.addcmul_(c, peep[1])
        f_t.sigmoid_()
    elif forget_mode == 1:
        f_t.fill_(1.0)
    else:
        torch.rsub(i_t, 1.0, out=f_t)


def _cell_and_output(
    gates_t: tuple[Tensor, Tensor, Tensor, Tensor],
    c: Tensor,
    c_t: Tensor,
    y_t: Tensor,
    h_t: Tensor,
    peep: Tensor,
    flags: tuple[bool, bool, bool, bool],
) -> None:
    """Step t's block input, cell state c_t, output gate and output h_t, written into their buffers."""
    i_t, f_t, o_t, g_t = gates_t
    output_gate, input_activation, output_activation, use_peep = flags
    if input_activation:
        g_t.tanh_()
    torch.mul(f_t, c, out=c_t)
    c_t.addcmul_(i_t, g_t)
    if output_gate:
        if use_peep:  # the output gate sees c_t
            o_t.addcmul_(c_t, peep[2])
        o_t.sigmoid_()
    else:
        o_t.fill_(1.0)
    if output_activation:
        torch.tanh(c_t, out=y_t)
    else:
        y_t.copy_(c_t)
    torch.mul(o_t, y_t, out=h_t)


def _factors(
    gates: Tensor, cells: Tensor, ys: Tensor, forget_mode: int, input_activation: bool, output_activation: bool
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Per-step factors that do not depend on the incoming gradient, for every step at once.

    Returns K (T, B, 4H): d pre = [dc·K_i, dc·K_f, dh·K_o, dc·K_g]; S, the sigmoid derivatives of i, f, o
    (T, B, 3H, for the gate recurrence); A = dh -> dc through h; and c_{t-1}.
    """
    hidden = cells.size(2)
    i, f, o, g = gates.chunk(4, 2)
    c_prev = torch.cat([torch.zeros_like(cells[:1]), cells[:-1]])
    ifo = gates[:, :, : 3 * hidden]
    slopes = ifo - ifo * ifo
    if forget_mode != 0:
        slopes[:, :, hidden : 2 * hidden] = 0.0  # f is a constant or 1 - i: no pre-activation of its own
    s_i, s_f, s_o = slopes.chunk(3, 2)
    k_i = s_i * (g - c_prev) if forget_mode == 2 else s_i * g
    k_g = i * (1.0 - g * g) if input_activation else i
    a = o * (1.0 - ys * ys) if output_activation else o
    factors = torch.cat([k_i, s_f * c_prev, s_o * ys, k_g], 2)
    return factors, slopes, a, c_prev


def _recurrence_views(d_pre: Tensor, fgr: bool) -> tuple[list[Tensor], list[Tensor]]:
    """FGR's per-step views, made once (a slice in the loop is a call each step): d pre of i, f, o per step; and
    two buffers for da, the gradient of a step's i, f, o through the next step's gate recurrence: step t reads
    buffer t % 2 and its matmul writes step t - 1's into the other. Two small buffers, not one per step, so da
    stays in cache. The last step's da is 0. Empty lists without FGR."""
    if not fgr:
        return [], []
    seq_len, batch, hidden = d_pre.size(0), d_pre.size(1), d_pre.size(2) // 4
    da = d_pre.new_empty([2, batch, 3 * hidden])
    da[(seq_len - 1) % 2].zero_()
    return d_pre[:, :, : 3 * hidden].unbind(0), da.unbind(0)


def variant_backward(
    grad_hs: Tensor,
    hs: Tensor,
    gates: Tensor,
    cells: Tensor,
    ys: Tensor,
    w_hh: Tensor,
    peep: Tensor,
    r: Tensor,
    forget_mode: int,
    input_activation: bool,
    output_activation: bool,
    use_peep: bool,
    fgr: bool,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Gradients w.r.t. xw (T, B, 4H), W_hh (4H, H), the peepholes (3, H) and the gate recurrence R (3H, 3H).

    With dh_t, dc_t the total gradients of h_t, c_t and da the gradient of the previous step's i, f, o
    (full gate recurrence only, da_{t-1} = d pre_ifo_t @ R):
      d pre_o = dh·K_o + da_o·S_o;   dc = dc_carry + dh·A + d pre_o·w_co
      d pre_i = dc·K_i + da_i·S_i;   d pre_f = dc·K_f + da_f·S_f;   d pre_g = dc·K_g
      dc_carry = dc·f + d pre_i·w_ci + d pre_f·w_cf;   dh_{t-1} = grad_{t-1} + d pre_t @ W_hh
    """
    seq_len, hidden = hs.size(0), hs.size(2)
    factors, slopes, a, c_prev = _factors(gates, cells, ys, forget_mode, input_activation, output_activation)
    d_pre = torch.empty_like(gates)
    d_steps, grad_steps = d_pre.unbind(0), grad_hs.unbind(0)
    d_i_steps, d_f_steps = d_pre[:, :, :hidden].unbind(0), d_pre[:, :, hidden : 2 * hidden].unbind(0)
    d_o_steps, d_g_steps = d_pre[:, :, 2 * hidden : 3 * hidden].unbind(0), d_pre[:, :, 3 * hidden :].unbind(0)
    k_i_steps, k_f_steps, k_o_steps, k_g_steps = [part.unbind(0) for part in factors.chunk(4, 2)]
    s_ifo_steps = slopes.unbind(0) if fgr else []  # FGR's per-step S of i, f, o, side by side
    peep_in_loop = use_peep and fgr
    a, carry = _fold_peepholes(factors, a, gates[:, :, hidden : 2 * hidden], peep, use_peep and not fgr)
    a_steps, f_steps = a.unbind(0), carry.unbind(0)
    dh, dc_carry = grad_steps[seq_len - 1], torch.zeros_like(grad_steps[0])
    d_ifo_steps, da_steps = _recurrence_views(d_pre, fgr)
    w_ci, w_cf, w_co = peep[0], peep[1], peep[2]  # selected once: peep[k] in the loop is a call each step
    for t in range(seq_len - 1, -1, -1):
        p = t % 2  # da's buffer for this step
        if fgr:  # da·S for i, f and o in one op first; the dh and dc terms are then added in place
            torch.mul(da_steps[p], s_ifo_steps[t], out=d_ifo_steps[t])
            d_o_steps[t].addcmul_(dh, k_o_steps[t])
        else:
            torch.mul(dh, k_o_steps[t], out=d_o_steps[t])
        dc = torch.addcmul(dc_carry, dh, a_steps[t])
        if peep_in_loop:
            dc.addcmul_(d_o_steps[t], w_co)
        if fgr:
            d_i_steps[t].addcmul_(dc, k_i_steps[t])
            d_f_steps[t].addcmul_(dc, k_f_steps[t])
        else:
            torch.mul(dc, k_i_steps[t], out=d_i_steps[t])
            torch.mul(dc, k_f_steps[t], out=d_f_steps[t])
        torch.mul(dc, k_g_steps[t], out=d_g_steps[t])
        if t > 0:
            dc_carry = dc * f_steps[t]
            if peep_in_loop:
                dc_carry.addcmul_(d_i_steps[t], w_ci).addcmul_(d_f_steps[t], w_cf)
            dh = torch.addmm(grad_steps[t - 1], d_steps[t], w_hh)
            if fgr:
                torch.mm(d_ifo_steps[t], r, out=da_steps[1 - p])
    d_w_hh, d_peep, d_r = _weight_grads(d_pre, hs, gates, cells, c_prev, r, fgr)
    return d_pre, d_w_hh, d_peep, d_r


def _fold_peepholes(factors: Tensor, a: Tensor, f: Tensor, peep: Tensor, fold: bool) -> tuple[Tensor, Tensor]:
    """(A, carry), with the peepholes' terms folded in when `fold` (no gate recurrence): then they are known
    before the loop, A' = A + K_o·w_co and dc_{t-1} = dc·(f + K_i·w_ci + K_f·w_cf), 7 ops a step instead of 10."""
    if not fold:
        return a, f
    k_i, k_f, k_o, _ = factors.chunk(4, 2)
    return torch.addcmul(a, k_o, peep[2]), torch.addcmul(f, k_i, peep[0]).addcmul_(k_f, peep[1])


def _weight_grads(
    d_pre: Tensor, hs: Tensor, gates: Tensor, cells: Tensor, c_prev: Tensor, r: Tensor, fgr: bool
) -> tuple[Tensor, Tensor, Tensor]:
    """dW_hh, the peepholes' gradients (3, H: i and f see c_{t-1}, o sees c_t) and dR, after the loop."""
    hidden = hs.size(2)
    d_peep = torch.stack(
        [
            (d_pre[:, :, :hidden] * c_prev).sum([0, 1]),
            (d_pre[:, :, hidden : 2 * hidden] * c_prev).sum([0, 1]),
            (d_pre[:, :, 2 * hidden : 3 * hidden] * cells).sum([0, 1]),
        ]
    )
    d_r = torch.zeros_like(r)
    if fgr and hs.size(0) > 1:
        d_r = weight_grad(d_pre[:, :, : 3 * hidden], gates[:, :, : 3 * hidden])
    return weight_grad(d_pre, hs), d_peep, d_r
