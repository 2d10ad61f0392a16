"""Which `arch` strings name a plugin (`package.module:Name` or an `rnnbench.models` entry point), torch-free."""

from __future__ import annotations

from typing import Any

from rnnbench.catalog import MODEL_SPECS
from rnnbench.suite.plugin_import import QUALIFIED, entry_point_names

PLUGIN_GROUP = "rnnbench.models"
# What rnnbench itself passes a model plugin's constructor: `args` cannot set them (the suite keys do)
RESERVED_MODEL_ARGS = ("input_size", "hidden_size", "num_layers", "batch_first", "bidirectional")


def is_plugin(arch: str) -> bool:
    """Built-in names win: an entry point called `lstm` never replaces the built-in LSTM."""
    return arch not in MODEL_SPECS


def check_arch(arch: str) -> str:
    """A built-in name, `package.module:Name`, or an installed entry point's name; else one-line ValueError."""
    if arch in MODEL_SPECS or QUALIFIED.match(arch) or arch in entry_point_names(PLUGIN_GROUP):
        return arch
    raise ValueError(
        f"unknown model {arch!r} (built-in: {', '.join(sorted(MODEL_SPECS))}; "
        f"or package.module:Name, or an entry point in group {PLUGIN_GROUP})"
    )


def args_tag(args: dict[str, Any] | None) -> str:
    """Constructor arguments as a label suffix, `(heads=4,backend=scan)`, in key order; "" without any.

    Part of the label, hence of the case id: two entries that differ only in `args` never share an id.
    """
    if not args:
        return ""
    return "(" + ",".join(f"{key}={value}" for key, value in sorted(args.items())) + ")"
