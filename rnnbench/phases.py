"""The phases of a timed train step, in order: one tuple for the timers, the records and the comparisons (a leaf)."""

from __future__ import annotations

PHASES = ("forward", "backward", "optimizer")
