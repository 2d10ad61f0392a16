"""Exports: one registry of formats (Markdown, CSV, JSON, github-action-benchmark) and the report plots."""
