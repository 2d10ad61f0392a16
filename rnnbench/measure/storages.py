"""Bytes of tensors counted by storage, so tensors that share one (views, in-place results) count once."""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from types import TracebackType

import torch


def storage_key(tensor: torch.Tensor) -> int | None:
    """The address of the tensor's storage, or None for a tensor without one (empty, or a subclass without data)."""
    try:
        address = tensor.untyped_storage().data_ptr()
    except (RuntimeError, NotImplementedError):
        return None
    return address or None


def storage_bytes(tensors: Iterable[torch.Tensor], exclude: frozenset[int] = frozenset()) -> int:
    """Bytes of the distinct storages under `tensors`, leaving out those at the addresses in `exclude`."""
    sizes: dict[int, int] = {}
    for tensor in tensors:
        key = storage_key(tensor)
        if key is not None and key not in exclude:
            sizes[key] = tensor.untyped_storage().nbytes()
    return sum(sizes.values())


class SavedForBackward:
    """Context manager: the storages autograd saves for backward inside the block, via saved_tensors_hooks.

    After the block, `held_bytes()` is the size of those the graph still holds (a branch whose result
    was dropped frees what it saved). Storages at the addresses in `exclude` (the parameters, counted
    on their own) are left out. A key whose tensors all died before another storage took its
    address starts afresh, so a reused address is not mistaken for the old storage.
    """

    def __init__(self, exclude: frozenset[int] = frozenset()) -> None:
        self._exclude = exclude
        self._saved: dict[int, tuple[int, list[weakref.ref]]] = {}  # address -> (nbytes, saved tensors)
        self._hooks = torch.autograd.graph.saved_tensors_hooks(self._pack, _unpack)

    def _pack(self, tensor: torch.Tensor) -> torch.Tensor:
        key = storage_key(tensor)
        if key is None or key in self._exclude:
            return tensor
        entry = self._saved.get(key)
        if entry is None or not _alive(entry[1]):
            entry = (tensor.untyped_storage().nbytes(), [])
            self._saved[key] = entry
        # Detached: the same storage without the autograd history. The tensor itself would tie a saved output
        # to its own grad_fn in a cycle no collector frees; autograd restores the history when it unpacks.
        held = tensor.detach()
        entry[1].append(weakref.ref(held))  # the graph keeps `held`, so the reference lives as long as the saving
        return held

    def held_bytes(self) -> int:
        return sum(nbytes for nbytes, refs in self._saved.values() if _alive(refs))

    def __enter__(self) -> SavedForBackward:
        self._hooks.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._hooks.__exit__(exc_type, exc, traceback)


def _unpack(tensor: torch.Tensor) -> torch.Tensor:
    return tensor


def _alive(refs: list[weakref.ref]) -> bool:
    return any(ref() is not None for ref in refs)
