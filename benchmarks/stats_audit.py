"""Monte Carlo audit of every interval rnnbench prints and of `compare`'s gate (issue 16).

    PYTHONPATH=$PWD python benchmarks/stats_audit.py            # about 2-3 min on a loaded 2-core machine
    PYTHONPATH=$PWD python benchmarks/stats_audit.py --quick    # a tenth of the trials, for a smoke run

Table (a): the coverage of each interval kind, by simulation with the project's own functions,
next to the level it is printed with. Table (b): how often the real `compare` (two synthetic results
documents, one configuration, three seed blocks a side) calls a change, with identical code (A/A)
and with a 10 % slower step, under block drift of 0-15 %. Table (c): how often a run's interval over
k process medians holds a repeat run's median (the process count of `timing.processes`). If
benchmarks/stats_audit_claims.py exists (the claims' audit), its `main` runs after, so one command
prints the whole audit.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import inspect
import math
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from rnnbench import stats
from rnnbench.compare.pairing import compare
from rnnbench.measure import timer
from rnnbench.render.format import coverage_label, format_interval

LEVEL = 0.95
SIGMA = 0.1  # log-normal spread of one timing sample
console = Console(width=140)


def _se(p: float, n: int) -> float:
    return math.sqrt(max(p * (1 - p), 1e-12) / n)


class Coverage:
    """Rows of table (a): kind, setting, printed label, coverage ± standard error, trials, what is printed."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, float, int, str, bool]] = []

    def add(self, kind: str, setting: str, label: str, hits: list[bool], printed: str = "") -> None:
        n, cov = len(hits), float(np.mean(hits))
        stated = float(label.split()[0]) / 100  # "95 % CI" -> 0.95, "75 % CI" -> 0.75
        ok = cov >= stated - 2 * _se(cov, n)
        self.rows.append((kind, setting, label, cov, n, printed, ok))

    def table(self) -> Table:
        table = Table(title="(a) interval coverage, Monte Carlo", title_justify="left")
        for name in ("interval", "setting", "printed as", "coverage", "trials", "note", "covers its label"):
            table.add_column(name, justify="right" if name in ("coverage", "trials") else "left")
        for kind, setting, label, cov, n, printed, ok in self.rows:
            table.add_row(kind, setting, label, f"{cov:.1%} ±{_se(cov, n):.1%}", str(n), printed, "yes" if ok else "NO")
        return table


def ci_median_rows(out: Coverage, rng: np.random.Generator, trials: int) -> None:
    """One timing's median CI (stats.ci_median) at n samples; the true median of the log-normal is 1."""
    for n in (3, 5, 6, 10):
        hits = []
        for _ in range(trials):
            low, high = stats.ci_median(np.exp(rng.normal(0.0, SIGMA, n)).tolist())
            hits.append(low <= 1.0 <= high)
        label = coverage_label(stats.ci_median_coverage(n))
        out.add("ci_median", f"n={n}", label, hits, f"nominal {stats.ci_median_coverage(n):.2%}")


def _tied(rng: np.random.Generator, n: int) -> np.ndarray:
    """Timings on a coarse clock (whole ms, median 3 ms): most values tie."""
    return np.maximum(1.0, np.round(3.0 * np.exp(rng.normal(0.0, 0.25, n))))


def ratio_rows(out: Coverage, rng: np.random.Generator, trials: int, checked: int) -> None:
    """stats.ratio_ci at 95 %: the true ratio is 1.1 (continuous) or 1 (tied, same coarse clock).

    Membership of the true ratio is read from the test the interval inverts (stats.ratio_test_p at the
    true ratio, cheap); the real ratio_ci is run on the first `checked` trials and must agree."""
    for (n, m), ties in [((3, 3), False), ((3, 4), False), ((5, 5), False), ((10, 10), False)] + [
        ((3, 3), True),
        ((5, 5), True),
        ((10, 10), True),
    ]:
        hits, unbounded, disagree = [], 0, 0
        for trial in range(trials):
            if ties:
                base, new, truth = _tied(rng, n), _tied(rng, m), 1.0
            else:
                base = np.exp(rng.normal(0.0, SIGMA, n))
                new, truth = 1.1 * np.exp(rng.normal(0.0, SIGMA, m)), 1.1
            member = stats.ratio_test_p(base.tolist(), (new / truth).tolist()) >= 1 - LEVEL
            if trial < checked or (n, m) in ((3, 3), (3, 4)):
                _, low, high = stats.ratio_ci(base.tolist(), new.tolist(), LEVEL)
                inside = low <= truth <= high
                disagree += inside != member and not (inside and not ties)  # wider than the test: still covers
                unbounded += format_interval(low, high).startswith("too") or "∞" in format_interval(low, high)
                member = inside
            hits.append(member)
        looked = trials if (n, m) in ((3, 3), (3, 4)) else min(checked, trials)
        note = f"unbounded in {unbounded}/{looked}" + (f"; test≠CI {disagree}" if disagree else "")
        out.add("ratio_ci", f"{n}v{m}{' ties' if ties else ''}", "95 % CI", hits, note)


def paired_rows(out: Coverage, rng: np.random.Generator, trials: int) -> None:
    """stats.paired_ratio_ci: rounds of an interleaved pair under strong drift (±30 % across rounds)."""
    for rounds in (10, 30):
        hits = []
        for _ in range(trials):
            drift = np.exp(rng.uniform(-0.3, 0.3, rounds))
            base = drift * np.exp(rng.normal(0.0, SIGMA, rounds))
            new = 1.1 * drift * np.exp(rng.normal(0.0, SIGMA, rounds))
            _, low, high, _ = stats.paired_ratio_ci(base.tolist(), new.tolist(), LEVEL)
            hits.append(low <= 1.1 <= high)
        out.add("paired (median log-ratio)", f"{rounds} rounds, drift ±30%", "95 % CI", hits)


def hierarchical_rows(out: Coverage, rng: np.random.Generator, trials: int) -> None:
    """stats.hierarchical_ratio_ci (ab): k process pairs, each with a bias of its own (sd 3 % in log ratio)."""
    for k in (1, 2, 3, 5):
        hits = []
        for _ in range(trials):
            pairs = [(math.log(1.1) + rng.normal(0.0, 0.03) + rng.normal(0.0, SIGMA, 30)).tolist() for _ in range(k)]
            _, low, high, _ = stats.hierarchical_ratio_ci(pairs, LEVEL)
            hits.append(low <= 1.1 <= high)
        note = "one pair cannot see process bias" if k == 1 else "t over pair medians"
        out.add("ab hierarchical", f"{k} pair(s) × 30 rounds, bias 3%", "95 % CI", hits, note)


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """The timer collects garbage once per block; with torch loaded that alone would cost the audit minutes."""
    real = timer.gc.collect
    timer.gc.collect = lambda *args: 0  # type: ignore[assignment]
    try:
        yield
    finally:
        timer.gc.collect = real  # type: ignore[assignment]


def timer_rows(out: Coverage, rng: np.random.Generator, trials: dict[float, int]) -> None:
    """The real timer (time_fn_detailed, default stop rule, target ±2 %) on a fake clock of log-normal samples.

    "old" is the interval of the samples the stop decision saw (the rule before issue 16: stop and keep them);
    "new" the kept fresh samples."""
    for sigma, n_trials in trials.items():
        old, new, sizes = [], [], []
        with _no_gc():
            for _ in range(n_trials):
                durations = np.exp(rng.normal(0.0, sigma, 40_000)) * 1e-3  # seconds, median 1 ms
                now, index = [0.0], [0]

                def fn(durations: np.ndarray = durations, now: list[float] = now, index: list[int] = index) -> None:
                    now[0] += durations[index[0]]
                    index[0] += 1

                m = timer.time_fn_detailed(
                    fn, warmup=0, max_seconds=1e9, max_repeats=20_000, clock=lambda now=now: now[0]
                )
                pilot = (durations[: m.pilot] * 1e3).tolist()
                if pilot:
                    low, high = stats.ci_median(pilot)
                    old.append(low <= 1.0 <= high)
                low, high = stats.ci_median(m.samples_ms)
                new.append(low <= 1.0 <= high)
                sizes.append(len(m.samples_ms))
        n_med = int(np.median(sizes))
        # the fresh sample's size is fixed before it is drawn: its coverage is the mean nominal one
        nominal = float(np.mean([stats.ci_median_coverage(n) for n in sizes]))
        out.add("timer, stopped (old rule)", f"σ={sigma}", "95 % CI", old, "interval of the stop's own samples")
        out.add(
            "timer, pilot + fresh", f"σ={sigma}", "95 % CI", new, f"median n={n_med} (+ pilot), nominal {nominal:.1%}"
        )


# --- (b) compare under block drift ------------------------------------------------------------


def repeat_run_table(rng: np.random.Generator, trials: int) -> Table:
    """How often one run's 95 % interval over k process medians holds a repeat run's median (why ci.yaml uses 8)."""
    table = Table(title="(c) a repeat run's median inside this run's 95 % interval, k process medians a run")
    for name in ("processes k", "repeat covered", "trials"):
        table.add_column(name, justify="right")
    for k in (6, 8, 9, 10, 12):
        hits = []
        for _ in range(trials):
            this_run, repeat = rng.normal(0.0, 1.0, (2, k))
            low, high = stats.ci_median(this_run.tolist())
            hits.append(low <= float(np.median(repeat)) <= high)
        cover = float(np.mean(hits))
        table.add_row(str(k), f"{cover:.1%} ±{_se(cover, trials):.1%}", str(trials))
    return table


def _doc(rng: np.random.Generator, drift: float, factor: float, seeds: int, n: int) -> dict:
    """A results document: one configuration, `seeds` timing blocks, each shifted by its own drift."""
    cases = []
    for seed in range(seeds):
        block = math.exp(rng.uniform(-math.log1p(drift), math.log1p(drift))) if drift else 1.0
        samples = (10.0 * factor * block * np.exp(rng.normal(0.0, 0.03, n))).tolist()
        cases.append(
            {
                "id": f"adding/T10/lstm/h8/s{seed}",
                "label": "lstm",
                "arch": "lstm",
                "seed": seed,
                "status": "ok",
                "train": {"step_ms": stats.summarize(samples)},
            }
        )
    env = {"device": "cpu", "device_name": "audit", "dtype": "float32", "torch": "x"}
    return {"schema_version": 1, "suite": {"name": "audit"}, "env": env, "reference": {}, "cases": cases}


def compare_table(rng: np.random.Generator, trials: int, seeds: int = 3, n: int = 10) -> Table:
    table = Table(
        title=f"(b) compare: one step timing, {seeds} seed blocks × {n} samples a side, α = 0.01, threshold 5 %",
        title_justify="left",
    )
    for name in ("block drift", "A/A: slower", "A/A: any change", "10 % slower: detected", "trials"):
        table.add_column(name, justify="right")
    for drift in (0.0, 0.05, 0.10, 0.15):
        aa, aa_any, hit = [], [], []
        for _ in range(trials):
            row = compare(_doc(rng, drift, 1.0, seeds, n), _doc(rng, drift, 1.0, seeds, n)).rows[0]
            aa.append(row.verdict == "slower")
            aa_any.append(row.verdict in ("slower", "faster"))
            row = compare(_doc(rng, drift, 1.0, seeds, n), _doc(rng, drift, 1.1, seeds, n)).rows[0]
            hit.append(row.verdict == "slower")
        rates = [f"{np.mean(x):.0%} ±{_se(float(np.mean(x)), trials):.0%}" for x in (aa, aa_any, hit)]
        table.add_row(f"±{drift:.0%}", *rates, str(trials))
    return table


def _claims_main() -> Callable[..., object] | None:
    """Helper C's claims audit, when it is there: benchmarks/stats_audit_claims.py, function `main`."""
    path = Path(__file__).with_name("stats_audit_claims.py")
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location("stats_audit_claims", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, "main", None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the trials (a smoke run)")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--no-claims", action="store_true", help="skip the claims audit (stats_audit_claims.py)")
    args = parser.parse_args(argv)
    scale = 0.1 if args.quick else 1.0

    def k(n: int) -> int:
        return max(10, int(n * scale))

    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    out = Coverage()
    spent: dict[str, float] = {}
    sections: list[tuple[str, Callable[[], object]]] = [
        ("ci_median", lambda: ci_median_rows(out, rng, k(4000))),
        ("ratio_ci", lambda: ratio_rows(out, rng, k(1000), checked=k(10))),
        ("paired", lambda: paired_rows(out, rng, k(2000))),
        ("hierarchical", lambda: hierarchical_rows(out, rng, k(2000))),
        ("timer", lambda: timer_rows(out, rng, {0.05: k(2000), 0.2: k(200)})),
    ]
    for name, run in sections:
        cpu = time.process_time()
        run()
        spent[name] = time.process_time() - cpu
    console.print(out.table())
    cpu = time.process_time()
    console.print(compare_table(rng, k(20)))
    spent["compare"] = time.process_time() - cpu
    cpu = time.process_time()
    console.print(repeat_run_table(rng, k(6000)))
    spent["repeat run"] = time.process_time() - cpu
    console.print(
        f"wall {time.perf_counter() - started:.0f} s; CPU s per section: "
        + ", ".join(f"{name} {seconds:.0f}" for name, seconds in spent.items())
    )
    claims = None if args.no_claims else _claims_main()
    if claims is not None:
        # the claims audit parses its own command line (its --trials, default 200): give it a clean one
        claim_args = ["--trials", "20"] if args.quick else []
        saved, sys.argv = sys.argv, [str(Path(__file__).with_name("stats_audit_claims.py")), *claim_args]
        try:
            takes_args = bool(inspect.signature(claims).parameters)
            claims(claim_args) if takes_args else claims()
        finally:
            sys.argv = saved
    bad = [row for row in out.rows if not row[-1]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
