"""The speed claims' rules (GRU faster to train; Bi-LSTM's computational cost): paired step-time ratios, time to solve."""

from __future__ import annotations

from rnnbench import stats
from rnnbench.analysis.grouping import Group
from rnnbench.analysis.paired import paired_ratio_of
from rnnbench.analysis.serving import serving_cost_ratio
from rnnbench.claims.rules import section_pairs, where_of
from rnnbench.claims.types import CONTRADICTED, INCONCLUSIVE, SUPPORTED, ClaimSettings, Finding, Measure, _num
from rnnbench.results.records import ResultsJson


def _samples(group: Group, *path: str) -> list[float]:
    pooled = group.pooled(*path)
    return pooled["samples"] if pooled else []


def _ratio_finding(
    where: str,
    name: str,
    num: list[float],
    den: list[float],
    expect_below: bool,
    s: ClaimSettings,
    n_unit: str = "samples",
    extra: tuple[Measure, ...] = (),
) -> Finding:
    """num/den with its CI: decided in the expected direction or against it when the CI excludes 1."""
    need = s.min_samples if n_unit == "samples" else s.min_seeds
    if min(len(num), len(den)) < need:
        ratio = stats.median(num) / stats.median(den) if num and den else None
        measure = Measure(name, ratio, unit="×", n=(len(num), len(den)), detail=f"{len(num)} vs {len(den)} {n_unit}")
        return Finding(where, INCONCLUSIVE, (measure, *extra), f"fewer than {need} {n_unit} per side")
    ratio, low, high = stats.ratio_ci(den, num, s.confidence)
    p = stats.ratio_test_p(den, num)  # the test the interval inverts: Holm over the claim's findings reads it
    measure = Measure(name, ratio, low, high, "×", (len(num), len(den)), f"{len(num)} vs {len(den)} {n_unit}")
    if (high < 1 <= ratio) or (ratio <= 1 < low):
        # the interval is built around the Hodges-Lehmann shift; when the ratio of medians says the opposite,
        # the samples are not one distribution shifted (bursts of contention in some seeds): no verdict
        return Finding(
            where, INCONCLUSIVE, (measure, *extra), "ratio of medians and its CI disagree: multi-modal timings", p=p
        )
    if high < 1 or low > 1:
        below = high < 1
        return Finding(where, SUPPORTED if below == expect_below else CONTRADICTED, (measure, *extra), p=p)
    return Finding(where, INCONCLUSIVE, (measure, *extra), "CI includes 1", p=p)


def _n_seeds(group: Group) -> int:
    return len(group.finals)


def _solve_time_finding(where: str, fast: Group, slow: Group, names: tuple[str, str], s: ClaimSettings) -> Finding:
    """Time to solve fast/slow across seeds; an architecture that never solved counts as slower
    when it trained longer, unsolved, than the other took to solve in every seed."""
    name = f"time to solve {names[0]}/{names[1]}"
    n_fast, n_slow = _n_seeds(fast), _n_seeds(slow)
    times = [g.solve_times for g in (fast, slow)]
    if min(n_fast, n_slow) < s.min_seeds:
        ratio = stats.median(times[0]) / stats.median(times[1]) if times[0] and times[1] else None
        measure = Measure(
            name,
            ratio,
            unit="×",
            n=(n_fast, n_slow),
            detail=f"solved {len(times[0])}/{n_fast} vs {len(times[1])}/{n_slow} seeds",
        )
        return Finding(where, INCONCLUSIVE, (measure,), f"fewer than {s.min_seeds} seeds")
    if min(len(times[0]), len(times[1])) >= s.min_seeds:
        return _ratio_finding(where, name, times[0], times[1], True, s, n_unit="seeds")
    solved = f"solved {len(times[0])}/{n_fast} vs {len(times[1])}/{n_slow} seeds"
    for winner, loser, verdict in ((0, 1, SUPPORTED), (1, 0, CONTRADICTED)):
        group_loser = (fast, slow)[loser]
        # how long each unsolved run trained; one without a training time (null) cannot rank above the solved ones
        trained = [w for c in group_loser.ok if (w := c["train"]["wall_ms"]) is not None]
        if (
            2 * len(times[winner]) >= (n_fast, n_slow)[winner]
            and not times[loser]
            and trained
            and len(trained) == len(group_loser.ok)
            and max(times[winner]) < min(trained)
        ):
            measure = Measure(name, None, n=(n_fast, n_slow), detail=solved)
            # the test: every unsolved seed ranks above every solved one (it trained longer, unsolved)
            beyond = 2.0 * max(max(trained), max(times[winner]))
            ranked = [
                times[winner] + [beyond] * ((n_fast, n_slow)[winner] - len(times[winner])),
                [beyond] * len(trained),
            ]
            p = stats.mann_whitney_p(ranked[0], ranked[1])
            return Finding(
                where, verdict, (measure,), f"{names[loser]} never solved within {_num(min(trained))} ms", p=p
            )
    return Finding(
        where, INCONCLUSIVE, (Measure(name, None, n=(n_fast, n_slow), detail=solved),), "too few solved seeds"
    )


def _speed_finding(
    where: str, name: str, num: Group, den: Group, expect_below: bool, s: ClaimSettings, extra: tuple[Measure, ...] = ()
) -> Finding:
    """Train step num/den from the paired rounds of interleaved timing (drift cancels within a round):
    `analysis.paired.paired_ratio_of` (t over processes where each group ran in several, else the
    sign-test interval and Wilcoxon p of the rounds; the claim's Holm reads p, the verdict here the
    interval). A file timed case by case (no `paired` blocks) falls back to the pooled-sample ratio_ci."""
    found = paired_ratio_of(num.cases, den.cases, ("train", "step_ms"), s.confidence)
    if found is None:
        return _ratio_finding(
            where,
            name,
            _samples(num, "train", "step_ms"),
            _samples(den, "train", "step_ms"),
            expect_below,
            s,
            extra=extra,
        )
    ratio, low, high, p, n = found.ratio, found.low, found.high, found.p, found.rounds
    measure = Measure(name, ratio, low, high, "×", (n, n), f"{found.describe()}, p = {p:.2g}")
    if n < s.min_samples:
        return Finding(where, INCONCLUSIVE, (measure, *extra), f"fewer than {s.min_samples} paired rounds")
    if high < 1 or low > 1:
        return Finding(where, SUPPORTED if (high < 1) == expect_below else CONTRADICTED, (measure, *extra), p=p)
    return Finding(where, INCONCLUSIVE, (measure, *extra), "CI includes 1", p=p)


def gru_faster_rule(doc: ResultsJson, labels: tuple[str, ...], s: ClaimSettings) -> list[Finding]:
    """Train step GRU/LSTM per section (paired rounds, else pooled samples), and time to solve GRU/LSTM across seeds."""
    gru, lstm = labels
    findings = []
    for section, a, b in section_pairs(doc, gru, lstm):
        where = where_of(section)
        findings.append(_speed_finding(f"{where} · step", f"train step {gru}/{lstm}", a, b, True, s))
        findings.append(_solve_time_finding(f"{where} · solve", a, b, (gru, lstm), s))
    return findings


def _serving_measure(a: Group, b: Group, bilstm: str, lstm: str) -> tuple[Measure, ...]:
    """The serving view: inference latency at the smallest batch, each model on its fastest correct path."""
    found = serving_cost_ratio({"cases": [*a.cases, *b.cases]}, bilstm, lstm)  # type: ignore[typeddict-item]
    if found is None:
        return ()
    ratio, path_a, path_b = found
    detail = f"{bilstm} on {path_a}, {lstm} on {path_b}; served one after the other, unpaired"
    return (Measure(f"serving latency {bilstm}/{lstm}, fastest correct paths", ratio, unit="×", detail=detail),)


def bilstm_cost_rule(doc: ResultsJson, labels: tuple[str, ...], s: ClaimSettings) -> list[Finding]:
    """Train step Bi-LSTM/LSTM per section (ratio > 1, CI excluding 1), with the core parameter ratio
    beside it (≈2× for one layer); a parameter ratio ≤ 1 at equal sizes contradicts the claim. Where both
    were served through inference paths, the serving view joins as a measure: Bi-LSTM's latency over the
    LSTM's, each on its fastest correct path (it informs, the verdict stays the train step's)."""
    bilstm, lstm = labels
    findings = []
    for section, a, b in section_pairs(doc, bilstm, lstm):
        pa, pb = a.first("n_core_params"), b.first("n_core_params")
        params: tuple[Measure, ...] = ()
        if pa and pb:
            params = (Measure(f"core params {bilstm}/{lstm}", pa / pb, unit="×", detail=f"{pa} / {pb}"),)
        params += _serving_measure(a, b, bilstm, lstm)
        finding = _speed_finding(where_of(section), f"train step {bilstm}/{lstm}", a, b, False, s, extra=params)
        if pa and pb and pa <= pb and a.first("hidden_sizes") == b.first("hidden_sizes"):
            # a count, not a sample: certain (p = 0), so Holm always rejects it
            finding = Finding(finding.where, CONTRADICTED, finding.measures, "no more parameters at equal size", p=0.0)
        findings.append(finding)
    return findings
