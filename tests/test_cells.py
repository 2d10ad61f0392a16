"""The cell and scripted cores against the fused ones: outputs, final state, every gradient; sizes, counts, biases."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnnbench.catalog import CELL_BLOCKS, CELL_IMPLS
from rnnbench.models.cells import PEEPHOLE_NAMES, build_core
from rnnbench.models.forget_init import init_forget_gate as init_forget_bias
from rnnbench.models.params import cell_params

INPUT, HIDDEN, SEQ_LEN, BATCH = 4, 8, 5, 3
ATOL = 1e-5
FUSED_CELLS = ("rnn", "lstm", "gru")
SHAPES = [(False, 1), (False, 2), (True, 1), (True, 2)]  # (bidirectional, num_layers)


def run_with_grads(core: nn.Module, x: torch.Tensor, seed: int = 1) -> dict[str, torch.Tensor]:
    """Outputs, final, and the gradients of a loss touching both w.r.t. x and every parameter."""
    x = x.clone().requires_grad_(True)
    core.zero_grad(set_to_none=True)
    outputs, final = core(x)
    weights = torch.Generator().manual_seed(seed)
    loss = (outputs * torch.randn(outputs.shape, generator=weights)).sum()
    loss = loss + (final * torch.randn(final.shape, generator=weights)).sum()
    loss.backward()
    result = {"outputs": outputs.detach(), "final": final.detach(), "grad x": x.grad}
    result.update({f"grad {name}": p.grad for name, p in core.named_parameters()})
    return result


def assert_same(actual: dict, expected: dict, atol: float = ATOL) -> None:
    assert actual.keys() == expected.keys()
    for key in expected:
        assert actual[key] is not None, f"{key}: no gradient"
        torch.testing.assert_close(actual[key], expected[key], atol=atol, rtol=0, msg=lambda m, key=key: f"{key}: {m}")


def inputs(seed: int = 0) -> torch.Tensor:
    return torch.randn(BATCH, SEQ_LEN, INPUT, generator=torch.Generator().manual_seed(seed))


def stack_to_flat(state: dict) -> dict:
    """A FusedStack's `layers.{k}.name_l0[_reverse]` keys as one multi-layer module's `name_l{k}[_reverse]`."""
    flat = {}
    for key, value in state.items():
        _, layer, name = key.split(".")
        flat[name.replace("_l0", f"_l{layer}")] = value
    return flat


@pytest.mark.parametrize("bidirectional, num_layers", SHAPES)
@pytest.mark.parametrize("cell", FUSED_CELLS)
@pytest.mark.parametrize("impl", ["cell", "scripted"])
def test_matches_fused_outputs_and_gradients(impl, cell, bidirectional, num_layers):
    torch.manual_seed(0)
    fused = build_core(cell, "fused", INPUT, HIDDEN, num_layers, bidirectional)
    core = build_core(cell, impl, INPUT, HIDDEN, num_layers, bidirectional)
    core.load_state_dict(fused.state_dict())  # strict: same names and shapes
    assert_same(run_with_grads(core, inputs()), run_with_grads(fused, inputs()))


@pytest.mark.parametrize("cell", FUSED_CELLS)
def test_one_step_sequence(cell):
    """T = 1: the loops' first-step special cases (zero previous state) and empty shifted slices."""
    torch.manual_seed(0)
    fused = build_core(cell, "fused", INPUT, HIDDEN, 2, True)
    scripted = build_core(cell, "scripted", INPUT, HIDDEN, 2, True)
    scripted.load_state_dict(fused.state_dict())
    assert_same(run_with_grads(scripted, inputs()[:, :1]), run_with_grads(fused, inputs()[:, :1]))


@pytest.mark.parametrize("cell", sorted(CELL_BLOCKS))
def test_long_sequence_crosses_backward_blocks(cell):
    """T = 19: the backward makes its factors 8 steps at a time (two full blocks and a remainder)."""
    torch.manual_seed(0)
    reference = build_core(cell, CELL_IMPLS[cell][0], INPUT, HIDDEN, 1, True)
    scripted = build_core(cell, "scripted", INPUT, HIDDEN, 1, True)
    scripted.load_state_dict(reference.state_dict())
    x = torch.randn(BATCH, 19, INPUT, generator=torch.Generator().manual_seed(0))
    assert_same(run_with_grads(scripted, x), run_with_grads(reference, x))


@pytest.mark.parametrize("bidirectional, num_layers", SHAPES)
def test_peephole_scripted_matches_eager_cell_loop(bidirectional, num_layers):
    """The hand-written backward against autograd through the eager peephole step, peepholes nonzero."""
    torch.manual_seed(0)
    reference = build_core("peephole", "cell", INPUT, HIDDEN, num_layers, bidirectional)
    scripted = build_core("peephole", "scripted", INPUT, HIDDEN, num_layers, bidirectional)
    scripted.load_state_dict(reference.state_dict())
    assert all(reference.get_parameter(f"{name}_l0").abs().sum() > 0 for name in PEEPHOLE_NAMES)
    assert_same(run_with_grads(scripted, inputs()), run_with_grads(reference, inputs()))


def peephole_from_lstm(lstm: nn.Module, impl: str, bidirectional: bool, num_layers: int) -> nn.Module:
    peephole = build_core("peephole", impl, INPUT, HIDDEN, num_layers, bidirectional)
    missing, unexpected = peephole.load_state_dict(lstm.state_dict(), strict=False)
    assert not unexpected
    assert set(missing) == {n for n, _ in peephole.named_parameters() if n.split("_l")[0] in PEEPHOLE_NAMES}
    with torch.no_grad():
        for name in missing:
            peephole.get_parameter(name).zero_()
    return peephole


@pytest.mark.parametrize("bidirectional, num_layers", [(False, 1), (True, 2)])
def test_peephole_with_zero_peepholes_is_the_lstm(bidirectional, num_layers):
    torch.manual_seed(0)
    fused = build_core("lstm", "fused", INPUT, HIDDEN, num_layers, bidirectional)
    lstm_scripted = build_core("lstm", "scripted", INPUT, HIDDEN, num_layers, bidirectional)
    lstm_scripted.load_state_dict(fused.state_dict())
    expected = run_with_grads(fused, inputs())
    for impl in CELL_IMPLS["peephole"]:
        result = run_with_grads(peephole_from_lstm(fused, impl, bidirectional, num_layers), inputs())
        lstm_keys = {key: value for key, value in result.items() if not key.split()[-1].startswith(PEEPHOLE_NAMES)}
        assert_same(lstm_keys, expected)
    # Same code path with w_c* = 0: bit for bit the scripted LSTM (an added 0·c changes nothing).
    scripted = run_with_grads(peephole_from_lstm(fused, "scripted", bidirectional, num_layers), inputs())
    for key, value in run_with_grads(lstm_scripted, inputs()).items():
        assert torch.equal(scripted[key], value), key


def test_peephole_weights_change_the_output():
    torch.manual_seed(0)
    core = build_core("peephole", "scripted", INPUT, HIDDEN, 1, False)
    before, _ = core(inputs())
    with torch.no_grad():
        core.weight_co_l0.add_(1.0)
    after, _ = core(inputs())
    assert not torch.allclose(before, after)


@pytest.mark.parametrize("cell", sorted(CELL_BLOCKS))
@pytest.mark.parametrize("bidirectional", [False, True])
def test_per_layer_hidden_sizes(cell, bidirectional):
    """[8, 6]: every impl gives the same shapes, and the same numbers from the same weights."""
    sizes = [HIDDEN, 6]
    directions = 2 if bidirectional else 1
    torch.manual_seed(0)
    cores = {impl: build_core(cell, impl, INPUT, sizes, 2, bidirectional) for impl in CELL_IMPLS[cell]}
    reference_impl = CELL_IMPLS[cell][0]
    state = cores[reference_impl].state_dict()
    if reference_impl == "fused":
        state = stack_to_flat(state)
    results = {}
    for impl, core in cores.items():
        if impl != reference_impl:
            core.load_state_dict(state)
        results[impl] = run_with_grads(core, inputs())
        assert results[impl]["outputs"].shape == (BATCH, SEQ_LEN, directions * 6)
        assert results[impl]["final"].shape == (BATCH, directions * 6)
        assert core.output_size == directions * 6
    for impl in cores:
        for key in ("outputs", "final", "grad x"):
            torch.testing.assert_close(results[impl][key], results[reference_impl][key], atol=ATOL, rtol=0)


@pytest.mark.parametrize("cell", sorted(CELL_BLOCKS))
@pytest.mark.parametrize("bidirectional", [False, True])
def test_final_is_forward_end_and_backward_start(cell, bidirectional):
    for impl in CELL_IMPLS[cell]:
        outputs, final = build_core(cell, impl, INPUT, HIDDEN, 2, bidirectional)(inputs())
        expected = outputs[:, -1, :HIDDEN]
        if bidirectional:
            expected = torch.cat([expected, outputs[:, 0, HIDDEN:]], dim=1)
        torch.testing.assert_close(final, expected, atol=0, rtol=0)


@pytest.mark.parametrize("cell", sorted(CELL_BLOCKS))
@pytest.mark.parametrize("hidden_sizes", [[HIDDEN], [HIDDEN, HIDDEN], [HIDDEN, 5, 3]])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_n_params_matches_formula(cell, hidden_sizes, bidirectional):
    expected = cell_params(cell, INPUT, hidden_sizes, bidirectional)
    for impl in CELL_IMPLS[cell]:
        core = build_core(cell, impl, INPUT, hidden_sizes, len(hidden_sizes), bidirectional)
        assert sum(p.numel() for p in core.parameters()) == expected, impl


def test_formula_by_hand():
    # LSTM i=4, h=8: 4·(8·12 + 16) = 448; GRU 3/4 of it; tanh RNN 1/4.
    assert cell_params("lstm", 4, [8], False) == 448
    assert cell_params("gru", 4, [8], False) == 336
    assert cell_params("rnn", 4, [8], False) == 112
    # bidirectional, 2 layers: layer 2 reads 16 inputs: 2·448 + 2·4·(8·24 + 16) = 2560
    assert cell_params("lstm", 4, [8, 8], True) == 2560


@pytest.mark.parametrize("bidirectional, hidden_sizes", [(False, [HIDDEN]), (True, [HIDDEN, 5])])
def test_peephole_adds_three_h_per_layer_and_direction(bidirectional, hidden_sizes):
    def n_params(cell: str) -> int:
        core = build_core(cell, "scripted", INPUT, hidden_sizes, len(hidden_sizes), bidirectional)
        return sum(p.numel() for p in core.parameters())

    directions = 2 if bidirectional else 1
    assert n_params("peephole") - n_params("lstm") == directions * 3 * sum(hidden_sizes)


@pytest.mark.parametrize("cell", ["lstm", "peephole"])
@pytest.mark.parametrize("hidden_sizes", [[HIDDEN, HIDDEN], [HIDDEN, 5]])
def test_init_forget_bias_sets_the_forget_slice(cell, hidden_sizes):
    for impl in CELL_IMPLS[cell]:
        core = build_core(cell, impl, INPUT, hidden_sizes, len(hidden_sizes), True)
        before = {name: p.detach().clone() for name, p in core.named_parameters()}
        init_forget_bias(nn.Sequential(core), 1.0)  # found inside a containing model too
        params = dict(core.named_parameters())
        ih_names = [name for name in params if "bias_ih" in name]
        assert len(ih_names) == 2 * len(hidden_sizes)
        for ih_name in ih_names:
            hh_name = ih_name.replace("bias_ih", "bias_hh")
            h = params[ih_name].shape[0] // 4
            forget = slice(h, 2 * h)
            total = params[ih_name][forget] + params[hh_name][forget]
            torch.testing.assert_close(total, torch.ones(h), atol=0, rtol=0)
            for name in (ih_name, hh_name):
                keep = torch.ones(4 * h, dtype=torch.bool)
                keep[forget] = False
                assert torch.equal(params[name][keep], before[name][keep]), name
        for name, p in params.items():
            if "bias" not in name:
                assert torch.equal(p, before[name]), name


@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_init_forget_bias_leaves_gru_and_rnn_alone(cell):
    for impl in CELL_IMPLS[cell]:
        core = build_core(cell, impl, INPUT, HIDDEN, 1, False)
        before = {name: p.detach().clone() for name, p in core.named_parameters()}
        init_forget_bias(core, 1.0)
        assert all(torch.equal(p, before[name]) for name, p in core.named_parameters())


@pytest.mark.parametrize(
    "args, message",
    [
        (("peephole", "fused", INPUT, HIDDEN, 1, False), "no 'fused'"),
        (("lstm", "fused", INPUT, [8, 8], 3, False), "3"),
        (("lstm", "jit", INPUT, HIDDEN, 1, False), "unknown impl"),
        (("transformer", "fused", INPUT, HIDDEN, 1, False), "unknown cell"),
        (("gru", "cell", INPUT, 0, 1, False), "hidden"),
        (("gru", "cell", INPUT, HIDDEN, 0, False), "num_layers"),
    ],
)
def test_build_core_refuses(args, message):
    with pytest.raises(ValueError, match=message):
        build_core(*args)


@pytest.mark.parametrize("cell", sorted(CELL_BLOCKS))
def test_inference_mode_gives_the_training_outputs(cell):
    for impl in CELL_IMPLS[cell]:
        core = build_core(cell, impl, INPUT, HIDDEN, 1, True)
        with torch.inference_mode():
            outputs, final = core(inputs())
        expected_outputs, expected_final = core(inputs())
        # oneDNN takes another kernel path for inference than for training, so the last bits may differ.
        torch.testing.assert_close(outputs, expected_outputs.detach())
        torch.testing.assert_close(final, expected_final.detach())


@pytest.mark.parametrize("cell", sorted(CELL_BLOCKS))
def test_scripted_runs_under_bfloat16_autocast(cell):
    core = build_core(cell, "scripted", INPUT, HIDDEN, 1, True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        outputs, final = core(inputs())
    assert outputs.dtype == torch.bfloat16
    final.float().sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in core.parameters())
