"""compare and the regression gate on synthetic results (no timing noise), the test knob, and the CLI end to end."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
from results_factory import make_case, make_doc
from rich.console import Console
from typer.testing import CliRunner

from rnnbench.cli.main import app
from rnnbench.compare.comparison import CompareError, CompareOptions, parse_threshold, threshold_for
from rnnbench.compare.drift import reference_drift
from rnnbench.compare.pairing import compare, latest_pair
from rnnbench.compare.rows import skill
from rnnbench.export.github_action import github_action_benchmark
from rnnbench.export.json_doc import comparison_json
from rnnbench.export.markdown import comparison_markdown
from rnnbench.measure.timer import PaddedClock, time_fn_detailed, using_clock
from rnnbench.render.compare import comparison_renderable, decision_line
from rnnbench.results.store import save_atomic
from rnnbench.run.clock import SLOWDOWN_ENV, clock_from_env, slowdown_factor

runner = CliRunner()
TIMINGS = ("step", "forward", "backward", "optimizer", "latency_b1", "throughput_b32")


def timing_rows(comparison):
    return [r for r in comparison.rows if r.kind == "timing"]


# --- the gate on synthetic samples ---------------------------------------------------------------


def test_a_a_reports_no_change():
    comparison = compare(make_doc(0), make_doc(1))
    assert [r.metric for r in timing_rows(comparison)] == list(TIMINGS)
    assert not comparison.regressions
    assert {r.verdict for r in comparison.rows} == {"~"}
    assert comparison.geomeans["overall"] == pytest.approx(1.0, abs=0.01)
    assert comparison.resolution == pytest.approx(0.05) and not comparison.too_noisy
    assert decision_line(comparison) == "no regression; the timings resolve changes of ±5% (median)"


def test_twenty_percent_slower_is_a_regression_in_every_timing():
    comparison = compare(make_doc(0), make_doc(1, factor=1.2))
    rows = timing_rows(comparison)
    assert all(r.verdict == "slower" and r.regression for r in rows)
    assert all(r.p < 0.01 and r.ci[0] > 1.0 for r in rows)
    assert comparison.geomeans["lstm"] == pytest.approx(1.2, rel=0.01)
    throughput = next(r for r in rows if r.metric == "throughput_b32")
    assert throughput.unit == "seq/s" and throughput.new < throughput.base, "throughput falls when latency grows"
    assert throughput.ratio == pytest.approx(1.2, rel=0.02), "its ratio is a duration ratio: > 1 is slower"


def test_two_percent_slower_is_significant_but_below_the_default_threshold():
    base, new = make_doc(0, only_step=True), make_doc(1, factor=1.02, only_step=True)
    comparison = compare(base, new)
    assert not comparison.regressions
    step = next(r for r in timing_rows(comparison) if r.metric == "step")
    assert step.p < 0.01 and step.verdict == "~" and step.reason == "< 5%"
    assert compare(base, new, CompareOptions(threshold=0.01)).regressions


def test_faster_is_reported_but_never_a_regression():
    comparison = compare(make_doc(0), make_doc(1, factor=0.8))
    assert {r.verdict for r in timing_rows(comparison)} == {"faster"}
    assert not comparison.regressions


def test_only_the_slowed_architecture_regresses():
    both = ("lstm", "gru")
    base = make_doc(0, labels=both, only_step=True)
    comparison = compare(base, make_doc(1, factor={"gru": 1.3}, labels=both, only_step=True))
    assert {r.label for r in comparison.regressions} == {"gru"}
    assert comparison.geomeans["lstm"] == pytest.approx(1.0, abs=0.01)


def test_a_shift_within_the_timings_own_spread_is_noise():
    """A contended machine: samples spread over ±40 %; a 20 % shift of the median is within it."""
    comparison = compare(make_doc(0, spread=0.4), make_doc(1, factor=1.25, spread=0.4))
    significant = [r for r in timing_rows(comparison) if r.p < 0.01 and r.ratio > 1.05]
    assert significant, "the shift is detectable as a difference ..."
    assert not comparison.regressions, "... but not beyond the noise"
    assert all(r.reason.startswith("noise") for r in significant)
    assert comparison.too_noisy and "too noisy to vouch for a 5% change" in decision_line(comparison)


def test_a_slowdown_in_one_seed_only_does_not_gate():
    base, new = make_doc(0, seeds=5, only_step=True), make_doc(1, seeds=5, factor=1.3, only_step=True)
    new["cases"][4] = make_case("adding/T50/lstm/h64/s4", np.random.default_rng(7), only_step=True)
    comparison = compare(base, new)
    step = next(r for r in comparison.rows if r.metric == "step")
    assert step.p < 0.01 and step.ratio > 1.2 and step.min_effect < 0.2
    assert step.verdict == "~" and step.reason == "seeds disagree" and not step.regression
    assert [round(ratio, 1) for _, ratio in step.seeds] == [1.3, 1.3, 1.3, 1.3, 1.0]


def test_per_metric_thresholds_from_the_suite():
    thresholds = {"step": 0.30, "latency_*": 0.25}
    comparison = compare(make_doc(0), make_doc(1, factor=1.2, suite={"thresholds": thresholds}))
    regressed = {r.metric for r in comparison.regressions}
    assert regressed == {"forward", "backward", "optimizer", "throughput_b32"}
    assert threshold_for("latency_b1", thresholds, 0.05) == 0.25
    assert threshold_for("throughput_b32", thresholds, 0.05) == 0.05


@pytest.mark.parametrize(
    "thresholds, message", [({"stepp": 0.1}, "matches no metric"), ({"step": -0.1}, "non-negative")]
)
def test_bad_suite_thresholds_are_errors(thresholds, message):
    with pytest.raises(CompareError, match=message):
        compare(make_doc(0), make_doc(1, suite={"thresholds": thresholds}))


def test_normalize_cancels_a_slower_machine():
    slower_machine = make_doc(1, factor=1.3, reference_ms=52.0, only_step=True)
    raw = compare(make_doc(0, only_step=True), slower_machine)
    assert raw.machine_ratio == pytest.approx(1.3)
    assert not raw.regressions and raw.rows[0].reason == "machine ×1.30", (
        "a change the machine explains is not the code's"
    )
    normalized = compare(make_doc(0, only_step=True), slower_machine, CompareOptions(normalize=True))
    assert not normalized.regressions
    assert normalized.geomeans["overall"] == pytest.approx(1.0, abs=0.01)


def test_normalizing_by_a_reference_the_timing_does_not_follow_is_no_regression():
    """Seen for real: the reference matmul ran 2.2x faster in NEW, a small-batch latency not at all."""
    base, new = make_doc(0, only_step=True), make_doc(1, reference_ms=18.0, only_step=True)
    comparison = compare(base, new, CompareOptions(normalize=True))
    step = comparison.rows[0]
    assert step.ratio == pytest.approx(40 / 18, rel=0.02) and step.p < 0.01
    assert step.verdict == "~" and step.reason == "machine ×0.45" and not comparison.regressions
    assert comparison.resolution > 1.0 and comparison.too_noisy


def test_a_regression_beyond_the_machine_change_is_caught_raw_or_normalized():
    slower_code_and_machine = make_doc(1, factor=1.3 * 1.3, reference_ms=52.0, only_step=True)
    for normalize in (False, True):
        comparison = compare(make_doc(0, only_step=True), slower_code_and_machine, CompareOptions(normalize=normalize))
        assert [r.metric for r in comparison.regressions] == ["step"]


def test_normalize_widens_the_minimum_effect_by_the_reference_drift():
    drifting = make_doc(1, factor=1.2, only_step=True)
    drifting["reference"]["end"]["matmul_ms"]["median"] = 40.0 * 1.5  # the machine changed speed during the run
    assert reference_drift(drifting) == pytest.approx(math.log(1.5) / 2)
    comparison = compare(make_doc(0, only_step=True), drifting, CompareOptions(normalize=True))
    assert not comparison.regressions and all(r.min_effect > 0.2 for r in timing_rows(comparison))


def test_normalize_needs_reference_times():
    base = make_doc(0, only_step=True)
    base["reference"] = {}
    with pytest.raises(CompareError, match="no reference matmul time"):
        compare(base, make_doc(1, only_step=True), CompareOptions(normalize=True), base_name="base.json")


@pytest.mark.parametrize("key", ["device", "torch", "dtype"])
def test_environment_mismatch_is_incomparable_unless_allowed(key):
    new = make_doc(1, env={key: "other"}, only_step=True)
    with pytest.raises(CompareError, match=f"incomparable environments: {key}"):
        compare(make_doc(0, only_step=True), new)
    comparison = compare(make_doc(0, only_step=True), new, CompareOptions(allow_env_mismatch=True))
    assert (key, make_doc(0, only_step=True)["env"][key], "other", True) in comparison.env_diffs


def test_other_environment_differences_are_shown_not_blocking():
    other = make_doc(1, env={"device_name": "faster cpu", "test_slowdown": 1.2}, only_step=True)
    comparison = compare(make_doc(0, only_step=True), other)
    assert ("device_name", "cpu x", "faster cpu", False) in comparison.env_diffs
    assert any("padded test run" in note for note in comparison.notes)


def test_different_suites_or_schemas_are_incomparable():
    with pytest.raises(CompareError, match="different suites"):
        compare(make_doc(0, only_step=True), make_doc(1, suite={"name": "quick"}, only_step=True))
    other = make_doc(1, only_step=True)
    other["schema_version"] = 2
    with pytest.raises(CompareError, match="schema"):
        compare(make_doc(0, only_step=True), other)


def test_a_malformed_record_is_an_error_not_a_crash():
    new = make_doc(1, only_step=True)
    new["cases"][0]["train"]["step_ms"]["samples"][3] = None
    with pytest.raises(CompareError, match="adding/T50/lstm/h64: malformed case record"):
        compare(make_doc(0, only_step=True), new)


def test_unmatched_failed_and_changed_cases_are_listed():
    both = ("lstm", "gru")
    base, new = make_doc(0, labels=both, only_step=True), make_doc(1, labels=both, only_step=True)
    del base["cases"][0]
    new["cases"] = new["cases"][:-1]
    new["cases"][1]["status"] = "failed"
    new["cases"][2]["settings"]["batch_size"] = 64
    comparison = compare(base, new)
    assert comparison.only_in_new == ["adding/T50/lstm/h64/s0"]
    assert comparison.only_in_base == ["adding/T50/gru/h64/s2"]
    assert comparison.not_compared == [
        ("adding/T50/lstm/h64/s1", "NEW failed"),
        ("adding/T50/lstm/h64/s2", "settings differ: batch_size"),
    ]
    with pytest.raises(CompareError, match="no measured case in common"):
        compare(make_doc(0, labels=("lstm",), only_step=True), make_doc(1, labels=("gru",), only_step=True))


def test_another_cpu_model_pairs_only_normalized_and_the_refusal_says_why():
    base, new = make_doc(0, only_step=True), make_doc(1, only_step=True)
    for doc, cpu in ((base, "AMD EPYC"), (new, "Intel Xeon")):
        for case in doc["cases"]:
            case["ran_on"] = {"device": "cpu", "device_name": cpu}
    with pytest.raises(
        CompareError, match="no measured case in common: adding/T50/lstm/h64/s0: .*device_name AMD EPYC"
    ):
        compare(base, new)
    normalized = compare(base, new, CompareOptions(normalize=True))
    assert not normalized.not_compared and normalized.rows, "normalized timings are how two machines are compared"
    new["cases"][0]["ran_on"]["device"] = "cuda"
    assert compare(base, new, CompareOptions(normalize=True)).not_compared[0][0] == "adding/T50/lstm/h64/s0"


def test_time_to_solve_is_tested_only_with_enough_seeds():
    few = compare(
        make_doc(0, seeds=2, ms_to_solve=1000.0, only_step=True),
        make_doc(1, seeds=2, ms_to_solve=2000.0, only_step=True),
    )
    row = next(r for r in few.rows if r.metric == "time_to_solve")
    assert row.verdict == "slower?" and row.p is None and not row.regression
    rng = np.random.default_rng(3)
    base, new = make_doc(0, seeds=5, only_step=True), make_doc(1, seeds=5, only_step=True)
    for case in base["cases"]:
        case["train"]["ms_to_solve"] = float(rng.uniform(900, 1100))
    for case in new["cases"]:
        case["train"]["ms_to_solve"] = float(rng.uniform(1900, 2100))
    row = next(r for r in compare(base, new).rows if r.metric == "time_to_solve")
    assert row.verdict == "slower" and row.regression and row.p < 0.01


def test_an_accuracy_drop_gates_only_when_tested_across_seeds():
    one_seed = compare(
        make_doc(0, seeds=1, metric=0.9, only_step=True), make_doc(1, seeds=1, metric=0.7, only_step=True)
    )
    row = next(r for r in one_seed.rows if r.metric == "final_metric")
    assert row.verdict == "worse?" and not row.regression
    assert row.delta == pytest.approx(skill({"metric": 0.7, "chance": 0.5}) - skill({"metric": 0.9, "chance": 0.5}))
    base, new = make_doc(0, seeds=5, only_step=True), make_doc(1, seeds=5, only_step=True)
    for i, case in enumerate(new["cases"]):
        case["train"]["final"]["metric"] = 0.70 + 0.01 * (i % 5)
    row = next(r for r in compare(base, new).rows if r.metric == "final_metric")
    assert row.verdict == "worse" and row.regression


def test_skill_reads_the_same_for_lower_and_higher_is_better():
    assert skill({"metric": 1.0, "chance": 0.5, "higher_is_better": True}) == 1.0
    assert skill({"metric": 0.5, "chance": 0.5, "higher_is_better": True}) == 0.0
    assert skill({"metric": 0.0, "chance": 0.2, "higher_is_better": False}) == 1.0
    assert skill({"metric": 0.1, "chance": 0.2, "higher_is_better": False}) == pytest.approx(0.5)


@pytest.mark.parametrize("text, value", [("5%", 0.05), ("0.05", 0.05), ("12.5%", 0.125), ("0", 0.0)])
def test_parse_threshold(text, value):
    assert parse_threshold(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["5", "abc", "-1%", "nan%"])
def test_parse_threshold_refuses(text):
    with pytest.raises(ValueError):
        parse_threshold(text)


def test_latest_pair_picks_the_two_newest_of_the_newest_suite(tmp_path):
    for seed, name in ((0, "ci"), (1, "ci"), (2, "quick"), (3, "ci")):
        save_atomic(tmp_path / f"{name}-{seed}.json", make_doc(seed, suite={"name": name}, only_step=True))
    (tmp_path / "junk.json").write_text("{")
    assert [p.name for p in latest_pair(tmp_path)] == ["ci-1.json", "ci-3.json"]
    with pytest.raises(CompareError, match="no complete results"):
        latest_pair(tmp_path / "nowhere")


# --- outputs -----------------------------------------------------------------------------------------


def test_outputs_show_the_decision():
    comparison = compare(
        make_doc(0, labels=("gru",)),
        make_doc(1, factor=1.3, labels=("gru",)),
        base_name="base.json",
        new_name="new.json",
    )
    console = Console(file=io.StringIO(), width=80)
    console.print(comparison_renderable(comparison))
    text = console.file.getvalue()
    assert "6 regressions" in text and "slower ✗" in text and "gru" in text
    assert max(len(line) for line in text.splitlines()) <= 80
    markdown = comparison_markdown(comparison)
    assert (
        markdown.startswith("### rnnbench compare")
        and "❌ 6 regressions" in markdown
        and "#### Regressions" in markdown
    )
    document = json.loads(json.dumps(comparison_json(comparison)))
    assert document["regressed"] and document["n_regressions"] == 6 and document["base"]["path"] == "base.json"


def test_github_action_benchmark_export():
    entries = github_action_benchmark(make_doc(0, ms_to_solve=1500.0, labels=("lstm", "gru")))
    names = {e["name"] for e in entries}
    assert "adding/T50/lstm/h64 step" in names and "adding/T50/gru/h64 latency_b32" in names
    assert "adding/T50/lstm/h64 time_to_solve" in names
    step = next(e for e in entries if e["name"] == "adding/T50/lstm/h64 step")
    assert step["unit"] == "ms" and step["value"] == pytest.approx(10.0, rel=0.02) and step["range"].startswith("± ")
    assert all(set(e) <= {"name", "unit", "value", "range", "extra"} for e in entries)


# --- the test-only slowdown knob ------------------------------------------------------------------------


def test_slowdown_knob_parsing(monkeypatch):
    monkeypatch.delenv(SLOWDOWN_ENV, raising=False)
    assert slowdown_factor() == 1.0
    monkeypatch.setenv(SLOWDOWN_ENV, "1.2")
    assert slowdown_factor() == 1.2
    for bad in ("0.5", "fast", "inf"):
        monkeypatch.setenv(SLOWDOWN_ENV, bad)
        with pytest.raises(ValueError, match=SLOWDOWN_ENV):
            slowdown_factor()


def test_slowdown_knob_pads_each_sample_inside_the_timed_region(monkeypatch):
    now = [0.0]

    def clock() -> float:
        now[0] += 1e-4  # each read of the fake clock takes 0.1 ms
        return now[0]

    def work() -> None:
        now[0] += 10e-3

    options = dict(warmup=0, min_repeats=5, max_repeats=5, target_rel_ci=None)
    plain = time_fn_detailed(work, clock=clock, **options).samples_ms
    padded = time_fn_detailed(work, clock=PaddedClock(1.5, clock), **options).samples_ms
    assert all(p == pytest.approx(1.5 * q, abs=0.2) for p, q in zip(padded, plain))
    with using_clock(PaddedClock(1.5, clock)):  # a timer given no clock reads the installed one
        installed = time_fn_detailed(work, **options).samples_ms
    assert all(p == pytest.approx(1.5 * q, abs=0.2) for p, q in zip(installed, plain))
    assert time_fn_detailed(work, clock=PaddedClock(1.0, clock), **options).samples_ms == pytest.approx(plain)


def test_the_knob_is_recorded_in_the_environment(monkeypatch):
    import torch

    from rnnbench.measure.env import env_fingerprint

    assert env_fingerprint(torch.device("cpu"), "float32")["test_slowdown"] is None
    monkeypatch.setenv(SLOWDOWN_ENV, "1.2")
    with using_clock(clock_from_env()):
        assert env_fingerprint(torch.device("cpu"), "float32")["test_slowdown"] == 1.2
    monkeypatch.setenv(SLOWDOWN_ENV, "slow")
    with pytest.raises(ValueError, match=SLOWDOWN_ENV):
        clock_from_env()


# --- the CLI end to end ------------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path):
    def write(name: str, doc: dict):
        path = tmp_path / name
        save_atomic(path, doc)
        return str(path)

    return write


def test_cli_gate_exit_codes(files):
    base = files("base.json", make_doc(0, only_step=True))
    same = files("same.json", make_doc(1, only_step=True))
    slower = files("slower.json", make_doc(2, factor=1.2, only_step=True))
    slightly = files("slightly.json", make_doc(3, factor=1.02, only_step=True))
    assert runner.invoke(app, ["compare", base, same, "--fail-on-regression"]).exit_code == 0
    assert runner.invoke(app, ["compare", base, slightly, "--fail-on-regression"]).exit_code == 0
    result = runner.invoke(app, ["compare", base, slower, "--fail-on-regression"])
    assert result.exit_code == 1 and "1 regression:" in result.output
    assert runner.invoke(app, ["compare", base, slower]).exit_code == 0, "report mode never fails on a regression"
    result = runner.invoke(app, ["compare", base, slower, "--threshold", "25%", "--fail-on-regression"])
    assert result.exit_code == 0


def test_cli_formats_and_summary(files, tmp_path):
    base = files("base.json", make_doc(0, only_step=True))
    slower = files("slower.json", make_doc(1, factor=1.2, only_step=True))
    result = runner.invoke(app, ["compare", base, slower, "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.output)["n_regressions"] == 1
    summary = tmp_path / "summary.md"
    result = runner.invoke(app, ["compare", base, slower, "--format", "md", "--summary", str(summary)])
    assert result.output.startswith("### rnnbench compare") and summary.read_text() == result.output
    result = runner.invoke(app, ["export", slower, "--format", "github-action-benchmark"])
    assert result.exit_code == 0 and {"name", "unit", "value"} <= set(json.loads(result.output)[0])


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.json", "{same}"], "missing.json: no such file"),
        (["{base}", "{quick}"], "different suites"),
        (["{base}", "{cuda}"], "incomparable environments: device cpu -> cuda"),
        (["{base}"], "give both BASE and NEW"),
        (["{base}", "{same}", "--threshold", "5"], "--threshold"),
        (["{base}", "{same}", "--format", "xml"], "--format"),
    ],
)
def test_cli_errors_are_one_line_and_exit_2(files, args, message):
    paths = {
        "base": files("base.json", make_doc(0, only_step=True)),
        "same": files("same.json", make_doc(1, only_step=True)),
        "quick": files("quick.json", make_doc(1, suite={"name": "quick"}, only_step=True)),
        "cuda": files("cuda.json", make_doc(1, env={"device": "cuda"}, only_step=True)),
    }
    result = runner.invoke(app, ["compare", *[a.format(**paths) for a in args]])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_cli_compare_without_arguments_takes_the_two_newest(files, tmp_path):
    files("ci-a.json", make_doc(0, only_step=True))
    files("ci-b.json", make_doc(1, factor=1.2, only_step=True))
    result = runner.invoke(app, ["compare", "--results-dir", str(tmp_path), "--fail-on-regression"])
    assert result.exit_code == 1 and "ci-a.json" in result.output and "ci-b.json" in result.output


def test_cli_on_real_tiny_runs_with_the_knob(tiny_suite, tmp_path, monkeypatch):
    """One real run, padded by the knob, compared with itself and with a copy made unpadded by hand."""
    monkeypatch.setenv(SLOWDOWN_ENV, "1.2")
    padded = tmp_path / "padded.json"
    assert runner.invoke(app, ["run", str(tiny_suite), "-o", str(padded), "-q"]).exit_code == 0
    doc = json.loads(padded.read_text())
    assert doc["env"]["test_slowdown"] == 1.2
    result = runner.invoke(app, ["compare", str(padded), str(padded), "--format", "json", "--normalize"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert not report["regressed"] and any("padded test run" in note for note in report["notes"])
    assert {row["metric"] for row in report["rows"]} >= {
        "step",
        "forward",
        "latency_b1",
        "throughput_b4",
        "final_metric",
    }


def test_a_file_that_predates_a_setting_is_compared_at_its_default():
    from rnnbench.compare.checks import settings_diff

    old = {"settings": {"hidden_size": 8}}  # written before `packed` existed
    assert settings_diff(old, {"settings": {"hidden_size": 8, "packed": True}}) == []  # today's default
    assert settings_diff(old, {"settings": {"hidden_size": 8, "packed": False}}) == ["packed"]
    assert settings_diff(old, {"settings": {"hidden_size": 16, "packed": True}}) == ["hidden_size"]


def test_a_file_that_predates_a_nested_setting_is_compared_at_its_default():
    from rnnbench.compare.checks import settings_diff

    old = {"settings": {"inference": {"batch_sizes": [1, 64]}}}  # written before `inference.paths` existed
    eager = {"settings": {"inference": {"batch_sizes": [1, 64], "paths": ["eager"]}}}
    served = {"settings": {"inference": {"batch_sizes": [1, 64], "paths": ["eager", "onnxruntime"]}}}
    assert settings_diff(old, eager) == []
    assert settings_diff(old, served) == ["inference"]
    assert settings_diff({"settings": {"inference": {"batch_sizes": [1]}}}, eager) == ["inference"]


def test_the_committed_ci_baseline_pairs_with_a_run_of_todays_ci_suite():
    # the baseline was recorded before later settings existed: every case id of today's suite still pairs
    import json
    from pathlib import Path

    from rnnbench.compare.checks import settings_diff
    from rnnbench.suite.expand import load_suite

    baseline = json.loads((Path(__file__).parents[1] / "results" / "baseline" / "ci.json").read_text())
    _, cases, _ = load_suite("ci")
    by_id = {c["id"]: c for c in baseline["cases"]}
    assert {case.id for case in cases} == set(by_id)
    for case in cases:
        today = {"settings": case.settings.model_dump(mode="json")}
        assert settings_diff(by_id[case.id], today) == [], case.id
