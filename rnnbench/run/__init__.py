"""Running cases: `run_case`, the training loop, the suite runner, and interrupts."""
