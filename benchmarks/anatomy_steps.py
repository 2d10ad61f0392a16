"""Each scripted variant's train step ÷ the fused LSTM's, as the `anatomy` suite itself timed them, from its results.

    PYTHONPATH=. python benchmarks/anatomy_steps.py results/anatomy.json [--fused lstm-fb1]

`benchmarks/variant_step.py` times the bare cores (2 inputs, a loss on the final state); this reads the
suite's own timing group instead: on its configuration (charlm: 100 one-hot inputs, a 100-way head at every
step, hidden 32, batch 32, T = 50) every model of the group took turns with the others in rounds, and
`analysis.paired` gives each variant's paired ratio to the fused LSTM with its interval. Goal (issue 31):
every scripted variant <= 2.5x the fused LSTM.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnnbench.analysis.paired import paired_ratio_of  # noqa: E402
from rnnbench.suite.variants import VARIANTS  # noqa: E402

GOAL = 2.5


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--fused", default="lstm-fb1", help="the label of the fused LSTM in the same timing group")
    args = parser.parse_args(argv)
    cases = json.loads(args.results.read_text())["cases"]
    fused = [c for c in cases if c.get("label") == args.fused]
    print(f"| variant | train step ÷ fused LSTM ({args.fused}) | 95 % CI | rounds | ≤ {GOAL}× |")
    print("|---|---:|---|---|---|")
    for variant in VARIANTS:
        mine = [c for c in cases if c.get("label") == variant]
        found = paired_ratio_of(mine, fused)
        if found is None:
            print(f"| {variant} | not timed with {args.fused} | | | |")
            continue
        ok = "yes" if found.high <= GOAL else "no" if found.low > GOAL else "undecided"
        print(f"| {variant} | {found.ratio:.2f}× | {found.low:.2f}–{found.high:.2f} | {found.describe()} | {ok} |")


if __name__ == "__main__":
    main()
