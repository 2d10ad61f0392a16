"""A case's `serving` record: every inference path's status, preparation, numerics, metric and paired timings (torch-free).

Written by rnnbench/serve after the case has trained, only when `inference.paths` names more than
eager; the schema leaves it free-form (older files have none). Samples at index i of two paths'
`inference.bN.latency_ms.samples` come from round i of one interleaved block: read ratios to eager
from them (`analysis.serving`).
"""

from __future__ import annotations

from typing_extensions import NotRequired, TypedDict

from rnnbench.results.records import InferenceJson

OK = "ok"  # a path's status is "ok", "unsupported: <reason>" or "failed: <first line of the error>"


class OutputDiffJson(TypedDict):
    """A path's outputs against eager's on the held-out inputs at one length."""

    max_abs: float | None  # largest |path − eager|; None when the path gave no comparable output
    max_rel: float | None  # largest |path − eager| / |eager| over the values where eager is not 0
    beyond: int | None  # values beyond the tolerance (atol + rtol·|eager|)
    within: bool
    error: NotRequired[str]  # why there is no comparable output (it raised, another shape, non-finite)


class ServedPathJson(TypedDict, total=False):
    """One path of one case."""

    status: str
    prepare_ms: float | None  # script / compile / export and session, with its first calls: outside every timer
    log: str  # what preparing printed or warned (the exporter's console output, deprecations), captured
    details: dict[str, object]  # e.g. ONNX Runtime's providers and thread counts
    outputs: dict[str, OutputDiffJson]  # by length, "T50", "T100"
    within_tolerance: bool | None  # every length within the tolerance (None: not checked)
    metric: float | None  # the task's metric on the held-out set through this path
    inference: dict[str, InferenceJson]  # "b1", "b32", …: samples paired round by round with eager's


class ServingJson(TypedDict, total=False):
    """The case's serving paths, eager first."""

    reference: str  # "eager": the path every other is compared with
    atol: float
    rtol: float
    lengths: list[int]  # the suite's seq_len and the second length the outputs are checked at
    held_out: int  # sequences in the held-out batch
    metric_name: str | None
    higher_is_better: bool | None
    threads: int  # torch's intra-op threads, and ONNX Runtime's
    rounds: dict[str, int]  # interleaved rounds per batch size, "b1": 812 (all processes together)
    # timed in `timing.processes` >= 2 fresh processes: their count, the rounds of each in the samples' order
    # ("b1": [101, 98, …]), and each one's start-to-ready cost (import, model rebuilt, paths re-made, first calls)
    processes: int
    blocks: dict[str, list[int]]
    process_ready_ms: list[float]
    timing_note: str  # why the timing ran otherwise than asked (a timing process failed: timed in the case's process)
    paths: dict[str, ServedPathJson]
    error: str  # the serving step itself failed (the case's training is kept)
