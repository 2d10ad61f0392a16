"""`rnnbench ab`'s worker protocol: the JSON requests and answers between the orchestrator and a side's worker (torch-free).

Both ends import these (compare/ab.py, compare/output_check.py; run/ab_worker.py, run/ab_outputs.py).
The wire stays plain JSON lines: a side may run an older rnnbench, so every key is optional to a reader.
"""

from __future__ import annotations

from typing_extensions import TypedDict

from rnnbench.results.records import DataJson


class Hello(TypedDict, total=False):
    """A worker's fingerprint, sent once it has imported python, torch and rnnbench."""

    python: str
    executable: str
    torch: str
    rnnbench: str
    rnnbench_path: str
    test_slowdown: float | None


class SampleBlock(TypedDict):
    """One timed block of an entry: each iteration's total and its phases (train entries), in ms."""

    total_ms: list[float]
    phases_ms: dict[str, list[float]]


class ModelOutputs(TypedDict, total=False):
    """One model's outputs on the fixed batch ({file,} shape, values, loss), or why it has none (error)."""

    file: str  # where the base side saved its weights and inputs
    shape: list[int]
    values: list[float]
    loss: float
    error: str


class CaseData(TypedDict):
    """A prepared model's task and its data record (real-data tasks only): `ab` refuses sides whose sha256 differ."""

    task: str
    data: DataJson


class Request(TypedDict, total=False):
    """What the orchestrator asks: prepare, sample, outputs (save or load) or quit."""

    cmd: str
    suite: str  # prepare
    warmup: int  # prepare: iterations per entry (default the suite's timing.warmup)
    entry: str  # sample
    n: int  # sample: iterations in the block
    save: str  # outputs: the folder the base side saves into
    entries: list[str]  # outputs (save): the train entries to check
    max_batch: int  # outputs (save)
    load: dict[str, str]  # outputs (load): entry -> the base side's file


class Answer(TypedDict, total=False):
    """A worker's answer: one of hello, entries, a sample block, outputs; or error."""

    hello: Hello
    entries: list[list[str]]  # prepare: [name, label] per entry
    data: dict[str, CaseData]  # prepare: model key -> its task's data record (absent from older workers)
    total_ms: list[float]  # sample: a SampleBlock's keys
    phases_ms: dict[str, list[float]]
    outputs: dict[str, ModelOutputs]
    error: str
