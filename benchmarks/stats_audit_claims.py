"""Monte Carlo audit of the recap claims (issue 16): A/A false-verdict and detection rates of the real rules.

Usage: python benchmarks/stats_audit_claims.py [--trials N] [--seeds 3] [--rounds 50] [--seed 16]

Each trial writes a synthetic results document shaped like `suites/recap.yaml` (adding at
T = 10, 25, 50, 100 and temporal_order T30 at train_size 64 and 1024; rnn, lstm, gru, bilstm;
3 seeds; train steps timed in paired rounds per timing group) and runs the claims' own rules and
decisions on it (claims/table.py `evaluate_claim`). Per claim it prints:

- A/A: identical models; the share of trials whose verdict is supported or contradicted
  (family-wise over all of the claim's configurations). Goal ≤ 5 %.
- detection: a true effect; the share of trials with the right verdict. Goal ≥ 80 %.
  Timing claims: the compared model's train step (and time to solve) 10 % slower, rounds
  with drift (AR(1) between rounds, level jumps, a drift within each round, outliers).
  Outcome claims: a 0.25 gap in chance-to-perfect units (score), seed noise σ = 0.1.

Outcomes are drawn on a 0–1 score per run (chance = 0, perfect = 1): level per configuration
falling with seq_len, plus the model's effect, plus seed noise, clipped; solved when ≥ 0.9.
The figures are simulation results, not timings of this machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnnbench.claims.table import CLAIMS, evaluate_claim  # noqa: E402
from rnnbench.claims.types import CONTRADICTED, SUPPORTED  # noqa: E402

ARCHS = ("rnn", "lstm", "gru", "bilstm")
CORE = {"rnn": 1, "lstm": 4, "gru": 3, "bilstm": 8}  # parameter multiples of a tanh RNN at equal size
CONFIGS = [("adding", t, None) for t in (10, 25, 50, 100)] + [("temporal_order", 30, n) for n in (64, 1024)]
METRIC = {"adding": (1 / 6, False, "mse"), "temporal_order": (0.25, True, "accuracy")}
SOLVED = 0.9


def _metric(task: str, score: float) -> float:
    chance, higher, _ = METRIC[task]
    return chance + (1.0 - chance) * score if higher else chance * (1.0 - score)


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


def recap_like(
    rng: np.random.Generator,
    seeds: int,
    rounds: int,
    effect: dict[tuple[str, int | None], dict[str, float]] | None = None,
    step: dict[str, float] | None = None,
) -> dict[str, Any]:
    """One synthetic recap results document; `effect[(task, train_size)][arch]` adds to the score."""
    effect, step = effect or {}, step or {}
    base_step = {a: step.get(a, 10.0) for a in ARCHS}
    cases = []
    for task, seq_len, train_size in CONFIGS:
        group = f"{task}/T{seq_len}" + (f"/n{train_size}" if train_size else "")
        level = 1.05 - 0.004 * seq_len + rng.uniform(-0.1, 0.1)
        timing = _rounds(rng, base_step, rounds)
        solve_ms = 1000 * np.exp(rng.normal(0, 0.3))
        for arch in ARCHS:
            extra = effect.get((task, train_size), {}).get(arch, 0.0)
            for seed in range(seeds):
                score = float(np.clip(level + extra + rng.normal(0, 0.1), 0.0, 1.0))
                parts = [task, f"T{seq_len}", arch, "h32"] + ([f"n{train_size}"] if train_size else []) + [f"s{seed}"]
                rep = "/".join(parts[:-1] + ["s0"])
                chance, higher, name = METRIC[task]
                solved = score >= SOLVED
                ms = solve_ms * base_step[arch] / 10.0 * np.exp(rng.normal(0, 0.2)) if solved else None
                cases.append(
                    {
                        "id": "/".join(parts),
                        "label": arch,
                        "arch": arch,
                        "impl": "fused",
                        "task": task,
                        "seq_len": seq_len,
                        "train_size": train_size,
                        "seed": seed,
                        "status": "ok",
                        "gates": {"rnn": 0, "lstm": 3, "gru": 2, "bilstm": 3}[arch],
                        "n_core_params": 1056 * CORE[arch],
                        "hidden_sizes": [32],
                        "backend": "sim",
                        "paired": {"group": group, "timed_as": rep},
                        "train": {
                            "steps": 1000,
                            "wall_ms": 3000.0,
                            "step_ms": {"samples": timing[arch]},
                            "ms_to_solve": ms,
                            "final": {
                                "metric": _metric(task, score),
                                "solved": solved,
                                "chance": chance,
                                "higher_is_better": higher,
                                "metric_name": name,
                            },
                        },
                    }
                )
    return {"suite": {"name": "recap-sim"}, "env": {"device": "sim"}, "cases": cases}


ADDING = [("adding", None)]
TEMPORAL = [("temporal_order", 64), ("temporal_order", 1024)]
ALL = ADDING + TEMPORAL


def _gap(arch: str, value: float, where=ALL) -> dict[tuple[str, int | None], dict[str, float]]:
    return {w: {arch: value} for w in where}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--only", default="", help="comma-separated claim keys")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    keys = [k for k in DETECTION if not args.only or k in args.only.split(",")]
    load = open("/proc/loadavg").read().split()[0] if os.path.exists("/proc/loadavg") else "?"
    print(f"# {args.trials} trials, {args.seeds} seeds, {args.rounds} paired rounds, load {load}")
    start = time.perf_counter()
    aa = {k: 0 for k in keys}
    for _ in range(args.trials):
        doc = recap_like(rng, args.seeds, args.rounds)
        for k in keys:
            aa[k] += evaluate_claim(doc, CLAIMS[k]).verdict in (SUPPORTED, CONTRADICTED)
    rows = []
    for k in keys:
        for words, effect, step, right in DETECTION[k]:
            hits = sum(
                evaluate_claim(recap_like(rng, args.seeds, args.rounds, effect, step), CLAIMS[k]).verdict == right
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
