"""The measured recap table: one column per architecture, one section per configuration (Rich)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from rnnbench.analysis import paired
from rnnbench.analysis.grouping import Group, group_results
from rnnbench.render.format import (
    MISSING,
    format_bytes,
    format_count,
    format_metric,
    format_ms,
    format_ratio_ci,
    format_timing,
)
from rnnbench.results.records import EnvJson, ResultsJson
from rnnbench.stats import median, ratio_ci


def section_title(section: str) -> str:
    return section.replace("/", " ")


def _status_cell(group: Group) -> str | None:
    """What to show instead of numbers when no seed of the group produced them."""
    if group.measured:
        return None
    return ", ".join(f"{n} {status}" for status, n in sorted(group.statuses.items()))


TRAINING_ROWS = ("time to solve", "final metric", "solved (seeds)")


def _training_cell(group: Group, cell: str) -> str:
    """A training outcome with the seeds that gave none (diverged, failed, interrupted) named, never hidden."""
    off = ", ".join(f"{n} {status}" for status, n in sorted(group.statuses.items()) if status != "ok")
    if not off:
        return cell
    return f"{cell} · {off}" if group.ok else off


def _throughput(group: Group) -> tuple[str, str]:
    """(batch key, seq/s) at the largest inference batch measured."""
    sizes = sorted({key for case in group.measured for key in case.get("inference", {})}, key=lambda k: int(k[1:]))
    if not sizes:
        return "", MISSING
    key = sizes[-1]
    summary = group.pooled("inference", key, "latency_ms")
    batch = int(key[1:])
    return key, format_count(batch / summary["median"] * 1000) if summary else MISSING


def _metric_cell(group: Group) -> str:
    """Median final metric across seeds, with the chance score in brackets."""
    if not group.finals:
        return MISSING
    chance = group.final_info("chance")
    text = format_metric(group.metric_median)
    return text + (f" ({format_metric(chance)})" if chance is not None else "")


def _metric_row_name(groups: list[Group | None]) -> str:
    names = {g.final_info("metric_name") for g in groups if g is not None} - {None}
    return f"{'/'.join(sorted(names)) or 'metric'} (chance)"


def _further_metrics_cell(group: Group) -> str:
    """Medians across seeds of a task's further metrics (`final.metrics`: series MAE and MSE ÷ persistence, text macro-F1)."""
    values: dict[str, list[float]] = {}
    for final in group.finals:
        for key, value in (final.get("metrics") or {}).items():
            if isinstance(value, (int, float)):
                values.setdefault(key, []).append(value)
    return " · ".join(f"{key} {format_metric(median(v))}" for key, v in sorted(values.items())) or MISSING


def _has_further(group: Group) -> bool:
    return any(final.get("metrics") for final in group.finals)


def _solved_cell(group: Group) -> str:
    n = len(group.finals)
    if n == 0:
        return MISSING
    word = "yes" if group.n_solved == n else ("no" if group.n_solved == 0 else "partly")
    return f"{word} {group.n_solved}/{n}"


def _training_bytes(group: Group) -> int | None:
    """The most training memory across seeds (they differ in weights only); files before it lack the field."""
    totals = [((c.get("memory") or {}).get("training") or {}).get("total_bytes") for c in group.measured]
    return max((t for t in totals if isinstance(t, (int, float))), default=None)


def _pct_peak(group: Group) -> str:
    values = [c["flops"]["achieved_gflops"] for c in group.measured if c.get("flops")]
    pct = [c["flops"].get("pct_of_matmul_peak") for c in group.measured if c.get("flops")]
    if not values:
        return MISSING
    text = f"{median(values):.1f}"
    good = [p for p in pct if p is not None]
    return text + (f" ({median(good):.0f}%)" if good else "")


ROWS = (
    ("parameters", lambda g: format_count(g.first("n_params"))),
    ("backend", lambda g: g.first("backend") or MISSING),
    ("train step", lambda g: format_timing(g.pooled("train", "step_ms"))),
    ("GFLOP/s (% of matmul)", _pct_peak),
    ("time to solve", lambda g: format_ms(g.ms_to_solve_median) if g.ms_to_solve_median is not None else "not solved"),
    ("inference b1", lambda g: format_timing(g.pooled("inference", "b1", "latency_ms"))),
    ("training memory", lambda g: format_bytes(_training_bytes(g))),
    ("throughput (seq/s)", lambda g: _throughput(g)[1]),
    ("final metric", _metric_cell),
    ("solved (seeds)", _solved_cell),
)


def recap_table(doc: ResultsJson, title: str | None = None) -> Table:
    """The lecture's recap table, made of this run's numbers: one column per architecture."""
    sections, labels, groups = group_results(doc)
    labels = plugins_last(doc, labels)
    env: EnvJson = doc.get("env", {})
    table = Table(
        title=title or f"Measured recap — {doc['suite'].get('name', '?')}",
        caption=f"{env.get('device_name', '?')} · {env.get('device', '?')} · {env.get('dtype', '?')} · torch {env.get('torch', '?')}"
        " · median ±95% CI half-width (a lower coverage is named, e.g. 75 % CI at 3 samples),"
        " ! = unstable (IQR > 10% of median)",
        show_lines=False,
    )
    table.add_column("", style="bold", no_wrap=True)
    for label in labels:
        table.add_column(label, justify="right", overflow="fold")  # long labels wrap, never lose their end
    gates = []
    for label in labels:
        g = next((groups[(s, label)] for s in sections if (s, label) in groups), None)
        gates.append(str(g.first("gates")) if g and g.first("gates") is not None else MISSING)
    table.add_row("gates", *gates, end_section=True)
    for section in sections:
        table.add_row(Text(section_title(section), style="bold cyan"), *[""] * len(labels))
        present = [groups.get((section, label)) for label in labels]
        for name, cell in ROWS:
            values = []
            for group in present:
                if group is None:
                    values.append("")
                    continue
                status = _status_cell(group)
                if status and name != "parameters":
                    values.append(status)
                else:
                    values.append(_training_cell(group, cell(group)) if name in TRAINING_ROWS else cell(group))
            if name == "throughput (seq/s)":
                keys = {_throughput(g)[0] for g in present if g is not None} - {""}
                name = f"throughput {'/'.join(sorted(keys))} (seq/s)"
            elif name == "final metric":
                name = _metric_row_name(present)
            table.add_row(f"  {name}", *values)
            if name.endswith("(chance)") and any(g is not None and _has_further(g) for g in present):
                table.add_row("  further metrics", *["" if g is None else _further_metrics_cell(g) for g in present])
        table.rows[-1].end_section = True
    return table


# --- plugins (issue 13): their columns after the built-ins, and one row of ratios against LSTM each


def plugin_labels(doc: ResultsJson) -> list[str]:
    """Labels of plugin models (cases that carry a `plugin` record), in run order."""
    out: list[str] = []
    for case in doc["cases"]:
        label = case.get("label", case["arch"])
        if case.get("plugin") and label not in out:
            out.append(label)
    return out


def plugins_last(doc: ResultsJson, labels: list[str]) -> list[str]:
    plugins = set(plugin_labels(doc))
    return [lab for lab in labels if lab not in plugins] + [lab for lab in labels if lab in plugins]


def _lstm_label(doc: ResultsJson) -> str | None:
    labels = [c.get("label", c["arch"]) for c in doc["cases"] if c["arch"] == "lstm" and not c.get("plugin")]
    return "lstm" if "lstm" in labels else (labels[0] if labels else None)


def step_time_ratio(plugin: Group, lstm: Group) -> str:
    """Plugin ÷ LSTM train-step time: paired, from the rounds in which the two were timed interleaved.

    Where they were not timed in one group (different runs merged into one file), the
    Hodges-Lehmann ratio of the pooled samples (stats.ratio_ci), marked "unpaired".
    """
    found = paired.paired_ratio_of(plugin.measured, lstm.measured)
    if found is not None:
        return format_ratio_ci(found.ratio, found.low, found.high)
    base = [x for c in lstm.measured for x in c["train"]["step_ms"]["samples"]]
    new = [x for c in plugin.measured for x in c["train"]["step_ms"]["samples"]]
    if not base or not new:
        return MISSING
    return format_ratio_ci(*ratio_ci(base, new)) + " unpaired"


def _solve_ratio(plugin: Group, lstm: Group) -> str:
    """Plugin ÷ LSTM time to solve; where one of them did not solve, each side's time or "not solved"."""
    p, q = plugin.ms_to_solve_median, lstm.ms_to_solve_median
    if p is None or q is None:
        return " / ".join("not solved" if t is None else format_ms(t) for t in (p, q))
    return f"×{p / q:.2f}"


def _metric_ratio(plugin: Group, lstm: Group) -> str:
    p, q = plugin.metric_median, lstm.metric_median
    if p is None or q is None:
        return MISSING
    text = f"{format_metric(p)} vs {format_metric(q)}"
    return text + (f" (×{p / q:.2f})" if q else "")


def plugin_ratio_table(doc: ResultsJson) -> Table | None:
    """One row per plugin and section: step time, time to solve and final metric against LSTM; None without plugins."""
    plugins, lstm = plugin_labels(doc), _lstm_label(doc)
    if not plugins:
        return None
    sections, _, groups = group_results(doc)
    table = Table(
        title="Plugins against LSTM",
        caption="plugin ÷ lstm; step time: ratio [95% CI], open where the samples cannot bound it",
    )
    for column in ("section", "plugin", "step time", "time to solve", "final metric"):
        table.add_column(column, justify="left" if column in ("section", "plugin") else "right")
    for section in sections:
        base = groups.get((section, lstm)) if lstm else None
        for label in plugins:
            group = groups.get((section, label))
            if group is None:
                continue
            if base is None:
                table.add_row(section_title(section), label, MISSING, MISSING, MISSING)
                continue
            table.add_row(
                section_title(section),
                label,
                step_time_ratio(group, base),
                _solve_ratio(group, base),
                _metric_ratio(group, base),
            )
    return table
