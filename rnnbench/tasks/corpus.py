"""The charlm corpus: a fixed selection of the running Python's standard-library source, read, split and hashed.

The files are pure-Python modules present in every CPython from 3.10 on; their text changes
between versions, so the corpus is identified by the sha256 of its text (and the Python version
is recorded beside it). Each file is split at 90 % of its characters: the first parts, joined in
the listed order, are the train text; the last parts, joined likewise, the held-out text. Every
file thus contributes to both, and no held-out character is ever trained on.
"""

from __future__ import annotations

import hashlib
import math
import sys
import sysconfig
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CORPUS_FILES = (
    "abc.py",
    "argparse.py",
    "ast.py",
    "base64.py",
    "bisect.py",
    "calendar.py",
    "collections/__init__.py",
    "configparser.py",
    "contextlib.py",
    "copy.py",
    "csv.py",
    "dataclasses.py",
    "difflib.py",
    "enum.py",
    "fractions.py",
    "functools.py",
    "heapq.py",
    "inspect.py",
    "json/decoder.py",
    "json/encoder.py",
    "random.py",
    "shutil.py",
    "statistics.py",
    "string.py",
    "tempfile.py",
    "textwrap.py",
    "typing.py",
)
TRAIN_FRACTION = 0.9


class CorpusError(Exception):
    """The stdlib source cannot be read (a stripped install ships only .pyc files); one line."""


@dataclass(frozen=True)
class Corpus:
    train: str
    test: str
    sha256: str  # of the whole text, files in order
    python: str
    stdlib: str  # the folder the files were read from

    @property
    def text(self) -> str:
        return self.train + self.test

    @property
    def vocabulary(self) -> str:
        """Every character of the corpus, sorted: the one-hot order."""
        return "".join(sorted(set(self.text)))


def stdlib_dir() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


@lru_cache(maxsize=4)
def load_corpus(root: str | None = None) -> Corpus:
    """The corpus read from `root` (default: the running Python's stdlib folder)."""
    folder = Path(root) if root is not None else stdlib_dir()
    digest = hashlib.sha256()
    train, test = [], []
    for name in CORPUS_FILES:
        path = folder / name
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise CorpusError(
                f"charlm corpus: cannot read {path} ({type(err).__name__}); no stdlib source here?"
            ) from None
        digest.update(name.encode() + b"\0" + text.encode("utf-8") + b"\0")
        cut = int(TRAIN_FRACTION * len(text))
        train.append(text[:cut])
        test.append(text[cut:])
    return Corpus("".join(train), "".join(test), digest.hexdigest(), sys.version.split()[0], str(folder))


def unigram_entropy_bits(text: str) -> float:
    """Entropy of the character distribution of `text`, in bits: the best memoryless predictor's loss."""
    counts = Counter(text)
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in counts.values())
