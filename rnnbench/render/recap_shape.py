"""The recap in the lecture's own shape: columns LSTM, GRU, Bi-LSTM; rows Advantage, Disadvantage; a verdict per statement."""

from __future__ import annotations

from dataclasses import replace

from rich.table import Table
from rich.text import Text

from rnnbench.claims.types import CONTRADICTED, INCONCLUSIVE, NOT_MEASURED, SUPPORTED, ClaimResult
from rnnbench.render.claims import VERDICT_STYLE, context_line

MARK = {SUPPORTED: "✔", CONTRADICTED: "✘", INCONCLUSIVE: "?", NOT_MEASURED: "—"}
COLUMNS = ("LSTM", "GRU", "Bi-LSTM")
# The lecture's nine statements, in its order: (column, row, short statement, claim key or None when rnnbench
# has no rule for it yet). "complex structure" is judged by the gates and parameter-count claim.
STATEMENTS = (
    ("LSTM", "Advantage", "captures long-term dependencies", "lstm_long_term"),
    ("LSTM", "Advantage", "handles complex sequences", "lstm_complex_sequences"),
    ("LSTM", "Disadvantage", "complex structure", "lstm_gates"),
    ("GRU", "Advantage", "faster to train", "gru_faster"),
    ("GRU", "Advantage", "performs similarly to LSTM, especially with less training data", "gru_similar_less_data"),
    ("GRU", "Disadvantage", "cannot capture long-term dependencies", "gru_short_term"),
    ("Bi-LSTM", "Advantage", "offers comprehensive understanding", "bilstm_understanding"),
    ("Bi-LSTM", "Advantage", "better performance", "bilstm_better"),
    ("Bi-LSTM", "Disadvantage", "computational complexity and training time", "bilstm_cost"),
)
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
    """Three columns, two rows, the nine statements each with its verdict mark and one key number."""
    by_key = {r.claim.key: r for r in results}
    table = Table(
        title=title,
        caption=context_line(results) + "\n✔ supported · ✘ contradicted · ? inconclusive · — not measured",
        show_lines=True,
    )
    table.add_column("", style="bold", no_wrap=True)
    for column in COLUMNS:
        table.add_column(column, ratio=1, overflow="fold")
    for row in ("Advantage", "Disadvantage"):
        cells = []
        for column in COLUMNS:
            lines = [
                statement_cell(text, by_key.get(key)) for col, r, text, key in STATEMENTS if col == column and r == row
            ]
            cells.append(Text("\n").join(lines))
        table.add_row(row, *cells)
    return table


def decided_count(results: list[ClaimResult]) -> int:
    """How many of the nine statements are supported or contradicted."""
    by_key = {r.claim.key: r for r in results}
    return sum(by_key[key].verdict in (SUPPORTED, CONTRADICTED) for *_, key in STATEMENTS if key in by_key)
