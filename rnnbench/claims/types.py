"""The vocabulary of claims: verdicts, measures, findings, a claim, its result, and how findings combine (family-wise)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, TypedDict

import numpy as np

from rnnbench.catalog import TASK_SPECS
from rnnbench.claims import decide
from rnnbench.results.records import ResultsJson

SUPPORTED, CONTRADICTED, INCONCLUSIVE, NOT_MEASURED = "supported", "contradicted", "inconclusive", "not measured"
VERDICTS = (SUPPORTED, CONTRADICTED, INCONCLUSIVE, NOT_MEASURED)


@dataclass(frozen=True)
class ClaimSettings:
    min_seeds: int = 3  # seeds per architecture before a training outcome can decide a claim
    min_samples: int = 5  # timing samples per side before a timing ratio can decide a claim
    confidence: float = 0.95  # of every interval a verdict rests on
    tolerance: float = 0.10  # "similar": metric gap within this share of the chance-to-perfect range


@dataclass(frozen=True)
class Measure:
    """One number behind a finding: a value, its interval when it has one, and how many it rests on."""

    name: str
    value: float | None
    low: float | None = None
    high: float | None = None
    unit: str = ""  # "×" for ratios, "ms", "T" for a sequence length, "" for counts and metrics
    n: tuple[int, ...] = ()  # seeds or samples, per side
    detail: str = ""

    def text(self) -> str:
        value = "none" if self.value is None else f"{_num(self.value)}{self.unit}"
        interval = f" [{_num(self.low)}, {_num(self.high)}]" if self.low is not None and self.high is not None else ""
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.name} {value}{interval}{detail}"


@dataclass(frozen=True)
class Finding:
    """The verdict of one configuration (or task) on a claim, with the measures it rests on."""

    where: str
    verdict: str
    measures: tuple[Measure, ...]
    note: str = ""  # why this verdict, in words
    # per-seed evidence, paired by seed (same seed = same data for both models), in chance-to-perfect
    # units, signed so that POSITIVE FAVOURS THE CLAIM; the claim's signed-rank test pools them
    units: tuple[float, ...] = ()
    p: float | None = None  # this finding's own two-sided p-value, where it has one (timing rules; Holm)
    # which part of a claim of several parts this finding tests (the anatomy claims: "nfg", "closes", ...); its
    # decider pools the units part by part. None for a claim of one part
    part: str | None = None

    def text(self) -> str:
        return f"{self.where}: " + "; ".join(m.text() for m in self.measures) + (f" — {self.note}" if self.note else "")


class Context(TypedDict, total=False):
    """Where a claim's numbers were measured (`table.context`): a verdict may hold on cuDNN and fail on a CPU."""

    device: str | None
    device_name: str | None
    dtype: str | None
    torch: str | None
    threads: int | None
    backends: dict[str, list[str]]  # label -> the kernel paths its cases ran on
    plugin_real_tasks: list[str]  # plugin tasks whose class says `real = True` (results: task_plugin.real)


class MeasureRecord(TypedDict):
    """A `Measure` in the claims JSON."""

    name: str
    value: float | None
    low: float | None
    high: float | None
    unit: str
    n: tuple[int, ...]
    detail: str


class FindingRecord(TypedDict):
    """A `Finding` in the claims JSON."""

    where: str
    verdict: str
    measures: list[MeasureRecord]
    note: str
    units: tuple[float, ...]
    p: float | None
    part: str | None


class DataVerdict(TypedDict):
    """The verdict of one kind of data's findings alone ("real" or "synthetic") and its tasks."""

    verdict: str
    tasks: list[str]


class ClaimRecord(TypedDict):
    """A claim's result in the claims JSON: the claim's own fields, its verdict, every finding and the context."""

    key: str
    model: str
    row: str
    text: str
    measured_as: str
    supported_when: str
    archs: tuple[str, ...]
    needs: str
    verdict: str
    reason: str
    findings: list[FindingRecord]
    data: dict[str, DataVerdict]
    context: Context


Rule = Callable[[ResultsJson, tuple[str, ...], ClaimSettings], list[Finding]]
Decider = Callable[[list[Finding], float], tuple[str, str]]  # (findings, confidence) -> (verdict, reason)


RECAP_COLUMNS = ("LSTM", "GRU", "Bi-LSTM")
RECAP_ROWS = ("Advantage", "Disadvantage")


@dataclass(frozen=True)
class RecapPlace:
    """Where a claim sits in the lecture's 3×2 recap (columns `RECAP_COLUMNS`, rows `RECAP_ROWS`), in its words."""

    column: Literal["LSTM", "GRU", "Bi-LSTM"]
    row: Literal["Advantage", "Disadvantage"]
    statement: str  # the lecture's short statement, e.g. "faster to train"


@dataclass(frozen=True)
class Claim:
    key: str
    model: str  # the recap's column: LSTM, GRU or Bi-LSTM
    row: str  # architecture, advantage or disadvantage
    text: str
    measured_as: str
    supported_when: str
    archs: tuple[str, ...]  # the registry names the rule compares, first against the others
    rule: Rule
    needs: str = "configuration with both architectures"  # what a suite lacks when this is not measured
    decide: Decider | None = None  # the claim's own family-wise decision; None: `combine`
    # its statement in the recap's 3×2 shape (render/recap_shape.py reads it); None: not in the recap
    recap: RecapPlace | None = None


@dataclass(frozen=True)
class ClaimResult:
    claim: Claim
    verdict: str
    reason: str
    findings: tuple[Finding, ...] = ()
    context: Context = field(default_factory=lambda: Context())
    confidence: float = 0.95  # the family-wise level the verdict was decided at

    def evidence_lines(self, limit: int = 4) -> list[str]:
        """The findings in words; past `limit`, one aggregate line per measure plus the verdict counts."""
        if len(self.findings) <= limit:
            return [f.text() for f in self.findings]
        lines = []
        for name in dict.fromkeys(m.name for f in self.findings for m in f.measures):
            values = [m.value for f in self.findings for m in f.measures if m.name == name and m.value is not None]
            unit = next(m.unit for f in self.findings for m in f.measures if m.name == name)
            if values:
                low, high = min(values), max(values)
                spread = f"{_num(low)}–{_num(high)}{unit}" if low != high else f"{_num(low)}{unit}"
                lines.append(f"{name}: {spread} over {len(values)} configurations")
        counts = {v: sum(f.verdict == v for f in self.findings) for v in VERDICTS}
        lines.append(", ".join(f"{n} {v}" for v, n in counts.items() if n))
        return lines

    def by_data(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """ "real" / "synthetic" -> (the verdict of that kind's findings alone, its tasks): what rests on real data."""
        kinds: dict[str, list[Finding]] = {}
        tasks: dict[str, dict[str, None]] = {}
        for finding in self.findings:
            task = finding_task(finding.where)
            real = task in TASK_SPECS and TASK_SPECS[task].real or task in self.context.get("plugin_real_tasks", ())
            kind = "real" if real else "synthetic"
            kinds.setdefault(kind, []).append(finding)
            tasks.setdefault(kind, {})[task or finding.where] = None
        decide = self.claim.decide or combine
        return {kind: (decide(found, self.confidence)[0], tuple(tasks[kind])) for kind, found in sorted(kinds.items())}

    def to_dict(self) -> ClaimRecord:
        c = self.claim
        return {
            "key": c.key,
            "model": c.model,
            "row": c.row,
            "text": c.text,
            "measured_as": c.measured_as,
            "supported_when": c.supported_when,
            "archs": c.archs,
            "needs": c.needs,
            "verdict": self.verdict,
            "reason": self.reason,
            "findings": [finding_record(f) for f in self.findings],
            "data": {kind: {"verdict": v, "tasks": list(t)} for kind, (v, t) in self.by_data().items()},
            "context": self.context,
        }


def finding_record(finding: Finding) -> FindingRecord:
    """A finding as the claims JSON holds it (the fields of `dataclasses.asdict`, measures as records)."""
    measures: list[MeasureRecord] = [
        {"name": m.name, "value": m.value, "low": m.low, "high": m.high, "unit": m.unit, "n": m.n, "detail": m.detail}
        for m in finding.measures
    ]
    return {
        "where": finding.where,
        "verdict": finding.verdict,
        "measures": measures,
        "note": finding.note,
        "units": finding.units,
        "p": finding.p,
        "part": finding.part,
    }


def finding_task(where: str) -> str | None:
    """The task a finding's `where` starts with (a task name, then its options, length and sizes)."""
    match = re.match(r"[A-Za-z0-9_.:]+", where)  # a built-in's name, or a plugin's package.module:Name
    return match.group(0) if match else None


def _num(x: float | None) -> str:
    if x is None:
        return "none"
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer() and abs(x) < 1e6):
        return str(int(x))
    return f"{x:.3g}" if 1e-3 <= abs(x) < 1e4 else f"{x:.2e}"


def combine(findings: list[Finding], confidence: float = 0.95) -> tuple[str, str]:
    """The claim's verdict from its findings, family-wise at `confidence`, and the reason in words.

    - findings with `units` (training outcomes): one exact signed-rank test over every finding's
      per-seed units pooled, the seed (per configuration) as the unit; supported or contradicted
      when p < 1 − confidence, by the sign of the signed-rank sum;
    - else findings with `p` (timings): Holm over those p-values; a rejected finding counts in the
      direction of its own verdict (one whose verdict is inconclusive, e.g. multi-modal, counts for
      neither); rejections both ways are "mixed";
    - else (structure: exact counts, no sampling) every decided finding counts, as before.
    The per-finding verdicts stay as descriptions. A rule over sampled data marks a finding it
    cannot test (too few seeds or samples) inconclusive and leaves its units and p empty, so it
    never decides a claim.
    """
    if not findings:
        return NOT_MEASURED, "the results hold no cases that measure it"
    alpha = 1.0 - confidence
    notes = sorted({f.note for f in findings if f.note})
    why = f": {'; '.join(notes)}" if notes else ""
    if any(f.units for f in findings):
        units = [u for f in findings for u in f.units]
        p, signed, n = decide.signed_rank(units)
        configs = sum(1 for f in findings if f.units)
        test = (
            f"signed-rank over {len(units)} seed units of {configs} configuration{'s' if configs != 1 else ''}: "
            f"p = {p:.2g}, median {_num(float(np.median(units)))}"
        )
        if p < alpha and signed != 0:
            return (SUPPORTED if signed > 0 else CONTRADICTED), test
        need = decide.units_needed(alpha)
        short = f" ({need} non-zero units needed, {n} here)" if n < need else ""
        return INCONCLUSIVE, f"{test} ≥ {alpha:g}{short}" + why
    tested = [f for f in findings if f.p is not None]
    if tested:
        rejected = [f for f, r in zip(tested, decide.holm([f.p or 0.0 for f in tested], alpha)) if r]
        ways = {v: sum(f.verdict == v for f in rejected) for v in (SUPPORTED, CONTRADICTED)}
        test = f"Holm over {len(tested)} p-values: {ways[SUPPORTED]} supported, {ways[CONTRADICTED]} contradicted"
        if ways[SUPPORTED] and ways[CONTRADICTED]:
            return INCONCLUSIVE, f"mixed: {test}"
        for verdict in (SUPPORTED, CONTRADICTED):
            if ways[verdict]:
                return verdict, test
        return INCONCLUSIVE, test + why
    counts = {v: sum(f.verdict == v for f in findings) for v in VERDICTS}
    tally = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    of = f"{len(findings)} finding{'s' if len(findings) != 1 else ''}"
    if counts[SUPPORTED] and counts[CONTRADICTED]:
        return INCONCLUSIVE, f"mixed: {tally} of {of}"
    for verdict in (SUPPORTED, CONTRADICTED):
        if counts[verdict]:
            return verdict, f"{tally} of {of}"
    return INCONCLUSIVE, f"{tally} of {of}" + why
