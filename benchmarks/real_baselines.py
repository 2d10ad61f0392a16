"""Reference scores for the real-data tasks' solved thresholds: n-gram models on charlm, a linear model on digits.

Run: `python benchmarks/real_baselines.py` (needs scikit-learn). Prints what docs/real-data.md quotes:
the held-out bits per character of smoothed n-gram character models (as a share of the unigram
entropy, the charlm chance score) and the held-out accuracy of logistic regression on the whole
8×8 image (the digits split), with the majority-class baseline.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from rnnbench.tasks.corpus import load_corpus, unigram_entropy_bits
from rnnbench.tasks.digits import load_raw, split_indices

SMOOTHING = 0.1  # additive, per vocabulary entry


def ngram_bpc(train: str, test: str, context: int, vocab: int) -> float:
    """Held-out bits per character of an additively smoothed model with `context` characters of context."""
    joint: Counter[str] = Counter(train[i - context : i + 1] for i in range(context, len(train)))
    ctx: Counter[str] = Counter(train[i - context : i] for i in range(context, len(train)))
    total = 0.0
    for i in range(context, len(test)):
        total -= math.log2(
            (joint[test[i - context : i + 1]] + SMOOTHING) / (ctx[test[i - context : i]] + SMOOTHING * vocab)
        )
    return total / (len(test) - context)


def main() -> None:
    corpus = load_corpus()
    entropy = unigram_entropy_bits(corpus.text)
    vocab = len(corpus.vocabulary)
    print(f"charlm corpus sha256 {corpus.sha256[:12]} (Python {corpus.python}), {len(corpus.text):,} chars, V={vocab}")
    print(f"  unigram entropy (chance): {entropy:.3f} bits/char")
    for context in (1, 2, 3):
        bpc = ngram_bpc(corpus.train, corpus.test, context, vocab)
        print(
            f"  {context + 1}-gram, {context} char(s) of context: {bpc:.3f} bits/char = {bpc / entropy:.3f} of chance"
        )

    from sklearn.linear_model import LogisticRegression

    images, labels = load_raw()
    train, test = split_indices(labels)
    model = LogisticRegression(max_iter=2000).fit(images[train] / 16, labels[train])
    majority = np.bincount(labels[train]).argmax()
    print(f"digits split: {len(train)} train, {len(test)} held out")
    print(f"  logistic regression on the whole image: accuracy {model.score(images[test] / 16, labels[test]):.3f}")
    print(f"  majority class of the train split: accuracy {np.mean(labels[test] == majority):.3f}")


if __name__ == "__main__":
    main()
