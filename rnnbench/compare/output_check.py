"""`rnnbench ab`'s numerics check, orchestrator side: both workers run the base's weights on its inputs (torch-free).

Once per run, on the first pair, after its models are prepared and before any block is timed: the
base worker saves each model's weights and a fixed batch to a temporary folder, the new worker loads
them, both answer outputs and loss in JSON, and compare/numerics.py judges them. A worker that
predates the check makes it "not available", never a failed run.
"""

from __future__ import annotations

import tempfile
from typing import Protocol

from rnnbench.compare.comparison import Comparison
from rnnbench.compare.numerics import ModelCheckJson, NumericsJson, model_check, tolerance_text
from rnnbench.compare.rows import Row
from rnnbench.results.ab_protocol import Answer, Request

CHECK_BATCH = 8  # sequences per model: outputs travel as JSON, and 8 already exercise the batched kernels
CHANGED = "outputs changed"


class Asks(Protocol):
    def answer(self, request: Request, waiting_for: str) -> Answer: ...


def _unavailable(side: str, error: str) -> str:
    hint = " (its rnnbench predates the check)" if error.startswith("unknown command") else ""
    return f"not available: {side} side: {error}{hint}"


def check_outputs(base: Asks, new: Asks, entries: list[tuple[str, str]], atol: float, rtol: float) -> NumericsJson:
    """The --out record: tolerance, whether the check ran, and per train entry its verdict and differences."""
    labels = {name: label for name, label in entries if name.endswith("|train")}
    models: dict[str, ModelCheckJson] = {}
    record = NumericsJson(atol=atol, rtol=rtol, batch=CHECK_BATCH, status="checked", models=models)
    with tempfile.TemporaryDirectory(prefix="rnnbench-ab-outputs-") as folder:
        request: Request = {"cmd": "outputs", "save": folder, "entries": list(labels), "max_batch": CHECK_BATCH}
        saved = base.answer(request, "its outputs (weights and inputs saved)")
        if "error" in saved:
            record["status"] = _unavailable("base", saved["error"])
            return record
        files = {name: a["file"] for name, a in saved["outputs"].items() if "file" in a}
        loaded = new.answer({"cmd": "outputs", "load": files}, "its outputs on the base's weights and inputs")
        if "error" in loaded:
            record["status"] = _unavailable("new", loaded["error"])
            return record
    for name, label in labels.items():
        b = saved["outputs"].get(name, {"error": "no answer"})
        n = loaded["outputs"].get(name, {"error": "no answer"})
        models[name] = ModelCheckJson(label=label, **model_check(b, n, atol, rtol))  # the base's error first
    return record


def _figures(check: ModelCheckJson) -> str:
    parts = []
    for what, d in (("outputs", check.get("outputs")), ("loss", check.get("loss"))):
        if d:
            parts.append(f"{what} max |Δ| {d['max_abs']:.2g} (rel {d['max_rel']:.2g})")
    return ", ".join(parts)


def numerics_row(name: str, check: ModelCheckJson) -> Row:
    reason = "; ".join(part for part in (check["reason"], _figures(check)) if part)
    return Row(
        config=name.rsplit("|", 1)[0],
        label=check["label"],
        metric="outputs",
        kind="numerics",
        unit="",
        base=None,
        new=None,
        verdict=CHANGED,
        regression=True,
        reason=reason,
    )


def add_numerics(comparison: Comparison, record: NumericsJson | None) -> None:
    """Notes for every model (its largest differences even within tolerance) and a gating row per changed one."""
    if not record:
        return
    comparison.numerics = record
    tolerance = tolerance_text(record["atol"], record["rtol"])
    comparison.notes.append(
        f"numerics: both sides run the base's weights on its first {record['batch']} training sequences "
        f"(float32, eval); outputs and loss agree when {tolerance} (--atol, --rtol)"
    )
    if record["status"] != "checked":
        comparison.notes.append(f"numerics: {record['status']}")
        return
    for name, check in record["models"].items():
        status = check["status"] if check["status"] != "changed" else CHANGED
        if check["status"] == "not comparable":
            status = f"not comparable: {check['reason']}"
        figures = _figures(check)
        comparison.notes.append(f"numerics {name.rsplit('|', 1)[0]}: {figures + ': ' if figures else ''}{status}")
        if check["status"] == "changed":
            row = numerics_row(name, check)
            # beside the model's timing rows, so the table shows it in the model's section
            last = max((i for i, r in enumerate(comparison.rows) if r.config == row.config), default=None)
            comparison.rows.insert(len(comparison.rows) if last is None else last + 1, row)
