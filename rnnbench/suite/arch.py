"""Which `arch` strings name a plugin (`package.module:Name` or an `rnnbench.models` entry point), torch-free."""

from __future__ import annotations

import importlib.metadata
import re

from rnnbench.catalog import MODEL_SPECS

PLUGIN_GROUP = "rnnbench.models"
_DOTTED = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
QUALIFIED = re.compile(rf"^({_DOTTED}):({_DOTTED})$")


def is_plugin(arch: str) -> bool:
    """Built-in names win: an entry point called `lstm` never replaces the built-in LSTM."""
    return arch not in MODEL_SPECS


def entry_point_names() -> list[str]:
    # Reads installed packages' metadata only; nothing is imported.
    return sorted({ep.name for ep in importlib.metadata.entry_points(group=PLUGIN_GROUP)})


def check_arch(arch: str) -> str:
    """A built-in name, `package.module:Name`, or an installed entry point's name; else one-line ValueError."""
    if arch in MODEL_SPECS or QUALIFIED.match(arch) or arch in entry_point_names():
        return arch
    raise ValueError(
        f"unknown model {arch!r} (built-in: {', '.join(sorted(MODEL_SPECS))}; "
        f"or package.module:Name, or an entry point in group {PLUGIN_GROUP})"
    )
