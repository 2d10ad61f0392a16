"""Markdown exports: a results report (every terminal table) and a comparison (a CI job summary)."""

from __future__ import annotations

from rich.table import Table

from rnnbench.compare.comparison import Comparison
from rnnbench.compare.rows import Row
from rnnbench.export.markdown_table import escape_cell, table_markdown
from rnnbench.render.compare import config_title, decision_line, header_lines, verdict_text
from rnnbench.render.format import format_change, format_ci, format_p, format_value
from rnnbench.results.records import ResultsJson


def markdown_report(doc: ResultsJson) -> str:
    """Every table of the terminal report (the recap, the analyses, the claims), as Markdown."""
    from rnnbench.render.report import run_report

    env = doc.get("env", {})
    head = (
        f"## rnnbench report — {doc.get('suite', {}).get('name', '?')}\n\n"
        f"{len(doc.get('cases', []))} cases · run {doc.get('started_at', '?')} · rnnbench {doc.get('rnnbench_version', '?')}"
        f" · {env.get('device_name', '?')} ({env.get('device', '?')}, {env.get('threads', '?')} threads)"
    )
    tables = [table_markdown(part) for part in run_report(doc, details=True) if isinstance(part, Table)]
    return "\n\n".join([head, *tables]) + "\n"


def comparison_markdown(comparison: Comparison) -> str:
    """A Markdown report for a CI job summary: the decision first, regressions, geomeans, then every metric folded."""
    c = comparison
    mark = "❌" if c.regressions else ("⚠️" if c.too_noisy else "✅")
    lines = [f"### rnnbench compare — suite `{c.suite}`", "", f"**{mark} {decision_line(c)}**", ""]
    lines += [f"- {escape_cell(line)}" for line in header_lines(c)]
    columns = ["configuration", "metric", "BASE", "NEW", "NEW/BASE", f"{1 - c.options.alpha:.0%} CI", "p", "verdict"]

    def table(rows: list[Row]) -> list[str]:
        out = ["| " + " | ".join(columns) + " |", "|" + "|".join(["---"] * 2 + ["---:"] * 5 + ["---"]) + "|"]
        for row in rows:
            cells = [
                config_title(row),
                row.metric,
                format_value(row, row.base),
                format_value(row, row.new),
                format_change(row),
                format_ci(row),
                format_p(row.p),
                verdict_text(row),
            ]
            out.append("| " + " | ".join(escape_cell(cell) for cell in cells) + " |")
        return out

    if c.regressions:
        lines += ["", "#### Regressions", ""] + table(c.regressions)
    if c.geomeans:
        lines += ["", "| architecture | geomean NEW/BASE |", "|---|---:|"]
        lines += [f"| {'**overall**' if k == 'overall' else k} | {v:.3f}× |" for k, v in c.geomeans.items()]
    lines += ["", f"<details><summary>All {len(c.rows)} metrics</summary>", ""] + table(c.rows) + ["", "</details>", ""]
    return "\n".join(lines)
