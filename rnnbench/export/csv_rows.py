"""CSV export: one row per case, numbers at full precision."""

from __future__ import annotations

import csv
import io
import math
from typing import Any, cast

from rnnbench import stats
from rnnbench.results.records import CaseJson, ResultsJson

CsvRow = dict[str, object]  # column -> a scalar (str, int, float, bool) or None, written as text


def _get(node: object, *path: str) -> Any:
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


CASE_FIELDS = (
    "id",
    "label",
    "arch",
    "impl",
    "task",
    "seq_len",
    "hidden_size",
    "num_layers",
    "batch_size",
    "train_size",
    "seed",
    "status",
    "backend",
    "n_params",
    "n_core_params",
)


def case_row(case: CaseJson, batch_keys: list[str]) -> CsvRow:
    """One case flattened: identity, timings (medians and CI, ms), training outcome, cost."""
    row: CsvRow = {key: case.get(key) for key in CASE_FIELDS}
    if isinstance(row["hidden_size"], list):
        row["hidden_size"] = "-".join(map(str, row["hidden_size"]))
    step = _get(case, "train", "step_ms") or {}
    ci = step.get("ci95") or [None, None]
    row.update(step_ms_median=step.get("median"), step_ms_ci_low=ci[0], step_ms_ci_high=ci[1], step_ms_n=step.get("n"))
    # the interval's real coverage: below 6 samples it is less than 95 % (0.75 at 3), so say so
    row["step_ms_ci_coverage"] = (
        (step.get("ci_coverage") or stats.ci_median_coverage(int(step["n"]))) if step.get("n") else None
    )
    for phase in ("forward", "backward", "optimizer"):
        row[f"{phase}_ms_median"] = _get(case, "train", "phases_ms", phase, "median")
    for key in batch_keys:
        row[f"infer_{key}_ms_median"] = _get(case, "inference", key, "latency_ms", "median")
        row[f"infer_{key}_seq_per_s"] = _get(case, "inference", key, "seq_per_s")
    final = _get(case, "train", "final") or {}
    row.update(
        train_steps=_get(case, "train", "steps"),
        train_wall_ms=_get(case, "train", "wall_ms"),
        metric_name=final.get("metric_name"),
        final_metric=final.get("metric"),
        final_loss=final.get("loss"),
        chance=final.get("chance"),
        solved=final.get("solved"),
        steps_to_solve=_get(case, "train", "steps_to_solve"),
        ms_to_solve=_get(case, "train", "ms_to_solve"),
        training_memory_bytes=_get(case, "memory", "training", "total_bytes"),
        saved_for_backward_bytes=_get(case, "memory", "training", "saved_for_backward_bytes"),
        achieved_gflops=_get(case, "flops", "achieved_gflops"),
        pct_of_matmul_peak=_get(case, "flops", "pct_of_matmul_peak"),
        error=case.get("error"),
    )
    return row


def csv_report(doc: ResultsJson) -> str:
    """One row per case; numbers at full precision (they parse back to the file's values), empty for none."""
    keys = {k for case in doc["cases"] for k in (case.get("inference") or {})}
    batch_keys = sorted(keys, key=lambda k: int(k[1:]) if k[1:].isdigit() else math.inf)
    rows = [case_row(case, batch_keys) for case in doc["cases"]]
    out = io.StringIO()
    fields = list(rows[0]) if rows else list(case_row(cast(CaseJson, {}), batch_keys))
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: ("" if v is None else str(v).lower() if isinstance(v, bool) else v) for k, v in row.items()}
        )
    return out.getvalue()
