"""A comparison as Rich renderables for the terminal; its cell texts are shared with the Markdown export."""

from __future__ import annotations

import math

from rich import box
from rich.console import Group as RichGroup
from rich.table import Table
from rich.text import Text

from rnnbench.compare.comparison import Comparison, RunMeta
from rnnbench.compare.rows import Row
from rnnbench.render.format import format_change, format_ci, format_p, format_value

VERDICT_STYLES = {"slower": "red", "faster": "green", "worse": "red", "better": "green", "outputs changed": "red"}
MAX_LISTED = 5  # regressions named in the one-line decision; the table has them all


def verdict_text(row: Row) -> str:
    """The verdict, then why a change was not counted (or that it gates)."""
    word = row.verdict + (" ✗" if row.regression else "")
    return f"{word} {row.reason}" if row.reason else word


def header_lines(comparison: Comparison) -> list[str]:
    """Which runs, which options, what differs: shown above the table in every format."""
    c, opts = comparison, comparison.options

    def run(name: str, meta: RunMeta) -> str:
        extra = ", ".join(str(v) for v in (meta.get("git_sha"), meta.get("started_at")) if v)
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
        if math.isinf(comparison.resolution):
            return "no regression; but the timings cannot bound a change (too few samples or worker pairs)"
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
        change = format_change(row) + (f" {format_ci(row, 2)}" if row.ci else "")
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
