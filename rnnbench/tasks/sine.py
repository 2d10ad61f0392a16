"""One-step forecasting of a noisy series: a random sum of sines, or the Mackey-Glass series.

The model reads noisy observations x_0 .. x_{T-1} and predicts at every step t the clean next
value s_{t+1}. The noise is observation noise: the target is the clean signal, so a good
forecaster can average the noise away and the solved bound is reachable at every noise
level. The task is causal: the next input holds the answer, so bidirectional models are refused.
"""

from __future__ import annotations

import math
from functools import cached_property, lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from rnnbench.tasks.base import Batch, Evaluation, Task

SOLVED_RELATIVE_MSE = 0.5  # solved when the model's MSE is below half the persistence MSE
COMPONENTS = 3  # sines per series
AMPLITUDE = (0.5, 1.0)  # uniform range of each sine's amplitude
FREQUENCY = (0.1, 0.6)  # uniform range of angular frequency, radians per step (periods 10-63 steps)

# Mackey-Glass dx/dt = beta·x(t-tau) / (1 + x(t-tau)^n) - gamma·x(t), the chaotic tau = 17 setting,
# Euler steps of DT time units, one sample per time unit, a bank of trajectories from fixed histories.
MG_BETA, MG_GAMMA, MG_N, MG_TAU, MG_DT = 0.2, 0.1, 10, 17, 0.1
MG_TRAJECTORIES, MG_BURN_IN, MG_MIN_POINTS = 32, 500, 4000


@lru_cache(maxsize=4)
def mackey_glass_bank(points: int) -> np.ndarray:
    """(MG_TRAJECTORIES, points) float64 Mackey-Glass series, standardized; deterministic."""
    per_unit = round(1 / MG_DT)
    delay = MG_TAU * per_unit
    steps = (MG_BURN_IN + points) * per_unit
    history = np.empty((delay + steps + 1, MG_TRAJECTORIES))
    history[: delay + 1] = np.linspace(0.3, 1.5, MG_TRAJECTORIES)  # constant initial histories
    for k in range(delay, delay + steps):  # a loop over time, vectorized over trajectories
        lagged = history[k - delay]
        history[k + 1] = history[k] + MG_DT * (MG_BETA * lagged / (1 + lagged**MG_N) - MG_GAMMA * history[k])
    series = history[delay + MG_BURN_IN * per_unit + per_unit :: per_unit][:points].T
    return (series - series.mean()) / series.std()


@lru_cache(maxsize=8)
def _bank_on(points: int, device: str) -> Tensor:
    return torch.from_numpy(mackey_glass_bank(points)).float().to(device)


class Sine(Task):
    """Inputs (B, T, 1): noisy observations s_t + noise·N(0, 1). Targets (B, T) float: s_{t+1}.
    Loss and metric: MSE over all T steps. The "chance" score is the persistence
    baseline (predict the last observation), MSE = E[(s_{t+1} - s_t)²] + noise²; in closed form for
    sines, from the bank for Mackey-Glass. It is not the best memoryless predictor: a scaled
    persistence (0.927·x_t) scores lower (MSE 0.1212 against 0.1257, per the task audit).
    Solved: MSE below 0.5 × the persistence MSE.

    `series: sines`: s_t = sum of 3 sines, amplitude ~ U[0.5, 1], angular frequency ~ U[0.1, 0.6]
    rad/step, phase ~ U[0, 2π), drawn per sequence. `series: mackey_glass`: windows at uniform
    offsets of a fixed bank of 32 standardized trajectories (τ = 17, one sample per time unit,
    at least 4000 points each); different seeds see different windows and noise, but windows of
    training and held-out sets come from the same deterministic attractor.
    """

    name = "sine"
    follows = "stock-market-style forecasting from the lecture; Mackey & Glass 1977 (tau = 17) series"
    metric_name = "mse"
    higher_is_better = False
    input_size = 1
    output_size = 1

    def __init__(self, seq_len: int, series: str = "sines", noise: float = 0.05) -> None:
        if seq_len < 1:
            raise ValueError(f"sine needs seq_len >= 1, got {seq_len}")
        if series not in ("sines", "mackey_glass"):
            raise ValueError(f"sine series must be 'sines' or 'mackey_glass', got {series!r}")
        super().__init__(seq_len)
        self.series = series
        self.noise = noise
        self.bank_points = max(MG_MIN_POINTS, 4 * (seq_len + 1))

    @cached_property
    def chance(self) -> float:
        return self._persistence_signal_mse() + self.noise**2

    @property
    def chance_loss(self) -> float:
        return self.chance

    def _persistence_signal_mse(self) -> float:
        if self.series == "sines":
            # For a sine of amplitude A, frequency w and uniform phase, E[(s_{t+1} - s_t)²] = A²(1 - cos w).
            a, b = AMPLITUDE
            w_low, w_high = FREQUENCY
            mean_square_amplitude = (a * a + a * b + b * b) / 3
            mean_cos = (math.sin(w_high) - math.sin(w_low)) / (w_high - w_low)
            return COMPONENTS * mean_square_amplitude * (1 - mean_cos)
        bank = mackey_glass_bank(self.bank_points)
        squared = np.diff(bank, axis=1) ** 2  # (trajectories, points - 1)
        # Weight each increment by how many (window offset, step) pairs use it.
        offsets, steps = self.bank_points - self.seq_len, self.seq_len
        index = np.arange(squared.shape[1])
        weight = np.minimum(index, offsets - 1) - np.maximum(0, index - steps + 1) + 1
        return float((squared * weight).sum() / (weight.sum() * bank.shape[0]))

    def sample(self, batch_size: int, generator: torch.Generator, device: torch.device | str = "cpu") -> Batch:
        on, steps = generator.device, self.seq_len
        if self.series == "sines":
            shape = (batch_size, 1, COMPONENTS)
            amplitude = _uniform(shape, AMPLITUDE, generator)
            frequency = _uniform(shape, FREQUENCY, generator)
            phase = _uniform(shape, (0.0, 2 * math.pi), generator)
            time = torch.arange(steps + 1, device=on, dtype=torch.float32).view(1, -1, 1)
            clean = (amplitude * torch.sin(frequency * time + phase)).sum(dim=-1)
        else:
            bank = _bank_on(self.bank_points, str(on))
            which = torch.randint(0, bank.shape[0], (batch_size, 1), generator=generator, device=on)
            offset = torch.randint(0, self.bank_points - steps, (batch_size, 1), generator=generator, device=on)
            clean = bank[which, offset + torch.arange(steps + 1, device=on)]
        observed = clean + self.noise * torch.randn(clean.shape, generator=generator, device=on)
        return Batch(observed[:, :steps].unsqueeze(-1), clean[:, 1:]).to(device)

    def loss(self, outputs: Tensor, batch: Batch) -> Tensor:
        return F.mse_loss(outputs.reshape(batch.targets.shape), batch.targets)

    @torch.no_grad()
    def evaluate(self, outputs: Tensor, batch: Batch) -> Evaluation:
        mse = self.loss(outputs, batch).item()
        return Evaluation(loss=mse, metric=mse, solved=mse < SOLVED_RELATIVE_MSE * self.chance)


def _uniform(shape: tuple[int, ...], bounds: tuple[float, float], generator: torch.Generator) -> Tensor:
    low, high = bounds
    return low + (high - low) * torch.rand(shape, generator=generator, device=generator.device)
