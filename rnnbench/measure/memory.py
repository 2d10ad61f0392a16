"""Peak memory of a block of code: CUDA allocator peak on a GPU, peak resident set size on the CPU."""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType

import psutil
import torch

from rnnbench.measure.allocator import release_free_memory

_PROC_STATUS = Path("/proc/self/status")
_PROC_CLEAR_REFS = Path("/proc/self/clear_refs")
# Fallback sampler period: short enough to catch a step's activations, long enough
# that taking the GIL ~100 times a second does not disturb the timings inside.
_SAMPLE_PERIOD_S = 0.01


def _read_rss_high_water_mark() -> int | None:
    """VmHWM of this process in bytes (Linux), or None where /proc does not have it."""
    try:
        for line in _PROC_STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _reset_rss_high_water_mark() -> bool:
    """Set VmHWM back to the current RSS (Linux >= 4.0: write 5 to clear_refs); False where not allowed."""
    try:
        _PROC_CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


class _RssSampler(threading.Thread):
    """Fallback where the kernel's high-water mark cannot be reset: poll RSS in the background."""

    def __init__(self) -> None:
        super().__init__(name="rnnbench-rss-sampler", daemon=True)
        self._process = psutil.Process()
        self._stop_event = threading.Event()
        self.peak = self._process.memory_info().rss

    def run(self) -> None:
        while not self._stop_event.wait(_SAMPLE_PERIOD_S):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return max(self.peak, self._process.memory_info().rss)


class PeakMemory:
    """Context manager; after the block, `peak_bytes` is the highest memory use seen during it.

    CUDA: `torch.cuda.max_memory_allocated` after `reset_peak_memory_stats` (tensors
    held by the caching allocator, weights included). CPU: the peak resident set size
    of the whole process (libraries and weights included). On Linux the kernel's own
    high-water mark VmHWM is reset on entry and read on exit: exact, and free, with no
    thread running beside the timings. Elsewhere a background thread samples RSS every
    10 ms (a peak shorter than that can be missed). Nested blocks keep correct peaks:
    entering an inner block first credits the running peak to every outer one.
    `start_bytes` is the use on entry, so `peak_bytes - start_bytes` is what the block added.
    On the CPU, entry first hands freed heap pages back to the kernel (malloc_trim), so a block's
    peak does not depend on what the blocks before it freed.
    """

    _active: list[PeakMemory] = []  # open blocks, outermost first (same thread)

    def __init__(self, device: torch.device | str = "cpu") -> None:
        self.device = torch.device(device)
        self.peak_bytes: int | None = None
        self.start_bytes: int | None = None
        self._running_peak = 0
        self._sampler: _RssSampler | None = None

    @property
    def _cuda(self) -> bool:
        return self.device.type == "cuda"

    def _current_peak(self) -> int:
        if self._cuda:
            return int(torch.cuda.max_memory_allocated(self.device))
        if self._sampler is not None:
            return max(self._sampler.peak, psutil.Process().memory_info().rss)
        return _read_rss_high_water_mark() or psutil.Process().memory_info().rss

    def __enter__(self) -> PeakMemory:
        for outer in PeakMemory._active:
            if outer.device == self.device:
                outer._running_peak = max(outer._running_peak, outer._current_peak())
        if self._cuda:
            torch.cuda.synchronize(self.device)
            self.start_bytes = int(torch.cuda.memory_allocated(self.device))
            torch.cuda.reset_peak_memory_stats(self.device)
        else:
            # freed memory that malloc kept resident (measure/allocator.py) would absorb this block's
            # allocations unseen, and make one case's peak depend on the cases before it
            release_free_memory()
            self.start_bytes = int(psutil.Process().memory_info().rss)
            if _read_rss_high_water_mark() is None or not _reset_rss_high_water_mark():
                self._sampler = _RssSampler()
                self._sampler.start()
        self._running_peak = self.start_bytes
        PeakMemory._active.append(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._cuda:
            torch.cuda.synchronize(self.device)
        peak = self._current_peak()
        if self._sampler is not None:
            peak = max(peak, self._sampler.stop())
            self._sampler = None
        self.peak_bytes = max(self._running_peak, peak)
        PeakMemory._active.remove(self)
