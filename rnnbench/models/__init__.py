"""Models: the registry, recurrent cores in three implementations, parameter formulas and matching."""
