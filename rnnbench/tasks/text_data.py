"""The `text` task's data, torch-free: reading texts and labels, the stratified split, the vocabulary, encoding.

Labels are strings, mapped to ids in sorted order. The split is stratified: each label's rows are
shuffled with `split_seed` and round(share × count) of them go to the test (and validation)
part, the rest to train, so every part keeps the label shares; a label left with no train row
would be seen only in the test split, which is an error. The vocabulary is counted on the train
texts alone: id 0 is padding, 1 the unknown token (a test-only token, or one seen fewer than
`min_count` times), then the `max_vocab - 1` most frequent tokens. Each text keeps its first
`seq_len` tokens, left-padded with 0 to `seq_len`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from rnnbench.tasks.tables import TEXT_FORMATS, DataError, read_frame, row_place

PAD, UNKNOWN = 0, 1
WORD = re.compile(r"\w+|[^\w\s]")  # words and single punctuation marks, after lower-casing


@dataclass(frozen=True)
class LabelledTexts:
    texts: list[str]
    labels: np.ndarray  # (rows,) int64 ids into `names`
    names: list[str]  # label strings, sorted


def read_texts(path: str, text: str, label: str) -> LabelledTexts:
    """The texts and labels of the file; a missing or empty text or label names its row."""
    frame = read_frame(path, TEXT_FORMATS, [text, label], as_text=True)
    for name in (text, label):
        column = frame[name]
        missing = np.flatnonzero(column.isna().to_numpy() | (column.astype(str).str.strip() == "").to_numpy())
        if len(missing):
            raise DataError(f"{path}: {row_place(path, int(missing[0]))}, column {name!r}: missing or empty value")
    if len(frame) == 0:
        raise DataError(f"{path}: no rows")
    label_text = frame[label].astype(str).to_numpy()
    names, ids = np.unique(label_text, return_inverse=True)
    return LabelledTexts(frame[text].astype(str).tolist(), ids.astype(np.int64), [str(n) for n in names])


def stratified_split(path: str, data: LabelledTexts, shares: list[float], seed: int) -> dict[str, np.ndarray]:
    """Row indices of each part (train, [validation,] test), each part shuffled; seeded, stratified by label."""
    names = ("train", "test") if len(shares) == 2 else ("train", "validation", "test")
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for label in range(len(data.names)):
        members = rng.permutation(np.flatnonzero(data.labels == label))
        counts = [round(share * len(members)) for share in shares[1:]]
        n_train = len(members) - sum(counts)
        if n_train <= 0:
            raise DataError(
                f"{path}: label {data.names[label]!r} has {len(members)} row(s): the stratified split leaves it none "
                "for training, so it would be seen only in the test split; give it more rows or drop them"
            )
        cuts = np.cumsum([n_train, *counts])
        for name, chunk in zip(names, np.split(members, cuts[:-1])):
            parts[name].append(chunk)
    return {name: rng.permutation(np.concatenate(chunks)) for name, chunks in parts.items()}


def tokenize(text: str, tokens: str) -> list[str] | str:
    return text if tokens == "char" else WORD.findall(text.lower())


def build_vocabulary(texts: list[str], tokens: str, min_count: int, max_vocab: int) -> list[str]:
    """The kept tokens, most frequent first (ties in token order); ids are 2 + their position."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(tokenize(text, tokens))
    kept = sorted((token for token, n in counts.items() if n >= min_count), key=lambda t: (-counts[t], t))
    return kept[: max_vocab - 1]  # one id goes to the unknown token


def encode(texts: list[str], vocabulary: list[str], tokens: str, seq_len: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(ids (texts, seq_len) int32 left-padded with 0, lengths (texts,) int64, texts truncated): the first
    `seq_len` tokens of each."""
    index = {token: i + 2 for i, token in enumerate(vocabulary)}
    whole = [tokenize(text, tokens) for text in texts]
    truncated = sum(len(p) > seq_len for p in whole)
    pieces = [p[:seq_len] for p in whole]
    lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
    flat = np.fromiter((index.get(t, UNKNOWN) for p in pieces for t in p), dtype=np.int32, count=int(lengths.sum()))
    ids = np.zeros((len(texts), seq_len), dtype=np.int32)
    rows = np.repeat(np.arange(len(texts)), lengths)
    offsets = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    ids[rows, seq_len - np.repeat(lengths, lengths) + offsets] = flat
    return ids, lengths, truncated


def class_counts(data: LabelledTexts, parts: dict[str, np.ndarray]) -> dict[str, dict[str, int]]:
    """label -> rows of it in each part."""
    return {
        name: {part: int(np.sum(data.labels[rows] == label)) for part, rows in parts.items()}
        for label, name in enumerate(data.names)
    }
