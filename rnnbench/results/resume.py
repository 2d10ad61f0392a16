"""Continuing a results file: the checks that it is the same suite and setup, and what is already finished."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rnnbench.results.records import EnvJson, ResultsJson
from rnnbench.results.schema import SCHEMA_VERSION, ResultsError
from rnnbench.results.store import finite_or_none, utc_now_iso
from rnnbench.suite.schema import Suite

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


def _at_todays_defaults(stored: dict[str, Any]) -> dict[str, Any]:
    """The stored suite read by today's schema: a setting added since (e.g. `timing.processes`) takes its default."""
    try:
        return Suite.model_validate(stored).model_dump(mode="json")
    except ValidationError:  # a field since removed or renamed: compare what the file holds
        return stored


def check_resume_suite(path: str | Path, doc: ResultsJson, suite: dict[str, Any], case_ids: list[str]) -> None:
    """Refuse to continue `doc` with a suite other than the one it was started with (see docs/interruption-and-failures.md)."""
    old = {k: v for k, v in _at_todays_defaults(doc["suite"]).items() if k != "description"}
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


def check_resume_env(path: str | Path, doc: ResultsJson, env: EnvJson) -> None:
    """Refuse to continue `doc` on another device, dtype or torch: its timings would not be comparable."""
    for key in RESUME_ENV_KEYS:
        if doc["env"].get(key) != env.get(key):
            raise ResultsError(
                f"{path}: was started with {key} {doc['env'].get(key)!r}, this run has {env.get(key)!r}; "
                "resume on the same machine and setup, or start a new results file"
            )


def is_complete(doc: ResultsJson, case_ids: list[str]) -> bool:
    """Whether a resumed file has nothing left to run."""
    return doc.get("status") == "complete" and set(case_ids) <= finished_ids(doc)


def new_document(suite: dict[str, Any], suite_path: str, env: EnvJson, version: str) -> ResultsJson:
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


def finished_ids(doc: ResultsJson) -> set[str]:
    """Cases that need not run again on resume: everything but interrupted ones."""
    return {c["id"] for c in doc["cases"] if c.get("status") != "interrupted"}
