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
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationError,
    model_validator,
)

SCHEMA_VERSION = 1
MAX_RESULTS_BYTES = 512 * 1024 * 1024


class ResultsError(Exception):
    """A results file that cannot be used; the message is one line naming the file."""

    def __init__(self, message: str) -> None:
        super().__init__(message.replace("\r", "\\r").replace("\n", "\\n"))  # one line, whatever the file holds


class Record(BaseModel):
    """Typed where readers (render, compare, report) rely on a field, free-form elsewhere.

    Strict scalars: a hand-edited "NaN" string or `true` where a number belongs is refused
    at load time with the field's path, rather than crashing a renderer later.
    """

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)


Number = StrictFloat | None  # StrictFloat takes ints too; null is a missing or non-finite value


class TimingRecord(Record):
    samples: list[StrictFloat] = []
    median: Number = None
    iqr: Number = None
    mean: Number = None
    std: Number = None
    ci95: tuple[StrictFloat, StrictFloat] | None = None
    n: StrictInt | None = None
    unstable: StrictBool | None = None


class FinalRecord(Record):
    loss: Number = None
    metric: Number = None
    solved: StrictBool | None = None
    chance: Number = None
    chance_loss: Number = None
    train_loss: Number = None
    beats_chance: StrictBool | None = None
    higher_is_better: StrictBool | None = None
    metric_name: StrictStr | None = None


class TrainRecord(Record):
    steps: StrictInt | None = None
    wall_ms: Number = None
    step_ms: TimingRecord | None = None
    phases_ms: dict[str, TimingRecord] | None = None
    curve: list[Annotated[list[Number], Field(min_length=4, max_length=4)]] = []  # [step, elapsed_ms, loss, metric]
    final: FinalRecord | None = None
    steps_to_solve: StrictInt | None = None
    ms_to_solve: Number = None
    diverged_at: StrictInt | None = None


class InferenceRecord(Record):
    latency_ms: TimingRecord | None = None
    seq_per_s: Number = None


class FlopsRecord(Record):
    forward: Number = None
    train_step: Number = None
    achieved_gflops: Number = None
    pct_of_matmul_peak: Number = None


class MemoryRecord(Record):
    peak_bytes: StrictInt | None = None


class CaseRecord(Record):
    """The fields every case record must have, and the types of those that readers use."""

    id: StrictStr
    arch: StrictStr
    task: StrictStr
    seq_len: StrictInt
    seed: StrictInt
    status: Literal["ok", "diverged", "failed", "interrupted"]
    label: StrictStr | None = None
    error: StrictStr | None = None
    n_params: StrictInt | None = None
    gates: StrictInt | None = None
    backend: StrictStr | None = None
    train: TrainRecord | None = None
    inference: dict[Annotated[str, StringConstraints(pattern=r"^b[1-9][0-9]*$")], InferenceRecord] | None = None
    flops: FlopsRecord | None = None
    memory: MemoryRecord | None = None

    @model_validator(mode="after")
    def _readable(self) -> CaseRecord:
        # Absent is fine (a failed case has no timings); null where a reader expects a value is not.
        for key in ("label", "train", "inference"):
            if key in self.model_fields_set and getattr(self, key) is None:
                raise ValueError(f"{key} is null")
        if self.status in ("ok", "diverged") and (self.train is None or self.train.final is None):
            raise ValueError(f"a case with status {self.status} must have train.final")
        return self


class ResultsDoc(Record):
    schema_version: StrictInt
    suite: dict[str, Any]
    env: dict[str, Any]
    reference: dict[str, Any] = {}
    status: Literal["running", "interrupted", "complete"] | None = None
    cases: list[CaseRecord]


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


def save_atomic(path: Path, doc: dict[str, Any]) -> None:
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


def load_results(path: str | Path) -> dict[str, Any]:
    """Read and check a results file; every problem is one ResultsError line naming the file."""
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
    seen: set[str] = set()
    for case in data["cases"]:
        if case["id"] in seen:
            raise ResultsError(f"{path}: case {case['id']} appears twice; hand-edited?")
        seen.add(case["id"])
    return data


def _case_hint(data: dict[str, Any], loc: tuple[Any, ...]) -> str:
    """` (case adding/T50/lstm/h64/s0)` when the bad field is inside a case that has an id."""
    if len(loc) >= 2 and loc[0] == "cases" and isinstance(loc[1], int):
        case = data["cases"][loc[1]]
        if isinstance(case, dict) and isinstance(case.get("id"), str):
            return f" (case {case['id']})"
    return ""


# What must match for a file to be continued: the same suite (its description aside) and setup.
RESUME_ENV_KEYS = ("device", "device_name", "dtype", "torch")


def _first_difference(old: Any, new: Any, where: str = "") -> str | None:
    """The first place two JSON values differ, as `path: <in the file> in the file, <now> now`, or None."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            inner = f"{where}.{key}" if where else str(key)
            found = _first_difference(old.get(key, _ABSENT), new.get(key, _ABSENT), inner)
            if found:
                return found
        return None
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new)):
            found = _first_difference(a, b, f"{where}[{i}]")
            if found:
                return found
        return None
    if old == new:
        return None
    return f"{where}: {_show(old)} in the file, {_show(new)} now"


_ABSENT = object()


def _show(value: Any) -> str:
    return "absent" if value is _ABSENT else json.dumps(value)[:60]


def check_resume_suite(path: str | Path, doc: dict[str, Any], suite: dict[str, Any], case_ids: list[str]) -> None:
    """Refuse to continue `doc` with a suite other than the one it was started with (see README: resuming)."""
    old = {k: v for k, v in doc["suite"].items() if k != "description"}
    new = {k: v for k, v in json.loads(json.dumps(finite_or_none(suite))).items() if k != "description"}
    if old.get("name") != new.get("name"):
        raise ResultsError(f"{path}: holds suite {old.get('name')!r}, not {new.get('name')!r}")
    where = _first_difference(old, new)
    if where:
        raise ResultsError(
            f"{path}: the suite changed since this file was started ({where}); "
            "restore it (and the same --device), or start a new results file"
        )
    extra = finished_ids(doc) - set(case_ids)
    if extra:
        raise ResultsError(f"{path}: holds case {sorted(extra)[0]} that this suite does not expand to")


def check_resume_env(path: str | Path, doc: dict[str, Any], env: dict[str, Any]) -> None:
    """Refuse to continue `doc` on another device, dtype or torch: its timings would not be comparable."""
    for key in RESUME_ENV_KEYS:
        if doc["env"].get(key) != env.get(key):
            raise ResultsError(
                f"{path}: was started with {key} {doc['env'].get(key)!r}, this run has {env.get(key)!r}; "
                "resume on the same machine and setup, or start a new results file"
            )


def is_complete(doc: dict[str, Any], case_ids: list[str]) -> bool:
    """Whether a resumed file has nothing left to run."""
    return doc.get("status") == "complete" and set(case_ids) <= finished_ids(doc)


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
