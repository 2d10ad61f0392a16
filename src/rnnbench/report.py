"""What is shown after a run and by `rnnbench report`: the recap, then every analysis the results allow."""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType

from rnnbench.render import recap_table


def run_report(doc: dict[str, Any]) -> list[RenderableType]:
    """Renderables in display order; each analysis adds itself only when the results hold its cases."""
    parts: list[RenderableType] = [recap_table(doc)]
    return parts
