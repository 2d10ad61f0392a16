"""Monte Carlo audit of the recap claims (issue 16): A/A false-verdict and detection rates of the real rules.

Usage: python benchmarks/stats_audit_claims.py [--trials N] [--seeds N] [--rounds 50] [--seed 16]
       [--suite recap] [--only claim,claim]

Each trial writes a synthetic results document with the design of `suites/recap.yaml` (read with
`load_suite`): every configuration (task with its options, seq_len, train_size) with the models and
seeds the suite gives it, case ids as the suite expands them (adding T = 10 … 100 with rnn, lstm,
gru, bilstm and 3 seeds; temporal_order T30 at train_size 64 and 1024 with lstm and gru and 14
seeds; temporal_order 6b T = 20, 30, 60 with rnn, lstm, gru; lookahead with lstm and bilstm).
`--seeds N` gives every configuration N seeds instead. Train steps are timed in paired rounds per
configuration (its timing group). It runs the claims' own rules and decisions on each document
(claims/table.py `evaluate_claim`). Per claim it prints:

- A/A: identical models; the share of trials whose verdict is supported or contradicted
  (family-wise over all of the claim's configurations). Goal ≤ 5 %.
- detection: a true effect; the share of trials with the right verdict. Goal ≥ 80 %.
  Timing claims: the compared model's train step (and time to solve) 10 % slower, rounds
  with drift (AR(1) between rounds, level jumps, a drift within each round, outliers).
  Outcome claims: a 0.25 gap in chance-to-perfect units (score), seed noise σ = 0.1.

Outcomes are drawn on a 0–1 score per run (chance = 0, perfect = 1): level per configuration
falling with seq_len, plus the model's effect, plus seed noise, clipped; solved when ≥ 0.9.
Chance, metric and direction are the real task's. The figures are simulation results, not
timings of this machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnnbench.claims.table import CLAIMS, evaluate_claim  # noqa: E402
from rnnbench.claims.types import CONTRADICTED, SUPPORTED  # noqa: E402
from rnnbench.suite.expand import load_suite  # noqa: E402
from rnnbench.tasks.registry import TASKS  # noqa: E402

CORE = {"rnn": 1, "lstm": 4, "gru": 3, "bilstm": 8}  # parameter multiples of a tanh RNN at equal size
GATES = {"rnn": 0, "lstm": 3, "gru": 2, "bilstm": 3}
SOLVED = 0.9


class Config(NamedTuple):
    """One configuration of the suite: its case ids without label and seed, its models and seeds.

    A NamedTuple, not a dataclass: stats_audit.py loads this file without registering it as a module.
    """

    task: str
    options: tuple[tuple[str, Any], ...]
    seq_len: int
    train_size: int | None
    ids: tuple[tuple[str, str], ...]  # (arch, case id without the seed part), in the suite's order
    seeds: tuple[int, ...]
    chance: float
    higher: bool
    metric_name: str

    @property
    def archs(self) -> tuple[str, ...]:
        return tuple(arch for arch, _ in self.ids)

    @property
    def key(self) -> str:
        """`task-options/T30[/n64]`, as the header prints it."""
        task = self.ids[0][1].split("/", 1)[0]
        return f"{task}/T{self.seq_len}" + (f"/n{self.train_size}" if self.train_size else "")


def design(suite: str = "recap", seeds: int | None = None) -> list[Config]:
    """The suite's configurations with the archs and distinct seeds it runs each with (`seeds`: N for every one)."""
    _, cases, _ = load_suite(suite)
    grouped: dict[tuple[Any, ...], list[Any]] = {}
    for case in cases:
        options = tuple(sorted(case.task_options.items()))
        grouped.setdefault((case.task, options, case.seq_len, case.settings.train_size), []).append(case)
    out = []
    for (task, options, seq_len, train_size), members in grouped.items():
        task_obj = TASKS[task](seq_len=seq_len, **dict(options))
        out.append(
            Config(
                task,
                options,
                seq_len,
                train_size,
                tuple(dict.fromkeys((c.arch, c.id.rsplit("/", 1)[0]) for c in members)),
                tuple(range(seeds)) if seeds else tuple(dict.fromkeys(c.seed for c in members)),
                float(task_obj.chance),
                bool(task_obj.higher_is_better),
                task_obj.metric_name,
            )
        )
    return out


def header(configs: list[Config]) -> str:
    """Seeds per configuration, lengths and sizes of one task merged: `adding T10,25,50,100: 3 seeds (rnn lstm gru bilstm)`."""
    parts: dict[tuple[Any, ...], list[str]] = {}
    for c in configs:
        task = c.ids[0][1].split("/", 1)[0]
        where = f"T{c.seq_len}" + (f"/n{c.train_size}" if c.train_size else "")
        parts.setdefault((task, len(c.seeds), c.archs), []).append(where)
    return "; ".join(
        f"{task} {','.join(wheres)}: {n} seeds ({' '.join(archs)})" for (task, n, archs), wheres in parts.items()
    )


def _metric(config: Config, score: float) -> float:
    if config.higher:
        return config.chance + (1.0 - config.chance) * score
    return config.chance * (1.0 - score)


def _rounds(rng: np.random.Generator, base: dict[str, float], n: int) -> dict[str, list[float]]:
    """Paired rounds for one timing group: drift between rounds and within each round, outliers."""
    drift, level = 0.0, 0.0
    out: dict[str, list[float]] = {a: [] for a in base}
    order = list(base)
    for r in range(n):
        drift = 0.9 * drift + rng.normal(0, 0.05)
        if rng.random() < 0.05:
            level += rng.choice((-0.2, 0.2))  # another process starts or stops
        within = rng.normal(0, 0.02)  # the machine speeds up or slows down during the round
        if r % 2 == 0:
            rng.shuffle(order)
            this = list(order)
        else:
            this = order[::-1]
        for k, arch in enumerate(this):
            log_t = np.log(base[arch]) + drift + level + k * within + rng.normal(0, 0.03)
            if rng.random() < 0.02:
                log_t += np.log(1.5)
            out[arch].append(float(np.exp(log_t)))
    return out


Effect = dict[tuple[str, int | None] | str, dict[str, float]]  # (task, train_size) or "*" -> arch -> score gap


def recap_like(
    rng: np.random.Generator,
    configs: list[Config],
    rounds: int,
    effect: Effect | None = None,
    step: dict[str, float] | None = None,
) -> dict[str, Any]:
    """One synthetic results document of the design; `effect[(task, train_size)][arch]` (or `effect["*"]`) adds to the score."""
    effect, step = effect or {}, step or {}
    cases = []
    for config in configs:
        base_step = {a: step.get(a, 10.0) for a in config.archs}
        level = 1.05 - 0.004 * config.seq_len + rng.uniform(-0.1, 0.1)
        timing = _rounds(rng, base_step, rounds)
        solve_ms = 1000 * np.exp(rng.normal(0, 0.3))
        extras = effect.get((config.task, config.train_size), effect.get("*", {}))
        for arch, prefix in config.ids:
            extra = extras.get(arch, 0.0)
            for seed in config.seeds:
                score = float(np.clip(level + extra + rng.normal(0, 0.1), 0.0, 1.0))
                solved = score >= SOLVED
                ms = solve_ms * base_step[arch] / 10.0 * np.exp(rng.normal(0, 0.2)) if solved else None
                cases.append(
                    {
                        "id": f"{prefix}/s{seed}",
                        "label": arch,
                        "arch": arch,
                        "impl": "fused",
                        "task": config.task,
                        "task_options": dict(config.options),
                        "seq_len": config.seq_len,
                        "train_size": config.train_size,
                        "seed": seed,
                        "status": "ok",
                        "gates": GATES[arch],
                        "n_core_params": 1056 * CORE[arch],
                        "hidden_sizes": [32],
                        "backend": "sim",
                        "paired": {"group": config.key, "timed_as": f"{prefix}/s{config.seeds[0]}"},
                        "train": {
                            "steps": 1000,
                            "wall_ms": 3000.0,
                            "step_ms": {"samples": timing[arch]},
                            "ms_to_solve": ms,
                            "final": {
                                "metric": _metric(config, score),
                                "solved": solved,
                                "chance": config.chance,
                                "higher_is_better": config.higher,
                                "metric_name": config.metric_name,
                            },
                        },
                    }
                )
    return {"suite": {"name": "recap-sim"}, "env": {"device": "sim"}, "cases": cases}


def _gap(arch: str, value: float) -> Effect:
    """The same score gap in every configuration the arch runs in."""
    return {"*": {arch: value}}


# claim -> (the detection scenario in words, its effect on scores, step times, the right verdict)
DETECTION: dict[str, list[tuple[str, dict, dict, str]]] = {
    "lstm_long_term": [("rnn score −0.25", _gap("rnn", -0.25), {}, SUPPORTED)],
    "gru_short_term": [("gru score −0.25", _gap("gru", -0.25), {}, SUPPORTED)],
    "bilstm_better": [("bilstm score +0.25", _gap("bilstm", 0.25), {}, SUPPORTED)],
    "gru_similar_less_data": [
        ("gru −0.25 at n=64", {("temporal_order", 64): {"gru": -0.25}}, {}, CONTRADICTED),
        ("gru −0.25 at n=1024 only", {("temporal_order", 1024): {"gru": -0.25}}, {}, SUPPORTED),
    ],
    "gru_faster": [("gru step 10 % slower", {}, {"gru": 11.0}, CONTRADICTED)],
    "bilstm_cost": [("bilstm step 10 % slower", {}, {"bilstm": 11.0}, SUPPORTED)],
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument(
        "--seeds", type=int, default=None, help="every configuration this many seeds (default: the suite's)"
    )
    parser.add_argument("--suite", default="recap", help="the suite whose design is simulated")
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--only", default="", help="comma-separated claim keys")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    configs = design(args.suite, args.seeds)
    keys = [k for k in DETECTION if not args.only or k in args.only.split(",")]
    load = open("/proc/loadavg").read().split()[0] if os.path.exists("/proc/loadavg") else "?"
    source = f"{args.seeds} for every configuration (--seeds)" if args.seeds else f"as suite {args.suite} has them"
    print(f"# {args.trials} trials, {args.rounds} paired rounds, load {load}; seeds {source}: {header(configs)}")
    start = time.perf_counter()
    aa = {k: 0 for k in keys}
    for _ in range(args.trials):
        doc = recap_like(rng, configs, args.rounds)
        for k in keys:
            aa[k] += evaluate_claim(doc, CLAIMS[k]).verdict in (SUPPORTED, CONTRADICTED)
    rows = []
    for k in keys:
        for words, effect, step, right in DETECTION[k]:
            hits = sum(
                evaluate_claim(recap_like(rng, configs, args.rounds, effect, step), CLAIMS[k]).verdict == right
                for _ in range(args.trials)
            )
            rows.append((k, aa[k] / args.trials, words, right, hits / args.trials))
    print("| claim | A/A false verdicts (goal ≤ 5 %) | true effect | right verdict | detected (goal ≥ 80 %) |")
    print("|---|---:|---|---|---:|")
    for k, false_rate, words, right, rate in rows:
        print(f"| {k} | {100 * false_rate:.1f} % | {words} | {right} | {100 * rate:.1f} % |")
    print(f"# {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
