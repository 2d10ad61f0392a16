"""The recap in the lecture's own shape: columns LSTM, GRU, Bi-LSTM; rows Advantage, Disadvantage; a verdict per statement.

Each statement and its place come from its claim's `recap` field (claims/table.py `CLAIMS`), so a new claim
appears here without a change to this module.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.table import Table
from rich.text import Text

from rnnbench.claims.table import CLAIMS
from rnnbench.claims.types import (
    CONTRADICTED,
    INCONCLUSIVE,
    NOT_MEASURED,
    RECAP_COLUMNS,
    RECAP_ROWS,
    SUPPORTED,
    ClaimResult,
)
from rnnbench.render.claims import VERDICT_STYLE, context_line

MARK = {SUPPORTED: "✔", CONTRADICTED: "✘", INCONCLUSIVE: "?", NOT_MEASURED: "—"}


@dataclass(frozen=True)
class Statement:
    """One statement of the recap: its place (column, row, the lecture's words) and the claim that judges it."""

    column: str
    row: str
    text: str
    key: str


def statements() -> list[Statement]:
    """The recap's statements, read from the registered claims' `recap` places, in `CLAIMS` order."""
    return [
        Statement(c.recap.column, c.recap.row, c.recap.statement, c.key) for c in CLAIMS.values() if c.recap is not None
    ]


KEY_NUMBER_WIDTH = 40  # characters of the one key number; keeps the table within 100 columns


def key_number(result: ClaimResult | None) -> str:
    """The first measure of the first decided finding (else the first finding), with where it was measured."""
    if result is None or not result.findings:
        return "no rule yet" if result is None else result.reason
    decided = [f for f in result.findings if f.verdict == result.verdict] or list(result.findings)
    finding = decided[0]
    measure = next(
        (m for m in finding.measures if m.value is not None), finding.measures[0] if finding.measures else None
    )
    # the measure without its detail: the cell has room for one number and where it was measured
    text = replace(measure, detail="").text() if measure is not None else finding.note
    text = f"{text} ({finding.where})" if finding.where else text
    return text if len(text) <= KEY_NUMBER_WIDTH else text[: KEY_NUMBER_WIDTH - 1] + "…"


def statement_cell(text: str, result: ClaimResult | None) -> Text:
    verdict = result.verdict if result is not None else NOT_MEASURED
    return Text.assemble((f"{MARK[verdict]} ", VERDICT_STYLE[verdict]), text, ("\n  " + key_number(result), "dim"))


def recap_shape_table(results: list[ClaimResult], title: str = "The recap, measured") -> Table:
    """Three columns, two rows, every registered claim's statement in its cell with its verdict mark and one key number."""
    by_key = {r.claim.key: r for r in results}
    placed = statements()
    table = Table(
        title=title,
        caption=context_line(results) + "\n✔ supported · ✘ contradicted · ? inconclusive · — not measured",
        show_lines=True,
    )
    table.add_column("", style="bold", no_wrap=True)
    for column in RECAP_COLUMNS:
        table.add_column(column, ratio=1, overflow="fold")
    for row in RECAP_ROWS:
        cells = []
        for column in RECAP_COLUMNS:
            lines = [statement_cell(s.text, by_key.get(s.key)) for s in placed if s.column == column and s.row == row]
            cells.append(Text("\n").join(lines))
        table.add_row(row, *cells)
    return table


def decided_count(results: list[ClaimResult]) -> int:
    """How many of the recap's statements are supported or contradicted."""
    by_key = {r.claim.key: r for r in results}
    return sum(by_key[s.key].verdict in (SUPPORTED, CONTRADICTED) for s in statements() if s.key in by_key)
