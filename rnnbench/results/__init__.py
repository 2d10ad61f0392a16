"""The results file: its versioned schema, atomic store, and resume checks (torch-free)."""
