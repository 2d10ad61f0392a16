"""Greff et al. (2017)'s LSTM variants as torch-free facts: which gates, activations, peepholes and recurrences each has.

`models/variants.py` builds their recurrences from these flags, `models/params.py` counts their parameters
from them, and the suite schema checks `variant:` entries against `VARIANTS` without importing torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BeforeValidator

GateName = Literal["i", "f", "o"]


@dataclass(frozen=True)
class VariantSpec:
    """One variant of the LSTM; the flags say how it differs from `vanilla` (Greff et al. 2017, section II)."""

    description: str
    input_gate: bool = True  # False: i = 1
    forget_gate: Literal["own", "none", "coupled"] = "own"  # none: f = 1; coupled (CIFG): f = 1 - i
    output_gate: bool = True  # False: o = 1
    input_activation: bool = True  # False: g = the block input's pre-activation, no tanh
    output_activation: bool = True  # False: h = o * c, no tanh
    peepholes: tuple[GateName, ...] = ("i", "f", "o")  # gates that see the cell state (diagonal weights)
    full_gate_recurrence: bool = False  # every gate also sees all gates' previous activations (9 h x h matrices)

    @property
    def blocks(self) -> tuple[str, ...]:
        """The weight blocks the variant owns, in PyTorch's order i, f, g, o (absent or derived gates have none)."""
        owned = {"i": self.input_gate, "f": self.forget_gate == "own", "g": True, "o": self.output_gate}
        return tuple(name for name in ("i", "f", "g", "o") if owned[name])


VANILLA_PEEPHOLES: tuple[GateName, ...] = ("i", "f", "o")

VARIANTS: dict[str, VariantSpec] = {
    "vanilla": VariantSpec("peepholes, input, forget and output gates, tanh input and output activations"),
    "nig": VariantSpec("no input gate (i = 1)", input_gate=False, peepholes=("f", "o")),
    "nfg": VariantSpec("no forget gate (f = 1)", forget_gate="none", peepholes=("i", "o")),
    "nog": VariantSpec("no output gate (o = 1)", output_gate=False, peepholes=("i", "f")),
    "niaf": VariantSpec("no input activation function (g = its pre-activation)", input_activation=False),
    "noaf": VariantSpec("no output activation function (h = o * c)", output_activation=False),
    "np": VariantSpec("no peepholes: PyTorch's nn.LSTM", peepholes=()),
    "cifg": VariantSpec("coupled input and forget gate (f = 1 - i)", forget_gate="coupled", peepholes=("i", "o")),
    "fgr": VariantSpec(
        "full gate recurrence: each gate also sees all gates' previous activations", full_gate_recurrence=True
    ),
}

# Other names a suite may use for a variant: the peephole LSTM was rnnbench's name for Greff's vanilla.
VARIANT_ALIASES = {"peephole": "vanilla"}
# The one variant PyTorch's fused kernel computes.
FUSED_VARIANTS = ("np",)


def canonical_variant(name: str) -> str:
    """The `VARIANTS` key of a variant name or alias; ValueError naming the known ones otherwise."""
    name = VARIANT_ALIASES.get(name, name)
    if name not in VARIANTS:
        known = ", ".join([*VARIANTS, *VARIANT_ALIASES])
        raise ValueError(f"unknown LSTM variant {name!r} (known: {known})")
    return name


def variant_layer_params(variant: str, input_size: int, hidden: int) -> int:
    """One layer and direction: P = B·(h·(i + h) + 2h) + p·h (+ 9h² for FGR), B weight blocks, p peepholes."""
    spec = VARIANTS[canonical_variant(variant)]
    total = len(spec.blocks) * (hidden * (input_size + hidden) + 2 * hidden) + len(spec.peepholes) * hidden
    if spec.full_gate_recurrence:
        total += 9 * hidden * hidden
    return total


def _forget_bias_value(value: object) -> object:
    # One error line for a wrong value, rather than one per member of the union.
    if value == "chrono" or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    raise ValueError(f"a number (0, 1, …) or chrono, not {value!r}")


# A forget-gate bias: a number (0, 1, …) or `chrono`, b_f ~ log U[1, T_max - 1] and b_i = -b_f.
ForgetBias = Annotated[float | Literal["chrono"], BeforeValidator(_forget_bias_value)]


def known_variant(name: str | None) -> str | None:
    """A schema validator: the canonical name (`peephole` reads as `vanilla`), or ValueError."""
    return None if name is None else canonical_variant(name)


def check_variant(arch: str, cell: str, variant: str, impl: str) -> str | None:
    """Why `variant` cannot run on model `arch` (of cell type `cell`) with `impl`, in one line; None when it can."""
    if cell != "lstm":
        return f"{variant} is an LSTM variant; {arch} is not an LSTM (use arch: lstm or bilstm)"
    if impl == "fused" and canonical_variant(variant) not in FUSED_VARIANTS:
        return f"{variant} has no fused implementation (only np, which is nn.LSTM); use impl: cell or scripted"
    return None


def forget_bias_tag(forget_bias: ForgetBias, chrono_tmax: int | None = None) -> str:
    """The label suffix of a forget-gate initialisation: `-fb1`, `-chrono`, `-chrono100` (an explicit T_max)."""
    if forget_bias == "chrono":
        return "-chrono" + (str(chrono_tmax) if chrono_tmax is not None else "")
    return f"-fb{forget_bias:g}"
