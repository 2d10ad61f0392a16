"""rnnbench: benchmark recurrent architectures with sound timings and long-dependency accuracy."""

__version__ = "0.1.0"
