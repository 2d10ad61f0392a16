"""Plugins: `arch: package.module:Name` and `rnnbench.models` entry points, built, checked, run and shown."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from rnnbench.cli.main import app
from rnnbench.models.plugins import PluginModel, resolve
from rnnbench.models.registry import MODELS
from rnnbench.render.recap import plugin_ratio_table, recap_table
from rnnbench.results.store import load_results

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "mingru" / "src"

SUITE = """
name: plug
device: cpu
seeds: [0]
defaults:
  hidden_size: 8
  batch_size: 4
  train: {{max_steps: 4, max_seconds: 5, eval_every: 2, eval_size: 8}}
  timing: {{warmup: 0, min_repeats: 2, max_repeats: 3, max_seconds: 0.05}}
  inference: {{batch_sizes: [1]}}
models: {models}
tasks:
  - {{task: adding, seq_len: 5}}
"""


def _suite(write_suite, models: str) -> Path:
    return write_suite(SUITE.format(models=models))


@pytest.mark.parametrize(
    ("plugin", "builtin", "kind"),
    [("torch.nn:LSTM", "lstm", "last"), ("torch.nn:GRU", "gru", "sequence"), ("torch.nn:LSTM", "bilstm", "last")],
)
def test_torch_modules_as_plugins_match_the_builtins(plugin, builtin, kind):
    bidirectional = builtin.startswith("bi")
    sizes = dict(input_size=3, output_size=2, output_kind=kind, hidden_size=8, num_layers=2)
    torch.manual_seed(0)
    ours = MODELS[builtin](**sizes)
    torch.manual_seed(0)
    theirs = PluginModel(arch=plugin, bidirectional=bidirectional, **sizes)
    assert theirs.n_params == ours.n_params and theirs.n_core_params == ours.n_core_params
    # The dry forward leaves the RNG alone: the same seed gives the built-in's very weights.
    for (name, a), (other, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert name == other and torch.equal(a, b)
    x = torch.randn(4, 6, 3)
    torch.testing.assert_close(theirs(x), ours(x))
    assert theirs.gates is None and theirs.forward_flops(6, 4) is None


def test_plugin_in_a_temporary_module(tmp_path, monkeypatch):
    (tmp_path / "tmpcell.py").write_text(
        textwrap.dedent(
            """
            from torch import nn
            class Cell(nn.Module):
                gates = 7
                def __init__(self, input_size, hidden_size, num_layers, batch_first):
                    super().__init__()
                    self.proj = nn.Linear(input_size, 2 * hidden_size)
                def flops_per_step(self):
                    return 2 * self.proj.in_features * self.proj.out_features
                def forward(self, x):
                    return self.proj(x)
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    model = PluginModel(arch="tmpcell:Cell", input_size=3, output_size=1, output_kind="last", hidden_size=5)
    assert model.output_dim == 10 and model.gates == 7 and model.forward_flops(4, 2) == 2 * 3 * 10 * 4 * 2
    assert model(torch.zeros(2, 4, 3)).shape == (2, 1)
    source = resolve("tmpcell:Cell")[1]
    assert source.qualified_name == "tmpcell.Cell" and len(source.file_sha256 or "") == 64


def test_entry_point_plugin_from_an_installed_package(tmp_path, monkeypatch, write_suite):
    dist = tmp_path / "fakecell-1.2.3.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fakecell\nVersion: 1.2.3\n")
    (dist / "entry_points.txt").write_text("[rnnbench.models]\nfake-gru = torch.nn:GRU\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    path = _suite(write_suite, "[lstm, fake-gru]")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "adding/T5/fake-gru/h8/s0" in result.stdout
    source = resolve("fake-gru")[1]
    assert (source.package, source.version) == ("fakecell", "1.2.3")


BAD = {
    "no module": ("nosuchpkg_xyz.mod:Cell", "module 'nosuchpkg_xyz.mod' not found"),
    "no attribute": ("torch.nn:NoSuchCell", "has no attribute 'NoSuchCell'"),
    "constructor raises": ("torch.nn:Linear", "the constructor raised TypeError"),
    "forward raises": ("badcells:Raises", "forward raised RuntimeError: boom"),
    "wrong output kind": ("badcells:Scalar", "returned shape []"),
}


@pytest.mark.parametrize(
    "case", ["no module", "no attribute", "constructor raises", "forward raises", "wrong output kind", "unknown name"]
)
def test_bad_plugins_exit_2_with_one_line_naming_the_field(case, tmp_path, monkeypatch, write_suite):
    (tmp_path / "badcells.py").write_text(
        textwrap.dedent(
            """
            import torch
            from torch import nn
            class Raises(nn.Module):
                def __init__(self, **kwargs):
                    super().__init__()
                def forward(self, x):
                    raise RuntimeError("boom")
            class Scalar(nn.Module):
                def __init__(self, **kwargs):
                    super().__init__()
                def forward(self, x):
                    return x.sum()
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    arch, expected = BAD[case] if case in BAD else ("nosuchname", "unknown model 'nosuchname'")
    path = _suite(write_suite, f'[lstm, "{arch}"]')
    for command in ("validate", "run"):
        result = runner.invoke(
            app, [command, str(path), *(["--out", str(tmp_path / "o.json")] if command == "run" else [])]
        )
        assert result.exit_code == 2, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.output
        assert "models[1]" in lines[0] and expected in lines[0], lines[0]
    assert not (tmp_path / "o.json").exists()  # refused before any case started
    sys.modules.pop("badcells", None)


def test_plugin_settings_that_do_not_apply_are_refused(write_suite):
    for entry, field in (
        ('{arch: "torch.nn:LSTM", impl: cell}', "impl"),
        ('{arch: "torch.nn:LSTM", packed: true}', "packed"),
        ("{arch: lstm, bidirectional: true}", "bidirectional"),
    ):
        result = runner.invoke(app, ["validate", str(_suite(write_suite, f"[{entry}]"))])
        assert result.exit_code == 2 and f"models[0].{field}" in result.stderr, result.output


def test_plugin_case_in_results_and_recap(write_suite, tmp_path):
    path = _suite(write_suite, '[lstm, {arch: "torch.nn:GRU", label: mygru}, "mingru.model:MinGRU"]')
    out = tmp_path / "out.json"
    sys.path.insert(0, str(EXAMPLE))
    try:
        result = runner.invoke(app, ["run", str(path), "--out", str(out), "--quiet"])
    finally:
        sys.path.remove(str(EXAMPLE))
    assert result.exit_code == 0, result.output
    doc = load_results(out)
    by_label = {c["label"]: c for c in doc["cases"]}
    gru = by_label["mygru"]
    assert gru["arch"] == "torch.nn:GRU" and gru["impl"] == "plugin" and gru["gates"] is None
    assert gru["plugin"]["qualified_name"] == "torch.nn.modules.rnn.GRU" and gru["plugin"]["package"] == "torch"
    assert gru["flops"] is None and "plugin" not in by_label["lstm"]
    mingru = by_label["mingru.model:MinGRU"]
    assert mingru["gates"] == 1 and mingru["flops"]["forward"] > 0
    table = recap_table(doc)
    headers = [c.header for c in table.columns]
    assert headers[1] == "lstm" and set(headers[2:]) == {"mygru", "mingru.model:MinGRU"}
    gates = [list(c.cells)[0] for c in table.columns]
    assert gates[headers.index("mygru")] == "—" and gates[headers.index("mingru.model:MinGRU")] == "1"
    ratios = plugin_ratio_table(doc)
    assert ratios is not None and ratios.row_count == 2
    assert "lstm" not in [list(c.cells) for c in ratios.columns][1]


@pytest.mark.processes
def test_builtin_only_suite_stays_torch_free(write_suite):
    import subprocess

    path = _suite(write_suite, "[lstm, gru]")
    code = (
        "import sys; from rnnbench.suite.expand import load_suite; from rnnbench.cli.options import check_plugins_or_fail;"
        f"s, c, p = load_suite({str(path)!r}); check_plugins_or_fail(s, p); assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_mingru_forms_agree():
    sys.path.insert(0, str(EXAMPLE))
    try:
        from mingru.model import MinGRU, MinGRUSequential
    finally:
        sys.path.remove(str(EXAMPLE))
    scan = MinGRU(input_size=3, hidden_size=5, num_layers=2, batch_first=True, bidirectional=True)
    loop = MinGRUSequential(input_size=3, hidden_size=5, num_layers=2, batch_first=True, bidirectional=True)
    loop.load_state_dict(scan.state_dict())
    x = torch.randn(4, 30, 3)
    torch.testing.assert_close(scan(x), loop(x), atol=1e-5, rtol=1e-4)


def test_plugin_ratio_row_is_paired_round_by_round(write_suite, tmp_path):
    """A drift across the rounds fools pooled medians; the plugin row reads the per-round ratio (1.10 here)."""
    from rnnbench.analysis.grouping import group_results
    from rnnbench.render.recap import step_time_ratio

    path = _suite(write_suite, '[lstm, {arch: "torch.nn:LSTM", label: mylstm}]')
    out = tmp_path / "out.json"
    assert runner.invoke(app, ["run", str(path), "--out", str(out), "--quiet"]).exit_code == 0
    doc = load_results(out)
    drift = [1.0 * 1.5**i for i in range(8)]  # the machine slows down 1.5x per round
    for case in doc["cases"]:
        case["train"]["step_ms"]["samples"] = [d * (1.10 if case["label"] == "mylstm" else 1.0) for d in drift]
    _, _, groups = group_results(doc)
    (section,) = {s for s, _ in groups}
    text = step_time_ratio(groups[(section, "mylstm")], groups[(section, "lstm")])
    assert text.startswith("×1.10 [1.10, 1.10]") and "unpaired" not in text, text
    for case in doc["cases"]:  # merged from two runs: no shared rounds, so the pooled ratio, said to be unpaired
        case["paired"] = None
    _, _, groups = group_results(doc)
    assert step_time_ratio(groups[(section, "mylstm")], groups[(section, "lstm")]).endswith("unpaired")


def test_plugin_that_solves_where_lstm_does_not_shows_its_time():
    from types import SimpleNamespace

    from rnnbench.render.recap import _solve_ratio

    solved, unsolved = SimpleNamespace(ms_to_solve_median=8620.0), SimpleNamespace(ms_to_solve_median=None)
    assert _solve_ratio(solved, unsolved) == "8.62 s / not solved"
    assert _solve_ratio(unsolved, unsolved) == "not solved / not solved"
    assert _solve_ratio(solved, SimpleNamespace(ms_to_solve_median=4310.0)) == "×2.00"
