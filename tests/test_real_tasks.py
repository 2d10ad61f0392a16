"""The real-data tasks: digits (scikit-learn's optical digits) and charlm (the stdlib's source)."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from collections import Counter

import numpy as np
import pytest
import torch
from results_factory import case as make_case
from results_factory import document
from typer.testing import CliRunner

from rnnbench.catalog import TASK_SPECS, missing_extra
from rnnbench.claims.types import SUPPORTED, ClaimResult, Finding
from rnnbench.cli.main import app
from rnnbench.compare.comparison import CompareError
from rnnbench.compare.pairing import compare
from rnnbench.results.store import save_atomic
from rnnbench.run.runner import run_case
from rnnbench.suite.expand import expand, load_suite, parse_suite
from rnnbench.suite.files import SuiteError
from rnnbench.tasks.charlm import CharLM, unigram_entropy_from_codes
from rnnbench.tasks.corpus import CORPUS_FILES, TRAIN_FRACTION, load_corpus, stdlib_dir, unigram_entropy_bits
from rnnbench.tasks.data import eval_batch, train_batches
from rnnbench.tasks.digits import CLASSES, Digits, load_raw, pixel_permutation, split_indices

runner = CliRunner()

DIGITS_SUITE = """
name: tiny-real
seeds: [0]
device: cpu
defaults:
  hidden_size: 8
  batch_size: 4
  train: {max_steps: 4, max_seconds: 5, eval_every: 2, eval_size: 16}
  timing: {warmup: 1, min_repeats: 3, max_repeats: 5, max_seconds: 0.2}
  inference: {batch_sizes: [1]}
models: [lstm, bilstm]
tasks:
  - {task: digits, seq_len: 8, order: row}
  - {task: charlm, seq_len: 5, models: [lstm]}
"""


def first_batches(task, seed: int, train_size: int | None = None, n: int = 3) -> list[torch.Tensor]:
    stream = train_batches(task, 4, seed, train_size=train_size)
    return [next(stream).inputs for _ in range(n)]


# --- determinism -----------------------------------------------------------------------------


def test_digits_split_is_fixed_disjoint_and_complete() -> None:
    _, labels = load_raw()
    train, test = split_indices(labels)
    again_train, again_test = split_indices(labels)
    assert np.array_equal(train, again_train) and np.array_equal(test, again_test)
    assert not set(train) & set(test)
    assert sorted(np.concatenate([train, test])) == list(range(len(labels)))
    other_train, _ = split_indices(labels, seed=0)
    assert not np.array_equal(np.sort(train), np.sort(other_train)), "the split seed must matter"


@pytest.mark.parametrize("options", [{"order": "pixel"}, {"order": "row"}, {"order": "pixel", "permute": True}])
def test_digits_batches_are_deterministic(options: dict) -> None:
    seq_len = 64 if options["order"] == "pixel" else 8
    task = Digits(seq_len=seq_len, **options)
    for train_size in (None, 16):
        a, b = first_batches(task, 3, train_size), first_batches(task, 3, train_size)
        assert all(torch.equal(x, y) for x, y in zip(a, b))
        assert not torch.equal(a[0], first_batches(task, 4, train_size)[0]), "another seed, other batches"
    # the held-out set is the same fixed split for every seed
    assert torch.equal(eval_batch(task, 100, 0).inputs, eval_batch(task, 100, 7).inputs)
    assert len(eval_batch(task, 10_000, 0)) == task.n_test == 450


def test_digits_train_size_pool_holds_distinct_train_examples() -> None:
    task = Digits(seq_len=8, order="row")
    seen = torch.cat([b.inputs.flatten(1) for b in first_batches_full(task, 16)])
    assert torch.unique(seen, dim=0).shape[0] <= 16, "a pool of 16 is visited, nothing else"
    test_rows = {tuple(row.tolist()) for row in task.test_inputs.flatten(1)}
    train_rows = {tuple(row.tolist()) for row in task.train_inputs.flatten(1)}
    assert len(test_rows - train_rows) > 0.9 * len(test_rows), "held-out images are not the train images"
    with pytest.raises(ValueError, match="train split holds 1347"):
        next(train_batches(task, 4, 0, train_size=5000))


def first_batches_full(task, train_size: int):
    stream = train_batches(task, 8, 0, train_size=train_size)
    return [next(stream) for _ in range(6)]


def test_digits_orders_and_permutation_read_the_same_pixels() -> None:
    pixel, row = Digits(seq_len=64), Digits(seq_len=8, order="row")
    permuted = Digits(seq_len=64, permute=True)
    assert pixel.input_size == 1 and row.input_size == 8
    assert torch.equal(pixel.test_inputs.reshape(-1, 64), row.test_inputs.reshape(-1, 64))
    perm = torch.from_numpy(pixel_permutation())
    assert torch.equal(permuted.test_inputs.reshape(-1, 64), pixel.test_inputs.reshape(-1, 64)[:, perm])
    assert not torch.equal(permuted.test_inputs, pixel.test_inputs)
    assert 0.0 <= float(pixel.test_inputs.min()) and float(pixel.test_inputs.max()) == 1.0
    with pytest.raises(ValueError, match="seq_len 64"):
        Digits(seq_len=8)


def test_charlm_batches_are_deterministic_and_shifted() -> None:
    task = CharLM(seq_len=5)
    for train_size in (None, 16):
        a, b = first_batches(task, 1, train_size), first_batches(task, 1, train_size)
        assert all(torch.equal(x, y) for x, y in zip(a, b))
        assert not torch.equal(a[0], first_batches(task, 2, train_size)[0])
    batch = next(train_batches(task, 4, 0))
    assert batch.inputs.shape == (4, 5, task.input_size) and batch.targets.shape == (4, 5)
    # the target at step t is the input at step t + 1
    assert torch.equal(batch.inputs.argmax(-1)[:, 1:], batch.targets[:, :-1])
    held = eval_batch(task, 3, 0)
    assert torch.equal(held.inputs, eval_batch(task, 3, 9).inputs), "the same held-out windows for every seed"
    text = "".join(task.vocabulary[i] for i in held.inputs.argmax(-1).flatten().tolist())
    assert text == load_corpus().test[:15], "held-out windows tile the held-out text from its start"


def test_corpus_is_a_fixed_stdlib_selection_split_per_file() -> None:
    corpus = load_corpus()
    files = [(stdlib_dir() / name).read_text(encoding="utf-8") for name in CORPUS_FILES]
    assert corpus.train == "".join(f[: int(TRAIN_FRACTION * len(f))] for f in files)
    assert corpus.test == "".join(f[int(TRAIN_FRACTION * len(f)) :] for f in files)
    assert len(corpus.text) > 500_000
    assert corpus.python == sys.version.split()[0]


def test_corpus_from_another_folder_has_another_hash(tmp_path) -> None:
    for name in CORPUS_FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(f"# {name}\nx = 1\n")
    assert load_corpus(str(tmp_path)).sha256 != load_corpus().sha256
    (tmp_path / CORPUS_FILES[0]).unlink()
    with pytest.raises(Exception, match=CORPUS_FILES[0]):
        load_corpus.__wrapped__(str(tmp_path))


# --- chance scores ---------------------------------------------------------------------------


def test_unigram_entropy_two_ways() -> None:
    assert unigram_entropy_bits("aab") == pytest.approx(-(2 / 3) * math.log2(2 / 3) - (1 / 3) * math.log2(1 / 3))
    assert unigram_entropy_bits("abcd" * 5) == pytest.approx(2.0)
    task = CharLM(seq_len=10)
    counted = unigram_entropy_bits(load_corpus().text)  # collections.Counter over characters
    binned = unigram_entropy_from_codes(torch.cat([task.train_codes, task.test_codes]), task.input_size)
    assert task.chance == pytest.approx(counted, rel=1e-9) == pytest.approx(binned, rel=1e-9)
    assert task.chance_loss == pytest.approx(counted * math.log(2))
    assert 3.0 < task.chance < math.log2(task.input_size), "real text is far from uniform over its characters"


def test_charlm_scores_a_unigram_predictor_at_chance() -> None:
    task = CharLM(seq_len=20)
    batch = eval_batch(task, 10**6, 0)  # every held-out window
    text = load_corpus().text
    counts = Counter(text)
    probs = torch.tensor([counts[c] for c in task.vocabulary], dtype=torch.float64) / len(text)
    logits = probs.log().float().expand(len(batch), 20, -1)
    evaluation = task.evaluate(logits, batch)
    targets = "".join(task.vocabulary[i] for i in batch.targets.flatten().tolist())
    by_hand = sum(-math.log2(counts[c] / len(text)) for c in targets) / len(targets)
    assert evaluation.metric == pytest.approx(by_hand, rel=1e-5), "bits per character is the mean -log2 p"
    # the held-out text is a tenth of every file: its cross-entropy under the unigram is near the entropy
    assert evaluation.metric == pytest.approx(task.chance, rel=0.05)
    assert not evaluation.solved and not task.beats_chance(evaluation.metric)


def test_digits_classes_are_balanced_so_chance_is_a_tenth() -> None:
    task = Digits(seq_len=8, order="row")
    for targets in (task.train_targets, task.test_targets):
        shares = torch.bincount(targets, minlength=CLASSES).double() / len(targets)
        assert float(shares.min()) > 0.09 and float(shares.max()) < 0.11
    majority = int(torch.bincount(task.train_targets).argmax())
    best_memoryless = float((task.test_targets == majority).double().mean())
    assert task.chance == 0.1 and best_memoryless == pytest.approx(task.chance, abs=0.01)


# --- validation -----------------------------------------------------------------------------


def test_missing_extra_fails_validation_in_one_line(write_suite, monkeypatch) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a, **k: None if name == "sklearn" else real_find_spec(name, *a, **k)
    )
    assert missing_extra("digits") is not None and missing_extra("charlm") is None
    path = write_suite(DIGITS_SUITE)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "rnnbench[data]" in lines[0] and "scikit-learn" in lines[0] and str(path) in lines[0]
    assert "Traceback" not in result.output


def test_digits_seq_len_must_match_its_order(write_suite) -> None:
    with pytest.raises(SuiteError, match="digits with these options has seq_len 8"):
        load_suite(write_suite(DIGITS_SUITE.replace("seq_len: 8, order: row", "seq_len: 64, order: row")))
    with pytest.raises(SuiteError, match="fixed seq_len"):
        load_suite(write_suite(DIGITS_SUITE + "matrix: {seq_len: [8, 16]}\n"))


def test_task_models_restrict_pairings(write_suite) -> None:
    _, cases, _ = load_suite(write_suite(DIGITS_SUITE))
    pairs = {(c.task, c.arch) for c in cases}
    assert pairs == {("digits", "lstm"), ("digits", "bilstm"), ("charlm", "lstm")}
    with pytest.raises(SuiteError, match="bidirectional bilstm on causal task charlm"):
        load_suite(write_suite(DIGITS_SUITE.replace("models: [lstm]}", "models: [lstm, bilstm]}")))
    with pytest.raises(SuiteError, match=r"tasks\[1\].models: 'gru' is not a model"):
        load_suite(write_suite(DIGITS_SUITE.replace("models: [lstm]}", "models: [gru]}")))


def test_builtin_real_suite_validates() -> None:
    suite, cases, _ = load_suite("real")
    assert len(suite.seeds) == 3 and {c.arch for c in cases} == {"rnn", "lstm", "gru", "bilstm"}
    assert not any(c.arch == "bilstm" and c.task == "charlm" for c in cases)
    assert all(c.settings.match_params == "lstm" for c in cases), "equal core parameters"
    assert TASK_SPECS["digits"].real and TASK_SPECS["charlm"].real and not TASK_SPECS["adding"].real


# --- results: data records, compare ------------------------------------------------------------


def test_cases_record_the_data_they_ran_on(write_suite) -> None:
    suite = parse_suite(__import__("yaml").safe_load(DIGITS_SUITE), "tiny")
    records = {c.task: run_case(c) for c in expand(suite) if c.arch == "lstm"}
    assert all(r["status"] == "ok" for r in records.values()), [r.get("error") for r in records.values()]
    charlm = records["charlm"]["data"]
    assert charlm["sha256"] == load_corpus().sha256 and charlm["python"] == sys.version.split()[0]
    assert records["digits"]["data"]["sha256"] == Digits(seq_len=8, order="row").sha256
    final = records["charlm"]["train"]["final"]
    assert final["metric_name"] == "bits/char" and final["chance"] == pytest.approx(
        unigram_entropy_bits(load_corpus().text)
    )


def charlm_doc(sha: str, python: str) -> dict:
    record = make_case("lstm", "adding", 5)
    record.update(id="charlm/T5/lstm/h8/s0", task="charlm", data={"dataset": "charlm", "sha256": sha, "python": python})
    return document([record], "real")


def test_compare_refuses_another_corpus(tmp_path) -> None:
    same = compare(charlm_doc("a" * 64, "3.11.7"), charlm_doc("a" * 64, "3.11.7"))
    assert same.rows
    with pytest.raises(CompareError, match="different data for task charlm.*3.12.1"):
        compare(charlm_doc("a" * 64, "3.11.7"), charlm_doc("b" * 64, "3.12.1"))
    base, new = tmp_path / "base.json", tmp_path / "new.json"
    save_atomic(base, charlm_doc("a" * 64, "3.11.7"))
    save_atomic(new, charlm_doc("b" * 64, "3.12.1"))
    result = runner.invoke(app, ["compare", str(base), str(new)])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and "different data" in result.output
    assert json.loads(base.read_text())["cases"][0]["data"]["sha256"] == "a" * 64


def test_claims_say_which_verdicts_rest_on_real_data() -> None:
    claim = __import__("rnnbench.claims.table", fromlist=["CLAIMS"]).CLAIMS["bilstm_better"]
    findings = (
        Finding("digits T64 h64", SUPPORTED, ()),
        Finding("digits-order=row T8 h64 n64", SUPPORTED, ()),
        Finding("adding T50 h32", "contradicted", ()),
    )
    result = ClaimResult(claim, "inconclusive", "mixed", findings)
    assert result.by_data() == {"real": (SUPPORTED, ("digits",)), "synthetic": ("contradicted", ("adding",))}
    assert result.to_dict()["data"]["synthetic"]["tasks"] == ["adding"]


# --- science (slow) ------------------------------------------------------------------------------


@pytest.mark.slow
def test_lstm_beats_chance_on_digits_row_by_row_within_a_minute(write_suite) -> None:
    suite = load_suite(
        write_suite(
            DIGITS_SUITE.replace("models: [lstm, bilstm]", "models: [lstm]")
            .replace("hidden_size: 8", "hidden_size: 32")
            .replace("batch_size: 4", "batch_size: 32")
            .replace(
                "{max_steps: 4, max_seconds: 5, eval_every: 2, eval_size: 16}",
                "{max_steps: 400, max_seconds: 40, eval_every: 50, eval_size: 450}",
            )
        )
    )[1]
    record = run_case(next(c for c in suite if c.task == "digits"))
    final = record["train"]["final"]
    assert record["status"] == "ok" and final["beats_chance"]
    assert final["metric"] > 0.6, f"held-out accuracy {final['metric']:.3f} is not clearly above chance 0.1"
    assert record["wall_s"] < 60
