"""Rich tables for the sweep analyses: memory horizon, data efficiency, and matched parameter counts."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from rnnbench.analysis.sweeps import HorizonResult, data_efficiency, horizons, matched_sizes
from rnnbench.render.format import MISSING, format_metric
from rnnbench.results.records import EnvJson, ResultsJson


def _caption(doc: ResultsJson, extra: str) -> Text:
    env: EnvJson = doc.get("env", {})
    where = " · ".join(str(env.get(key) or "?") for key in ("device_name", "device", "dtype"))
    return Text(f"{where} · torch {env.get('torch') or '?'} · {extra}")  # Text, not markup: brackets are literal


def _solved_cell(result: HorizonResult, seq_len: int) -> Text:
    if seq_len not in result.by_seq_len:
        return Text("")
    solved, runs = result.by_seq_len[seq_len]
    text = (
        f"{solved}/{runs}"
        + ("*" if result.failed.get(seq_len) else "")
        + ("†" if result.time_capped.get(seq_len) else "")
    )
    if result.interrupted.get(seq_len):
        text += f" ({result.interrupted[seq_len]} interrupted, not counted)"
    return Text(text, style="green" if result.is_solved(seq_len) else "red")


def _horizon_cell(result: HorizonResult) -> Text:
    if result.horizon is None:
        text = f"< {result.seq_lens[0]}"
    else:
        text = f"≥ {result.horizon}" if result.censored else str(result.horizon)
    if result.gaps:
        text += f" (also {', '.join(map(str, result.gaps))})"
    return Text(text, style="bold")


def _exact(count: object) -> str:
    return f"{count:,}" if isinstance(count, int) else MISSING


def horizon_table(doc: ResultsJson) -> Table | None:
    """Configuration × architecture rows, one column per seq_len (solved seeds / seeds run) and the horizon.

    A configuration is everything but seq_len and seed (task, hidden size, layers, train_size, ...),
    so two hidden sizes are two rows, never one pooled count. None without a sweep.
    """
    swept = {key: result for key, result in horizons(doc).items() if len(result.by_seq_len) > 1}
    if not swept:
        return None
    seq_lens = sorted({s for result in swept.values() for s in result.by_seq_len})
    table = Table(
        title=f"Memory horizon — {doc.get('suite', {}).get('name', '?')}",
        caption=_caption(
            doc,
            "solved/seeds run per seq_len and configuration, green: at least half · interrupted runs are not "
            "counted (a seq_len with none left breaks the horizon) · horizon: longest T with every shorter T solved "
            "(≥: the longest tried; also: solved past a gap) · *: diverged or failed runs, counted unsolved · "
            "†: unsolved runs stopped by max_seconds before max_steps",
        ),
    )
    table.add_column("configuration", style="bold cyan", no_wrap=True)
    table.add_column("model", style="bold", no_wrap=True)
    for seq_len in seq_lens:
        table.add_column(f"T={seq_len}", justify="right")
    table.add_column("horizon", justify="right")
    previous_task = None
    for (task, label), result in swept.items():
        if previous_task is not None and task != previous_task:
            table.rows[-1].end_section = True
        table.add_row(
            task if task != previous_task else "",
            label,
            *[_solved_cell(result, s) for s in seq_lens],
            _horizon_cell(result),
        )
        previous_task = task
    return table


def data_table(doc: ResultsJson) -> Table | None:
    """Task × architecture rows, one column per train_size: median final metric [min–max] across seeds."""
    efficiency = data_efficiency(doc)
    if not any(len(sizes) > 1 for sizes in efficiency.values()):
        return None
    train_sizes = sorted({n for sizes in efficiency.values() for n in sizes})
    table = Table(
        title=f"Data efficiency — {doc.get('suite', {}).get('name', '?')}",
        caption=_caption(doc, "final held-out metric: median [min–max] across seeds · k/n: only k of n runs ended ok"),
    )
    table.add_column("configuration", style="bold cyan", no_wrap=True)
    table.add_column("model", style="bold", no_wrap=True)
    table.add_column("metric", no_wrap=True)
    for n in train_sizes:
        table.add_column(f"n={n}", justify="right")
    previous_task = None
    for (task, label), sizes in efficiency.items():
        if previous_task is not None and task != previous_task:
            table.rows[-1].end_section = True
        first = next(iter(sizes.values()))
        direction = {True: " ↑", False: " ↓"}.get(first.higher_is_better, "")
        cells = []
        for n in train_sizes:
            s = sizes.get(n)
            if s is None:
                cells.append(MISSING)
                continue
            cell = format_metric(s.median)
            if s.n > 1:
                cell += f" [{format_metric(s.low)}–{format_metric(s.high)}]"
            if s.n < s.n_runs:
                cell += f" {s.n}/{s.n_runs}"
            cells.append(Text(cell))
        table.add_row(task if task != previous_task else "", label, (first.metric_name or "metric") + direction, *cells)
        previous_task = task
    return table


def matched_table(doc: ResultsJson) -> Table | None:
    """The hidden sizes match_params chose and the core parameter counts they give; None when it was not used."""
    matched = matched_sizes(doc)
    if not matched:
        return None
    table = Table(
        title="Parameter matching",
        caption="recurrent-core parameters (head excluded); error = (params − target) / target",
    )
    for name in ("task", "model", "reference"):
        table.add_column(name, no_wrap=True)
    for name in ("target", "hidden size", "params", "error"):
        table.add_column(name, justify="right", no_wrap=True)
    for (task, label), m in matched.items():
        error = m.get("rel_error")
        table.add_row(
            task,
            label,
            str(m.get("reference")),
            _exact(m.get("target_params")),
            str(m.get("hidden_size", MISSING)),
            _exact(m.get("n_params")),
            f"{100 * error:+.1f}%" if error is not None else MISSING,
        )
    return table
