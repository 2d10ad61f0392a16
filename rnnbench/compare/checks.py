"""Whether two results files can be compared: suite, environment, data sets, settings and placement of each case."""

from __future__ import annotations

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


def _data_sets(doc: ResultsJson) -> dict[str, DataJson]:
    """task -> the data record of its cases (real-data tasks only; the first case of each task)."""
    out: dict[str, DataJson] = {}
    for case in doc["cases"]:
        data = case.get("data")
        if isinstance(data, dict):
            out.setdefault(case["task"], data)
    return out


def check_same_data(base: ResultsJson, new: ResultsJson) -> None:
    """A real-data task scored on another data set (charlm read from another Python's stdlib) is not comparable."""
    base_data, new_data = _data_sets(base), _data_sets(new)
    for task in sorted(set(base_data) & set(new_data)):
        old, now = base_data[task], new_data[task]
        if old.get("sha256") != now.get("sha256"):
            raise CompareError(
                f"different data for task {task} (sha256 {_data_name(old)} vs {_data_name(now)}): "
                "its scores are not comparable; compare runs on the same corpus"
            )


def _data_name(record: DataJson) -> str:
    python = f", Python {record['python']}" if record.get("python") else ""
    return f"{str(record.get('sha256'))[:12]}{python}"


def _schema_default(key: str) -> Any:
    """The default a settings field has today, or a marker no value equals (required or unknown fields)."""
    field = CaseSettings.model_fields.get(key)
    if field is None or field.is_required():
        return _NO_DEFAULT
    value = field.get_default(call_default_factory=True)
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else value


_NO_DEFAULT = object()


def settings_diff(base_case: CaseJson, new_case: CaseJson) -> list[str]:
    """Settings keys whose values differ. A key one file lacks (it predates the field, e.g. `packed`) is
    read at today's default: a file written before a setting existed is not incomparable for it."""
    old, now = base_case.get("settings") or {}, new_case.get("settings") or {}
    return sorted(k for k in set(old) | set(now) if old.get(k, _schema_default(k)) != now.get(k, _schema_default(k)))


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
