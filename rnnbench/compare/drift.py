"""How much two runs drifted apart on their own: the reference matmul and the within-run paired ratios."""

from __future__ import annotations

import math

import numpy as np

from rnnbench import stats
from rnnbench.analysis.paired import paired_log_ratios
from rnnbench.results.records import CaseJson, ReferenceJson, ResultsJson


def _reference_medians(doc: ResultsJson) -> list[float]:
    ref: ReferenceJson = doc.get("reference") or {}
    blocks = [block for block in (ref.get("start"), ref.get("end")) if isinstance(block, dict)]
    medians = [(block.get("matmul_ms") or {}).get("median") for block in blocks]
    return [float(m) for m in medians if isinstance(m, (int, float)) and m > 0]


def reference_ms(doc: ResultsJson) -> float | None:
    """The run's reference matmul time: geometric mean of its start and end medians, so drift over the run counts."""
    medians = _reference_medians(doc)
    return stats.geomean(medians) if medians else None


def reference_drift(doc: ResultsJson) -> float:
    """Half the log distance between the start and end reference times: how far the geomean may be from the truth."""
    medians = _reference_medians(doc)
    return abs(math.log(medians[-1] / medians[0])) / 2.0 if len(medians) == 2 else 0.0


def timed_itself(case: CaseJson) -> bool:
    paired = case.get("paired")
    return paired is None or paired.get("timed_as", case["id"]) == case["id"]


def paired_drift(base: ResultsJson, new: ResultsJson) -> float:
    """How far the within-run paired ratios (each model against its group's first) moved between the runs,
    median |log| over models: identical code keeps them, so their movement is the runs' own drift (0 without pairs)."""

    def ratios(doc: ResultsJson) -> dict[str, float]:
        pairs = [(c, p) for c in doc["cases"] if (p := c.get("paired")) and p.get("timed_as") == c["id"]]
        by_id = {c["id"]: c for c, _ in pairs}
        out = {}
        for case, paired in pairs:
            first = by_id.get(paired["members"][0])
            if first is not None and first is not case:
                d = paired_log_ratios([case], [first])
                if d:
                    out[case["id"]] = float(np.median(d))
        return out

    old, now = ratios(base), ratios(new)
    moved = [abs(now[k] - old[k]) for k in old.keys() & now.keys()]
    return stats.median(moved) if moved else 0.0
