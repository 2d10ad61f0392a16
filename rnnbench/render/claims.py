"""The claims table: each recap claim, the numbers measured for it, and its verdict (Rich)."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from rnnbench.claims.types import CONTRADICTED, INCONCLUSIVE, NOT_MEASURED, SUPPORTED, ClaimResult

VERDICT_STYLE = {
    SUPPORTED: "bold green",
    CONTRADICTED: "bold red",
    INCONCLUSIVE: "bold yellow",
    NOT_MEASURED: "bold bright_black",
}


def context_line(results: list[ClaimResult]) -> str:
    """Device, dtype, torch and the kernel path each architecture ran on: the verdicts hold there."""
    first = next((r.context for r in results if r.context), {})
    backends: dict[str, set[str]] = {}
    for result in results:
        for label, names in result.context.get("backends", {}).items():
            backends.setdefault(label, set()).update(names)
    kernels = ", ".join(f"{label} {'/'.join(sorted(names)) or '?'}" for label, names in backends.items())
    threads = f"{first['threads']} thread{'s' if first['threads'] != 1 else ''}" if first.get("threads") else None
    parts: list[Any] = [
        first.get("device_name"),
        first.get("device"),
        threads,
        first.get("dtype"),
        f"torch {first.get('torch')}",
    ]
    return " · ".join(str(p) for p in parts if p) + (f" · backends: {kernels}" if kernels else "")


def data_line(result: ClaimResult) -> str:
    """Which verdict rests on real data and which on synthetic, e.g. `real (digits): supported`."""
    return "".join(f"\n{kind} ({', '.join(tasks)}): {verdict}" for kind, (verdict, tasks) in result.by_data().items())


def claims_table(results: list[ClaimResult], title: str = "The recap claims, measured") -> Table:
    """One row per claim: which column of the recap it comes from, the claim, its evidence, its verdict."""
    table = Table(title=title, caption=context_line(results), show_lines=True)
    table.add_column("", style="bold", no_wrap=True)
    table.add_column("claim", ratio=2)
    table.add_column("evidence", ratio=5)
    table.add_column("verdict", ratio=2)
    for result in results:
        verdict = Text.assemble(
            (result.verdict, VERDICT_STYLE[result.verdict]), (f"\n{result.reason}", "dim"), (data_line(result), "dim")
        )
        evidence = "\n".join(result.evidence_lines()) or "—"
        table.add_row(f"{result.claim.model}\n{result.claim.row}", result.claim.text, evidence, verdict)
    return table
