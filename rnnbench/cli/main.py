"""The `rnnbench` entry point: the Typer app, its version option, and the commands registered from their modules."""

from __future__ import annotations

import signal
import sys
from typing import Annotated

import typer

from rnnbench import __version__
from rnnbench.cli import ab, compare, report, run
from rnnbench.run.worker_process import live_workers, stop_all

app = typer.Typer(
    help="Benchmark LSTM, GRU, Bi-LSTM and tanh RNNs: timings with sound statistics, accuracy on long-dependency tasks, and the recap claims checked on your machine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"rnnbench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    pass


app.command("run")(run.run)
app.command("validate")(run.validate)
app.command("list")(run.list_components)
app.command("report")(report.report)
app.command("compare")(compare.compare)
app.command("ab")(ab.ab)
app.command("export")(report.export_command)


def main() -> None:
    """Console-script entry point."""
    # Ctrl-C must always reach rnnbench, which stops its workers itself: a parent that started this process
    # with SIGINT ignored (as process-pool workers do) would otherwise leave it deaf to the interrupt.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        app(prog_name="rnnbench")
    finally:
        stop_all(live_workers())  # whatever ended the command, no child it started outlives it


if __name__ == "__main__":
    sys.exit(main())
