"""The task registry: name -> Task class, built as `TASKS[name](seq_len=..., **options)`."""

from __future__ import annotations

from rnnbench.tasks.adding import Adding
from rnnbench.tasks.adding1997 import Adding1997
from rnnbench.tasks.base import Task
from rnnbench.tasks.charlm import CharLM
from rnnbench.tasks.copy import Copy
from rnnbench.tasks.digits import Digits
from rnnbench.tasks.lookahead import Lookahead
from rnnbench.tasks.parity import Parity
from rnnbench.tasks.reber import Reber
from rnnbench.tasks.sine import Sine
from rnnbench.tasks.temporal_order import TemporalOrder

TASKS: dict[str, type[Task]] = {
    "adding": Adding,
    "copy": Copy,
    "adding1997": Adding1997,
    "temporal_order": TemporalOrder,
    "reber": Reber,
    "lookahead": Lookahead,
    "parity": Parity,
    "sine": Sine,
    "digits": Digits,
    "charlm": CharLM,
}
