"""Rules for "LSTM handles complex sequences" and "Bi-LSTM offers comprehensive understanding": paired-seed contrasts.

Both compare two architectures trained on the same data (the same seed draws the same
sequences for both) in one section, seed by seed, on the tasks' own solved rules:

- **complex sequences**: LSTM against the tanh RNN on the tasks in `COMPLEX_TASKS` (the embedded
  Reber grammar; temporal order with three keys, experiment 6b). Supported where the LSTM
  solves the task in a majority of seeds, the tanh RNN in a minority, and the LSTM's final
  metric is better in the median and worse in no paired seed.
- **comprehensive understanding**: Bi-LSTM against LSTM on tasks whose every target lies in the
  inputs after it (`TaskSpec.future`, e.g. `lookahead`). Supported where the Bi-LSTM solves the
  task in a majority of seeds while the LSTM stays within `CHANCE_BAND` of chance (the task is
  built so that no unidirectional model can do better), and the Bi-LSTM is worse in no seed.

Each finding carries `units`: per paired seed, (first − second) final metric ÷ the metric's
chance-to-perfect range, sign flipped for lower-is-better metrics, so positive favours the claim.
The per-finding verdict is descriptive; the claim-level verdict combines the findings.
"""

from __future__ import annotations

from rnnbench import stats
from rnnbench.analysis.grouping import Group, task_key
from rnnbench.claims.rules import section_pairs
from rnnbench.claims.types import CONTRADICTED, INCONCLUSIVE, SUPPORTED, ClaimSettings, Finding, Measure
from rnnbench.results.records import FinalJson, ResultsJson
from rnnbench.results.task_facts import case_task_spec

# Task keys (task plus non-default options, as the case id spells them) that count as complex sequences.
COMPLEX_TASKS = {
    "reber": "embedded Reber grammar (Hochreiter & Schmidhuber 1997, exp. 1)",
    "temporal_order-symbols=3": "temporal order with three keys (Hochreiter & Schmidhuber 1997, exp. 6b)",
}
# "Stays at chance": within 2 points of the metric (2 percentage points of accuracy) of the chance score.
CHANCE_BAND = 0.02


def _finals_by_seed(group: Group) -> dict[int, FinalJson]:
    """seed -> the run's final record, for runs that finished with a metric."""
    return {
        c["seed"]: c["train"]["final"]
        for c in group.ok
        if (c.get("train") or {}).get("final", {}).get("metric") is not None
    }


def _metrics_by_seed(group: Group) -> dict[int, float]:
    """seed -> the run's final metric, for the runs of `_finals_by_seed`."""
    return {seed: m for seed, final in _finals_by_seed(group).items() if (m := final.get("metric")) is not None}


def paired_units(first: Group, second: Group) -> tuple[tuple[float, ...], float, float | None, bool]:
    """(per-seed units first − second, the chance-to-perfect range, chance, higher_is_better), seeds both finished."""
    a, b = _finals_by_seed(first), _finals_by_seed(second)
    seeds = sorted(set(a) & set(b))
    info = next(iter(a.values()), None) or next(iter(b.values()), FinalJson())
    higher = bool(info.get("higher_is_better", True))
    chance = info.get("chance")
    perfect = 1.0 if higher else 0.0
    scale = abs(chance - perfect) if chance is not None else 1.0
    scale = scale or 1.0
    sign = 1.0 if higher else -1.0
    ma, mb = _metrics_by_seed(first), _metrics_by_seed(second)
    units = tuple(sign * (ma[s] - mb[s]) / scale for s in seeds)
    return units, scale, chance, higher


def _never_worse(units: tuple[float, ...]) -> bool:
    """Better in the median and worse in no paired seed (a seed both solved perfectly is a tie, not a loss)."""
    return bool(units) and min(units) >= 0 and stats.median(units) > 0


def _solved(group: Group) -> tuple[int, int]:
    finals = list(_finals_by_seed(group).values())
    return sum(bool(f.get("solved")) for f in finals), len(finals)


def _gap_measure(first: str, second: str, units: tuple[float, ...], scale: float) -> Measure:
    return Measure(
        f"gap {first}−{second}",
        stats.median(units) if units else None,
        min(units) if units else None,
        max(units) if units else None,
        n=(len(units),),
        detail=f"per seed, ÷{scale:.3g} (chance to perfect), seed range",
    )


def _solved_measure(label: str, group: Group) -> Measure:
    k, n = _solved(group)
    return Measure(f"solved {label}", k, n=(n,), detail=f"{k}/{n} seeds")


def complex_sequences_rule(doc: ResultsJson, labels: tuple[str, ...], s: ClaimSettings) -> list[Finding]:
    """LSTM vs tanh RNN on the complex-sequence tasks, per section, on the tasks' solved rules."""
    lstm, rnn = labels
    findings = []
    for section, a, b in section_pairs(doc, lstm, rnn):
        task = task_key(a.cases[0])
        if task not in COMPLEX_TASKS:
            continue
        units, scale, _, _ = paired_units(a, b)
        (ka, na), (kb, nb) = _solved(a), _solved(b)
        measures = (_gap_measure(lstm, rnn, units, scale), _solved_measure(lstm, a), _solved_measure(rnn, b))
        if len(units) < s.min_seeds:
            verdict, note = INCONCLUSIVE, f"fewer than {s.min_seeds} paired seeds"
        elif 2 * ka > na and 2 * kb < nb and _never_worse(units):
            verdict, note = SUPPORTED, f"{lstm} solves it, {rnn} does not"
        elif kb >= ka and 2 * kb >= nb:
            verdict, note = CONTRADICTED, f"{rnn} solves it as often as {lstm}"
        elif ka == kb == 0:
            verdict, note = INCONCLUSIVE, "neither solved it: the budget or the length is beyond both"
        else:
            verdict, note = INCONCLUSIVE, f"no clear contrast ({lstm} {ka}/{na}, {rnn} {kb}/{nb} solved)"
        findings.append(Finding(section.replace("/", " "), verdict, measures, note, units=units))
    return findings


def understanding_rule(doc: ResultsJson, labels: tuple[str, ...], s: ClaimSettings) -> list[Finding]:
    """Bi-LSTM vs LSTM on tasks whose answers lie ahead: the Bi-LSTM solves, the LSTM stays at chance."""
    bilstm, lstm = labels
    findings = []
    for section, a, b in section_pairs(doc, bilstm, lstm):
        spec = case_task_spec(a.cases[0])
        if spec is None or not spec.future:
            continue
        units, scale, chance, higher = paired_units(a, b)
        (ka, na), _ = _solved(a), _solved(b)
        medians = [stats.median(list(_metrics_by_seed(g).values()) or [float("nan")]) for g in (a, b)]
        above = [(m - chance) * (1 if higher else -1) if chance is not None else None for m in medians]
        measures = (
            _gap_measure(bilstm, lstm, units, scale),
            _solved_measure(bilstm, a),
            Measure(
                f"{lstm} above chance",
                above[1],
                n=(len(units),),
                detail=f"median {medians[1]:.3g} vs chance {chance:.3g}" if chance is not None else "no chance score",
            ),
        )
        if len(units) < s.min_seeds:
            verdict, note = INCONCLUSIVE, f"fewer than {s.min_seeds} paired seeds"
        elif above[1] is None or above[1] > CHANCE_BAND:
            verdict, note = INCONCLUSIVE, f"{lstm} beats chance by more than {CHANCE_BAND:g}: the task leaks the answer"
        elif 2 * ka > na and _never_worse(units):
            verdict, note = SUPPORTED, f"{bilstm} solves it from the later inputs, {lstm} stays at chance"
        elif above[0] is not None and above[0] <= CHANCE_BAND:
            verdict, note = CONTRADICTED, f"{bilstm} stays at chance too: it did not use the later inputs"
        else:
            verdict, note = INCONCLUSIVE, f"{bilstm} above chance but solved in only {ka}/{na} seeds"
        findings.append(Finding(section.replace("/", " "), verdict, measures, note, units=units))
    return findings
