"""Executors: map the unit of work (one timing group) over workers — serial, local processes, or Ray."""
