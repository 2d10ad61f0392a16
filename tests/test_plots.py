"""Report figures: written as PNG, non-empty, of the expected pixel size; skipped, with the reason, without their data."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from results_factory import case, document
from typer.testing import CliRunner

from rnnbench.cli.main import app
from rnnbench.export.plots import expected_size, write_plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def sweep_doc() -> dict:
    """Two tasks: adding swept over three seq_lens (two seeds), copy at one length; three architectures."""
    cases = []
    for seq_len in (10, 20, 40):
        for arch, per_step in (("rnn", 0.05), ("lstm", 0.2), ("gru", 0.15)):
            for seed in (0, 1):
                solved = arch != "rnn" or seq_len == 10
                curve = [[50, 100.0 * (seed + 1), 0.1, 0.1], [100, 200.0 * (seed + 1), 0.01, 0.005 if solved else 0.1]]
                cases.append(
                    case(
                        arch,
                        "adding",
                        seq_len,
                        seed,
                        step_ms=1 + per_step * seq_len,
                        solved=solved,
                        metric=curve[-1][3],
                        curve=curve,
                    )
                )
    cases += [case(arch, "copy", 5, 0, metric=0.5) for arch in ("rnn", "lstm", "gru")]
    return document(cases)


def test_every_plot_is_written_with_its_expected_size(sweep_doc, tmp_path):
    outcomes = {o.name: o for o in write_plots(sweep_doc, tmp_path)}
    expected = {
        "learning curves adding": expected_size(3, 2),  # one row per seq_len, metric vs step and vs time
        "learning curves copy": expected_size(1, 2),
        "memory horizon": expected_size(1, 1),  # only adding is swept
        "step time vs seq_len": expected_size(1, 1),
        "time bars": expected_size(2, 3),  # one row per task: train step, inference b1, inference b4
    }
    assert set(outcomes) == set(expected)
    for name, size in expected.items():
        path = outcomes[name].path
        assert path is not None and path.parent == tmp_path and path.stat().st_size > 1000, name
        assert png_size(path) == size, name


def test_plots_without_their_data_are_skipped_with_the_reason(tmp_path):
    doc = document([case("lstm", curve=[]), case("gru", curve=[])])
    outcomes = {o.name: o for o in write_plots(doc, tmp_path)}
    for name in ("learning curves", "memory horizon", "step time vs seq_len"):
        assert outcomes[name].path is None and outcomes[name].note.startswith("skipped"), name
    assert outcomes["time bars"].path is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["time_bars.png"]


def test_report_plots_through_the_cli(sweep_doc, tmp_path):
    results = tmp_path / "r.json"
    results.write_text(json.dumps(sweep_doc))
    out = tmp_path / "figures"
    result = CliRunner().invoke(app, ["report", str(results), "--plots", str(out)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert (out / "horizon.png").stat().st_size > 0 and str(out / "horizon.png") in result.output
