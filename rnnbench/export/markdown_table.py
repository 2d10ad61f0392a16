"""The one Markdown table writer: cells escaped once, and any Rich table written as a GitHub-flavoured table."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text


def escape_cell(text: str) -> str:
    """Text that is safe inside a Markdown table cell: pipes and asterisks escaped, line breaks as <br>."""
    return text.replace("|", "\\|").replace("*", "\\*").replace("\n", "<br>")


def markdown_cell(value: Any) -> str:
    """A table cell as Markdown: pipes escaped, line breaks as <br>, bold (section titles, verdicts) kept."""
    if not isinstance(value, Text):
        return escape_cell(str(value)).strip()
    if "bold" in str(value.style):
        return f"**{escape_cell(value.plain.strip())}**" if value.plain.strip() else ""
    plain, out, at = value.plain, [], 0
    for span in sorted(value.spans, key=lambda sp: sp.start):
        if "bold" in str(span.style) and span.start >= at and plain[span.start : span.end].strip():
            out += [escape_cell(plain[at : span.start]), f"**{escape_cell(plain[span.start : span.end])}**"]
            at = span.end
    out.append(escape_cell(plain[at:]))
    return "".join(out).strip()


def table_markdown(table: Table) -> str:
    """A Rich table as a GitHub-flavoured Markdown table, with its title above and its caption below."""
    columns = table.columns
    rows = [[markdown_cell(c) for c in column.cells] for column in columns]
    n_rows = max((len(r) for r in rows), default=0)
    lines = []
    if table.title:
        lines += [f"### {markdown_cell(table.title)}", ""]
    lines.append("| " + " | ".join(markdown_cell(c.header) or " " for c in columns) + " |")
    lines.append("|" + "|".join("---:" if c.justify == "right" else "---" for c in columns) + "|")
    for i in range(n_rows):
        lines.append("| " + " | ".join(r[i] if i < len(r) else "" for r in rows) + " |")
    if table.caption:
        lines += ["", f"_{markdown_cell(table.caption)}_"]
    return "\n".join(lines)
