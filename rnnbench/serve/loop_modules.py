"""A recurrent model's inference as TorchScript-compatible modules whose loop over time stays a loop.

`torch.jit.script` turns `LoopDirection.forward`'s `for t in range(T)` into a `prim::Loop` over the input's
own length, and the TorchScript-based ONNX exporter turns that into an ONNX `Loop`: the served graph then
answers at any length, where a trace (or the dynamo exporter) unrolls the steps of the example it saw.
Forward only (serving needs no backward); weights are copies taken from the model (`loop_model.py`).

Every LSTM is written as a Greff et al. variant in the gate order i, f, o, g (nn.LSTM is the variant
without peepholes), so one step serves lstm, the peephole LSTM and every variant; rnn and gru have their own.
"""

from typing import Final

import torch
from torch import Tensor, nn

from rnnbench.models.variants import FORGET_MODES

KINDS = {"rnn": 0, "gru": 1, "lstm": 2}
FORGET_OWN, FORGET_COUPLED = FORGET_MODES["own"], FORGET_MODES["coupled"]


class LoopDirection(nn.Module):
    """One layer and one direction: x (T, B, I) time-major -> hs (T, B, H) in x's time order."""

    kind: Final[int]
    reverse: Final[bool]
    input_gate: Final[bool]
    forget_own: Final[bool]  # else f = 1 (no forget gate), or f = 1 - i where coupled
    forget_coupled: Final[bool]
    output_gate: Final[bool]
    input_activation: Final[bool]
    output_activation: Final[bool]
    fgr: Final[bool]
    final_only: Final[bool]  # the last layer of a `last` model: only the state after the whole input is read
    hidden: Final[int]  # a constant, so a step's pre-activation splits into its gates by constant sizes

    def __init__(self, kind: int, reverse: bool, weights: dict[str, Tensor], flags: dict[str, object]) -> None:
        super().__init__()
        self.kind, self.reverse = kind, reverse
        self.input_gate = bool(flags.get("input_gate", True))
        forget_mode = flags.get("forget_mode", FORGET_OWN)
        self.forget_own, self.forget_coupled = forget_mode == FORGET_OWN, forget_mode == FORGET_COUPLED
        self.output_gate = bool(flags.get("output_gate", True))
        self.input_activation = bool(flags.get("input_activation", True))
        self.output_activation = bool(flags.get("output_activation", True))
        self.fgr = bool(flags.get("fgr", False))
        self.final_only = False
        hidden = self.hidden = int(weights["w_hh"].shape[1])
        # buffers, not parameters: a copy for serving, exported as the graph's initializers
        self.register_buffer("w_ih_t", weights["w_ih"].t().contiguous())
        self.register_buffer("b_ih", weights["b_ih"].clone())
        self.register_buffer("w_hh_t", weights["w_hh"].t().contiguous())
        self.register_buffer("b_hh", weights["b_hh"].clone())
        peep = weights.get("peep", torch.zeros(3, hidden))
        for index, name in enumerate(("w_ci", "w_cf", "w_co")):  # one buffer each: no gather in every step
            self.register_buffer(name, peep[index].clone())
        self.register_buffer("r_t", weights.get("fgr", torch.zeros(3 * hidden, 3 * hidden)).t().contiguous())

    def forward(self, x: Tensor) -> Tensor:
        if self.reverse:
            x = x.flip([0])
        xw = torch.matmul(x, self.w_ih_t) + self.b_ih  # every step's input projection in one matmul
        hidden = self.hidden
        h = torch.zeros([x.size(1), hidden], dtype=x.dtype, device=x.device)
        c = h
        a = torch.zeros([x.size(1), 3 * hidden], dtype=x.dtype, device=x.device)  # FGR: last step's i, f, o
        hs: list[Tensor] = []
        for t in range(x.size(0)):
            gh = torch.addmm(self.b_hh, h, self.w_hh_t)
            if self.kind == 0:
                h = torch.tanh(xw[t] + gh)
            elif self.kind == 1:
                h = self._gru(xw[t], gh, h)
            else:
                h, c, a = self._lstm(xw[t] + gh, c, a, t)
            if not self.final_only:  # no per-step outputs to gather: fewer ops per step in either graph
                hs.append(h)
        if self.final_only:
            return h.unsqueeze(0)  # (1, B, H): read as the final state in either direction
        out = torch.stack(hs)
        return out.flip([0]) if self.reverse else out

    def _gru(self, gi: Tensor, gh: Tensor, h: Tensor) -> Tensor:
        """PyTorch's GRU step, gate order r, z, n: n sees r·(W_hn h + b_hn)."""
        sizes = [self.hidden, self.hidden, self.hidden]  # constant sizes: one ONNX Split, no shape arithmetic
        i_r, i_z, i_n = gi.split(sizes, 1)
        h_r, h_z, h_n = gh.split(sizes, 1)
        r = torch.sigmoid(i_r + h_r)
        z = torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        return n + z * (h - n)

    def _lstm(self, pre: Tensor, c: Tensor, a: Tensor, t: int) -> tuple[Tensor, Tensor, Tensor]:
        """models/variants.variant_step, gate order i, f, o, g; absent peepholes are zero weights."""
        if self.fgr and t > 0:
            pre = pre + torch.cat([torch.matmul(a, self.r_t), torch.zeros_like(c)], 1)
        # constant sizes: one ONNX Split, no shape arithmetic in every step
        pre_i, pre_f, pre_o, pre_g = pre.split([self.hidden, self.hidden, self.hidden, self.hidden], 1)
        ones = torch.ones_like(c)
        i = torch.sigmoid(pre_i + self.w_ci * c) if self.input_gate else ones
        if self.forget_own:
            f = torch.sigmoid(pre_f + self.w_cf * c)
        else:
            f = 1.0 - i if self.forget_coupled else ones
        g = torch.tanh(pre_g) if self.input_activation else pre_g
        c = f * c + i * g
        o = torch.sigmoid(pre_o + self.w_co * c) if self.output_gate else ones
        h = o * (torch.tanh(c) if self.output_activation else c)
        return h, c, torch.cat([i, f, o], 1) if self.fgr else a  # only FGR reads the gates at the next step


class LoopLayer(nn.Module):
    """One layer, one or two directions: (outputs (T, B, D·H), final (B, D·H)) as the cores return them."""

    def __init__(self, directions: list[LoopDirection]) -> None:
        super().__init__()
        self.directions = nn.ModuleList(directions)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        outputs: list[Tensor] = []
        finals: list[Tensor] = []
        for direction in self.directions:
            hs = direction(x)
            outputs.append(hs)
            # forward: after the last step; backward: after reading the whole sequence (t = 0)
            finals.append(hs[0] if direction.reverse else hs[-1])
        return torch.cat(outputs, 2), torch.cat(finals, 1)


class LoopModel(nn.Module):
    """The layers, then the model's head on the final state (`last`) or on every step (`sequence`)."""

    last: Final[bool]

    def __init__(self, layers: list[LoopLayer], head: nn.Linear, last: bool) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.head = head
        self.last = last

    def forward(self, x: Tensor) -> Tensor:
        h = x.transpose(0, 1)  # batch-first in, time-major inside, as the cores
        final = h[0]
        for layer in self.layers:
            h, final = layer(h)
        return self.head(final) if self.last else self.head(h.transpose(0, 1))
