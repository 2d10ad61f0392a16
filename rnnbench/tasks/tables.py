"""Reading the user's data files with pandas (the `data` extra): CSV, TSV, JSON Lines, Parquet; every problem one line.

Torch-free. A `DataError` names the file and, where there is one, the row and the column: rows are
counted from 1 over the data rows (a CSV's header is line 1, so row r is line r + 1). Files are
identified by their size and SHA-256, read once per process (cached on path, size and mtime).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

HASH_CHUNK = 1 << 20
TEXT_FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
SERIES_FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".parquet": "parquet", ".pq": "parquet"}


class DataError(Exception):
    """A data file that cannot be used; the message is one line naming the file (and row and column)."""

    def __init__(self, message: str) -> None:
        super().__init__(message.replace("\r", "\\r").replace("\n", "\\n"))


@dataclass(frozen=True)
class FileIdentity:
    """What identifies a data file in the results: where it was, how large, its bytes' hash."""

    path: str
    size_bytes: int
    sha256: str


def file_identity(path: Path) -> FileIdentity:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return FileIdentity(str(path), path.stat().st_size, digest.hexdigest())


def checked_path(path: str, formats: dict[str, str]) -> tuple[Path, str]:
    """The file as a Path and its format, from its suffix; a missing or unreadable file is a DataError."""
    file = Path(path)
    fmt = formats.get(file.suffix.lower())
    if fmt is None:
        raise DataError(f"{path}: unknown file type {file.suffix or '(no suffix)'!r} (known: {', '.join(formats)})")
    if not file.exists():
        raise DataError(f"{path}: no such file")
    if not file.is_file():
        raise DataError(f"{path}: not a regular file")
    if not os.access(file, os.R_OK):
        raise DataError(f"{path}: cannot read (permission denied)")
    if fmt == "parquet" and importlib.util.find_spec("pyarrow") is None:
        raise DataError(f"{path}: reading Parquet needs pyarrow, which is not installed: pip install pyarrow")
    return file, fmt


def read_frame(path: str, formats: dict[str, str], columns: list[str], as_text: bool = False) -> pd.DataFrame:
    """The named columns of the file, in file order (the tasks cache what they make of it, not the frame)."""
    file, fmt = checked_path(path, formats)
    return _read(str(file), fmt, tuple(columns), as_text)


def _read(path: str, fmt: str, columns: tuple[str, ...], as_text: bool) -> pd.DataFrame:
    import pandas as pd

    try:
        if fmt == "parquet":
            frame = pd.read_parquet(path)
        elif fmt == "jsonl":
            frame = pd.read_json(path, lines=True, dtype=False)
        else:
            sep = "\t" if fmt == "tsv" else ","
            header = pd.read_csv(path, sep=sep, nrows=0).columns
            _check_columns(path, list(header), columns)
            text_options = {"dtype": str, "keep_default_na": False, "na_values": [""]} if as_text else {}
            # a blank line is a row of missing values (in a one-column file, that is how a gap looks), not nothing
            frame = pd.read_csv(path, sep=sep, usecols=list(columns), skip_blank_lines=False, **text_options)
    except DataError:
        raise
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataError(f"{path}: cannot read as {fmt}: {_first_line(err)}") from None
    _check_columns(path, [str(c) for c in frame.columns], columns)
    return frame[list(columns)]


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def _check_columns(path: str, present: list[str], wanted: tuple[str, ...]) -> None:
    for name in wanted:
        if name not in present:
            shown = ", ".join(present[:20]) + (", …" if len(present) > 20 else "")
            raise DataError(f"{path}: no column {name!r} (columns: {shown})")


def row_place(fmt_path: str, index: int) -> str:
    """'row r (line l)' for a 0-based data row of a CSV/TSV (header on line 1); 'row r' elsewhere."""
    row = index + 1
    if Path(fmt_path).suffix.lower() in (".csv", ".tsv", ".tab"):
        return f"row {row} (line {row + 1})"
    if Path(fmt_path).suffix.lower() in (".jsonl", ".ndjson"):
        return f"row {row} (line {row})"
    return f"row {row}"


def cell(value: object) -> str:
    """A cell as an error quotes it: text in quotes, a number as itself (never `np.int64(4)`)."""
    if hasattr(value, "item"):
        value = value.item()
    return repr(value) if isinstance(value, str) else str(value)


def numeric_columns(path: str, frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """(rows, columns) float64; a cell that is not a number is a DataError naming its row and column."""
    import pandas as pd

    out = np.empty((len(frame), len(columns)), dtype=np.float64)
    for j, name in enumerate(columns):
        column = frame[name]
        if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            numbers = pd.to_numeric(column, errors="coerce")
            bad = np.flatnonzero(numbers.isna().to_numpy() & column.notna().to_numpy())
            if len(bad) or pd.api.types.is_bool_dtype(column):
                i = int(bad[0]) if len(bad) else 0
                raise DataError(
                    f"{path}: {row_place(path, i)}, column {name!r}: {cell(column.iloc[i])} is not a number"
                )
            column = numbers
        out[:, j] = column.to_numpy(dtype=np.float64, na_value=np.nan)
    bad_rows, bad_cols = np.nonzero(np.isinf(out))
    if len(bad_rows):
        raise DataError(
            f"{path}: {row_place(path, int(bad_rows[0]))}, column {columns[int(bad_cols[0])]!r}: infinite value"
        )
    return out


def time_order(path: str, frame: pd.DataFrame, name: str) -> None:
    """The rows must already be sorted by column `name` (numbers or dates); the first row out of order is named."""
    import pandas as pd

    column = frame[name]
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        with warnings.catch_warnings():  # pandas warns when it guesses the format element by element
            warnings.simplefilter("ignore", UserWarning)
            times = pd.to_datetime(column, errors="coerce")
        unreadable = np.flatnonzero(times.isna().to_numpy() & column.notna().to_numpy())
        if len(unreadable):
            i = int(unreadable[0])
            raise DataError(f"{path}: {row_place(path, i)}, column {name!r}: {cell(column.iloc[i])} is not a time")
        values = times.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
        values[times.isna().to_numpy()] = np.nan
    missing = np.flatnonzero(np.isnan(values))
    if len(missing):
        raise DataError(f"{path}: {row_place(path, int(missing[0]))}, column {name!r}: missing time")
    backwards = np.flatnonzero(np.diff(values) < 0)
    if len(backwards):
        i = int(backwards[0]) + 1
        raise DataError(
            f"{path}: {row_place(path, i)}, column {name!r}: {cell(column.iloc[i])} comes before the previous row's "
            f"{cell(column.iloc[i - 1])}; the rows must already be sorted by {name}"
        )
