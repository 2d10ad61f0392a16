"""User recurrent modules as models: resolving `package.module:Name` or an entry point, checking it, adding the head.

The protocol is `nn.LSTM`'s: `Name(input_size=I, hidden_size=H, num_layers=L, batch_first=True)`
(plus `bidirectional=True` when the suite says so) returns an `nn.Module` whose `forward(x)`, x of
shape [B, T, I], returns [B, T, D] or a tuple whose first element is that tensor. D is found with
one dry forward pass. Everything here (imports, hashing, the dry pass) runs when the model is built,
before any timer starts; the wrapper's forward adds only the head's slicing that the built-ins do too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Literal

import torch
from torch import Tensor, nn

from rnnbench.suite.arch import PLUGIN_GROUP, is_plugin
from rnnbench.suite.plugin_import import PluginError, PluginSource, failing_field, one_line, resolve_object

# The size of the check `validate` and `run` make before any case starts; B != T catches a
# module that ignores batch_first.
CHECK_INPUT, CHECK_HIDDEN, CHECK_BATCH, CHECK_STEPS = 3, 4, 2, 3


@functools.cache
def resolve(arch: str) -> tuple[Callable[..., nn.Module], PluginSource]:
    """The constructor `arch` names and where it comes from; imported once per process."""
    return resolve_object(arch, PLUGIN_GROUP)


def build_core(
    arch: str,
    input_size: int,
    hidden_size: int,
    num_layers: int,
    bidirectional: bool,
    args: dict[str, Any] | None = None,
) -> nn.Module:
    """The user's module, built with rnnbench's sizes and the entry's own `args` (a wrong name: the constructor raises)."""
    factory, _ = resolve(arch)
    kwargs: dict[str, Any] = dict(args or {})
    kwargs.update(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers)
    kwargs["batch_first"] = True
    if bidirectional:
        kwargs["bidirectional"] = True
    try:
        core = factory(**kwargs)
    except Exception as err:
        raise PluginError(f"the constructor raised {one_line(err)}") from None
    if not isinstance(core, nn.Module):
        raise PluginError(f"the constructor returned a {type(core).__name__}, not an nn.Module")
    return core


def _sequence_output(out: Any) -> Tensor:
    if isinstance(out, (tuple, list)) and out:
        out = out[0]
    if not isinstance(out, Tensor):
        raise PluginError(f"forward returned a {type(out).__name__}, not a tensor or a tuple starting with one")
    return out


def dry_output_size(core: nn.Module, input_size: int, bidirectional: bool) -> int:
    """D from one dry forward of a [2, 3, I] batch on the CPU, leaving the global RNG (hence the head's weights) untouched.

    On the CPU, as the built-ins are built: the model moves to the case's device afterwards.
    """
    x = torch.zeros(CHECK_BATCH, CHECK_STEPS, input_size)
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        try:
            out = _sequence_output(core(x))
        except PluginError:
            raise
        except Exception as err:
            raise PluginError(f"forward raised {one_line(err)}") from None
    if out.dim() != 3 or tuple(out.shape[:2]) != (CHECK_BATCH, CHECK_STEPS) or out.shape[2] < 1:
        raise PluginError(
            f"forward of a [{CHECK_BATCH}, {CHECK_STEPS}, {input_size}] batch returned shape {list(out.shape)}, "
            f"expected [{CHECK_BATCH}, {CHECK_STEPS}, D] (batch first)"
        )
    if bidirectional and out.shape[2] % 2:
        raise PluginError(f"bidirectional, but D = {out.shape[2]} is odd (expected forward and backward halves)")
    return int(out.shape[2])


def _gates(core: nn.Module) -> int | None:
    gates = getattr(core, "gates", None)
    return gates if isinstance(gates, int) and not isinstance(gates, bool) else None


class PluginModel(nn.Module):
    """A user's recurrent module (`core`) and rnnbench's linear head, named as in `Recurrent`.

    `last` tasks read the last step; with `bidirectional: true` they read the forward half at the
    last step and the backward half at the first (as nn.LSTM lays them out), as the built-in
    bidirectional models do. `sequence` tasks apply the head at every step.
    """

    cell = None  # no rnnbench cell: the FLOP formula does not apply

    def __init__(
        self,
        *,
        arch: str,
        input_size: int,
        output_size: int,
        output_kind: Literal["last", "sequence"],
        hidden_size: int | list[int] = 64,
        num_layers: int = 1,
        bidirectional: bool = False,
        args: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if isinstance(hidden_size, list):
            if len(set(hidden_size)) != 1:
                raise ValueError(f"plugin {arch}: takes one hidden_size for all layers, not {hidden_size}")
            hidden_size = hidden_size[0]
        self.arch, self.bidirectional, self.output_kind = arch, bidirectional, output_kind
        self.hidden_sizes = [hidden_size] * num_layers
        self.core = build_core(arch, input_size, hidden_size, num_layers, bidirectional, args)
        self.output_dim = dry_output_size(self.core, input_size, bidirectional)
        self.head = nn.Linear(self.output_dim, output_size)
        self.plugin = {**resolve(arch)[1].as_record(bidirectional), "args": dict(args or {})}

    def forward(self, x: Tensor) -> Tensor:
        out = self.core(x)
        if isinstance(out, (tuple, list)):
            out = out[0]
        if self.output_kind == "sequence":
            return self.head(out)
        if self.bidirectional:
            half = self.output_dim // 2
            return self.head(torch.cat([out[:, -1, :half], out[:, 0, half:]], dim=1))
        return self.head(out[:, -1])

    @property
    def gates(self) -> int | None:
        return _gates(self.core)

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    @property
    def n_core_params(self) -> int:
        return sum(p.numel() for p in self.core.parameters())

    def forward_flops(self, seq_len: int, batch_size: int) -> int | None:
        """Matmul FLOPs of one forward of the core, from its optional `flops_per_step` (one step, one sequence)."""
        per_step = getattr(self.core, "flops_per_step", None)
        per_step = per_step() if callable(per_step) else per_step
        if not isinstance(per_step, int) or isinstance(per_step, bool) or per_step < 0:
            return None
        return per_step * seq_len * batch_size


def check_plugins(suite: Any) -> None:
    """Import, build at a tiny size and dry-run every plugin of a suite; PluginError names `models[i].arch`."""
    for i, entry in enumerate(suite.models):
        if not is_plugin(entry.arch):
            continue
        where = f"models[{i}].arch: {entry.arch}"
        num_layers = entry.num_layers or suite.defaults.num_layers
        bidirectional = bool(entry.bidirectional)
        try:
            core = build_core(entry.arch, CHECK_INPUT, CHECK_HIDDEN, num_layers, bidirectional, entry.args)
            dry_output_size(core, CHECK_INPUT, bidirectional)
        except PluginError as err:
            field = failing_field("arch", str(err), entry.args)
            raise PluginError(f"models[{i}].{field}: {entry.arch}: {err}") from None
        gates = getattr(core, "gates", None)
        if gates is not None and _gates(core) is None:
            raise PluginError(f"{where}: gates is a {type(gates).__name__}, not an int")
