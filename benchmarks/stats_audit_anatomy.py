"""Monte Carlo audit of the LSTM anatomy claims and table (issue 31): false verdicts and detection rates of the real rules.

Usage: python benchmarks/stats_audit_anatomy.py [--trials N] [--seeds N] [--noise S] [--seed 31] [--suite anatomy]

Each trial writes a synthetic results document with the design of `suites/anatomy.yaml` (read with
`load_suite`): every configuration with the models and seeds the suite gives it, case ids, labels and
settings (variant, forget_bias) as the suite expands them. It runs the claims' own rules and decisions
(claims/anatomy.py `evaluate_anatomy_claims`) and the table's per-variant Holm p (claims/anatomy_table.py).
Per claim it prints:

- identical: every model the same; the share of trials with a false verdict (goal ≤ 5 %). For a claim
  of one comparison both supported and contradicted are false; for Greff's claim only "supported" is
  (with identical variants NFG and NOAF do not hurt, so "contradicted" is right, and its rate is shown).
- detection: a true 0.25 gap in chance-to-perfect units where the claim says there is one; the share of
  trials whose verdict is supported (goal ≥ 80 %).

Outcomes are drawn as in benchmarks/stats_audit_claims.py: a 0–1 score per run (chance 0, perfect 1),
a level per configuration, plus the model's effect, plus seed noise σ (`--noise`, default 0.1: about 4×
charlm's measured seed-to-seed s.d. in the pilots, 0.023 units at most), clipped; the real task's
chance, metric and direction. The figures are simulation results, not measurements of this machine.
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

from rnnbench.claims.anatomy import evaluate_anatomy_claims  # noqa: E402
from rnnbench.claims.anatomy_table import anatomy_rows  # noqa: E402
from rnnbench.claims.types import CONTRADICTED, SUPPORTED  # noqa: E402
from rnnbench.suite.expand import load_suite  # noqa: E402
from rnnbench.tasks.registry import TASKS  # noqa: E402

SOLVED = 0.9
NOISE = 0.1
GAP = 0.25


class Member(NamedTuple):
    label: str
    arch: str
    settings: dict[str, Any]
    prefix: str  # the case id without its seed


class Config(NamedTuple):
    task: str
    seq_len: int
    members: tuple[Member, ...]
    seeds: tuple[int, ...]
    chance: float
    higher: bool


def design(suite: str, seeds: int | None) -> list[Config]:
    _, cases, _ = load_suite(suite)
    grouped: dict[tuple[Any, ...], list[Any]] = {}
    for case in cases:
        grouped.setdefault((case.task, tuple(sorted(case.task_options.items())), case.seq_len), []).append(case)
    out = []
    for (task, options, seq_len), members in grouped.items():
        task_obj = TASKS[task](seq_len=seq_len, **dict(options))
        unique = {
            c.label: Member(
                c.label,
                c.arch,
                {"variant": c.settings.variant, "forget_bias": c.settings.forget_bias},
                c.id.rsplit("/", 1)[0],
            )
            for c in members
        }
        chosen = tuple(range(seeds)) if seeds else tuple(dict.fromkeys(c.seed for c in members))
        out.append(
            Config(task, seq_len, tuple(unique.values()), chosen, float(task_obj.chance), task_obj.higher_is_better)
        )
    return out


def _metric(config: Config, score: float) -> float:
    if config.higher:
        return config.chance + (1.0 - config.chance) * score
    return config.chance * (1.0 - score)


def synthetic(
    rng: np.random.Generator, configs: list[Config], effect: dict[str, float], noise: float = NOISE
) -> dict[str, Any]:
    """One results document of the design; `effect[label]` adds to that label's score in every configuration."""
    cases = []
    for config in configs:
        level = rng.uniform(0.35, 0.65)
        for m in config.members:
            for seed in config.seeds:
                score = float(np.clip(level + effect.get(m.label, 0.0) + rng.normal(0, noise), 0.0, 1.0))
                final = {
                    "metric": _metric(config, score),
                    "solved": score >= SOLVED,
                    "chance": config.chance,
                    "higher_is_better": config.higher,
                }
                cases.append(
                    {
                        "id": f"{m.prefix}/s{seed}",
                        "label": m.label,
                        "arch": m.arch,
                        "task": config.task,
                        "seq_len": config.seq_len,
                        "seed": seed,
                        "status": "ok",
                        "settings": m.settings,
                        "train": {"final": final, "ms_to_solve": None},
                    }
                )
    return {"suite": {"name": "anatomy-sim"}, "env": {"device": "sim"}, "cases": cases}


# claim -> (the true effect in words, label -> score gap, the right verdict)
DETECTION: dict[str, tuple[str, dict[str, float]]] = {
    "forget_gate_long_term": ("nfg −0.25", {"nfg": -GAP}),
    "greff_variants": ("nfg, noaf −0.25; cifg, np 0", {"nfg": -GAP, "noaf": -GAP}),
    "jozefowicz_bias": ("lstm-fb0 −0.25; fb1 = gru", {"lstm-fb0": -GAP}),
    "chrono_long_t": ("lstm-chrono +0.25", {"lstm-chrono": GAP}),
}


def verdicts(doc: dict[str, Any]) -> dict[str, str]:
    return {r.claim.key: r.verdict for r in evaluate_anatomy_claims(doc)}  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=400)
    parser.add_argument("--seeds", type=int, default=None, help="every configuration this many seeds")
    parser.add_argument("--noise", type=float, default=NOISE, help="seed noise σ in chance-to-perfect units")
    parser.add_argument("--suite", default="anatomy")
    parser.add_argument("--seed", type=int, default=31)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    configs = design(args.suite, args.seeds)
    load = open("/proc/loadavg").read().split()[0] if os.path.exists("/proc/loadavg") else "?"
    shape = "; ".join(f"{c.task} T{c.seq_len}: {len(c.members)} models × {len(c.seeds)} seeds" for c in configs)
    print(f"# {args.trials} trials, load {load}, noise σ {args.noise}, gap {GAP}: {shape}")
    start = time.perf_counter()
    false = dict.fromkeys(DETECTION, 0)
    contradicted_right = 0
    table_false = 0
    for _ in range(args.trials):
        doc = synthetic(rng, configs, {}, args.noise)
        for key, verdict in verdicts(doc).items():
            if key == "greff_variants":
                false[key] += verdict == SUPPORTED
                contradicted_right += verdict == CONTRADICTED
            else:
                false[key] += verdict in (SUPPORTED, CONTRADICTED)
        table_false += any(row.p_holm < 0.05 for row in anatomy_rows(doc))  # type: ignore[arg-type]
    print("| claim | identical: false verdicts (goal ≤ 5 %) | true effect | supported (goal ≥ 80 %) |")
    print("|---|---:|---|---:|")
    for key, (words, effect) in DETECTION.items():
        hits = sum(verdicts(synthetic(rng, configs, effect, args.noise))[key] == SUPPORTED for _ in range(args.trials))
        print(f"| {key} | {100 * false[key] / args.trials:.1f} % | {words} | {100 * hits / args.trials:.1f} % |")
    print(
        f"# identical variants: Greff's claim contradicted (right) in {100 * contradicted_right / args.trials:.1f} %;"
        f" anatomy table, any row with Holm p < 0.05 (false): {100 * table_false / args.trials:.1f} %"
    )
    print(f"# {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
