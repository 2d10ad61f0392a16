"""What preparing a path prints, warns or logs, captured into one string instead of the console."""

from __future__ import annotations

import contextlib
import io
import logging
import re
import warnings
from collections.abc import Iterator

# The loggers the exporters and the compiler write to: torch gives several of its own (torch, torch.export, …)
# a console handler that prints "W1206 …" lines, so every logger under these names with a handler is redirected.
LOGGER_ROOTS = ("torch", "onnxscript", "onnx_ir", "onnxruntime")
MAX_LOG_CHARS = 4000  # a results file keeps the start of a long log; the first lines say what happened


@contextlib.contextmanager
def captured() -> Iterator[io.StringIO]:
    """stdout, stderr, warnings (each once, as text) and the loggers above, into the yielded buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    saved = []
    for logger in _loggers():
        saved.append((logger, logger.handlers, logger.propagate))
        logger.handlers, logger.propagate = [handler], False
    try:
        with (
            contextlib.redirect_stdout(buffer),
            contextlib.redirect_stderr(buffer),
            warnings.catch_warnings(record=True) as caught,
        ):
            warnings.simplefilter("default")
            try:
                yield buffer
            finally:  # a failed preparation keeps its warnings too: they often say why
                for message in dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught):
                    buffer.write(message + "\n")
    finally:
        for logger, handlers, propagate in saved:
            logger.handlers, logger.propagate = handlers, propagate


def _loggers() -> list[logging.Logger]:
    """The roots, and every logger under them that has handlers of its own (it would print past the roots)."""
    found = [logging.getLogger(name) for name in LOGGER_ROOTS]
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and logger.handlers and name.split(".")[0] in LOGGER_ROOTS:
            found.append(logger)
    return list(dict.fromkeys(found))


def log_text(buffer: io.StringIO) -> str:
    text = re.sub(r"\n\s*\n+", "\n", buffer.getvalue())  # the exporter prints runs of blank lines
    return text if len(text) <= MAX_LOG_CHARS else text[:MAX_LOG_CHARS] + f"\n… ({len(text)} characters in all)"
