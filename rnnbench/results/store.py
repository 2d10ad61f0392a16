"""The results file on disk: default paths, atomic save, and loading with one-line errors (torch-free)."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

from pydantic import ValidationError

from rnnbench.results.records import ResultsJson
from rnnbench.results.schema import SCHEMA_VERSION, ResultsDoc, ResultsError

MAX_RESULTS_BYTES = 512 * 1024 * 1024


def utc_stamp(moment: datetime | None = None) -> str:
    return (moment or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def default_results_path(suite_name: str, directory: Path = Path("results")) -> Path:
    return directory / f"{suite_name}-{utc_stamp()}.json"


def finite_or_none(value: Any) -> Any:
    """JSON has no NaN or infinity; a diverged loss is written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    return value


def _plain_file_mode() -> int:
    """The mode `open()` would give a new file under this process's umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_PLAIN_FILE_MODE = _plain_file_mode()


def save_atomic(path: Path, doc: Mapping[str, object]) -> None:
    """Write the document so that a reader, or a crash at any moment, sees the old file or the new one, whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(finite_or_none(doc), sort_keys=True, indent=1, allow_nan=False)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _PLAIN_FILE_MODE)  # mkstemp makes 0600; a results file is read by CI jobs and colleagues
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_results(path: str | Path) -> ResultsJson:
    """Read and check a results file; every problem is one ResultsError line naming the file.

    The dict as read (written back unchanged on resume), typed: the schema has just checked it."""
    path = Path(path)
    if path.is_dir():
        raise ResultsError(f"{path}: is a directory, not a results file")
    try:
        if path.stat().st_size > MAX_RESULTS_BYTES:
            raise ResultsError(f"{path}: too large to be an rnnbench results file")
        if not path.is_file():  # a FIFO would block, /dev/zero would never end
            raise ResultsError(f"{path}: not a regular file")
        with path.open("rb") as handle:
            raw = handle.read(MAX_RESULTS_BYTES + 1)
        if len(raw) > MAX_RESULTS_BYTES:
            raise ResultsError(f"{path}: too large to be an rnnbench results file")
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise ResultsError(f"{path}: not UTF-8 text, not an rnnbench results file") from None
    except OSError as err:
        raise ResultsError(f"{path}: cannot read: {err.strerror or err}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ResultsError(
            f"{path}: not valid JSON (line {err.lineno}: {err.msg}); truncated or hand-edited?"
        ) from None
    except RecursionError:
        raise ResultsError(f"{path}: JSON nested too deeply") from None
    if not isinstance(data, dict) or "schema_version" not in data:
        raise ResultsError(f"{path}: not an rnnbench results file (no schema_version)")
    version = data["schema_version"]
    if type(version) is not int or version != SCHEMA_VERSION:  # `true == 1` in Python
        raise ResultsError(
            f"{path}: schema_version {version!r} is not supported (this rnnbench reads {SCHEMA_VERSION})"
        )
    try:
        ResultsDoc.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        msg = first["msg"].removeprefix("Value error, ")
        raise ResultsError(f"{path}: field {loc}: {msg}{_case_hint(data, first['loc'])}") from None
    doc = cast(ResultsJson, data)  # checked by ResultsDoc above
    seen: set[str] = set()
    for case in doc["cases"]:
        if case["id"] in seen:
            raise ResultsError(f"{path}: case {case['id']} appears twice; hand-edited?")
        seen.add(case["id"])
    return doc


def _case_hint(data: dict[str, object], loc: tuple[int | str, ...]) -> str:
    """` (case adding/T50/lstm/h64/s0)` when the bad field is inside a case that has an id."""
    cases = data.get("cases")
    if len(loc) >= 2 and loc[0] == "cases" and isinstance(loc[1], int) and isinstance(cases, list):
        case = cases[loc[1]]
        if isinstance(case, dict) and isinstance(case.get("id"), str):
            return f" (case {case['id']})"
    return ""
