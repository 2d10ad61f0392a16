"""Comparing two results files: matching cases, per-metric rows, and the regression gate (torch-free)."""
