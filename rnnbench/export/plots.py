"""Report figures as PNG (matplotlib, Agg, no pyplot state): learning curves, memory horizon, step time vs seq_len, time bars.

Every figure is `PANEL` inches per panel at `DPI`, saved without tight bounding boxes, so
its pixel size is known from its panel grid (tests check it). A figure whose data the
results lack is skipped, with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot: never open a window, work on headless machines

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import NullFormatter  # noqa: E402

from rnnbench import stats  # noqa: E402
from rnnbench.analysis import grouping
from rnnbench.analysis import sweeps as analysis
from rnnbench.analysis.grouping import group_results  # noqa: E402
from rnnbench.results.records import CaseJson, ResultsJson  # noqa: E402

DPI = 100
PANEL = (5.0, 3.2)  # inches (width, height) of one panel
BAND_ALPHA = 0.2
GRID_POINTS = 100  # wall-time grid on which seeds' curves are resampled to draw a band


@dataclass(frozen=True)
class PlotOutcome:
    name: str
    path: Path | None  # None: skipped
    note: str  # what the figure shows, or why it was skipped


def _figure(rows: int, cols: int) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(PANEL[0] * cols, PANEL[1] * rows), dpi=DPI, layout="constrained")
    return fig, fig.subplots(rows, cols, squeeze=False)


def expected_size(rows: int, cols: int) -> tuple[int, int]:
    """Pixel (width, height) of a figure with this panel grid."""
    return round(PANEL[0] * cols * DPI), round(PANEL[1] * rows * DPI)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def _colors(doc: ResultsJson) -> dict[str, tuple[float, float, float, float]]:
    labels = list(dict.fromkeys(c.get("label") or c["arch"] for c in doc["cases"]))
    palette = matplotlib.colormaps["tab10"]
    return {label: palette(i % 10) for i, label in enumerate(labels)}


def _final_info(cases: list[CaseJson], key: str) -> Any:
    for case in cases:
        value = (case.get("train") or {}).get("final", {}).get(key)
        if value is not None:
            return value
    return None


def _band(ax, x: np.ndarray, rows: list[np.ndarray], color: Any, label: str) -> None:
    """Median across seeds as a line, min–max across seeds as a band."""
    stacked = np.vstack(rows)
    ax.plot(x, np.median(stacked, axis=0), color=color, label=label)
    if len(rows) > 1:
        ax.fill_between(x, stacked.min(axis=0), stacked.max(axis=0), color=color, alpha=BAND_ALPHA, linewidth=0)


def _metric_axis(ax, cases: list[CaseJson], values: list[float]) -> None:
    name = _final_info(cases, "metric_name") or "metric"
    chance = _final_info(cases, "chance")
    if chance is not None:
        ax.axhline(chance, color="grey", linestyle="--", linewidth=1, label="chance")
    if not _final_info(cases, "higher_is_better") and values and min(values) > 0:
        ax.set_yscale("log")
    ax.set_ylabel(name)


def _seq_len_axis(ax, lengths: list[int], log: bool) -> None:
    """Ticks at the swept lengths, labelled plainly (a log axis would print 2×10¹)."""
    if log:
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(lengths, [str(t) for t in lengths])
    ax.set_xlabel("seq_len")


def _curves(cases: list[CaseJson]) -> list[np.ndarray]:
    """Each seed's curve as rows (step, elapsed_ms, metric), points without a metric dropped."""
    out = []
    for case in cases:
        points = [(p[0], p[1], p[3]) for p in (case.get("train") or {}).get("curve") or [] if p[3] is not None]
        if points:
            out.append(np.asarray(points, dtype=float))
    return out


def learning_curves(doc: ResultsJson, directory: Path) -> list[PlotOutcome]:
    """One PNG per task: a row per configuration, metric vs step and vs training wall time, a line per architecture."""
    sections, labels, groups = group_results(doc)
    colors, outcomes = _colors(doc), []
    by_task: dict[str, list[str]] = {}
    for section in sections:
        if any(_curves(groups[(section, lab)].cases) for lab in labels if (section, lab) in groups):
            by_task.setdefault(section.split("/")[0], []).append(section)
    if not by_task:
        return [PlotOutcome("learning curves", None, "skipped: no case has a learning curve")]
    for task, task_sections in by_task.items():
        fig, axes = _figure(len(task_sections), 2)
        for row, section in enumerate(task_sections):
            ax_step, ax_time = axes[row]
            section_cases, values = [], []
            for label in labels:
                group = groups.get((section, label))
                curves = _curves(group.cases) if group else []
                if not curves:
                    continue
                section_cases += group.cases
                values += [v for c in curves for v in c[:, 2]]
                steps = np.unique(np.concatenate([c[:, 0] for c in curves]))
                _band(ax_step, steps, [np.interp(steps, c[:, 0], c[:, 2]) for c in curves], colors[label], label)
                wall = np.linspace(min(c[0, 1] for c in curves), max(c[-1, 1] for c in curves), GRID_POINTS)
                _band(ax_time, wall / 1000, [np.interp(wall, c[:, 1], c[:, 2]) for c in curves], colors[label], label)
            for ax, xlabel in ((ax_step, "step"), (ax_time, "training time (s)")):
                _metric_axis(ax, section_cases, values)
                ax.set_xlabel(xlabel)
                ax.set_title(section.replace("/", " "), fontsize=9)
            ax_step.legend(fontsize=7)
        path = directory / f"curves-{_slug(task)}.png"
        fig.savefig(path, dpi=DPI)
        outcomes.append(PlotOutcome(f"learning curves {task}", path, f"{len(task_sections)} configuration(s)"))
    return outcomes


def _swept(doc: ResultsJson) -> dict[str, dict[str, dict[int, list[CaseJson]]]]:
    """task -> label -> seq_len -> cases, for tasks run at ≥ 2 seq_lens (fresh-data cases, when the task has any)."""
    out: dict[str, dict[str, dict[int, list[CaseJson]]]] = {}
    for task in dict.fromkeys(grouping.task_key(c) for c in doc["cases"]):
        cases = [c for c in doc["cases"] if grouping.task_key(c) == task and c.get("status") in analysis.ATTEMPTED]
        fresh = [c for c in cases if c.get("train_size") is None]
        chosen = fresh or cases
        if len({c["seq_len"] for c in chosen}) < 2:
            continue
        for case in chosen:
            out.setdefault(task, {}).setdefault(case.get("label") or case["arch"], {}).setdefault(
                case["seq_len"], []
            ).append(case)
    return out


def memory_horizon(doc: ResultsJson, directory: Path) -> list[PlotOutcome]:
    """Final metric vs seq_len per task, a line per architecture (median, seed range), its horizon in the legend."""
    swept = _swept(doc)
    if not swept:
        return [PlotOutcome("memory horizon", None, "skipped: no task was run at two or more seq_lens")]
    horizons, colors = analysis.horizons(doc), _colors(doc)
    fig, axes = _figure(1, len(swept))
    for ax, (task, by_label) in zip(axes[0], swept.items()):
        all_cases, values = [], []
        for label, by_len in by_label.items():
            lens, medians, lows, highs = [], [], [], []
            for seq_len in sorted(by_len):
                metrics = [m for m in map(analysis.final_metric, by_len[seq_len]) if m is not None]
                all_cases += by_len[seq_len]
                if metrics:
                    lens.append(seq_len)
                    medians.append(stats.median(metrics))
                    lows.append(min(metrics))
                    highs.append(max(metrics))
                    values += metrics
            if not lens:
                continue
            # horizons are per configuration; a task swept at several (e.g. two hidden sizes) names none here
            found = [r for (_, lab), r in horizons.items() if lab == label and r.task == task]
            result = found[0] if len(found) == 1 else None
            horizon = (
                ("per configuration" if len(found) > 1 else "none")
                if result is None or result.horizon is None
                else f"T{result.horizon}" + ("+" if result.censored else "")
            )
            ax.plot(lens, medians, marker="o", color=colors[label], label=f"{label} (horizon {horizon})")
            ax.fill_between(lens, lows, highs, color=colors[label], alpha=BAND_ALPHA, linewidth=0)
        _metric_axis(ax, all_cases, values)
        _seq_len_axis(ax, sorted({t for by_len in by_label.values() for t in by_len}), log=True)
        ax.set_title(task, fontsize=9)
        ax.legend(fontsize=7)
    path = directory / "horizon.png"
    fig.savefig(path, dpi=DPI)
    return [PlotOutcome("memory horizon", path, f"{len(swept)} task(s)")]


def step_time_vs_seq_len(doc: ResultsJson, directory: Path) -> list[PlotOutcome]:
    """Train-step time (median, CI of pooled seeds) vs seq_len per task, with a least-squares line and its slope per architecture."""
    swept, colors, panels = _swept(doc), _colors(doc), []
    for task, by_label in swept.items():
        series = {}
        for label, by_len in by_label.items():
            points = []
            for seq_len in sorted(by_len):
                samples = [
                    x for c in by_len[seq_len] for x in ((c.get("train") or {}).get("step_ms") or {}).get("samples", [])
                ]
                if samples:
                    points.append((seq_len, stats.median(samples), *stats.ci_median(samples)))
            if len(points) >= 2:
                series[label] = np.asarray(points, dtype=float)
        if series:
            panels.append((task, series))
    if not panels:
        return [PlotOutcome("step time vs seq_len", None, "skipped: no task has step timings at two or more seq_lens")]
    fig, axes = _figure(1, len(panels))
    for ax, (task, series) in zip(axes[0], panels):
        for label, p in series.items():
            slope, intercept = np.polyfit(p[:, 0], p[:, 1], 1)
            ax.errorbar(
                p[:, 0], p[:, 1], yerr=[p[:, 1] - p[:, 2], p[:, 3] - p[:, 1]], fmt="o", color=colors[label], capsize=2
            )
            xs = np.linspace(p[:, 0].min(), p[:, 0].max(), 50)
            ax.plot(xs, intercept + slope * xs, color=colors[label], label=f"{label}: {slope:.3g} ms per step of T")
        _seq_len_axis(ax, sorted({t for p in series.values() for t in p[:, 0].astype(int)}), log=False)
        ax.set_ylabel("train step (ms)")
        ax.set_title(task, fontsize=9)
        ax.legend(fontsize=7)
    path = directory / "step_time.png"
    fig.savefig(path, dpi=DPI)
    return [PlotOutcome("step time vs seq_len", path, f"{len(panels)} task(s)")]


def _pooled(cases: list[CaseJson], *path: str) -> list[float]:
    samples = []
    for case in cases:
        node: object = case
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        samples += (node or {}).get("samples", []) if isinstance(node, dict) else []
    return samples


def _batch_order(key: str) -> float:
    return int(key[1:]) if key[1:].isdigit() else float("inf")


def time_bars(doc: ResultsJson, directory: Path) -> list[PlotOutcome]:
    """Per task (its configuration with the most architectures): train step, inference at batch 1 and at the largest batch."""
    sections, labels, groups = group_results(doc)
    colors, rows = _colors(doc), []
    for task in dict.fromkeys(s.split("/")[0] for s in sections):
        candidates = [s for s in sections if s.split("/")[0] == task]
        section = max(candidates, key=lambda s: sum((s, lab) in groups for lab in labels))
        present = [lab for lab in labels if (section, lab) in groups and groups[(section, lab)].measured]
        if present:
            rows.append((section, present))
    if not rows:
        return [PlotOutcome("time bars", None, "skipped: no case has timings")]
    fig, axes = _figure(len(rows), 3)
    for (section, present), row_axes in zip(rows, axes):
        cases = {lab: groups[(section, lab)].measured for lab in present}
        keys = sorted({k for cs in cases.values() for c in cs for k in c.get("inference") or {}}, key=_batch_order)
        panels = [("train step", ("train", "step_ms"))]
        panels += [
            (f"inference {k}", ("inference", k, "latency_ms"))
            for k in (keys[:1] + keys[-1:] if len(keys) > 1 else keys)
        ]
        for ax, (title, path) in zip(row_axes, panels + [None] * (3 - len(panels))):
            if title is None:
                ax.set_axis_off()
                continue
            for i, label in enumerate(present):
                samples = _pooled(cases[label], *path)
                if not samples:
                    continue
                middle, (low, high) = stats.median(samples), stats.ci_median(samples)
                ax.bar(i, middle, yerr=[[middle - low], [high - middle]], color=colors[label], capsize=3)
            ax.set_xticks(range(len(present)), present, fontsize=8)
            ax.set_ylabel("ms")
            ax.set_title(f"{section.replace('/', ' ')} · {title}", fontsize=9)
    path = directory / "time_bars.png"
    fig.savefig(path, dpi=DPI)
    return [PlotOutcome("time bars", path, f"{len(rows)} task(s)")]


PLOTS = {
    "learning curves": learning_curves,
    "memory horizon": memory_horizon,
    "step time vs seq_len": step_time_vs_seq_len,
    "time bars": time_bars,
}


def write_plots(doc: ResultsJson, directory: Path) -> list[PlotOutcome]:
    """Every figure the results allow, written under `directory`; the others listed as skipped, with why."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    outcomes: list[PlotOutcome] = []
    for plot in PLOTS.values():
        outcomes += plot(doc, directory)
    return outcomes
