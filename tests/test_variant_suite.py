"""Suites with LSTM variants and forget-gate initialisations: labels, ids, timing groups and one-line refusals."""

from __future__ import annotations

import pytest

from rnnbench.suite.expand import expand, timing_groups
from rnnbench.suite.schema import Suite

TASK = [{"task": "adding", "seq_len": 10}]


def suite(models, **extra) -> Suite:
    return Suite.model_validate({"name": "v", "models": models, "tasks": TASK, **extra})


def test_variants_get_labels_and_share_one_timing_group():
    cases = expand(
        suite(
            [
                {"arch": "lstm", "variant": "peephole", "impl": "scripted"},
                {"arch": "lstm", "variant": "cifg", "impl": "scripted", "forget_bias": "chrono"},
                {"arch": "lstm", "variant": "np"},
                {"arch": "lstm", "forget_bias": 1},
                {"arch": "lstm", "forget_bias": "chrono", "chrono_tmax": 40},
            ]
        )
    )
    assert [c.label for c in cases] == [
        "lstm-vanilla-scripted",  # the old name reads as vanilla
        "lstm-cifg-scripted-chrono",
        "lstm-np",
        "lstm-fb1",
        "lstm-chrono40",
    ]
    assert len(timing_groups(cases)) == 1  # variants and initialisations are timed interleaved


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"arch": "lstm", "variant": "cifg"}, "models[0].variant: cifg has no fused implementation"),
        ({"arch": "gru", "variant": "nfg", "impl": "cell"}, "models[0].variant: nfg is an LSTM variant; gru is not"),
        ({"arch": "peephole", "variant": "np", "impl": "cell"}, "peephole is not an LSTM"),
        ({"arch": "lstm", "variant": "xyz", "impl": "cell"}, "unknown LSTM variant 'xyz'"),
        ({"arch": "lstm", "forget_bias": "warm"}, "forget_bias: a number (0, 1, …) or chrono, not 'warm'"),
    ],
)
def test_refusals_are_one_line(entry, message):
    from rnnbench.suite.expand import parse_suite
    from rnnbench.suite.files import SuiteError

    with pytest.raises(SuiteError) as err:
        parse_suite({"name": "v", "models": [entry], "tasks": TASK}, "s.yaml")
    text = str(err.value)
    assert "\n" not in text and text.startswith("s.yaml: ") and message in text


def test_a_matrix_over_impl_refuses_fused_for_a_variant():
    s = suite([{"arch": "lstm", "variant": "nog", "impl": "cell"}], matrix={"impl": ["cell", "fused"]})
    with pytest.raises(ValueError, match="matrix.impl: models\\[0\\] nog has no fused implementation"):
        expand(s)


def test_a_matrix_over_forget_bias_takes_chrono():
    cases = expand(suite(["lstm"], matrix={"forget_bias": [0, 1, "chrono"]}))
    assert [c.label for c in cases] == ["lstm-fb0", "lstm-fb1", "lstm-chrono"]


def test_the_cli_refuses_a_fused_variant_in_one_line_with_exit_2(tmp_path):
    from typer.testing import CliRunner

    from rnnbench.cli.main import app

    path = tmp_path / "v.yaml"
    path.write_text(
        "name: v\nmodels: [{arch: lstm, variant: cifg, impl: fused}]\ntasks: [{task: adding, seq_len: 10}]\n"
    )
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "models[0].variant: cifg has no fused implementation" in lines[0]


def test_the_anatomy_suite_validates():
    from rnnbench.suite.expand import load_suite

    suite, cases, _ = load_suite("anatomy")
    variants = {c.settings.variant for c in cases if c.settings.variant}
    assert len(variants) == 9 and {c.settings.forget_bias for c in cases} >= {0.0, 1.0, "chrono"}
    assert all(c.settings.impl != "fused" for c in cases if c.settings.variant)


def test_every_anatomy_comparison_has_enough_paired_seeds_for_the_signed_rank_test():
    """An exact signed-rank test needs >= 5 pairs to reach p < 0.05; each claim's pairs must share a configuration."""
    from rnnbench.claims.anatomy import LONG_T
    from rnnbench.suite.expand import load_suite

    _, cases, _ = load_suite("anatomy")
    seeds: dict[tuple[str, int, str], set[int]] = {}
    for c in cases:
        seeds.setdefault((c.task, c.seq_len, c.label), set()).add(c.seed)

    def pairs(first: str, second: str, min_t: int = 0) -> int:
        configs = {(task, t) for task, t, label in seeds if label == first and t >= min_t}
        return sum(len(seeds[(task, t, first)] & seeds.get((task, t, second), set())) for task, t in configs)

    assert pairs("vanilla", "nfg", LONG_T) >= 5
    assert all(pairs("vanilla", v) >= 5 for v in ("nig", "nog", "niaf", "noaf", "np", "cifg", "fgr"))
    assert pairs("lstm-chrono", "lstm-fb1", LONG_T) >= 5
    gru_configs = {(task, t) for task, t, label in seeds if label == "gru"}
    fb0_configs = {(task, t) for task, t, label in seeds if label == "lstm-fb0"}
    assert gru_configs == fb0_configs and pairs("lstm-fb1", "lstm-fb0") >= 5 and pairs("lstm-fb1", "gru") >= 5
