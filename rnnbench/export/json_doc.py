"""JSON exports: the claims of a results document, and a comparison with every row."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from rnnbench.claims.table import claims_document, evaluate_claims
from rnnbench.compare.comparison import Comparison
from rnnbench.compare.rows import Row
from rnnbench.render.format import format_ci, is_bounded
from rnnbench.results.records import ResultsJson
from rnnbench.results.store import finite_or_none


def json_report(doc: ResultsJson) -> str:
    """The claims, their findings with every number, and the context they were measured in."""
    return json.dumps(finite_or_none(claims_document(doc, evaluate_claims(doc))), indent=1, allow_nan=False) + "\n"


def comparison_json(comparison: Comparison) -> dict[str, Any]:
    """Everything the table shows, plus per-seed ratios; `regressed` is what --fail-on-regression acts on."""
    c = comparison
    return finite_or_none(
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


def _row_json(row: Row) -> dict[str, Any]:
    """A row with its interval as shown (`ci_text`); an unbounded side is null, never 0 or infinity."""
    out = asdict(row)
    if row.ci is not None:
        out["ci"] = [value if is_bounded(value) else None for value in row.ci]
    out["ci_text"] = format_ci(row)
    return out


def comparison_json_text(comparison: Comparison) -> str:
    return json.dumps(comparison_json(comparison), indent=1, sort_keys=True) + "\n"
