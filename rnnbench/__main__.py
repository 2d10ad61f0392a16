"""`python -m rnnbench` runs the command line."""

from rnnbench.cli.main import main

main()
