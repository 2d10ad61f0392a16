"""Greff et al.'s LSTM variants: each equation on a hand-computed step, the scripted backward against autograd,
the equivalences with vanilla when a variant's change is neutralized, and the parameter formulas."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from rnnbench.models.cells import build_core
from rnnbench.models.params import variant_params
from rnnbench.models.variants import VariantCore, build_variant_core, variant_step
from rnnbench.suite.variants import VARIANTS

INPUT, HIDDEN, SEQ_LEN, BATCH = 3, 4, 6, 2
SHAPES = [(False, 1), (True, 2)]  # (bidirectional, num_layers)


def sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


# One unit, one input: each block's input weight, recurrent weight and bias (bias_ih; bias_hh adds 0.05).
BLOCK_VALUES = {"i": (0.5, -0.3, 0.1), "f": (-0.4, 0.6, 0.2), "g": (0.7, 0.2, -0.1), "o": (0.3, -0.5, 0.05)}
PEEPHOLES = {"i": 0.25, "f": -0.35, "o": 0.45}
X, H, C = 0.8, -0.6, 0.4
A_PREV = (0.3, 0.6, 0.7)  # the previous step's i, f, o (FGR)
FGR = [[0.1 * (r - c) + 0.05 for c in range(3)] for r in range(3)]  # (to i, f, o) x (from i, f, o)


def one_unit_core(variant: str) -> VariantCore:
    core = VariantCore(variant, "cell", 1, [1], False)
    spec = core.spec
    with torch.no_grad():
        for k, block in enumerate(spec.blocks):
            w_x, w_h, b = BLOCK_VALUES[block]
            core.weight_ih_l0[k, 0], core.weight_hh_l0[k, 0], core.bias_ih_l0[k] = w_x, w_h, b
            core.bias_hh_l0[k] = 0.05
        for gate in spec.peepholes:
            getattr(core, f"weight_c{gate}_l0")[0] = PEEPHOLES[gate]
        if spec.full_gate_recurrence:
            core.weight_fgr_l0.copy_(torch.tensor(FGR))
    return core


def hand_step(variant: str) -> tuple[float, float]:
    """Greff et al. 2017, eqs. (1)-(6), for one unit, with each variant's change written in."""
    spec = VARIANTS[variant]
    pre = {gate: w_x * X + w_h * H + b + 0.05 for gate, (w_x, w_h, b) in BLOCK_VALUES.items()}
    if spec.full_gate_recurrence:
        for row, gate in enumerate("ifo"):
            pre[gate] += sum(FGR[row][col] * A_PREV[col] for col in range(3))
    peep = {gate: PEEPHOLES[gate] if gate in spec.peepholes else 0.0 for gate in "ifo"}
    z = math.tanh(pre["g"]) if spec.input_activation else pre["g"]
    i = sigmoid(pre["i"] + peep["i"] * C) if spec.input_gate else 1.0
    f = {"own": lambda: sigmoid(pre["f"] + peep["f"] * C), "none": lambda: 1.0, "coupled": lambda: 1.0 - i}
    c = z * i + C * f[spec.forget_gate]()
    o = sigmoid(pre["o"] + peep["o"] * c) if spec.output_gate else 1.0
    return o * (math.tanh(c) if spec.output_activation else c), c


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_one_step_matches_the_hand_computed_equations(variant):
    core = one_unit_core(variant)
    weights = core.full_weights("_l0")
    a_prev = torch.tensor([A_PREV]) if core.spec.full_gate_recurrence else None
    h, c, _ = variant_step(torch.tensor([[X]]), torch.tensor([[H]]), torch.tensor([[C]]), a_prev, weights, core.spec)
    expected_h, expected_c = hand_step(variant)
    assert h.item() == pytest.approx(expected_h, abs=1e-6)
    assert c.item() == pytest.approx(expected_c, abs=1e-6)


def test_the_variants_differ_on_the_hand_computed_step():
    # the equations are not all the same one: each variant's change shows on this step
    values = {variant: round(hand_step(variant)[0], 6) for variant in VARIANTS}
    assert len(set(values.values())) == len(VARIANTS), values


def run_with_grads(core: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    x = x.clone().requires_grad_(True)
    outputs, final = core(x)
    weights = torch.Generator().manual_seed(1)
    loss = (outputs * torch.randn(outputs.shape, generator=weights)).sum() + final.square().sum()
    loss.backward()
    result = {"outputs": outputs.detach(), "grad x": x.grad}
    result.update({f"grad {name}": p.grad for name, p in core.named_parameters()})
    return result


def spread_weights(core: nn.Module) -> None:
    # PyTorch's init leaves gates near 0.5; wider weights reach saturation and the peepholes' terms
    with torch.no_grad():
        for param in core.parameters():
            param.normal_(0.0, 0.6)


@pytest.mark.parametrize("bidirectional, num_layers", SHAPES)
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_scripted_backward_matches_autograd_through_the_cell_loop(variant, bidirectional, num_layers):
    torch.manual_seed(0)
    cell = build_variant_core(variant, "cell", INPUT, HIDDEN, num_layers, bidirectional)
    spread_weights(cell)
    scripted = build_variant_core(variant, "scripted", INPUT, HIDDEN, num_layers, bidirectional)
    scripted.load_state_dict(cell.state_dict())
    x = torch.randn(BATCH, SEQ_LEN, INPUT, generator=torch.Generator().manual_seed(2))
    expected, actual = run_with_grads(cell, x), run_with_grads(scripted, x)
    assert actual.keys() == expected.keys()
    for key in expected:
        torch.testing.assert_close(actual[key], expected[key], atol=1e-5, rtol=0, msg=lambda m, key=key: f"{key}: {m}")


def vanilla_from(variant: str, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Vanilla weights that make vanilla compute what `variant` computes: its change neutralized in vanilla.

    A removed gate becomes a vanilla gate that is always 1 (zero weights, bias 40: sigmoid(40) is 1.0 in float32);
    CIFG's f = 1 - i becomes a forget gate with the input gate's weights negated (sigmoid(-v) = 1 - sigmoid(v)),
    both without peepholes; no peepholes are zero peepholes; NIAF/NOAF have no parameter that neutralizes them.
    """
    spec = VARIANTS[variant]
    hidden = state["weight_hh_l0"].shape[1]
    out = {}
    for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
        owned = dict(zip(spec.blocks, state[name].split(hidden)))
        if spec.forget_gate == "coupled":
            owned["f"] = -owned["i"]
        for gate in "ifo":
            if gate not in owned:
                owned[gate] = torch.full_like(owned["g"], 40.0 if name == "bias_ih_l0" else 0.0)
        out[name] = torch.cat([owned[gate] for gate in "ifgo"])
    for gate in "ifo":
        name = f"weight_c{gate}_l0"
        out[name] = state.get(name, torch.zeros(hidden))
    if spec.forget_gate == "coupled":  # f's peephole must mirror i's: -w_ci on the same c_{t-1}
        out["weight_cf_l0"] = -out["weight_ci_l0"]
    return out


@pytest.mark.parametrize("impl", ["cell", "scripted"])
@pytest.mark.parametrize("variant", ["nig", "nfg", "nog", "np", "cifg", "fgr"])
def test_each_variant_neutralized_equals_vanilla(variant, impl):
    torch.manual_seed(0)
    core = build_variant_core(variant, impl, INPUT, HIDDEN, 1, False)
    spread_weights(core)
    state = core.state_dict()
    if variant == "fgr":  # the gate recurrence at zero is vanilla
        with torch.no_grad():
            core.weight_fgr_l0.zero_()
        state = {k: v for k, v in core.state_dict().items() if k != "weight_fgr_l0"}
    vanilla = build_variant_core("vanilla", impl, INPUT, HIDDEN, 1, False)
    vanilla.load_state_dict(state if variant == "fgr" else vanilla_from(variant, state))
    x = torch.randn(BATCH, SEQ_LEN, INPUT, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(core(x)[0], vanilla(x)[0], atol=1e-6, rtol=0)


@pytest.mark.parametrize("variant, flag", [("niaf", "input_activation"), ("noaf", "output_activation")])
def test_activation_variants_with_their_activation_back_equal_vanilla(variant, flag):
    # no weight turns tanh into the identity, so the change is neutralized in the spec the core runs
    from dataclasses import replace

    torch.manual_seed(0)
    core = build_variant_core(variant, "scripted", INPUT, HIDDEN, 1, False)
    spread_weights(core)
    vanilla = build_variant_core("vanilla", "scripted", INPUT, HIDDEN, 1, False)
    vanilla.load_state_dict(core.state_dict())
    x = torch.randn(BATCH, SEQ_LEN, INPUT, generator=torch.Generator().manual_seed(3))
    assert (core(x)[0] - vanilla(x)[0]).abs().max() > 1e-3  # the change matters ...
    core.spec = replace(core.spec, **{flag: True})
    torch.testing.assert_close(core(x)[0], vanilla(x)[0], atol=1e-6, rtol=0)  # ... and is all that differs


@pytest.mark.parametrize("impl", ["cell", "scripted"])
def test_vanilla_is_the_peephole_lstm_and_np_is_nn_lstm(impl):
    torch.manual_seed(0)
    x = torch.randn(BATCH, SEQ_LEN, INPUT, generator=torch.Generator().manual_seed(4))
    peephole = build_core("peephole", impl, INPUT, HIDDEN, 1, False)
    spread_weights(peephole)
    vanilla = build_variant_core("peephole", impl, INPUT, HIDDEN, 1, False)  # the old name reads as vanilla
    vanilla.load_state_dict(peephole.state_dict())
    torch.testing.assert_close(vanilla(x)[0], peephole(x)[0], atol=1e-6, rtol=0)
    fused = build_variant_core("np", "fused", INPUT, HIDDEN, 1, False)
    assert isinstance(fused, nn.LSTM)
    np_core = build_variant_core("np", impl, INPUT, HIDDEN, 1, False)
    np_core.load_state_dict(fused.state_dict())
    torch.testing.assert_close(np_core(x)[0], fused(x)[0], atol=1e-6, rtol=0)


@pytest.mark.parametrize("bidirectional, num_layers", SHAPES)
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_parameter_formula_matches_the_module(variant, bidirectional, num_layers):
    core = build_variant_core(variant, "cell", INPUT, HIDDEN, num_layers, bidirectional)
    assert sum(p.numel() for p in core.parameters()) == variant_params(
        variant, INPUT, [HIDDEN] * num_layers, bidirectional
    )


def test_parameter_formula_by_hand():
    # h = 4, i = 3: a block is 4·(3 + 4) + 2·4 = 36
    assert variant_params("np", 3, [4], False) == 4 * 36
    assert variant_params("vanilla", 3, [4], False) == 4 * 36 + 3 * 4
    assert variant_params("cifg", 3, [4], False) == 3 * 36 + 2 * 4
    assert variant_params("nog", 3, [4], False) == 3 * 36 + 2 * 4
    assert variant_params("fgr", 3, [4], False) == 4 * 36 + 3 * 4 + 9 * 16


@pytest.mark.parametrize("variant", sorted(set(VARIANTS) - {"np"}))
def test_fused_refuses_every_variant_but_np(variant):
    with pytest.raises(ValueError, match="no fused implementation"):
        build_variant_core(variant, "fused", INPUT, HIDDEN, 1, False)
