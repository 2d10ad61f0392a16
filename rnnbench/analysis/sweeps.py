"""Sweep analyses over a results document: the memory horizon (seq_len sweep) and data efficiency (train_size sweep).

Pure and torch-free. Cases are grouped by **configuration** and label: the configuration is
everything the case id says except the swept axis, the label and the seed
(`grouping.sweep_config`: task with its non-default options, hidden size or matched parameters,
layers, and the other axis), the label is the model column (it carries the implementation).
A horizon is never pooled over two hidden sizes, layer counts or train sizes: hidden 8 solving
0/3 and hidden 16 solving 3/3 at T25 are two rows, not "3/6".

Rules, chosen once here:
- A **run** is a case that was attempted: status ok, diverged or failed. Interrupted cases
  never finished (`--resume` runs them): they are left out of the denominator and counted
  apart (`interrupted`), so the table says "2 interrupted, not counted" rather than 1/1.
- Counts are of **seeds**: one run per seed, per seq_len, per configuration.
- A run **solved** its case when its status is ok and its final held-out evaluation met the
  task's solved rule. Diverged and failed runs count as unsolved: a horizon claim must not
  rest on fewer seeds than the suite asked for. Unsolved runs that stopped at max_seconds
  before max_steps are counted as unsolved too, and flagged (`time_capped`): on a slow or busy
  machine the horizon then measures the machine as much as the architecture.
- A seq_len is **solved** by an architecture when at least half of its runs solved it
  (`2·solved ≥ runs`, so 1 of 2 and 2 of 4 count).
- The **horizon** is the longest seq_len L such that every swept seq_len up to L is solved:
  contiguous from the shortest. A longer seq_len solved after an unsolved one is a **gap**
  (reported, not counted: with few seeds it is more likely luck than memory). When the
  shortest seq_len is not solved the horizon is None; when the longest is, the horizon is
  **censored** (the true one may lie beyond the sweep).
- Data efficiency summarizes the final metric of ok runs only (a diverged run has no metric)
  at each train_size: median and range (low, high = min, max) across seeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rnnbench import stats
from rnnbench.analysis.grouping import sweep_config, sweep_key, task_key
from rnnbench.results.records import CaseJson, FinalJson, MatchedJson, ResultsJson

ATTEMPTED = ("ok", "diverged", "failed")


def _final(case: CaseJson) -> FinalJson:
    train = case.get("train")
    return (train.get("final") or {}) if isinstance(train, dict) else {}


def is_solved(case: CaseJson) -> bool:
    return case.get("status") == "ok" and bool(_final(case).get("solved"))


def final_metric(case: CaseJson) -> float | None:
    """The final held-out metric of an ok run, or None."""
    if case.get("status") != "ok":
        return None
    metric = _final(case).get("metric")
    return float(metric) if isinstance(metric, (int, float)) and not isinstance(metric, bool) else None


def stopped_by_time(case: CaseJson) -> bool:
    """An unsolved ok run that hit max_seconds before max_steps: its budget was the machine's speed, not the steps."""
    steps = (case.get("train") or {}).get("steps")
    max_steps = ((case.get("settings") or {}).get("train") or {}).get("max_steps")
    if steps is None or max_steps is None:
        return False
    return case.get("status") == "ok" and not is_solved(case) and steps < max_steps


def _label(case: CaseJson) -> str:
    return case.get("label") or case["arch"]


def _groups(doc: ResultsJson, axis: str, statuses=ATTEMPTED) -> dict[tuple[str, str], list[CaseJson]]:
    """(configuration, label) -> its cases with one of `statuses`, in run order."""
    groups: dict[tuple[str, str], list[CaseJson]] = {}
    for case in doc.get("cases", []):
        if case.get("status") in statuses:
            groups.setdefault((sweep_config(case, axis), _label(case)), []).append(case)
    return groups


def solved_majority(solved: int, runs: int) -> bool:
    """At least half of the runs solved it (and there was at least one run)."""
    return runs > 0 and 2 * solved >= runs


@dataclass(frozen=True)
class HorizonResult:
    """One architecture in one configuration across a seq_len sweep."""

    by_seq_len: dict[int, tuple[int, int]]  # seq_len -> (solved seeds, seeds run), ascending seq_len
    horizon: int | None  # longest seq_len solved with every shorter one solved too; None if the shortest is not
    gaps: tuple[int, ...] = ()  # seq_lens above the horizon solved all the same (after an unsolved one)
    censored: bool = False  # the longest swept seq_len is solved: the true horizon may be longer
    failed: dict[int, int] = field(default_factory=dict)  # seq_len -> runs that failed or diverged (counted unsolved)
    time_capped: dict[int, int] = field(default_factory=dict)  # seq_len -> unsolved runs cut short by max_seconds
    interrupted: dict[int, int] = field(default_factory=dict)  # seq_len -> interrupted runs, not counted
    solved_by_seed: dict[int, dict[int, bool]] = field(default_factory=dict)  # seq_len -> seed -> solved
    task: str = ""  # the task with its options (the configuration's first word)

    @property
    def seq_lens(self) -> list[int]:
        return sorted(self.by_seq_len)

    def is_solved(self, seq_len: int) -> bool:
        return solved_majority(*self.by_seq_len[seq_len])


def horizon_of(by_seq_len: dict[int, tuple[int, int]]) -> tuple[int | None, tuple[int, ...], bool]:
    """(horizon, gaps, censored) from seq_len -> (solved, runs), by the rules in the module docstring."""
    horizon: int | None = None
    gaps: list[int] = []
    contiguous = True
    for seq_len in sorted(by_seq_len):
        solved = solved_majority(*by_seq_len[seq_len])
        if solved and contiguous:
            horizon = seq_len
        elif solved:
            gaps.append(seq_len)
        else:
            contiguous = False
    censored = bool(by_seq_len) and contiguous
    return horizon, tuple(gaps), censored


def horizons(doc: ResultsJson) -> dict[tuple[str, str], HorizonResult]:
    """The memory horizon of every (configuration, label) in the results, whatever the number of seq_lens."""
    out: dict[tuple[str, str], HorizonResult] = {}
    interrupted_groups = _groups(doc, "seq_len", ("interrupted",))
    for key, cases in _groups(doc, "seq_len").items():
        by_seed: dict[int, dict[int, bool]] = {}
        failed: dict[int, int] = {}
        time_capped: dict[int, int] = {}
        for case in cases:
            seq_len = int(case["seq_len"])
            # one count per seed: a seed recorded twice (a merged file) is one run, solved if either says so
            seeds = by_seed.setdefault(seq_len, {})
            seed = int(case.get("seed", len(seeds)))
            seeds[seed] = seeds.get(seed, False) or is_solved(case)
            if case.get("status") != "ok":
                failed[seq_len] = failed.get(seq_len, 0) + 1
            if stopped_by_time(case):
                time_capped[seq_len] = time_capped.get(seq_len, 0) + 1
        interrupted: dict[int, int] = {}
        for case in interrupted_groups.get(key, []):
            interrupted[int(case["seq_len"])] = interrupted.get(int(case["seq_len"]), 0) + 1
        # a seq_len whose runs were all interrupted is unknown, not skipped: (0, 0) breaks the horizon there
        by_seq_len = {
            t: (sum(by_seed.get(t, {}).values()), len(by_seed.get(t, {}))) for t in sorted({*by_seed, *interrupted})
        }
        horizon, gaps, censored = horizon_of(by_seq_len)
        out[key] = HorizonResult(
            by_seq_len,
            horizon,
            gaps,
            censored,
            dict(sorted(failed.items())),
            dict(sorted(time_capped.items())),
            dict(sorted(interrupted.items())),
            {t: dict(sorted(by_seed.get(t, {}).items())) for t in by_seq_len},
            task_key(cases[0]),
        )
    return out


@dataclass(frozen=True)
class MetricSpread:
    """The final metric of one architecture at one train_size, across seeds (ok runs only)."""

    median: float
    low: float  # smallest value across seeds
    high: float  # largest value across seeds
    n: int  # ok runs with a metric
    values: tuple[float, ...]  # one per ok run, in run order
    seeds: tuple[int, ...] = ()  # the seed of each value (pairs two architectures seed by seed)
    n_runs: int = 0  # attempted runs, including diverged and failed ones
    metric_name: str | None = None
    higher_is_better: bool | None = None


def spread(values: list[float], n_runs: int | None = None, seeds: tuple[int, ...] = (), **info: Any) -> MetricSpread:
    return MetricSpread(
        seeds=seeds,
        median=stats.median(values),
        low=min(values),
        high=max(values),
        n=len(values),
        values=tuple(values),
        n_runs=len(values) if n_runs is None else n_runs,
        **info,
    )


def data_efficiency(doc: ResultsJson) -> dict[tuple[str, str], dict[int, MetricSpread]]:
    """(configuration, label) -> train_size -> final-metric spread, for cases trained on a finite pool.

    The configuration is everything but train_size, label and seed (`grouping.sweep_config`).

    Cases with fresh data every step (train_size null) are left out; a train_size where no
    run finished ok is left out too (its runs show in the recap's status counts).
    """
    out: dict[tuple[str, str], dict[int, MetricSpread]] = {}
    for key, cases in _groups(doc, "train_size").items():
        by_size: dict[int, list[CaseJson]] = {}
        for case in cases:
            train_size = case.get("train_size")
            if train_size is not None:
                by_size.setdefault(int(train_size), []).append(case)
        sizes: dict[int, MetricSpread] = {}
        for size in sorted(by_size):
            runs = by_size[size]
            values = [m for m in map(final_metric, runs) if m is not None]
            if not values:
                continue
            finals = [_final(c) for c in runs if final_metric(c) is not None]
            sizes[size] = spread(
                values,
                len(runs),
                tuple(int(c.get("seed", i)) for i, c in enumerate(runs) if final_metric(c) is not None),
                metric_name=finals[0].get("metric_name"),
                higher_is_better=finals[0].get("higher_is_better"),
            )
        if sizes:
            out[key] = sizes
    return out


def matched_sizes(doc: ResultsJson) -> dict[tuple[str, str], MatchedJson]:
    """(task, label) -> the `matched` record of its first case that has one (match_params runs only)."""
    out: dict[tuple[str, str], MatchedJson] = {}
    for case in doc.get("cases", []):
        matched = case.get("matched")
        if isinstance(matched, dict):
            out.setdefault(sweep_key(case), matched)
    return out
