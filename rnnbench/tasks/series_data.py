"""The `series` task's data, torch-free: chronological split, missing values, normalization and baselines.

Rows split in file order into train, [validation,] test parts (`split` shares, rounded down for the
first parts, the rest to test). A window is `seq_len` rows of the input columns, its target the next
`horizon` values of the target column; a window and its target lie inside one part, so no window
crosses a boundary. Normalization (mean and standard deviation per column) is fitted on the train
rows alone; missing values are interpolated within each part, never across a boundary. The
baselines are scored on the test windows in the data's own units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnbench.catalog import SeriesOptions
from rnnbench.tasks.tables import DataError, row_place

PART_NAMES = ("train", "validation", "test")


@dataclass(frozen=True)
class Parts:
    """Row ranges [start, stop) of the parts, in file order (a validation part may be empty)."""

    bounds: tuple[tuple[int, int], ...]
    names: tuple[str, ...]

    def rows(self, name: str) -> tuple[int, int]:
        return self.bounds[self.names.index(name)]

    def differenced(self) -> Parts:
        """The parts over the row-to-row changes: change k (row k to k + 1) stays in a part holding both rows."""
        return Parts(tuple((start, max(start, stop - 1)) for start, stop in self.bounds), self.names)

    def sizes(self) -> dict[str, int]:
        return {name: stop - start for name, (start, stop) in zip(self.names, self.bounds)}


def split_rows(n_rows: int, shares: list[float]) -> Parts:
    """The first parts get floor(share × rows); the test part the rest."""
    names = ("train", "test") if len(shares) == 2 else PART_NAMES
    counts = [int(np.floor(share * n_rows + 1e-9)) for share in shares[:-1]]
    counts.append(n_rows - sum(counts))
    starts = np.concatenate([[0], np.cumsum(counts)])
    return Parts(tuple((int(starts[i]), int(starts[i + 1])) for i in range(len(counts))), names)


def window_count(rows: int, seq_len: int, horizon: int) -> int:
    """Windows (with their targets) that fit in `rows` consecutive rows."""
    return max(0, rows - seq_len - horizon + 1)


def handle_missing(path: str, values: np.ndarray, columns: list[str], missing: str, shares: list[float]):
    """(values without gaps, rows kept (indices into the file), parts); `missing: error` names the first gap."""
    gaps = np.isnan(values)
    kept = np.arange(len(values))
    if gaps.any() and missing == "error":
        row, col = (int(i) for i in np.argwhere(gaps)[0])
        raise DataError(
            f"{path}: {row_place(path, row)}, column {columns[col]!r}: missing value "
            "(missing: error; set missing: drop or interpolate)"
        )
    if gaps.any() and missing == "drop":
        complete = ~gaps.any(axis=1)
        values, kept = values[complete], kept[complete]
    parts = split_rows(len(values), shares)
    if gaps.any() and missing == "interpolate":
        values = values.copy()
        for name, (start, stop) in zip(parts.names, parts.bounds):
            _interpolate_part(path, values[start:stop], columns, name)
    return values, kept, parts


def _interpolate_part(path: str, part: np.ndarray, columns: list[str], name: str) -> None:
    """Linear interpolation along the rows of one part, in place; ends take the nearest value of the part."""
    steps = np.arange(len(part))
    for j, column in enumerate(columns):
        known = ~np.isnan(part[:, j])
        if not known.any() and len(part):
            raise DataError(f"{path}: column {column!r} has no value at all in the {name} part; cannot interpolate")
        if not known.all():
            part[~known, j] = np.interp(steps[~known], steps[known], part[known, j])


@dataclass(frozen=True)
class Scaling:
    """Per-column mean and standard deviation of the train rows: x_normalized = (x - mean) / std."""

    mean: np.ndarray
    std: np.ndarray


def fit_scaling(path: str, train_rows: np.ndarray, columns: list[str]) -> Scaling:
    mean = train_rows.mean(axis=0)
    std = train_rows.std(axis=0)
    for j, spread in enumerate(std):
        if not spread > 0:
            raise DataError(f"{path}: column {columns[j]!r} is constant over the train part; it cannot be normalized")
    return Scaling(mean, std)


def check_lengths(path: str, parts: Parts, seq_len: int, horizon: int, difference: bool = False) -> None:
    """The train and test parts must each hold at least one window and its target (one row more when differenced)."""
    need = seq_len + horizon + int(difference)
    sizes = parts.sizes()
    for name in ("train", "test"):
        if sizes[name] < need:
            split = "/".join(str(sizes[n]) for n in parts.names)
            raise DataError(
                f"{path}: {sum(sizes.values())} rows split {split} leave the {name} part {sizes[name]} rows, fewer "
                f"than seq_len + horizon{' + 1 (difference)' if difference else ''} = {need} (one window and its "
                "target); use more rows, a shorter seq_len "
                "or a larger share for that part"
            )


def target_windows(target: np.ndarray, starts: np.ndarray, seq_len: int, horizon: int) -> np.ndarray:
    """(windows, horizon): the `horizon` target values after each window starting at `starts`."""
    return target[starts[:, None] + seq_len + np.arange(horizon)]


def baselines(
    target: np.ndarray, starts: np.ndarray, seq_len: int, horizon: int, season: int | None, train_mean: float
) -> dict[str, dict[str, float]]:
    """MSE and MAE, in the data's units, of the memoryless forecasts on the windows at `starts`.

    persistence: every future value is the window's last value. seasonal: value j ahead is the
    value one season before it, repeated within the window for j > season (season <= seq_len, so
    it is always in the window). train_mean: the train part's mean of the target.
    """
    truth = target_windows(target, starts, seq_len, horizon)
    last = target[starts + seq_len - 1][:, None]
    forecasts = {"persistence": np.broadcast_to(last, truth.shape), "train_mean": np.full(truth.shape, train_mean)}
    if season is not None:
        ahead = np.arange(1, horizon + 1)
        back = ahead - season * np.ceil(ahead / season).astype(np.int64)  # <= 0: inside the window
        forecasts["seasonal"] = target[starts[:, None] + seq_len - 1 + back]
    return {
        name: {"mse": float(np.mean((f - truth) ** 2)), "mae": float(np.mean(np.abs(f - truth)))}
        for name, f in forecasts.items()
    }


def check_options(options: SeriesOptions, seq_len: int) -> None:
    if options.season is not None and options.season > seq_len:
        raise ValueError(f"season {options.season} is longer than seq_len {seq_len}: the baseline reads the window")
