"""Every registered model: output shapes, gate counts and parameter counts against the formula."""

from __future__ import annotations

import pytest
import torch

from rnnbench.catalog import CELL_BLOCKS, CELL_IMPLS, MODEL_SPECS
from rnnbench.models.registry import MODELS

INPUT, HIDDEN, BATCH, STEPS, OUTPUT = 3, 8, 2, 5, 4


def formula(cell: str, input_size: int, hidden_sizes: list[int], directions: int) -> int:
    """P = G·(h·(i + h) + 2h) per layer and direction (+3h peepholes); upper layers read h·directions."""
    total, layer_input = 0, input_size
    for h in hidden_sizes:
        per_direction = CELL_BLOCKS[cell] * (h * (layer_input + h) + 2 * h) + (3 * h if cell == "peephole" else 0)
        total += directions * per_direction
        layer_input = h * directions
    return total


CASES = [(name, impl) for name in sorted(MODELS) for impl in CELL_IMPLS[MODEL_SPECS[name].cell]]


@pytest.mark.parametrize("name, impl", CASES)
@pytest.mark.parametrize("num_layers", [1, 2])
def test_shapes_and_parameter_counts(name, impl, num_layers):
    spec = MODEL_SPECS[name]
    directions = 2 if spec.bidirectional else 1
    x = torch.randn(BATCH, STEPS, INPUT)
    last = MODELS[name](
        input_size=INPUT, output_size=OUTPUT, output_kind="last", hidden_size=HIDDEN, num_layers=num_layers, impl=impl
    )
    per_step = MODELS[name](
        input_size=INPUT,
        output_size=OUTPUT,
        output_kind="sequence",
        hidden_size=HIDDEN,
        num_layers=num_layers,
        impl=impl,
    )
    assert last(x).shape == (BATCH, OUTPUT)
    assert per_step(x).shape == (BATCH, STEPS, OUTPUT)
    expected_core = formula(spec.cell, INPUT, [HIDDEN] * num_layers, directions)
    assert last.n_core_params == expected_core
    assert last.n_params == expected_core + directions * HIDDEN * OUTPUT + OUTPUT
    assert last.gates == {"rnn": 0, "gru": 2, "lstm": 3, "peephole": 3}[spec.cell]


def test_lstm_to_gru_parameter_ratio_is_four_thirds():
    lstm = MODELS["lstm"](input_size=INPUT, output_size=1, output_kind="last", hidden_size=HIDDEN)
    gru = MODELS["gru"](input_size=INPUT, output_size=1, output_kind="last", hidden_size=HIDDEN)
    assert lstm.n_core_params * 3 == gru.n_core_params * 4


def test_bidirectional_last_output_reads_both_ends():
    """Changing only the first step must change a bidirectional model's prediction through its backward state."""
    torch.manual_seed(0)
    model = MODELS["bilstm"](input_size=INPUT, output_size=1, output_kind="last", hidden_size=HIDDEN)
    x = torch.randn(1, STEPS, INPUT)
    _, final = model.core(x)
    outputs, _ = model.core(x)
    assert torch.allclose(final[:, :HIDDEN], outputs[:, -1, :HIDDEN])
    assert torch.allclose(final[:, HIDDEN:], outputs[:, 0, HIDDEN:])


def test_forget_bias_is_applied():
    model = MODELS["lstm"](input_size=INPUT, output_size=1, output_kind="last", hidden_size=HIDDEN, forget_bias=1.0)
    total = model.core.bias_ih_l0 + model.core.bias_hh_l0 if hasattr(model.core, "bias_ih_l0") else None
    if total is None:
        pytest.skip("core does not expose nn.LSTM-style biases")
    assert torch.allclose(total[HIDDEN : 2 * HIDDEN], torch.ones(HIDDEN))
