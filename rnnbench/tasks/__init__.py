"""Long-dependency tasks: one module per task, the registry, and the training/held-out data streams."""
