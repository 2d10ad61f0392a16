"""Aggregating a results file: cases grouped by configuration (section) and architecture (column), seeds pooled.

Pure functions over the results document; rendering, claims and reports build on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from rnnbench import stats
from rnnbench.results.records import CaseJson, FinalJson, ResultsJson, TimingJson

# Every grouping of cases is read from the case id (suite/expand.py `case_id`):
# task[-options]/T<seq_len>/<label>/h<hidden>|p~<ref>[/L<layers>][/n<train_size>][/b<batch>][/lr<lr>]/s<seed>
# (/b and /lr only where a matrix changed them), so a batch-size or lr sweep point is a configuration of its own.


def section_key(case: CaseJson) -> str:
    """The case id without its model label and seed: the configuration the columns are compared on."""
    parts = case["id"].split("/")
    return "/".join(parts[:2] + parts[3:-1])


def task_key(case: CaseJson) -> str:
    """The task with its non-default options, as the case id spells it."""
    return case["id"].split("/", 1)[0] if case.get("id") else case["task"]


def sweep_key(case: CaseJson) -> tuple[str, str]:
    """(task, label): the cases a sweep over seq_len or train_size lines up."""
    return task_key(case), case.get("label") or case["arch"]


def sweep_config(case: CaseJson, axis: str) -> str:
    """The configuration a sweep over `axis` ("seq_len" or "train_size") lines up: the case id without
    its label, seed and that axis, in words (`adding h32`, `temporal_order T30 h32`).

    Every other setting the id carries (task options, hidden size or matched parameters, layers,
    the other axis) stays in it, and the label carries the implementation: a sweep never pools
    two hidden sizes, say, into one count.
    """
    parts = case["id"].split("/") if case.get("id") else [case["task"], f"T{case['seq_len']}", "", "s0"]
    rest = parts[3:-1]
    if axis == "seq_len":
        return " ".join([parts[0], *rest])
    return " ".join([parts[0], parts[1], *(r for r in rest if not (r[:1] == "n" and r[1:].isdigit()))])


@dataclass
class Group:
    """All seeds of one architecture (label) in one section."""

    section: str
    label: str
    cases: list[CaseJson] = field(default_factory=list)

    @property
    def ok(self) -> list[CaseJson]:
        return [c for c in self.cases if c.get("status") == "ok"]

    @property
    def n_seeds(self) -> int:
        return len(self.cases)

    @property
    def statuses(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for case in self.cases:
            counts[case.get("status", "?")] = counts.get(case.get("status", "?"), 0) + 1
        return counts

    @property
    def measured(self) -> list[CaseJson]:
        """Cases that carry timings: finished ones, and diverged ones (their speed was measured before training)."""
        return [c for c in self.cases if c.get("status") in ("ok", "diverged") and c.get("train")]

    def pooled(self, *path: str) -> TimingJson | None:
        """Raw samples of one timing pooled across seeds (same shapes, so the same distribution), summarized."""
        samples: list[float] = []
        for case in self.measured:
            node: object = case
            for key in path:
                node = node.get(key) if isinstance(node, dict) else None
            if isinstance(node, dict) and node.get("samples"):
                samples.extend(node["samples"])
        return cast(TimingJson, stats.summarize(samples)) if samples else None

    def first(self, key: str) -> Any:
        for case in self.cases:
            value = case.get(key)
            if value is not None:
                return value
        return None

    @property
    def finals(self) -> list[FinalJson]:
        """The final records of ok runs with a metric (FinalJson.metric is not None in each)."""
        return [c["train"]["final"] for c in self.ok if c.get("train", {}).get("final", {}).get("metric") is not None]

    @property
    def metrics(self) -> list[float]:
        """The final metric of each ok run that has one, in run order (one per `finals`)."""
        return [m for f in self.finals if (m := f.get("metric")) is not None]

    @property
    def metric_median(self) -> float | None:
        values = self.metrics
        return stats.median(values) if values else None

    @property
    def n_solved(self) -> int:
        return sum(1 for f in self.finals if f.get("solved"))

    @property
    def solve_times(self) -> list[float]:
        """The time to solve (ms) of each ok run that solved, in run order."""
        return [t for c in self.ok if (t := c["train"].get("ms_to_solve")) is not None]

    @property
    def ms_to_solve_median(self) -> float | None:
        values = self.solve_times
        return stats.median(values) if values else None

    def final_info(self, key: str) -> Any:
        for final in self.finals:
            value = final.get(key)
            if value is not None:
                return value
        return None


def group_results(doc: ResultsJson) -> tuple[list[str], list[str], dict[tuple[str, str], Group]]:
    """Sections and labels in run order, and the group of every (section, label) pair."""
    sections: list[str] = []
    labels: list[str] = []
    groups: dict[tuple[str, str], Group] = {}
    for case in doc["cases"]:
        section, label = section_key(case), case.get("label", case["arch"])
        if section not in sections:
            sections.append(section)
        if label not in labels:
            labels.append(label)
        groups.setdefault((section, label), Group(section, label)).cases.append(case)
    return sections, labels, groups
