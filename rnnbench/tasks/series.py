"""`task: series`: forecast the next `horizon` values of a column of the user's file from a window of rows.

The file is read with pandas (`tasks.tables`), split and normalized by `tasks.series_data`. The
normalized rows are ONE float32 tensor; every window is a strided view of it (`as_strided`), so the
data costs its own size in memory and a batch copies only the windows it draws. With `train_size`
the pool is the last `train_size` train windows (the most recent history), again a view. With
`difference: true` the model reads and forecasts the changes from row to row instead (a trending
series soon leaves the range of its train part); its forecasts are summed back onto the last value,
and every score stays on the values themselves.

Metric: MSE in the data's units on the test windows; loss: MSE of the normalized values. The
"chance" score is persistence (the window's last value) on all test windows; solved when the
model's MSE is at most `solved_ratio` (default 0.9) × persistence's on the windows it was scored
on. Causal (a forecast): bidirectional models are refused, like on the other forecasting task.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from rnnbench.catalog import SeriesOptions
from rnnbench.tasks import series_data as sd
from rnnbench.tasks.base import Batch, Evaluation, Task
from rnnbench.tasks.tables import (
    SERIES_FORMATS,
    FileIdentity,
    checked_path,
    file_identity,
    numeric_columns,
    read_frame,
    time_order,
)


@dataclass(frozen=True)
class SeriesData:
    """A file made ready for windows: what training keeps is `values`, the rest is small."""

    values: Tensor  # (rows or changes, columns) float32, normalized by the train part: the one copy of the data
    parts: sd.Parts  # the rows' parts
    windowed: sd.Parts  # the parts of `values` (of the changes, with `difference`)
    scaling: sd.Scaling
    target_index: int
    file: FileIdentity
    rows_read: int
    rows_used: int
    rows_filled: int
    baselines: dict[str, dict[str, float]]


@lru_cache(maxsize=2)
def prepare(options_json: str, seq_len: int, size: int, mtime_ns: int) -> SeriesData:
    """Read, check, split and normalize the file once per process and file version (every case of a suite
    builds its task; the pandas frame is dropped here, so only the float32 values stay in memory)."""
    o = SeriesOptions.model_validate_json(options_json)
    path, names, horizon = o.path, o.read_columns, o.horizon
    frame = read_frame(path, SERIES_FORMATS, names + ([o.time] if o.time else []))
    if o.time:
        time_order(path, frame, o.time)
    raw = numeric_columns(path, frame, names)
    del frame
    values, kept, parts = sd.handle_missing(path, raw, names, o.missing, o.split)
    sd.check_lengths(path, parts, seq_len, horizon, o.difference)
    # what the model reads and forecasts: the rows, or their changes (each within one part)
    modelled = np.diff(values, axis=0) if o.difference else values
    windowed = parts.differenced() if o.difference else parts
    train_start, train_stop = windowed.rows("train")
    scaling = sd.fit_scaling(path, modelled[train_start:train_stop], names)
    target_index = names.index(o.target_column)
    normalized = torch.from_numpy(((modelled - scaling.mean) / scaling.std).astype(np.float32))
    target = values[:, target_index]
    test_start, test_stop = windowed.rows("test")
    # a window of changes starting at k spans rows k .. k + seq_len: as a window of rows it starts at k + 1
    starts = test_start + np.arange(sd.window_count(test_stop - test_start, seq_len, horizon)) + int(o.difference)
    row_start, row_stop = parts.rows("train")
    baselines = sd.baselines(target, starts, seq_len, horizon, o.season, float(target[row_start:row_stop].mean()))
    filled = int(np.isnan(raw[kept]).any(axis=1).sum()) if o.missing == "interpolate" else 0
    identity = file_identity(Path(path))
    return SeriesData(
        normalized, parts, windowed, scaling, target_index, identity, len(raw), len(values), filled, baselines
    )


class Series(Task):
    """Inputs (B, seq_len, columns) normalized by the train part. Targets (B, horizon) normalized.
    Output kind `last`, output size `horizon`. Metric: MSE in the data's units (lower is better)."""

    name = "series"
    follows = "window forecasting scored against persistence, seasonal persistence and the train mean"
    metric_name = "mse"
    higher_is_better = False

    def __init__(
        self,
        seq_len: int,
        path: str,
        column: str | None = None,
        columns: list[str] | None = None,
        target: str | None = None,
        time: str | None = None,
        horizon: int = 1,
        season: int | None = None,
        split: list[float] | None = None,
        missing: str = "error",
        solved_ratio: float = 0.9,
        difference: bool = False,
    ) -> None:
        if seq_len < 1:
            raise ValueError(f"series needs seq_len >= 1, got {seq_len}")
        super().__init__(seq_len)
        given = {"column": column, "columns": columns, "target": target, "time": time, "season": season}
        self.options = SeriesOptions(
            path=path,
            horizon=horizon,
            missing=missing,
            solved_ratio=solved_ratio,
            difference=difference,
            **({"split": split} if split is not None else {}),
            **{k: v for k, v in given.items() if v is not None},
        )
        sd.check_options(self.options, seq_len)
        self.horizon = self.output_size = horizon
        self._load()

    def _load(self) -> None:
        file = checked_path(self.options.path, SERIES_FORMATS)[0].stat()
        data = prepare(self.options.model_dump_json(), self.seq_len, file.st_size, file.st_mtime_ns)
        self.values, self.parts, self.windowed, self.scaling = data.values, data.parts, data.windowed, data.scaling
        self.file, self.rows_read, self.rows_used, self.rows_filled = (
            data.file,
            data.rows_read,
            data.rows_used,
            data.rows_filled,
        )
        self.target_index, self.input_size, self._baselines = data.target_index, data.values.shape[1], data.baselines
        self._on_device: dict[str, Tensor] = {"cpu": self.values}

    def _starts(self, part: str) -> tuple[int, int]:
        """(first window start, number of windows) of a part."""
        start, stop = self.windowed.rows(part)
        return start, sd.window_count(stop - start, self.seq_len, self.horizon)

    @property
    def n_train(self) -> int:
        return self._starts("train")[1]

    @property
    def n_test(self) -> int:
        return self._starts("test")[1]

    @property
    def baselines(self) -> dict[str, dict[str, float]]:
        return self._baselines

    @property
    def target_std(self) -> float:
        return float(self.scaling.std[self.target_index])

    @property
    def target_mean(self) -> float:
        return float(self.scaling.mean[self.target_index])

    @cached_property
    def chance(self) -> float:
        return self._baselines["persistence"]["mse"]

    @property
    def chance_loss(self) -> float | None:
        """Persistence's loss on the normalized values; for changes it is not a constant ratio of its MSE."""
        return None if self.options.difference else self.chance / self.target_std**2

    def windows(self, device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
        """(inputs (windows, seq_len, columns), targets (windows, horizon)) of every start: views of one tensor."""
        key = str(torch.device(device))
        if key not in self._on_device:  # once per device: training windows then never cross the bus
            self._on_device[key] = self.values.to(device)
        values = self._on_device[key]
        rows, cols = values.shape
        count = rows - self.seq_len + 1
        inputs = values.as_strided((count, self.seq_len, cols), (cols, cols, 1))
        offset = values.storage_offset() + self.target_index
        targets = values.as_strided((rows - self.horizon + 1, self.horizon), (cols, cols), offset)
        return inputs, targets[self.seq_len :]

    def _batch(self, starts: Tensor, device: torch.device | str) -> Batch:
        inputs, targets = self.windows(starts.device)
        return Batch(inputs[starts], targets[starts]).to(device)

    def sample(self, batch_size: int, generator: torch.Generator, device: torch.device | str = "cpu") -> Batch:
        first, count = self._starts("train")
        if batch_size > count:
            raise ValueError(
                f"series: {batch_size} windows asked for, the train part holds {count} (lower train_size or batch_size)"
            )
        index = torch.randperm(count, generator=generator, device=generator.device)[:batch_size]
        return self._batch(first + index, device)

    def pool(self, size: int, generator: torch.Generator, device: torch.device | str = "cpu") -> Batch:
        """The last `size` train windows, as views (a shorter history, not a random subset); `generator` is unused."""
        first, count = self._starts("train")
        if size > count:
            raise ValueError(f"series: train_size {size} is more than the {count} windows of the train part")
        inputs, targets = self.windows(generator.device)
        stop = first + count
        return Batch(inputs[stop - size : stop], targets[stop - size : stop]).to(device)

    def held_out(self, size: int, generator: torch.Generator, device: torch.device | str = "cpu") -> Batch:
        """`size` test windows evenly spread over the test part (all of them when there are fewer); no randomness."""
        first, count = self._starts("test")
        picked = torch.arange(count) if size >= count else torch.linspace(0, count - 1, size).round().long()
        return self._batch(first + picked, device)

    def loss(self, outputs: Tensor, batch: Batch) -> Tensor:
        return F.mse_loss(outputs.reshape(batch.targets.shape), batch.targets)

    @torch.no_grad()
    def evaluate(self, outputs: Tensor, batch: Batch) -> Evaluation:
        loss = self.loss(outputs, batch).item()
        scale = self.target_std
        error = (outputs.reshape(batch.targets.shape) - batch.targets) * scale
        if self.options.difference:  # scored on the values: errors of the changes add up along the horizon
            error = error.cumsum(dim=1)
            persistence_error = (batch.targets * scale + self.target_mean).cumsum(dim=1)  # it forecasts no change
        else:
            persistence_error = (batch.inputs[:, -1, self.target_index].unsqueeze(1) - batch.targets) * scale
        persistence = persistence_error.pow(2).mean().item()
        mse = error.pow(2).mean().item()
        ratio = mse / persistence if persistence > 0 else float("inf")
        extra = {"mae": error.abs().mean().item(), "persistence_mse": persistence, "mse_ratio": ratio}
        return Evaluation(loss=loss, metric=mse, solved=ratio <= self.options.solved_ratio, extra=extra)

    def summary(self) -> list[str]:
        """What `validate` shows before training: the file, its parts and windows, the baselines on the test part."""
        sizes, windows = self.parts.sizes(), {name: self._starts(name)[1] for name in self.parts.names}
        lines = [
            f"{self.file.path}: {self.rows_used} rows used of {self.rows_read} ({self.file.size_bytes} bytes, "
            f"sha256 {self.file.sha256[:12]}), columns {', '.join(self.options.read_columns)} -> "
            f"{self.options.target_column} over the next {self.horizon}"
            + (" (read and forecast as changes from row to row)" if self.options.difference else ""),
            "rows "
            + ", ".join(f"{name} {sizes[name]}" for name in self.parts.names)
            + "; windows "
            + ", ".join(f"{name} {windows[name]}" for name in self.parts.names),
        ]
        for name, score in self._baselines.items():
            lines.append(f"baseline {name}: MSE {score['mse']:.6g}, MAE {score['mae']:.6g} (test part)")
        lines.append(f"solved: model MSE <= {self.options.solved_ratio:g} x persistence MSE")
        return lines

    def data_record(self) -> dict[str, object]:
        return {
            "dataset": "series",
            **self.file.__dict__,
            "columns": self.options.read_columns,
            "target": self.options.target_column,
            "rows": self.rows_used,
            "rows_read": self.rows_read,
            "rows_filled": self.rows_filled,
            "split": self.parts.sizes(),
            "windows": {name: self._starts(name)[1] for name in self.parts.names},
            "difference": self.options.difference,
            "baselines": self._baselines,
            "normalization": {"mean": self.scaling.mean.tolist(), "std": self.scaling.std.tolist()},
        }
