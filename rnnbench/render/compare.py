"""A comparison as Rich renderables (the terminal) and as Markdown (a CI job summary)."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Group as RichGroup
from rich.table import Table
from rich.text import Text

from rnnbench.compare.pairing import Comparison, Row
from rnnbench.render.recap import MISSING, format_count, format_metric, format_ms

VERDICT_STYLES = {"slower": "red", "faster": "green", "worse": "red", "better": "green"}
MAX_LISTED = 5  # regressions named in the one-line decision; the table has them all


def format_value(row: Row, value: float | None) -> str:
    if value is None:
        return "not solved" if row.kind == "solve" else MISSING
    if row.unit == "ms":
        return format_ms(value)
    if row.unit == "seq/s":
        return format_count(value)
    return format_metric(value)


def format_change(row: Row) -> str:
    """NEW/BASE as a factor for durations; for accuracy, the change in skill (share of chance-to-perfect)."""
    if row.kind == "accuracy":
        return MISSING if row.delta is None else f"{row.delta * 100:+.1f} pts"
    return MISSING if row.ratio is None else f"{row.ratio:.3f}×"


def format_ci(row: Row) -> str:
    return MISSING if row.ci is None else f"{row.ci[0]:.3f}–{row.ci[1]:.3f}"


def format_p(p: float | None) -> str:
    if p is None:
        return MISSING
    return f"{p:.2g}" if p >= 1e-3 else f"{p:.0e}"


def verdict_text(row: Row) -> str:
    """The verdict, then why a change was not counted (or that it gates)."""
    word = row.verdict + (" ✗" if row.regression else "")
    return f"{word} {row.reason}" if row.reason else word


def header_lines(comparison: Comparison) -> list[str]:
    """Which runs, which options, what differs: shown above the table in every format."""
    c, opts = comparison, comparison.options

    def run(name: str, meta: dict[str, Any]) -> str:
        extra = ", ".join(str(meta[k]) for k in ("git_sha", "started_at") if meta.get(k))
        return f"{name} ({extra})" if extra else name

    lines = [f"BASE {run(c.base_name, c.base_meta)} → NEW {run(c.new_name, c.new_meta)}"]
    lines.append(
        f"α = {opts.alpha:g} ({1 - opts.alpha:.0%} CIs); minimum effect {opts.threshold:.0%}, raised to a timing's "
        "own noise where larger (shown as 'noise ±')"
    )
    for key, old, new, blocking in c.env_diffs:
        allowed = " (allowed by --allow-env-mismatch)" if blocking else ""
        lines.append(f"environment differs: {key} {old} → {new}{allowed}")
    lines += c.notes
    if c.only_in_base:
        lines.append(f"only in BASE ({len(c.only_in_base)}): {', '.join(c.only_in_base)}")
    if c.only_in_new:
        lines.append(f"only in NEW ({len(c.only_in_new)}): {', '.join(c.only_in_new)}")
    for case_id, why in c.not_compared:
        lines.append(f"not compared: {case_id} ({why})")
    return lines


def decision_line(comparison: Comparison) -> str:
    regressions = comparison.regressions
    if not regressions:
        if comparison.resolution is None:
            return "no regression"
        text = f"no regression; the timings resolve changes of ±{comparison.resolution:.0%} (median)"
        if comparison.too_noisy:
            text += f": too noisy to vouch for a {comparison.options.threshold:.0%} change"
        return text
    listed = "; ".join(f"{config_title(r)} {r.metric} {format_change(r)}" for r in regressions[:MAX_LISTED])
    more = f"; and {len(regressions) - MAX_LISTED} more" if len(regressions) > MAX_LISTED else ""
    return f"{len(regressions)} regression{'s' if len(regressions) > 1 else ''}: {listed}{more}"


def config_title(row: Row) -> str:
    """`adding/T50/lstm/h64` -> `adding T50 h64 · lstm`: the configuration, then the architecture."""
    return f"{section_of(row)} · {row.label}"


def section_of(row: Row) -> str:
    """The configuration without the architecture: `adding T50 h64`."""
    return " ".join(part for part in row.config.split("/") if part != row.label)


def comparison_tables(comparison: Comparison) -> list[Table]:
    """One table per section (task, length, size), one row per metric; fits an 80-column CI log."""
    tables: dict[str, Table] = {}
    previous_label: dict[str, str] = {}
    for row in comparison.rows:
        section = section_of(row)
        table = tables.get(section)
        if table is None:
            table = tables[section] = Table(
                title=section, title_justify="left", title_style="bold cyan", box=box.SIMPLE_HEAD, padding=0
            )
            for name in (
                "",
                "metric",
                "BASE",
                "NEW",
                f"NEW/BASE, {1 - comparison.options.alpha:.0%} CI",
                "p",
                "verdict",
            ):
                table.add_column(
                    name,
                    justify="left" if name in ("", "metric", "verdict") else "right",
                    no_wrap=name != "verdict",
                    min_width=16 if name == "verdict" else None,
                )
        new_label = previous_label.get(section) != row.label
        if new_label and section in previous_label:
            table.rows[-1].end_section = True
        previous_label[section] = row.label
        style = VERDICT_STYLES.get(row.verdict.rstrip("?"), "dim")
        verdict = Text(verdict_text(row), style=("bold " + style) if row.regression else style)
        change = format_change(row) + (f" {row.ci[0]:.2f}–{row.ci[1]:.2f}" if row.ci else "")
        table.add_row(
            Text(row.label, style="bold") if new_label else "",
            row.metric,
            format_value(row, row.base),
            format_value(row, row.new),
            change,
            format_p(row.p),
            verdict,
        )
    return list(tables.values())


def geomean_table(comparison: Comparison) -> Table:
    table = Table(title="geometric mean of timing ratios NEW/BASE", title_justify="left")
    table.add_column("architecture")
    table.add_column("NEW/BASE", justify="right")
    for label, value in comparison.geomeans.items():
        table.add_row(Text(label, style="bold") if label == "overall" else label, f"{value:.3f}×")
    return table


def comparison_renderable(comparison: Comparison) -> RichGroup:
    """Everything `rnnbench compare` prints: header, per-metric table, geomeans, the decision."""
    regressions = comparison.regressions
    style = "bold red" if regressions else ("bold yellow" if comparison.too_noisy else "bold green")
    decision = Text(decision_line(comparison), style=style)
    header = Text("\n".join(header_lines(comparison)), style="dim")
    return RichGroup(header, *comparison_tables(comparison), geomean_table(comparison), decision)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def comparison_markdown(comparison: Comparison) -> str:
    """A Markdown report for a CI job summary: the decision first, regressions, geomeans, then every metric folded."""
    c = comparison
    mark = "❌" if c.regressions else ("⚠️" if c.too_noisy else "✅")
    lines = [f"### rnnbench compare — suite `{c.suite}`", "", f"**{mark} {decision_line(c)}**", ""]
    lines += [f"- {_md_cell(line)}" for line in header_lines(c)]
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
            out.append("| " + " | ".join(_md_cell(cell) for cell in cells) + " |")
        return out

    if c.regressions:
        lines += ["", "#### Regressions", ""] + table(c.regressions)
    if c.geomeans:
        lines += ["", "| architecture | geomean NEW/BASE |", "|---|---:|"]
        lines += [f"| {'**overall**' if k == 'overall' else k} | {v:.3f}× |" for k, v in c.geomeans.items()]
    lines += ["", f"<details><summary>All {len(c.rows)} metrics</summary>", ""] + table(c.rows) + ["", "</details>", ""]
    return "\n".join(lines)
