"""`python -m rnnbench` runs the command line."""

from rnnbench.cli import main

main()
