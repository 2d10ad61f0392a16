"""The model registry: a recurrent core (from cells.py) plus a per-sequence or per-step linear head."""

from __future__ import annotations

from functools import partial
from typing import Literal

from torch import Tensor, nn

from rnnbench.catalog import CELL_GATES, MODEL_SPECS
from rnnbench.models.cells import build_core
from rnnbench.models.forget_init import init_forget_gate
from rnnbench.models.packing import lengths_from_padding
from rnnbench.models.params import layer_sizes
from rnnbench.models.variants import build_variant_core
from rnnbench.suite.variants import VARIANTS, ForgetBias


class Recurrent(nn.Module):
    """A recurrent core and a linear head.

    `last` tasks read one prediction per sequence from the final state (a bidirectional
    core gives its forward state at the end and its backward state at the start);
    `sequence` tasks apply the head at every step (Keras' TimeDistributed(Dense)).

    `packed`: the inputs are left-padded with all-zero steps (the variable-length tasks) and the
    recurrence starts at each sequence's real first step (`packing.py`); the lengths come from
    `forward`'s argument or, when it is None, from the leading all-zero steps of x, so every
    caller (training, timing, inference) runs the packed model without knowing of it.
    """

    def __init__(
        self,
        *,
        cell: str,
        bidirectional: bool,
        input_size: int,
        output_size: int,
        output_kind: Literal["last", "sequence"],
        hidden_size: int | list[int] = 64,
        num_layers: int = 1,
        impl: str = "fused",
        forget_bias: ForgetBias | None = None,
        packed: bool = False,
        variant: str | None = None,
        chrono_tmax: int | None = None,
    ) -> None:
        super().__init__()
        self.cell = cell
        self.bidirectional = bidirectional
        self.output_kind = output_kind
        self.impl = impl
        self.packed = packed
        self.hidden_sizes = layer_sizes(hidden_size, num_layers)
        self.variant = variant
        if variant is None:
            self.core = build_core(cell, impl, input_size, hidden_size, num_layers, bidirectional)
        else:  # Greff et al.'s variants of the LSTM (models/variants.py)
            self.core = build_variant_core(variant, impl, input_size, hidden_size, num_layers, bidirectional)
        if forget_bias is not None:
            init_forget_gate(self.core, forget_bias, chrono_tmax)
        directions = 2 if bidirectional else 1
        self.head = nn.Linear(directions * self.hidden_sizes[-1], output_size)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        if self.packed:
            lengths = lengths_from_padding(x) if lengths is None else lengths
            outputs, final = self.core(x, lengths, final_only=self.output_kind == "last")
        else:
            outputs, final = self.core(x)
        return self.head(final if self.output_kind == "last" else outputs)

    @property
    def gates(self) -> int:
        if self.variant is not None:  # the gates with weights of their own (CIFG's f = 1 - i has none)
            return len(VARIANTS[self.variant].blocks) - 1
        return CELL_GATES[self.cell]

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    @property
    def n_core_params(self) -> int:
        """Parameters of the recurrent core alone, the quantity the recap's formula counts."""
        return sum(p.numel() for p in self.core.parameters())


MODELS = {
    name: partial(Recurrent, cell=spec.cell, bidirectional=spec.bidirectional) for name, spec in MODEL_SPECS.items()
}
