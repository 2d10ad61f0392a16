"""A path's status: `ok`, `unsupported: <reason>` or `failed: <first line of the error>`, never an exception."""

from __future__ import annotations

import re

ANSI = re.compile(r"\x1b\[[0-9;]*m")  # the exporter colours its messages

OK = "ok"


class Unsupported(Exception):
    """A path that cannot run here by design: a missing extra, a removed API, a dtype or device it does not serve."""


def first_line(err: BaseException) -> str:
    text = ANSI.sub("", f"{type(err).__name__}: {err}").strip()
    return (text.splitlines() or [type(err).__name__])[0][:300]


def status_of(err: BaseException) -> str:
    """The status of a path whose preparation or check raised `err`."""
    if isinstance(err, Unsupported):
        return f"unsupported: {ANSI.sub('', str(err)).splitlines()[0][:300]}"
    return f"failed: {first_line(err)}"
