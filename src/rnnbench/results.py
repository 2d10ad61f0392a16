"""The results file: versioned schema, atomic save, and loading with one-line errors (torch-free).

Format history:
  1 — first version: env fingerprint, reference kernel, one record per case with raw timing samples.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

SCHEMA_VERSION = 1
MAX_RESULTS_BYTES = 512 * 1024 * 1024


class ResultsError(Exception):
    """A results file that cannot be used; the message is one line naming the file."""


class CaseRecord(BaseModel):
    """The fields every case record must have; the rest is free-form but written by runner.py."""

    model_config = ConfigDict(extra="allow")
    id: str
    arch: str
    task: str
    seq_len: int
    seed: int
    status: Literal["ok", "diverged", "failed", "interrupted"]


class ResultsDoc(BaseModel):
    model_config = ConfigDict(extra="allow")
    schema_version: int
    suite: dict[str, Any]
    env: dict[str, Any]
    cases: list[CaseRecord]


def utc_stamp(moment: datetime | None = None) -> str:
    return (moment or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def default_results_path(suite_name: str, directory: Path = Path("results")) -> Path:
    return directory / f"{suite_name}-{utc_stamp()}.json"


def _finite_or_none(value: Any) -> Any:
    """JSON has no NaN or infinity; a diverged loss is written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(v) for v in value]
    return value


def save_atomic(path: Path, doc: dict[str, Any]) -> None:
    """Write the document so that a reader, or a crash at any moment, sees the old file or the new one, whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_finite_or_none(doc), sort_keys=True, indent=1, allow_nan=False)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_results(path: str | Path) -> dict[str, Any]:
    """Read and check a results file; every problem is one ResultsError line naming the file."""
    path = Path(path)
    if path.is_dir():
        raise ResultsError(f"{path}: is a directory, not a results file")
    try:
        if path.stat().st_size > MAX_RESULTS_BYTES:
            raise ResultsError(f"{path}: too large to be an rnnbench results file")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise ResultsError(f"{path}: not UTF-8 text, not an rnnbench results file") from None
    except OSError as err:
        raise ResultsError(f"{path}: cannot read: {err.strerror or err}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ResultsError(f"{path}: not valid JSON (line {err.lineno}: {err.msg}); truncated or hand-edited?") from None
    except RecursionError:
        raise ResultsError(f"{path}: JSON nested too deeply") from None
    if not isinstance(data, dict) or "schema_version" not in data:
        raise ResultsError(f"{path}: not an rnnbench results file (no schema_version)")
    version = data["schema_version"]
    if version != SCHEMA_VERSION:
        raise ResultsError(f"{path}: schema_version {version!r} is not supported (this rnnbench reads {SCHEMA_VERSION})")
    try:
        ResultsDoc.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ResultsError(f"{path}: field {loc}: {first['msg']}") from None
    return data


def new_document(suite: dict[str, Any], suite_path: str, env: dict[str, Any], version: str) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "rnnbench_version": version,
        "suite": suite,
        "suite_path": suite_path,
        "env": env,
        "reference": {},
        "cases": [],
        "status": "running",
        "started_at": utc_now_iso(),
        "finished_at": None,
    }


def finished_ids(doc: dict[str, Any]) -> set[str]:
    """Cases that need not run again on resume: everything but interrupted ones."""
    return {c["id"] for c in doc["cases"] if c.get("status") != "interrupted"}
