"""Whether two results files can be compared: suite, environment, data sets, settings and placement of each case."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rnnbench.compare.comparison import CompareError
from rnnbench.results.records import CaseJson, DataJson, EnvJson, RanOnJson, ResultsJson
from rnnbench.suite.schema import CaseSettings

BLOCKING_ENV_KEYS = ("device", "torch", "dtype")  # timings across these are incomparable


SHOWN_ENV_KEYS = ("device_name", "threads", "cuda", "cudnn", "python", "platform")  # shown when they differ


def check_comparable(base: ResultsJson, new: ResultsJson, allow_env_mismatch: bool) -> list[tuple[str, Any, Any, bool]]:
    """Raise CompareError for different schemas, suites or (unless allowed) environments; return every env difference."""
    if base.get("schema_version") != new.get("schema_version"):
        raise CompareError(f"different schema versions ({base.get('schema_version')} vs {new.get('schema_version')})")
    names = (base["suite"].get("name"), new["suite"].get("name"))
    if names[0] != names[1]:
        raise CompareError(f"different suites ({names[0]!r} vs {names[1]!r}): compare runs of the same suite")
    check_same_data(base, new)
    diffs = []
    for key in BLOCKING_ENV_KEYS + SHOWN_ENV_KEYS:
        old, now = _env(base["env"], key), _env(new["env"], key)
        if old != now:
            diffs.append((key, old, now, key in BLOCKING_ENV_KEYS))
    blocking = [f"{k} {a} -> {b}" for k, a, b, hard in diffs if hard]
    if blocking and not allow_env_mismatch:
        raise CompareError(f"incomparable environments: {', '.join(blocking)} (--allow-env-mismatch compares anyway)")
    return diffs


def _env(env: EnvJson, key: str) -> object:
    return env.get(key)


def _data_sets(doc: ResultsJson) -> dict[str, tuple[str, DataJson]]:
    """case id -> (task, the case's data record): cases of real-data tasks (built-in or plugin) only."""
    out: dict[str, tuple[str, DataJson]] = {}
    for case in doc["cases"]:
        data = case.get("data")
        if isinstance(data, dict):
            out[case["id"]] = (case["task"], data)
    return out


def check_same_data(base: ResultsJson, new: ResultsJson) -> None:
    """A case scored on another data set (another file, charlm read from another Python's stdlib) is not comparable.

    Checked per case, as the cases are paired by id: two entries of one task may read different files.
    """
    base_data, new_data = _data_sets(base), _data_sets(new)
    for case_id in sorted(set(base_data) & set(new_data)):
        (task, old), (_, now) = base_data[case_id], new_data[case_id]
        if (mismatch := data_mismatch(case_id, task, old, now)) is not None:
            raise CompareError(mismatch)


def data_mismatch(case_id: str, task: str, base: DataJson, new: DataJson) -> str | None:
    """The one line that refuses two data records of one case whose sha256 differ; None when they agree."""
    if base.get("sha256") == new.get("sha256"):
        return None
    return (
        f"different data for task {task}, case {case_id} (sha256 {_data_name(base)} vs {_data_name(new)}): "
        "its scores are not comparable; compare runs on the same data"
    )


def _data_name(record: DataJson) -> str:
    python = f", Python {record['python']}" if record.get("python") else ""
    return f"{record.get('sha256')}{python}"


def _schema_default(key: str) -> Any:
    """The default a settings field has today, or a marker no value equals (required or unknown fields)."""
    field = CaseSettings.model_fields.get(key)
    if field is None or field.is_required():
        return _NO_DEFAULT
    value = field.get_default(call_default_factory=True)
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else value


_NO_DEFAULT = object()


def settings_diff(base_case: CaseJson, new_case: CaseJson) -> list[str]:
    """Settings keys whose values differ. A key one file lacks (it predates the field, e.g. `packed`, or the
    nested `inference.paths`) is read at today's default: a file written before a setting existed is not
    incomparable for it."""
    old, now = base_case.get("settings") or {}, new_case.get("settings") or {}
    return sorted(k for k in set(old) | set(now) if _at_default(k, old) != _at_default(k, now))


def _at_default(key: str, settings: Mapping[str, Any]) -> Any:
    """The settings' value for `key`, missing keys (nested ones too, one level down) filled with today's default."""
    default = _schema_default(key)
    value = settings.get(key, default)
    if isinstance(value, dict) and isinstance(default, dict):
        return {**default, **value}
    return value


def placement_diff(base_case: CaseJson, new_case: CaseJson, normalized: bool = False) -> str | None:
    """Two cases measured on different device types (by name) cannot be paired; older files record no placement.

    `normalized`: timings divided by each run's reference kernel, the way to compare two machines, so
    another device name (an EPYC against a Xeon) is what the comparison is for; cpu against cuda is not.
    """
    old: RanOnJson = base_case.get("ran_on") or {}
    now: RanOnJson = new_case.get("ran_on") or {}
    keys = [("device", old.get("device"), now.get("device"))]
    if not normalized:
        keys.append(("device_name", old.get("device_name"), now.get("device_name")))
    for key, a, b in keys:
        if a and b and a != b:
            return f"measured on {key} {a} in BASE and {b} in NEW (--allow-env-mismatch compares anyway)"
    return None
