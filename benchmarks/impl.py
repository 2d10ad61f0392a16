"""Side by side on the CPU: forward and training-step time of the fused, cell and scripted recurrent cores.

    PYTHONPATH=src python benchmarks/impl.py              # the implementations (about a minute)
    PYTHONPATH=src python benchmarks/impl.py --routes     # how to compile `scripted` (minutes: torch.compile)

Every variant is warmed up, then the variants take turns in a shuffled order each
round, so they share the machine's noise; each line is the median over rounds
(time.perf_counter) and its ratio to the fused core of the same cell (the
peephole LSTM, which has no fused kernel, against the fused LSTM). A training
step is zero_grad + forward + MSE loss on the final state + backward + Adam step.
Forward is timed under torch.no_grad().

Targets: scripted LSTM training step <= 2.0x fused LSTM; scripted peephole LSTM
training step <= 2.5x fused LSTM.
"""

from __future__ import annotations

import os

os.environ.setdefault("TORCHINDUCTOR_FORCE_DISABLE_CACHES", "1")  # --routes: time torch.compile cold, as a new shape is

import argparse
import gc
import random
import statistics
import sys
import time
import warnings
from collections.abc import Callable

import torch
from torch import Tensor, nn

from rnnbench.models.cells import ScriptedCore, build_core

TARGETS = {"lstm scripted": 2.0, "peephole scripted": 2.5}  # training step / fused LSTM


def training_step(model: nn.Module, x: Tensor, target: Tensor) -> Callable[[], None]:
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        _, final = model(x)
        nn.functional.mse_loss(final, target).backward()
        optimizer.step()

    return step


def forward_pass(model: nn.Module, x: Tensor) -> Callable[[], None]:
    def forward() -> None:
        with torch.no_grad():
            model(x)

    return forward


def measure(fns: dict, warmup: int, rounds: int, seed: int = 0) -> dict:
    """Milliseconds per call of each fn; the fns alternate within every round, in a fresh random order."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples = {name: [] for name in fns}
    order = list(fns)
    shuffle = random.Random(seed).shuffle
    for _ in range(rounds):
        shuffle(order)
        gc.collect()
        for name in order:
            start = time.perf_counter()
            fns[name]()
            samples[name].append((time.perf_counter() - start) * 1e3)
    return samples


# ---------------------------------------------------------------------------
# --routes: other ways to compile a hand-written LSTM (single layer), for the choice in cells.py


def naive_lstm_layer(xw: Tensor, w_hh_t: Tensor) -> Tensor:
    """The textbook cell: gate math per step, autograd records every op.

    Steps come from xw.unbind(0): indexing xw[t] would make each step's backward
    fill a zero gradient of the whole xw (quadratic in T).
    """
    hidden = w_hh_t.size(0)
    h = xw.new_zeros([xw.size(1), hidden])
    c = xw.new_zeros([xw.size(1), hidden])
    hs: list[Tensor] = []
    for xw_t in xw.unbind(0):
        gates = torch.addmm(xw_t, h, w_hh_t)
        i = torch.sigmoid(gates[:, :hidden])
        f = torch.sigmoid(gates[:, hidden : 2 * hidden])
        g = torch.tanh(gates[:, 2 * hidden : 3 * hidden])
        o = torch.sigmoid(gates[:, 3 * hidden :])
        c = f * c + i * g
        h = o * torch.tanh(c)
        hs.append(h)
    return torch.stack(hs)


def naive_lstm_step(xw_t: Tensor, h: Tensor, c: Tensor, w_hh_t: Tensor) -> tuple[Tensor, Tensor]:
    i, f, g, o = torch.addmm(xw_t, h, w_hh_t).chunk(4, 1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


class NaiveLSTM(nn.Module):
    """One LSTM layer whose time loop is `layer` (a whole-sequence function) or `step` (called per step)."""

    def __init__(self, input_size: int, hidden_size: int, layer=None, step=None) -> None:
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size)  # only for its parameters and their init
        self.layer, self.step = layer, step

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        p = self.lstm
        x = x.transpose(0, 1)
        seq_len, batch, _ = x.shape
        xw = torch.addmm(p.bias_ih_l0 + p.bias_hh_l0, x.reshape(seq_len * batch, -1), p.weight_ih_l0.t())
        xw = xw.view(seq_len, batch, -1)
        if self.layer is not None:
            hs = self.layer(xw, p.weight_hh_l0.t())
        else:
            h = c = xw.new_zeros(batch, p.hidden_size)
            steps = []
            for xw_t in xw.unbind(0):
                h, c = self.step(xw_t, h, c, p.weight_hh_l0.t())
                steps.append(h)
            hs = torch.stack(steps)
        return hs.transpose(0, 1), hs[-1]


def script(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.script(fn)


def scripted_lstm(input_size: int, hidden_size: int, compiler: str) -> ScriptedCore:
    core = ScriptedCore("lstm", input_size, [hidden_size], False)
    core.compiler = compiler
    return core


def route_models(input_size: int, hidden_size: int) -> dict[str, nn.Module]:
    return {
        "fused (oneDNN)": build_core("lstm", "fused", input_size, hidden_size, 1, False),
        "custom bwd, TorchScript": scripted_lstm(input_size, hidden_size, "torchscript"),
        "custom bwd, compile": scripted_lstm(input_size, hidden_size, "inductor"),
        "custom bwd, eager loops": scripted_lstm(input_size, hidden_size, "eager"),
        "autograd, eager": NaiveLSTM(input_size, hidden_size, layer=naive_lstm_layer),
        "autograd, TorchScript": NaiveLSTM(input_size, hidden_size, layer=script(naive_lstm_layer)),
        "autograd, compile layer": NaiveLSTM(input_size, hidden_size, layer=torch.compile(naive_lstm_layer)),
        "autograd, compile step": NaiveLSTM(input_size, hidden_size, step=torch.compile(naive_lstm_step)),
    }


# ---------------------------------------------------------------------------


def impl_models(input_size: int, hidden_size: int) -> dict[str, nn.Module]:
    models = {}
    for cell in ("lstm", "gru"):
        for impl in ("fused", "cell", "scripted"):
            models[f"{cell} {impl}"] = build_core(cell, impl, input_size, hidden_size, 1, False)
    models["peephole scripted"] = build_core("peephole", "scripted", input_size, hidden_size, 1, False)
    return models


def reference_of(name: str) -> str:
    cell = name.split()[0]
    return f"{'lstm' if cell == 'peephole' else cell} fused" if " " in name else name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routes", action="store_true", help="compare ways to compile the scripted LSTM instead")
    parser.add_argument("--seq-len", type=int, default=100)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--input-size", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads (1: steady on a shared machine)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--only", nargs="+", metavar="VARIANT", help="measure only these (and the fused reference)")
    args = parser.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    x = torch.randn(args.batch, args.seq_len, args.input_size)
    target = torch.randn(args.batch, args.hidden)
    models = (route_models if args.routes else impl_models)(args.input_size, args.hidden)
    fused_name = "fused (oneDNN)" if args.routes else None
    if args.only:
        keep = set(args.only) | {fused_name or reference_of(name) for name in args.only}
        models = {name: model for name, model in models.items() if name in keep}

    first_step_ms = {}
    for name, model in models.items():  # the first call compiles (TorchScript, torch.compile): time it apart
        start = time.perf_counter()
        training_step(model, x, target)()
        first_step_ms[name] = (time.perf_counter() - start) * 1e3
        print(f"first training step of {name}: {first_step_ms[name]:.0f} ms", file=sys.stderr, flush=True)

    fns = {(n, "train"): training_step(m, x, target) for n, m in models.items()}
    fns.update({(n, "forward"): forward_pass(m, x) for n, m in models.items()})
    samples = measure(fns, args.warmup, args.rounds)
    train = {n: samples[n, "train"] for n in models}
    forward = {n: samples[n, "forward"] for n in models}

    print(
        f"torch {torch.__version__}, {args.threads} thread(s), T={args.seq_len} B={args.batch} "
        f"I={args.input_size} H={args.hidden}, median of {args.rounds} rounds"
    )
    print(f"{'variant':<26}{'forward ms':>11}{'ratio':>7}{'train ms':>11}{'ratio':>7}{'first step ms':>15}")
    ratios = {}
    for name in models:
        ref = fused_name or reference_of(name)
        fwd, trn = statistics.median(forward[name]), statistics.median(train[name])
        ratios[name] = trn / statistics.median(train[ref])
        print(
            f"{name:<26}{fwd:>11.2f}{fwd / statistics.median(forward[ref]):>7.2f}"
            f"{trn:>11.2f}{ratios[name]:>7.2f}{first_step_ms[name]:>15.0f}"
        )
    if not args.routes:
        for name, bound in TARGETS.items():
            verdict = "met" if ratios[name] <= bound else "MISSED"
            print(f"target: {name} training step <= {bound}x fused lstm: {ratios[name]:.2f}x {verdict}")


if __name__ == "__main__":
    main()
