"""Forget-gate initialisation: constant biases and chrono (range, b_i = -b_f), on fused, hand-wired and variant cores."""

from __future__ import annotations

import math

import pytest
import torch

from rnnbench.models.cells import build_core
from rnnbench.models.forget_init import chrono_biases, init_forget_gate
from rnnbench.models.registry import MODELS
from rnnbench.models.variants import build_variant_core

HIDDEN = 64


def gate_bias(core, gate: str, blocks: str = "ifgo", suffix: str = "_l0") -> torch.Tensor:
    """The effective bias (bias_ih + bias_hh) of `gate`."""
    k = blocks.index(gate)
    total = getattr(core, "bias_ih" + suffix) + getattr(core, "bias_hh" + suffix)
    return total[k * HIDDEN : (k + 1) * HIDDEN].detach()


def test_chrono_biases_lie_in_log_range():
    b = chrono_biases(10_000, 50, torch.Generator().manual_seed(0))
    assert b.min() >= 0.0 and b.max() <= math.log(49)
    assert b.min() < 0.05 and b.max() > math.log(49) - 0.01  # the whole range is drawn from
    # log U[1, 49]: the median sits at log 25
    assert b.median().item() == pytest.approx(math.log(25), abs=0.05)


def test_chrono_needs_tmax_of_two():
    assert torch.equal(chrono_biases(5, 2), torch.zeros(5))
    with pytest.raises(ValueError, match="T_max >= 2"):
        chrono_biases(5, 1)


@pytest.mark.parametrize("impl", ["fused", "cell", "scripted"])
def test_chrono_on_the_lstm_sets_b_i_to_minus_b_f(impl):
    core = build_core("lstm", impl, 3, HIDDEN, 2, True)
    init_forget_gate(core, "chrono", t_max=100)
    for suffix in ("_l0", "_l0_reverse", "_l1", "_l1_reverse"):
        b_f, b_i = gate_bias(core, "f", suffix=suffix), gate_bias(core, "i", suffix=suffix)
        assert torch.equal(b_i, -b_f)
        assert b_f.min() >= 0 and b_f.max() <= math.log(99)
        assert b_f.std() > 0.3  # drawn per unit, not one value
        assert torch.all(getattr(core, "bias_hh" + suffix)[: 2 * HIDDEN] == 0)  # the sum is in bias_ih


def test_constant_bias_on_variants_and_the_coupled_gate():
    vanilla = build_variant_core("vanilla", "scripted", 3, HIDDEN, 1, False)
    before_i = gate_bias(vanilla, "i").clone()
    init_forget_gate(vanilla, 1.0)
    assert torch.all(gate_bias(vanilla, "f") == 1.0)
    assert torch.equal(gate_bias(vanilla, "i"), before_i)  # a constant leaves the input gate alone
    cifg = build_variant_core("cifg", "cell", 3, HIDDEN, 1, False)  # blocks i, g, o
    init_forget_gate(cifg, 1.0)
    assert torch.all(gate_bias(cifg, "i", blocks="igo") == -1.0)  # f = 1 - sigmoid(pre_i) has bias 1
    nig = build_variant_core("nig", "cell", 3, HIDDEN, 1, False)  # blocks f, g, o
    init_forget_gate(nig, "chrono", t_max=20)
    assert gate_bias(nig, "f", blocks="fgo").max() <= math.log(19)
    nfg = build_variant_core("nfg", "cell", 3, HIDDEN, 1, False)
    before = {k: v.clone() for k, v in nfg.state_dict().items()}
    init_forget_gate(nfg, "chrono", t_max=20)  # no forget gate: nothing to set
    assert all(torch.equal(before[k], v) for k, v in nfg.state_dict().items())


def test_recurrent_takes_chrono_and_a_variant():
    model = MODELS["lstm"](
        input_size=2, output_size=1, output_kind="last", hidden_size=HIDDEN, impl="fused",
        forget_bias="chrono", chrono_tmax=30,
    )  # fmt: skip
    b_f, b_i = gate_bias(model.core, "f"), gate_bias(model.core, "i")
    assert torch.equal(b_i, -b_f) and b_f.max() <= math.log(29)
    cifg = MODELS["lstm"](input_size=2, output_size=1, output_kind="last", hidden_size=8, impl="cell", variant="cifg")
    assert cifg.gates == 2 and cifg.core.variant == "cifg"
