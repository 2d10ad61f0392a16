"""Results documents for tests, nothing run: hand-made ones (claims, exports, plots), every number chosen; and
`make_doc`'s (compare), timings drawn from a seeded log-normal, reproducible and realistically noisy."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnbench import stats
from rnnbench.catalog import MODEL_SPECS
from rnnbench.models.params import core_params

INPUT_SIZE = {"adding": 2, "copy": 10, "sine": 1}
CHANCE = {"adding": (1 / 6, False, "mse"), "copy": (1 / 8, True, "recall_accuracy"), "sine": (0.05, False, "mse")}


def samples(median: float, n: int = 10, spread: float = 0.02) -> list[float]:
    """n timings around `median`, symmetric, with a relative spread: a known distribution, no noise."""
    return [median * (1 + spread * (k - (n - 1) / 2) / n) for k in range(n)]


def case(
    arch: str,
    task: str = "adding",
    seq_len: int = 10,
    seed: int = 0,
    *,
    label: str | None = None,
    hidden: int = 8,
    train_size: int | None = None,
    step_ms: float | list[float] = 10.0,
    metric: float | None = 0.05,
    solved: bool = False,
    ms_to_solve: float | None = None,
    wall_ms: float = 1000.0,
    status: str = "ok",
    n_core_params: int | None = None,
    backend: str = "onednn",
    curve: list[list[float]] | None = None,
) -> dict[str, Any]:
    """One case record with the fields the runner writes, shaped like a real one."""
    label = label or arch
    chance, higher_is_better, metric_name = CHANCE[task]
    parts = [task, f"T{seq_len}", label, f"h{hidden}"] + ([f"n{train_size}"] if train_size else []) + [f"s{seed}"]
    step = step_ms if isinstance(step_ms, list) else samples(step_ms)
    core = n_core_params if n_core_params is not None else core_params(arch, INPUT_SIZE[task], hidden)
    if curve is None:
        curve = [[50, wall_ms / 2, 0.1, metric], [100, wall_ms, 0.05, metric]] if metric is not None else []
    return {
        "id": "/".join(parts),
        "label": label,
        "arch": arch,
        "impl": "fused",
        "task": task,
        "task_options": {},
        "seq_len": seq_len,
        "hidden_size": hidden,
        "num_layers": 1,
        "batch_size": 4,
        "train_size": train_size,
        "seed": seed,
        "status": status,
        "error": None,
        "gates": MODEL_SPECS[arch].gates,
        "n_params": core + hidden + 1,
        "n_core_params": core,
        "hidden_sizes": [hidden],
        "backend": backend,
        "train": {
            "steps": 100,
            "wall_ms": wall_ms,
            "step_ms": stats.summarize(step),
            "phases_ms": {p: stats.summarize(samples(1.0)) for p in ("forward", "backward", "optimizer")},
            "curve": curve,
            "final": {
                "loss": 0.05,
                "metric": metric,
                "solved": solved,
                "chance": chance,
                "chance_loss": chance,
                "metric_name": metric_name,
                "higher_is_better": higher_is_better,
            },
            "steps_to_solve": 100 if ms_to_solve is not None else None,
            "ms_to_solve": ms_to_solve,
        },
        "inference": {
            "b1": {"latency_ms": stats.summarize(samples(step[0] / 3))},
            "b4": {"latency_ms": stats.summarize(samples(step[0] / 2)), "seq_per_s": 4000 / step[0]},
        },
        "memory": {
            "training": {
                "saved_for_backward_bytes": 600_000,
                "parameters_bytes": 100_000,
                "gradients_bytes": 100_000,
                "optimizer_state_bytes": 200_000,
                "total_bytes": 1_000_000,
            }
        },
    }


def document(cases: list[dict[str, Any]], name: str = "hand") -> dict[str, Any]:
    return {
        "schema_version": 1,
        "rnnbench_version": "0.1.0",
        "suite": {"name": name},
        "started_at": "2026-01-01T00:00:00+00:00",
        "env": {"device": "cpu", "device_name": "Test CPU", "dtype": "float32", "torch": "2.13.0+cpu", "threads": 2},
        "reference": {},
        "cases": cases,
        "status": "complete",
    }


def seeds(n: int = 3) -> range:
    return range(n)


# --- documents with seeded log-normal timings, for compare -----------------------------------------------

BASE_MS = {"step": 10.0, "forward": 3.0, "backward": 6.0, "optimizer": 1.0, "b1": 0.5, "b32": 2.0}


def lognormal_samples(median_ms: float, rng: np.random.Generator, n: int = 40, spread: float = 0.01) -> list[float]:
    """Log-normal samples around a median: synthetic, reproducible, with a small realistic spread."""
    return list(median_ms * np.exp(rng.normal(0.0, spread, n)))


def make_case(
    case_id: str,
    rng: np.random.Generator,
    factor: float = 1.0,
    spread: float = 0.01,
    metric: float = 0.9,
    ms_to_solve: float | None = None,
    status: str = "ok",
    only_step: bool = False,
) -> dict:
    """A case record; `only_step` leaves the phase and inference samples out (fewer rows, faster tests)."""
    task, seq, label, hidden, seed = case_id.split("/")
    timing = {
        k: {"samples": lognormal_samples(v * factor, rng, spread=spread) if k == "step" or not only_step else []}
        for k, v in BASE_MS.items()
    }
    return {
        "id": case_id,
        "label": label,
        "arch": label,
        "task": task,
        "seq_len": int(seq[1:]),
        "seed": int(seed[1:]),
        "status": status,
        "settings": {"hidden_size": int(hidden[1:]), "batch_size": 32},
        "train": {
            "step_ms": timing["step"],
            "phases_ms": {p: timing[p] for p in ("forward", "backward", "optimizer")},
            "final": {"metric": metric, "metric_name": "accuracy", "chance": 0.5, "higher_is_better": True},
            "ms_to_solve": ms_to_solve,
        },
        "inference": {"b1": {"latency_ms": timing["b1"]}, "b32": {"latency_ms": timing["b32"]}},
    }


def make_doc(
    seed: int = 0,
    factor: float | dict = 1.0,
    seeds: int = 3,
    labels=("lstm",),
    spread: float = 0.01,
    reference_ms: float = 40.0,
    env: dict | None = None,
    suite: dict | None = None,
    **case_kw,
) -> dict:
    """A results document; `factor` slows every timing (or, as a dict, each label's)."""
    rng = np.random.default_rng(seed)
    cases = []
    for label in labels:
        for s in range(seeds):
            f = factor.get(label, 1.0) if isinstance(factor, dict) else factor
            cases.append(make_case(f"adding/T50/{label}/h64/s{s}", rng, f, spread, **case_kw))
    reference = {k: {"matmul_ms": {"median": reference_ms}} for k in ("start", "end")}
    return {
        "schema_version": 1,
        "status": "complete",
        "started_at": f"2026-01-0{seed + 1}T00:00:00+00:00",
        "suite": {"name": "ci", "thresholds": {}, **(suite or {})},
        "env": {
            "device": "cpu",
            "torch": "2.13.0",
            "dtype": "float32",
            "threads": 1,
            "device_name": "cpu x",
            "test_slowdown": None,
            **(env or {}),
        },
        "reference": reference,
        "cases": cases,
    }
