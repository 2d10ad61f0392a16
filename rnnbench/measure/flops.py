"""Matmul FLOP counts of recurrent layers (docs/measurement.md, "Work and peak"), and achieved GFLOP/s from a timing."""

from __future__ import annotations

from collections.abc import Sequence

from rnnbench.catalog import CELL_BLOCKS
from rnnbench.suite.variants import VARIANTS, canonical_variant


def layer_step_flops(cell: str, input_size: int, hidden_size: int) -> int:
    """Matmul FLOPs of one direction of one layer, for one time step of one sequence.

    Each weight block is an (h x (i + h)) matrix-vector product, 2 FLOPs per
    multiply-add: LSTM 4 blocks -> 8h(i+h), GRU 3 -> 6h(i+h), tanh RNN 1 -> 2h(i+h).
    The peephole LSTM counts as an LSTM: its 3h diagonal products are elementwise,
    and elementwise gate arithmetic is left out for every cell alike.
    """
    if cell not in CELL_BLOCKS:
        raise ValueError(f"unknown cell {cell!r}; known: {', '.join(sorted(CELL_BLOCKS))}")
    if input_size < 1 or hidden_size < 1:
        raise ValueError("input_size and hidden_size must be >= 1")
    return 2 * CELL_BLOCKS[cell] * hidden_size * (input_size + hidden_size)


def variant_layer_step_flops(variant: str, input_size: int, hidden_size: int) -> int:
    """`layer_step_flops` of an LSTM variant (Greff et al. 2017, `suite/variants.py`): 2·B·h(i+h) for its B weight
    blocks (NIG, NFG, NOG and CIFG have 3, the others 4), plus FGR's gate recurrence, a 3h x 3h product (2·9h²).

    Peepholes are diagonal, elementwise like the rest of the gate arithmetic, so vanilla and NP count alike.
    """
    spec = VARIANTS[canonical_variant(variant)]
    if input_size < 1 or hidden_size < 1:
        raise ValueError("input_size and hidden_size must be >= 1")
    recurrence = 2 * 9 * hidden_size * hidden_size if spec.full_gate_recurrence else 0
    return 2 * len(spec.blocks) * hidden_size * (input_size + hidden_size) + recurrence


def forward_flops(
    cell: str,
    input_size: int,
    hidden_sizes: Sequence[int],
    bidirectional: bool,
    seq_len: int,
    batch_size: int,
    variant: str | None = None,
) -> int:
    """Matmul FLOPs of one forward pass of the recurrent core over a (batch_size, seq_len) batch.

    Layers are stacked: layer 0 reads `input_size` features, an upper layer reads the
    previous layer's hidden size times the number of directions. With `variant`, the layers are
    that LSTM variant's (`variant_layer_step_flops`).
    """
    if not hidden_sizes:
        raise ValueError("hidden_sizes must name at least one layer")
    if seq_len < 1 or batch_size < 1:
        raise ValueError("seq_len and batch_size must be >= 1")
    directions = 2 if bidirectional else 1
    per_step = 0
    layer_input = input_size
    for hidden_size in hidden_sizes:
        if variant is None:
            per_step += directions * layer_step_flops(cell, layer_input, hidden_size)
        else:
            per_step += directions * variant_layer_step_flops(variant, layer_input, hidden_size)
        layer_input = hidden_size * directions
    return per_step * seq_len * batch_size


def train_flops(forward: int) -> int:
    """A training step ~ 3 x forward: the backward pass computes gradients for inputs and for weights."""
    return 3 * forward


def achieved_gflops(flops: int | float, ms: float) -> float:
    """GFLOP/s achieved when `flops` take `ms` milliseconds."""
    if ms <= 0:
        raise ValueError("ms must be positive")
    return flops / (ms * 1e-3) / 1e9
