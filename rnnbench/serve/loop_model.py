"""A model that steps through time in Python or TorchScript (impl cell or scripted), as `loop_modules` to script.

The model's own forward does not script (lambdas, dataclasses, autograd Functions around the loops), and a
trace unrolls its loop; so its weights are read here into `LoopModel`, whose loop stays a loop. The numerics
check against eager (serve/numerics.py) is what vouches for the copy, at the suite's length and at twice it.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from rnnbench.models.cells import PEEPHOLE_NAMES, CellLoopCore, ScriptedCore
from rnnbench.models.registry import Recurrent
from rnnbench.models.variants import FORGET_MODES, VariantCore
from rnnbench.serve.loop_modules import KINDS, LoopDirection, LoopLayer, LoopModel
from rnnbench.serve.status import Unsupported

TORCH_TO_LOOP_ORDER = (0, 1, 3, 2)  # nn.LSTM's blocks i, f, g, o -> the loop's i, f, o, g
NN_RNN_NAMES = {"w_ih": "weight_ih", "w_hh": "weight_hh", "b_ih": "bias_ih", "b_hh": "bias_hh"}


def loops_in_python(model: nn.Module) -> bool:
    """Whether `model` is a built-in model whose core steps through time itself (no fused kernel)."""
    return isinstance(model, Recurrent) and isinstance(model.core, (CellLoopCore, ScriptedCore, VariantCore))


def _lstm_order(blocks: Tensor) -> Tensor:
    chunks = blocks.chunk(4, 0)
    return torch.cat([chunks[i] for i in TORCH_TO_LOOP_ORDER], 0)


def _cell_direction(core: CellLoopCore | ScriptedCore, suffix: str) -> LoopDirection:
    """rnn, gru, lstm or the peephole LSTM of the cell-loop and scripted cores (nn.LSTM's names and order)."""
    weights = {name: getattr(core, NN_RNN_NAMES[name] + suffix) for name in NN_RNN_NAMES}
    if core.cell in ("lstm", "peephole"):
        weights = {name: _lstm_order(value) for name, value in weights.items()}
    if core.cell == "peephole":
        weights["peep"] = torch.stack([getattr(core, name + suffix) for name in PEEPHOLE_NAMES])
    kind = KINDS["lstm" if core.cell == "peephole" else core.cell]
    return LoopDirection(kind, suffix.endswith("_reverse"), weights, {})


def _variant_direction(core: VariantCore, suffix: str) -> LoopDirection:
    """A Greff variant: its full 4-gate weights (zero blocks where it owns none) and its flags."""
    full = core.full_weights(suffix)
    weights = {"w_ih": full.w_ih, "w_hh": full.w_hh, "b_ih": full.bias, "b_hh": torch.zeros_like(full.bias)}
    weights["peep"] = full.peep
    if full.fgr is not None:
        weights["fgr"] = full.fgr
    spec = core.spec
    flags: dict[str, object] = {
        "input_gate": spec.input_gate,
        "forget_mode": FORGET_MODES[spec.forget_gate],
        "output_gate": spec.output_gate,
        "input_activation": spec.input_activation,
        "output_activation": spec.output_activation,
        "fgr": spec.full_gate_recurrence,
    }
    return LoopDirection(KINDS["lstm"], suffix.endswith("_reverse"), weights, flags)


def loop_model(model: nn.Module) -> LoopModel:
    """`model`'s inference as a `LoopModel` (weights copied); `Unsupported` for what it does not cover."""
    if not loops_in_python(model):
        core = getattr(model, "core", model)
        raise Unsupported(f"{type(core).__name__} does not loop over time in Python or TorchScript")
    assert isinstance(model, Recurrent)
    if model.packed:
        raise Unsupported("a packed model (left-padded lengths) is not written as a loop for serving")
    core = model.core
    layers = []
    with torch.no_grad():
        for layer in range(len(core.hidden_sizes)):
            suffixes = [f"_l{layer}", f"_l{layer}_reverse"][: 2 if core.bidirectional else 1]  # nn.LSTM's names
            if isinstance(core, VariantCore):
                directions = [_variant_direction(core, s) for s in suffixes]
            else:
                directions = [_cell_direction(core, s) for s in suffixes]
            layers.append(LoopLayer(directions))
        head = copy.deepcopy(model.head).requires_grad_(False)
    if model.output_kind == "last":
        for direction in layers[-1].directions:
            direction.final_only = True
    return LoopModel(layers, head, model.output_kind == "last").eval()


def scripted_loop_model(model: nn.Module) -> torch.jit.ScriptModule:
    """`loop_model(model)` compiled by `torch.jit.script`: a `prim::Loop` over the input's time axis."""
    return torch.jit.script(loop_model(model))
