"""The lookahead task: targets by definition, its chance score exact for every causal model, and (slow) that a
unidirectional LSTM stays at chance while a Bi-LSTM solves it."""

from __future__ import annotations

import math

import pytest
import torch

from rnnbench.catalog import TASK_SPECS
from rnnbench.models.registry import MODELS
from rnnbench.suite.schema import TaskEntry
from rnnbench.tasks.data import eval_batch, train_batches
from rnnbench.tasks.lookahead import Lookahead, repeat_probability
from rnnbench.tasks.registry import TASKS

MANY = 20_000


def symbols_of(batch) -> torch.Tensor:
    return batch.inputs.argmax(dim=-1)


@pytest.mark.parametrize(("symbols", "window"), [(2, 1), (4, 2), (5, 3)])
def test_targets_follow_the_definition_step_by_step(symbols, window):
    task = TASKS["lookahead"](seq_len=9, symbols=symbols, window=window)
    batch = task.sample(64, torch.Generator().manual_seed(0))
    assert batch.inputs.shape == (64, 9, symbols) and batch.targets.shape == (64, 9 - window)
    assert torch.equal(batch.inputs.sum(dim=-1), torch.ones(64, 9))  # one-hot at every step, no padding
    x = symbols_of(batch).tolist()
    for b in range(64):
        expected = [float(x[b][t] in x[b][t + 1 : t + 1 + window]) for t in range(9 - window)]
        assert batch.targets[b].tolist() == expected


@pytest.mark.parametrize(("symbols", "window"), [(2, 1), (4, 2), (8, 5)])
def test_repeat_rate_and_chance_match_the_formula(symbols, window):
    task = Lookahead(seq_len=12, symbols=symbols, window=window)
    p = repeat_probability(symbols, window)
    assert p == pytest.approx(1 - (1 - 1 / symbols) ** window)
    targets = task.sample(MANY // 10, torch.Generator().manual_seed(1)).targets
    assert targets.mean().item() == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / targets.numel()))
    assert task.chance == pytest.approx(max(p, 1 - p))
    assert task.chance_loss == pytest.approx(-(p * math.log(p) + (1 - p) * math.log(1 - p)))


def test_the_past_says_nothing_about_the_target():
    """Whatever a causal model has read (here: the current and the previous symbol), the repeat rate is p."""
    task = Lookahead(seq_len=10, symbols=4, window=2)
    batch = task.sample(MANY, torch.Generator().manual_seed(2))
    x, y = symbols_of(batch)[:, : task.scored], batch.targets
    p = task.p_repeat
    for current in range(4):
        for previous in range(4):
            where = (x[:, 1:] == current) & (x[:, :-1] == previous)
            rate = y[:, 1:][where].mean().item()
            tolerance = 4 * math.sqrt(p * (1 - p) / where.sum().item())
            assert rate == pytest.approx(p, abs=tolerance), (current, previous)


def test_the_best_causal_prediction_scores_chance_and_the_future_aware_one_solves():
    task = Lookahead(seq_len=10, symbols=4, window=2)
    batch = task.sample(4000, torch.Generator().manual_seed(3))
    majority = 1.0 if task.p_repeat > 0.5 else -1.0
    constant = torch.full((4000, 10, 1), majority)
    result = task.evaluate(constant, batch)
    assert result.metric == pytest.approx(task.chance, abs=0.01) and not result.solved
    assert not task.beats_chance(result.metric)
    informed = torch.cat([batch.targets * 20 - 10, torch.zeros(4000, task.window)], dim=1).unsqueeze(-1)
    perfect = task.evaluate(informed, batch)
    assert perfect.metric == 1.0 and perfect.solved


def test_the_last_window_steps_are_unscored():
    task = Lookahead(seq_len=8, symbols=3, window=3)
    batch = task.sample(16, torch.Generator().manual_seed(4))
    outputs = torch.randn(16, 8, 1)
    changed = outputs.clone()
    changed[:, -3:] = 100.0
    assert task.loss(outputs, batch) == task.loss(changed, batch)
    assert task.evaluate(outputs, batch) == task.evaluate(changed, batch)


def test_seq_len_must_leave_a_scored_step():
    with pytest.raises(ValueError, match="seq_len > window"):
        Lookahead(seq_len=3, window=3)
    with pytest.raises(ValueError):
        Lookahead(seq_len=5, symbols=1)
    assert TASK_SPECS["lookahead"].future and not TASK_SPECS["lookahead"].causal
    with pytest.raises(ValueError, match="minimum of 6 with these options"):
        TaskEntry.model_validate({"task": "lookahead", "seq_len": 5, "window": 5})
    with pytest.raises(ValueError, match="symbols"):
        TaskEntry.model_validate({"task": "lookahead", "seq_len": 5, "symbols": 1})
    TaskEntry.model_validate({"task": "lookahead", "seq_len": 6, "window": 5})


def train(arch: str, task: Lookahead, steps: int, seed: int) -> float:
    """Held-out accuracy of `arch` after `steps` Adam steps (hidden 16, batch 32), through the project's registry."""
    torch.manual_seed(seed)
    model = MODELS[arch](
        input_size=task.input_size, output_size=1, output_kind="sequence", hidden_size=16, impl="fused"
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    stream = train_batches(task, 32, seed=seed)
    for _ in range(steps):
        batch = next(stream)
        loss = task.loss(model(batch.inputs), batch)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    held_out = eval_batch(task, 1000, seed=seed)
    with torch.no_grad():
        return task.evaluate(model(held_out.inputs), held_out).metric


@pytest.mark.slow
@pytest.mark.parametrize(("symbols", "window"), [(4, 2), (2, 1)])
def test_unidirectional_models_stay_at_chance_and_bilstm_solves(symbols, window):
    task = Lookahead(seq_len=10, symbols=symbols, window=window)
    for seed in (0, 1):
        for arch in ("lstm", "gru", "rnn"):
            accuracy = train(arch, task, steps=400, seed=seed)
            assert abs(accuracy - task.chance) <= 0.02, f"{arch} seed {seed}: {accuracy:.4f} vs {task.chance:.4f}"
        accuracy = train("bilstm", task, steps=400, seed=seed)
        assert accuracy >= 0.99, f"bilstm seed {seed}: {accuracy:.4f}"
