"""A report in other formats: Markdown (CI job summary, pull request), CSV (one row per case), JSON (the claims)."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

from rich.table import Table
from rich.text import Text

from rnnbench.claims.table import claims_document, evaluate_claims
from rnnbench.results.store import finite_or_none as _finite

FORMATS = ("md", "csv", "json")


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("*", "\\*").replace("\n", "<br>")


def _cell(value: Any) -> str:
    """A table cell as Markdown: pipes escaped, line breaks as <br>, bold (section titles, verdicts) kept."""
    if not isinstance(value, Text):
        return _escape(str(value)).strip()
    if "bold" in str(value.style):
        return f"**{_escape(value.plain.strip())}**" if value.plain.strip() else ""
    plain, out, at = value.plain, [], 0
    for span in sorted(value.spans, key=lambda sp: sp.start):
        if "bold" in str(span.style) and span.start >= at and plain[span.start : span.end].strip():
            out += [_escape(plain[at : span.start]), f"**{_escape(plain[span.start : span.end])}**"]
            at = span.end
    out.append(_escape(plain[at:]))
    return "".join(out).strip()


def table_markdown(table: Table) -> str:
    """A Rich table as a GitHub-flavoured Markdown table, with its title above and its caption below."""
    columns = table.columns
    rows = [[_cell(c) for c in column.cells] for column in columns]
    n_rows = max((len(r) for r in rows), default=0)
    lines = []
    if table.title:
        lines += [f"### {_cell(table.title)}", ""]
    lines.append("| " + " | ".join(_cell(c.header) or " " for c in columns) + " |")
    lines.append("|" + "|".join("---:" if c.justify == "right" else "---" for c in columns) + "|")
    for i in range(n_rows):
        lines.append("| " + " | ".join(r[i] if i < len(r) else "" for r in rows) + " |")
    if table.caption:
        lines += ["", f"_{_cell(table.caption)}_"]
    return "\n".join(lines)


def markdown_report(doc: dict[str, Any]) -> str:
    """Every table of the terminal report (the recap, the analyses, the claims), as Markdown."""
    from rnnbench.render.report import run_report

    env = doc.get("env", {})
    head = (
        f"## rnnbench report — {doc.get('suite', {}).get('name', '?')}\n\n"
        f"{len(doc.get('cases', []))} cases · run {doc.get('started_at', '?')} · rnnbench {doc.get('rnnbench_version', '?')}"
        f" · {env.get('device_name', '?')} ({env.get('device', '?')}, {env.get('threads', '?')} threads)"
    )
    tables = [table_markdown(part) for part in run_report(doc) if isinstance(part, Table)]
    return "\n\n".join([head, *tables]) + "\n"


def _get(node: Any, *path: str) -> Any:
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


def case_row(case: dict[str, Any], batch_keys: list[str]) -> dict[str, Any]:
    """One case flattened: identity, timings (medians and CI, ms), training outcome, cost."""
    row: dict[str, Any] = {key: case.get(key) for key in CASE_FIELDS}
    if isinstance(row["hidden_size"], list):
        row["hidden_size"] = "-".join(map(str, row["hidden_size"]))
    step = _get(case, "train", "step_ms") or {}
    ci = step.get("ci95") or [None, None]
    row.update(step_ms_median=step.get("median"), step_ms_ci_low=ci[0], step_ms_ci_high=ci[1], step_ms_n=step.get("n"))
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
        peak_bytes=_get(case, "memory", "peak_bytes"),
        achieved_gflops=_get(case, "flops", "achieved_gflops"),
        pct_of_matmul_peak=_get(case, "flops", "pct_of_matmul_peak"),
        error=case.get("error"),
    )
    return row


def csv_report(doc: dict[str, Any]) -> str:
    """One row per case; numbers at full precision (they parse back to the file's values), empty for none."""
    keys = {k for case in doc["cases"] for k in (case.get("inference") or {})}
    batch_keys = sorted(keys, key=lambda k: int(k[1:]) if k[1:].isdigit() else math.inf)
    rows = [case_row(case, batch_keys) for case in doc["cases"]]
    out = io.StringIO()
    fields = list(rows[0]) if rows else list(case_row({}, batch_keys))
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: ("" if v is None else str(v).lower() if isinstance(v, bool) else v) for k, v in row.items()}
        )
    return out.getvalue()


def json_report(doc: dict[str, Any]) -> str:
    """The claims, their findings with every number, and the context they were measured in."""
    return json.dumps(_finite(claims_document(doc, evaluate_claims(doc))), indent=1, allow_nan=False) + "\n"


def export(doc: dict[str, Any], fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    return {"md": markdown_report, "csv": csv_report, "json": json_report}[fmt](doc)
