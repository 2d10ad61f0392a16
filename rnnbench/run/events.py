"""The event callback that drops every event (the events and their callback type: rnnbench.results.events)."""

from __future__ import annotations

from rnnbench.results.events import Event


def ignore(_: Event) -> None:
    """The event callback that drops every event."""
