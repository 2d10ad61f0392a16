"""`rnnbench ab`: a paired A/B of one suite between two environments, worker processes taking turns (torch-free).

Each process pair (one fresh worker per side) times every entry (a model's train step, or its
inference at one batch size) in rounds: one block on one side, then one on the other, ABBA, with
only the side asked running (the other waits on its pipe). A round gives one log-ratio; a pair's
median log-ratio is one observation, and the interval is taken across pairs (stats.hierarchical_ratio_ci),
since each process carries a bias of its own. Before the first pair is timed, both sides run the base's
weights on the base's inputs and their outputs are compared (compare/output_check.py).
"""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from typing_extensions import NotRequired, TypedDict

from rnnbench import stats
from rnnbench.compare.checks import data_mismatch
from rnnbench.compare.comparison import CompareOptions, Comparison
from rnnbench.compare.numerics import DEFAULT_ATOL, DEFAULT_RTOL, NumericsJson
from rnnbench.compare.output_check import add_numerics, check_outputs
from rnnbench.compare.rows import Row, decided_timing_row
from rnnbench.cores import core_slots, pin
from rnnbench.measure.allocator import steady_env
from rnnbench.phases import PHASES
from rnnbench.results.ab_protocol import Answer, CaseData, Hello, Request, SampleBlock
from rnnbench.run.worker_process import WorkerError, WorkerProcess, child_env, python_module, stop_all

WORKER_MODULE = "rnnbench.run.ab_worker"


class AbError(Exception):
    """A side that cannot start, import or answer, or sides that cannot be compared; one line, exit 2."""


class SideJson(Hello, total=False):
    """A side in the --out document: its worker's hello, its git commit and the environment it was given."""

    git_sha: str | None
    env: dict[str, str]


class AbEntryJson(TypedDict):
    """One entry's blocks in one pair: its label, iterations per block, and each side's blocks in order."""

    label: str
    block: int
    base: list[SampleBlock]
    new: list[SampleBlock]


class AbPairJson(TypedDict):
    """One fresh worker pair: its rounds, its entries' blocks, and the cores it was timed on (None: all)."""

    rounds: int
    entries: dict[str, AbEntryJson]
    cores: NotRequired[list[int] | None]


class PlacementJson(TypedDict):
    slots: list[list[int]]  # the core sets pairs are timed on, in turn


class AbDocJson(TypedDict):
    """The `rnnbench ab --out` document."""

    kind: str  # "rnnbench-ab"
    suite: str
    options: dict[str, object]  # AbOptions' fields
    pairs: list[AbPairJson]
    placement: NotRequired[PlacementJson]
    sides: NotRequired[dict[str, SideJson]]
    numerics: NotRequired[NumericsJson]


@dataclass(frozen=True)
class Side:
    name: str  # "base" | "new"
    python: str = sys.executable
    path: str | None = None  # prepended to PYTHONPATH
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AbOptions:
    pairs: int = 6  # fresh worker pairs per side
    seconds: float = 36.0  # timing budget over all pairs (start-up and warm-up not counted)
    block_ms: float = 15.0  # a block is as many iterations as last about this long
    threshold: float = 0.05
    alpha: float = 0.05  # over 4 pairs (t with 3 df): 0.01 would need ~10 pairs to resolve 5 %
    reply_timeout_s: float = 120.0  # a worker silent this long has hung
    threads: int | None = None  # the suite's threads: the cores one pair is timed on (None: all of them)
    atol: float = DEFAULT_ATOL  # outputs agree when |NEW - BASE| <= atol + rtol * |BASE| (compare/numerics.py)
    rtol: float = DEFAULT_RTOL


class Worker:
    """One side's worker process (JSON lines: the other side may run an older rnnbench); `ask` awaits one answer."""

    def __init__(self, side: Side, reply_timeout_s: float) -> None:
        self.side = side
        self.timeout = reply_timeout_s
        # both sides allocate alike (measure/allocator.py); the side's path must win over this checkout's
        env = child_env({**steady_env(), **side.env}, path=str(Path(side.path).resolve()) if side.path else None)
        try:
            self.process = WorkerProcess(
                f"{side.name} side",
                python_module(WORKER_MODULE, side.python),
                env=env,
                cwd=side.path or None,  # `python -m` puts the cwd first on sys.path: the side's path must win
                codec="json",
            )
        except WorkerError as err:
            raise AbError(str(err)) from None

    @property
    def pid(self) -> int:
        return self.process.pid

    def receive(self, waiting_for: str) -> Answer:
        """The next answer, an {"error": ...} one included; a worker that died or hung is an AbError."""
        try:
            return cast(Answer, self.process.receive(self.timeout, waiting_for))
        except WorkerError as err:
            raise AbError(str(err)) from None

    def read(self, waiting_for: str) -> Answer:
        answer = self.receive(waiting_for)
        if "error" in answer:
            raise AbError(f"{self.side.name} side: {answer['error']}")
        return answer

    def send(self, request: Request) -> None:
        self.process.send(request)

    def ask(self, request: Request, waiting_for: str) -> Answer:
        self.send(request)
        return self.read(waiting_for)

    def answer(self, request: Request, waiting_for: str) -> Answer:
        """As `ask`, but an {"error": ...} answer is returned (an older worker's unknown command), not raised."""
        self.send(request)
        return self.receive(waiting_for)


def git_sha(path: str | None) -> str | None:
    if not path:
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _metrics(entry: str) -> list[tuple[str, str, int | None]]:
    """(metric, unit, batch) of an entry's answers: train -> step and phases; bN -> latency or throughput."""
    kind = entry.rsplit("|", 1)[1]
    if kind == "train":
        none: int | None = None
        return [("step", "ms", none)] + [(p, "ms", none) for p in PHASES]
    size = int(kind[1:])
    return [(f"latency_{kind}", "ms", None)] if size == 1 else [(f"throughput_{kind}", "seq/s", size)]


def _values(answer: SampleBlock, metric: str) -> list[float]:
    return answer["phases_ms"][metric] if metric in PHASES else answer["total_ms"]


def run_ab(
    suite_path: str,
    base: Side,
    new: Side,
    options: AbOptions = AbOptions(),
    on_progress: Callable[[str], None] = lambda _: None,
) -> AbDocJson:
    """Every pair's paired samples and log-ratios, and both sides' fingerprints (the --out document)."""
    doc: AbDocJson = {"kind": "rnnbench-ab", "suite": suite_path, "options": options.__dict__, "pairs": []}
    slots = core_slots(options.threads)
    doc["placement"] = {"slots": slots}
    workers: list[Worker] = []
    timeout = options.reply_timeout_s

    def start(cores: list[int] | None) -> list[Worker]:
        """A fresh pair, asked to prepare at once: it imports and warms up while the previous pair is timed."""
        pair = [Worker(base, timeout), Worker(new, timeout)]
        workers.extend(pair)
        for w in pair:
            if cores is not None:
                pin(w.pid, cores)
            w.send({"cmd": "prepare", "suite": suite_path})
        return pair

    try:
        upcoming: list[Worker] | None = start(None)  # the first pair starts on every core: nothing is timed yet
        for index in range(options.pairs):
            pair = upcoming or start(None)
            hello = [w.read("its hello (python and torch imported)")["hello"] for w in pair]
            if index == 0:
                doc["sides"] = {
                    side.name: {
                        **h,
                        "git_sha": git_sha(side.path or str(Path(h["rnnbench_path"]).parent)),
                        "env": side.env,
                    }
                    for side, h in zip((base, new), hello)
                }
            on_progress(f"pair {index + 1}/{options.pairs}: preparing")
            listed = _listed_entries(pair, check_data=index == 0)
            new_names = {name for name, _ in listed[1]}
            entries = [(name, label) for name, label in listed[0] if name in new_names]
            if not entries:
                raise AbError("base and new sides share no timed entry: incomparable")
            if index == 0:  # once, with this pair alone on the machine and before any block is timed
                on_progress("pair 1: checking outputs on the base's weights and inputs")
                doc["numerics"] = check_outputs(pair[0], pair[1], entries, options.atol, options.rtol)
            slot = slots[index % len(slots)]
            upcoming = None
            if len(slots) > 1:
                for w in pair:
                    pin(w.pid, slot)
                if index + 1 < options.pairs:  # the next pair starts on the other cores, off the timed one
                    upcoming = start([c for s in slots if s is not slot for c in s])
            doc["pairs"].append({**_time_pair(pair, entries, options, random.Random(index)), "cores": slot})
            stop_all(w.process for w in pair)
            on_progress(f"pair {index + 1}/{options.pairs}: done")
    finally:
        stop_all(w.process for w in workers)  # also on Ctrl-C: no worker outlives the orchestrator
    return doc


def _listed_entries(pair: list[Worker], check_data: bool) -> list[list[list[str]]]:
    """Each side's [name, label] entries once its models are built; first, that both read the same data."""
    answers = [w.read("its entries (models built and warmed up)") for w in pair]
    if check_data:
        check_sides_data(answers[0].get("data") or {}, answers[1].get("data") or {})
    return [answer["entries"] for answer in answers]


def check_sides_data(base: dict[str, CaseData], new: dict[str, CaseData]) -> None:
    """Both sides' models of one case trained on data with one sha256 (a side whose file changed is refused)."""
    for key in sorted(set(base) & set(new)):
        mismatch = data_mismatch(key, base[key]["task"], base[key]["data"], new[key]["data"])
        if mismatch is not None:
            raise AbError(mismatch.replace("compare runs", "run both sides"))


def _time_pair(
    pair: list[Worker], entries: list[tuple[str, str]], options: AbOptions, rng: random.Random
) -> AbPairJson:
    blocks = {}
    for name, _ in entries:  # calibrate the block size on the base side
        probe = pair[0].ask({"cmd": "sample", "entry": name, "n": 3}, f"a calibration block of {name}")["total_ms"]
        blocks[name] = max(1, round(options.block_ms / max(stats.median(probe), 1e-3)))
    out: dict[str, AbEntryJson] = {
        name: {"label": label, "block": blocks[name], "base": [], "new": []} for name, label in entries
    }
    budget = options.seconds / options.pairs
    start, n_round = time.perf_counter(), 0
    while n_round < 4 or time.perf_counter() - start < budget:
        order = list(entries)
        rng.shuffle(order)
        for position, (name, _) in enumerate(order):
            sides = (0, 1) if (n_round + position) % 2 == 0 else (1, 0)  # A B then B A: neither always first
            for side in sides:
                answer = pair[side].ask({"cmd": "sample", "entry": name, "n": blocks[name]}, f"a block of {name}")
                out[name]["base" if side == 0 else "new"].append(cast(SampleBlock, answer))
        n_round += 1
    return {"rounds": n_round, "entries": out}


def _block_value(answer: SampleBlock, metric: str) -> float:
    return stats.median(_values(answer, metric))


def comparison_of(doc: AbDocJson, options: AbOptions) -> Comparison:
    """The `compare` table of an ab document: one row per entry and metric, hierarchical across pairs."""
    opts = CompareOptions(alpha=options.alpha, threshold=options.threshold)
    sides = doc.get("sides", {})
    out = Comparison("base", "new", Path(doc["suite"]).stem, opts)
    for name, meta in (("base", "base_meta"), ("new", "new_meta")):
        fp = sides.get(name, {})
        setattr(
            out,
            meta,
            {"git_sha": fp.get("git_sha"), "torch": fp.get("torch"), "test_slowdown": fp.get("test_slowdown")},
        )
        out.notes.append(
            f"{name}: python {fp.get('python')} ({fp.get('executable')}), torch {fp.get('torch')}, "
            f"rnnbench {fp.get('rnnbench')} at {fp.get('rnnbench_path')}"
            + (f", env {' '.join(f'{k}={v}' for k, v in fp['env'].items())}" if fp.get("env") else "")
        )
    rounds = [p["rounds"] for p in doc["pairs"]]
    out.notes.append(
        f"paired A/B: {len(rounds)} fresh worker pairs, {sum(rounds)} rounds (ABBA blocks, one side running at a time); "
        "intervals across pairs (process bias counted)"
    )
    for key in ("torch",):
        if sides.get("base", {}).get(key) != sides.get("new", {}).get(key):
            out.env_diffs.append((key, sides["base"].get(key), sides["new"].get(key), False))
    names = list(doc["pairs"][0]["entries"]) if doc["pairs"] else []
    for name in names:
        label = doc["pairs"][0]["entries"][name]["label"]
        for metric, unit, batch in _metrics(name):
            out.rows.append(_row(doc, name, label, metric, unit, batch, options))
    by_label: dict[str, list[float]] = {}
    for row in out.rows:
        if row.ratio:
            by_label.setdefault(row.label, []).append(row.ratio)
    out.geomeans = {label: stats.geomean(r) for label, r in by_label.items()}
    if out.rows:
        out.geomeans["overall"] = stats.geomean([r.ratio for r in out.rows if r.ratio])
    add_numerics(out, doc.get("numerics"))
    return out


def _row(doc: AbDocJson, name: str, label: str, metric: str, unit: str, batch: int | None, options: AbOptions) -> Row:
    per_pair, base_all, new_all = [], [], []
    for pair in doc["pairs"]:
        entry = pair["entries"].get(name)
        if not entry:
            continue
        b = [_block_value(a, metric) for a in entry["base"]]
        n = [_block_value(a, metric) for a in entry["new"]]
        per_pair.append(list(stats.paired_log_ratios(b, n)))
        base_all += b
        new_all += n
    ratio, low, high, p = stats.hierarchical_ratio_ci(per_pair, 1.0 - options.alpha)
    thr = options.threshold
    if low > 1.0 and ratio > 1.0 + thr:
        verdict, reason = "slower", ""
    elif high < 1.0 and ratio < 1.0 / (1.0 + thr):
        verdict, reason = "faster", ""
    else:
        verdict = "~"
        reason = "CI includes 1" if low <= 1.0 <= high else f"within {thr:.0%}"

    # what this row can resolve: the threshold, or its interval's half-width where wider (honest resolution line)
    bounded = low > 0 and math.isfinite(high)
    min_effect = max(thr, math.expm1((math.log(high) - math.log(low)) / 2)) if bounded else math.inf
    return decided_timing_row(
        name.rsplit("|", 1)[0],
        label,
        metric,
        unit=unit,
        batch=batch,
        samples=(base_all, new_all),
        estimate=(ratio, low, high, p),
        min_effect=min_effect,
        verdict=verdict,
        reason=reason,
    )


def save_doc(path: Path, doc: AbDocJson) -> None:
    """Atomically: a temporary file in the same folder, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1, default=str), encoding="utf-8")
    os.replace(tmp, path)
