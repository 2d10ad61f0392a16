"""How many embedded Reber strings `reber` rejects at each seq_len: exact (the automaton's length law) and sampled.

`reber` rejects and redraws strings longer than `seq_len`, so the strings it trains on are the
grammar's conditioned on length <= seq_len; the rejected ones are the long strings, whose two T|P
symbols sit farthest apart. This prints the rejected fraction at several seq_len, exactly (dynamic
programming over the automaton of `tasks.reber`) and from the task's own generator (Monte-Carlo,
fixed seed), and the smallest seq_len that rejects under 0.5 %.

    PYTHONPATH=$PWD python benchmarks/reber_lengths.py [--samples 200000]
"""

from __future__ import annotations

import argparse

import torch

from rnnbench.tasks.reber import Reber, exact_length_tail, sampled_lengths

LIMIT = 0.005  # the largest rejected fraction the suites accept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    lengths = sampled_lengths(args.samples, torch.Generator().manual_seed(args.seed))
    print(f"{args.samples} strings sampled; mean length {lengths.float().mean():.2f}, longest {int(lengths.max())}")
    print(f"{'seq_len':>8} {'rejected (exact)':>17} {'rejected (sampled)':>19}")
    for seq_len in (12, 16, 20, 24, 28, 30, 32, 36, 40, 50):
        sampled = (lengths > seq_len).float().mean().item()
        print(f"{seq_len:>8} {exact_length_tail(seq_len):>16.3%} {sampled:>18.3%}")
    cap = next(n for n in range(9, 500) if exact_length_tail(n) < LIMIT)
    print(f"smallest seq_len rejecting < {LIMIT:.1%}: {cap} (exact {exact_length_tail(cap):.3%})")
    print(f"sanity: Reber(seq_len={cap}) builds: {Reber(cap).seq_len == cap}")


if __name__ == "__main__":
    main()
