"""minGRU layers in two forms computing the same function: a time loop and a log-space parallel scan.

z_t = sigmoid(W_z x_t), h~_t = g(W_h x_t), h_t = (1 - z_t) * h_{t-1} + z_t * h~_t, h_0 = 0,
with g(v) = v + 0.5 for v >= 0 and sigmoid(v) otherwise (positive, so the scan runs in log space;
Heinsen 2023). No gate reads h_{t-1}, so all steps' gates come from one matmul.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def _log_g(v: Tensor) -> Tensor:
    return torch.where(v >= 0, (F.relu(v) + 0.5).log(), -F.softplus(-v))


def _g(v: Tensor) -> Tensor:
    return torch.where(v >= 0, v + 0.5, torch.sigmoid(v))


class _MinGRUBase(nn.Module):
    gates = 1  # the update gate z

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        batch_first: bool = True,
        bidirectional: bool = False,
    ) -> None:
        super().__init__()
        if not batch_first:
            raise ValueError("minGRU takes batch-first input only")
        self.hidden_size, self.num_layers, self.bidirectional = hidden_size, num_layers, bidirectional
        directions = 2 if bidirectional else 1
        sizes = [input_size] + [directions * hidden_size] * (num_layers - 1)
        # One Linear per layer and direction gives z and h~ together: [.., 2H].
        self.projections = nn.ModuleList(nn.Linear(i, 2 * hidden_size) for i in sizes for _ in range(directions))
        self._sizes = sizes

    def flops_per_step(self) -> int:
        directions = 2 if self.bidirectional else 1
        return sum(directions * 2 * i * 2 * self.hidden_size for i in self._sizes)

    def _layer(self, x: Tensor, projection: nn.Linear) -> Tensor:
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        directions = 2 if self.bidirectional else 1
        for layer in range(self.num_layers):
            outs = []
            for d in range(directions):
                projection = self.projections[layer * directions + d]
                inputs = x.flip(1) if d else x
                out = self._layer(inputs, projection)
                outs.append(out.flip(1) if d else out)
            x = torch.cat(outs, dim=2) if directions == 2 else outs[0]
        return x


class MinGRU(_MinGRUBase):
    """The parallel form: every step at once through a log-space cumulative sum."""

    def _layer(self, x: Tensor, projection: nn.Linear) -> Tensor:
        k, v = projection(x).chunk(2, dim=-1)
        log_z = -F.softplus(-k)
        log_keep = -F.softplus(k)  # log(1 - z)
        a_star = log_keep.cumsum(dim=1)
        log_h = a_star + torch.logcumsumexp(log_z + _log_g(v) - a_star, dim=1)
        return log_h.exp()


class MinGRUSequential(_MinGRUBase):
    """The sequential form: one step at a time, as an RNN is usually written."""

    def _layer(self, x: Tensor, projection: nn.Linear) -> Tensor:
        k, v = projection(x).chunk(2, dim=-1)
        z, h_tilde = torch.sigmoid(k), _g(v)
        h = x.new_zeros(x.shape[0], self.hidden_size)
        outs = []
        for t in range(x.shape[1]):
            h = (1 - z[:, t]) * h + z[:, t] * h_tilde[:, t]
            outs.append(h)
        return torch.stack(outs, dim=1)
