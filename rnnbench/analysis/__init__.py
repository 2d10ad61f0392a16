"""Analyses over a results document: grouping of cases, memory horizon, data efficiency (torch-free)."""
