"""The command line: one module per command group, shared options, a thin entry point."""
