"""Parameter counts from the formula (torch-free): P = G·(h·(i + h) + 2h) per layer and direction.

A peephole LSTM adds 3h diagonal weights per layer and direction, and an upper layer takes
h·directions as input (docs/analyses.md, "Parameter matching"). Tests check these counts against the built models.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from rnnbench.catalog import CELL_BLOCKS, MODEL_SPECS
from rnnbench.suite.variants import variant_layer_params

PEEPHOLE_WEIGHTS = 3  # diagonal weights from the cell state to the input, forget and output gates


def layer_sizes(hidden_size: int | list[int], num_layers: int) -> list[int]:
    """The hidden size of every layer: a list as given, or one size repeated `num_layers` times."""
    return list(hidden_size) if isinstance(hidden_size, list) else [hidden_size] * num_layers


def _stack_params(
    per_direction: Callable[[int, int], int], input_size: int, hidden_sizes: list[int], bidirectional: bool
) -> int:
    """Sum of `per_direction(layer_input, hidden)` over the layers and directions of a stack."""
    directions = 2 if bidirectional else 1
    total = 0
    layer_input = input_size
    for hidden in hidden_sizes:
        total += directions * per_direction(layer_input, hidden)
        layer_input = directions * hidden
    return total


def cell_params(cell: str, input_size: int, hidden_sizes: list[int], bidirectional: bool) -> int:
    """Recurrent-core parameters of a stack of `cell` layers (a `CELL_BLOCKS` name): weights and both biases."""

    def per_direction(layer_input: int, hidden: int) -> int:
        count = CELL_BLOCKS[cell] * (hidden * (layer_input + hidden) + 2 * hidden)
        return count + (PEEPHOLE_WEIGHTS * hidden if cell == "peephole" else 0)

    return _stack_params(per_direction, input_size, hidden_sizes, bidirectional)


def core_params(arch: str, input_size: int, hidden_size: int | list[int], num_layers: int = 1) -> int:
    """Recurrent-core parameters of model `arch` (a `MODEL_SPECS` name)."""
    spec = MODEL_SPECS[arch]
    return cell_params(spec.cell, input_size, layer_sizes(hidden_size, num_layers), spec.directions == 2)


def variant_params(variant: str, input_size: int, hidden_sizes: list[int], bidirectional: bool) -> int:
    """Recurrent-core parameters of a stack of LSTM-variant layers (`suite/variants.py`: blocks, peepholes, FGR)."""
    return _stack_params(partial(variant_layer_params, variant), input_size, hidden_sizes, bidirectional)


def model_core_params(
    arch: str, input_size: int, hidden_size: int | list[int], num_layers: int = 1, variant: str | None = None
) -> int:
    """Recurrent-core parameters of model `arch`, or of its LSTM `variant` (Greff et al.'s, `suite/variants.py`)."""
    if variant is None:
        return core_params(arch, input_size, hidden_size, num_layers)
    spec = MODEL_SPECS[arch]
    return variant_params(variant, input_size, layer_sizes(hidden_size, num_layers), spec.directions == 2)
