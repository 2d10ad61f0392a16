"""The progress-event callback every part of a run takes: one dict per event (`kind`, then its fields)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

EventFn = Callable[[dict[str, Any]], None]


def ignore(_: dict[str, Any]) -> None:
    """The event callback that drops every event."""
