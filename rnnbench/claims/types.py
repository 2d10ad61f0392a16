"""The vocabulary of claims: verdicts, measures, findings, a claim, its result, and how findings combine."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from rnnbench.catalog import TASK_SPECS

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
    # per-seed evidence, paired by seed, in chance-to-perfect units, positive favours the claim (shared_interface.md)
    units: tuple[float, ...] = ()
    p: float | None = None  # this finding's own two-sided p-value, where it has one (timing rules)

    def text(self) -> str:
        return f"{self.where}: " + "; ".join(m.text() for m in self.measures) + (f" — {self.note}" if self.note else "")


Rule = Callable[[dict[str, Any], tuple[str, ...], ClaimSettings], list[Finding]]


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


@dataclass(frozen=True)
class ClaimResult:
    claim: Claim
    verdict: str
    reason: str
    findings: tuple[Finding, ...] = ()
    context: dict[str, Any] = field(default_factory=dict)

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
            kind = "real" if task in TASK_SPECS and TASK_SPECS[task].real else "synthetic"
            kinds.setdefault(kind, []).append(finding)
            tasks.setdefault(kind, {})[task or finding.where] = None
        return {kind: (combine(found)[0], tuple(tasks[kind])) for kind, found in sorted(kinds.items())}

    def to_dict(self) -> dict[str, Any]:
        claim = {k: v for k, v in asdict(self.claim).items() if k != "rule"}
        return {
            **claim,
            "verdict": self.verdict,
            "reason": self.reason,
            "findings": [asdict(f) for f in self.findings],
            "data": {kind: {"verdict": v, "tasks": list(t)} for kind, (v, t) in self.by_data().items()},
            "context": self.context,
        }


def finding_task(where: str) -> str | None:
    """The task a finding's `where` starts with (a task name, then its options, length and sizes)."""
    match = re.match(r"[A-Za-z0-9_]+", where)
    return match.group(0) if match else None


def _num(x: float | None) -> str:
    if x is None:
        return "none"
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer() and abs(x) < 1e6):
        return str(int(x))
    return f"{x:.3g}" if 1e-3 <= abs(x) < 1e4 else f"{x:.2e}"


def combine(findings: list[Finding]) -> tuple[str, str]:
    """The claim's verdict from its findings, and the reason in words."""
    if not findings:
        return NOT_MEASURED, "the results hold no cases that measure it"
    counts = {v: sum(f.verdict == v for f in findings) for v in VERDICTS}
    tally = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    of = f"{len(findings)} finding{'s' if len(findings) != 1 else ''}"
    if counts[SUPPORTED] and counts[CONTRADICTED]:
        return INCONCLUSIVE, f"mixed: {tally} of {of}"
    for verdict in (SUPPORTED, CONTRADICTED):
        if counts[verdict]:
            return verdict, f"{tally} of {of}"
    notes = sorted({f.note for f in findings if f.note})
    return INCONCLUSIVE, f"{tally} of {of}" + (f": {'; '.join(notes)}" if notes else "")
