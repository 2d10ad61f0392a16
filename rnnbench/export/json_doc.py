"""JSON exports: the claims of a results document, and a comparison with every row."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import TypedDict, cast

from rnnbench.claims.anatomy import evaluate_anatomy_claims
from rnnbench.claims.table import claims_document, evaluate_claims
from rnnbench.claims.types import NOT_MEASURED
from rnnbench.compare.comparison import Comparison, RunMeta
from rnnbench.compare.numerics import NumericsJson
from rnnbench.compare.rows import Row
from rnnbench.render.format import format_ci, is_bounded
from rnnbench.results.records import ResultsJson
from rnnbench.results.store import finite_or_none


def json_report(doc: ResultsJson) -> str:
    """The claims, their findings with every number, and the context they were measured in: the lecture's nine
    always, and the LSTM anatomy claims where the document measures them (a suite of variants)."""
    anatomy = [result for result in evaluate_anatomy_claims(doc) if result.verdict != NOT_MEASURED]
    results = evaluate_claims(doc) + anatomy
    return json.dumps(finite_or_none(claims_document(doc, results)), indent=1, allow_nan=False) + "\n"


class SideJson(RunMeta):
    path: str  # the results file, or the side's name


class OptionsJson(TypedDict):
    alpha: float
    threshold: float
    normalize: bool
    allow_env_mismatch: bool


class RowJson(TypedDict):
    """compare.rows.Row as JSON, with its interval as shown."""

    config: str
    label: str
    metric: str
    kind: str
    unit: str
    base: float | None
    new: float | None
    ratio: float | None
    ci: Sequence[float | None] | None  # an unbounded side is null
    delta: float | None
    p: float | None
    min_effect: float
    verdict: str
    regression: bool
    reason: str
    n_base: int
    n_new: int
    seeds: Sequence[tuple[str, float]]
    ci_text: str


class EnvDiffJson(TypedDict):
    key: str
    base: object
    new: object
    blocking: bool


class NotComparedJson(TypedDict):
    id: str
    reason: str


class ComparisonJson(TypedDict):
    """`rnnbench compare --format json`: everything the table shows, plus per-seed ratios."""

    suite: str
    base: SideJson
    new: SideJson
    options: OptionsJson
    regressed: bool
    n_regressions: int
    resolution: float | None
    too_noisy: bool
    rows: list[RowJson]
    geomeans: dict[str, float]
    machine_ratio: float | None
    env_diffs: list[EnvDiffJson]
    notes: list[str]
    only_in_base: list[str]
    only_in_new: list[str]
    not_compared: list[NotComparedJson]
    numerics: NumericsJson | None


def comparison_json(comparison: Comparison) -> ComparisonJson:
    """Everything the table shows, plus per-seed ratios; `regressed` is what --fail-on-regression acts on."""
    c = comparison
    document: ComparisonJson = finite_or_none(  # a non-finite number becomes null
        {
            "suite": c.suite,
            "base": {"path": c.base_name, **c.base_meta},
            "new": {"path": c.new_name, **c.new_meta},
            "options": asdict(c.options),
            "regressed": bool(c.regressions),
            "n_regressions": len(c.regressions),
            "resolution": c.resolution,
            "too_noisy": c.too_noisy,
            "rows": [_row_json(row) for row in c.rows],
            "geomeans": c.geomeans,
            "machine_ratio": c.machine_ratio,
            "env_diffs": [{"key": k, "base": a, "new": b, "blocking": hard} for k, a, b, hard in c.env_diffs],
            "notes": c.notes,
            "only_in_base": c.only_in_base,
            "only_in_new": c.only_in_new,
            "not_compared": [{"id": cid, "reason": why} for cid, why in c.not_compared],
            "numerics": c.numerics or None,
        }
    )
    return document


def _row_json(row: Row) -> RowJson:
    """A row with its interval as shown (`ci_text`); an unbounded side is null, never 0 or infinity."""
    out = cast(RowJson, asdict(row))  # every field of Row; ci_text is added below
    if row.ci is not None:
        out["ci"] = [value if is_bounded(value) else None for value in row.ci]
    out["ci_text"] = format_ci(row)
    return out


def comparison_json_text(comparison: Comparison) -> str:
    return json.dumps(comparison_json(comparison), indent=1, sort_keys=True) + "\n"
