"""Resolving a plugin, model or task, from `package.module:Name` or an entry point, and recording where it came from (torch-free itself)."""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import inspect
import os
import re
import sys
from dataclasses import asdict, dataclass
from typing import Any

_DOTTED = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
QUALIFIED = re.compile(rf"^({_DOTTED}):({_DOTTED})$")


class PluginError(Exception):
    """A plugin that cannot be used; the message is one line (the caller adds the file and field)."""


@dataclass(frozen=True)
class PluginSource:
    """Where a plugin comes from, as recorded with every case it runs in."""

    arch: str
    qualified_name: str
    file: str | None
    file_sha256: str | None
    package: str | None
    version: str | None

    def as_record(self, bidirectional: bool) -> dict[str, Any]:
        return {**asdict(self), "bidirectional": bidirectional}


def one_line(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}".splitlines()[0][:300]


def failing_field(field: str, message: str, args: dict[str, Any] | None) -> str:
    """`args.NAME` when a constructor refused one of the entry's `args` by name, else `field` (arch or task)."""
    for name in args or {}:
        if f"unexpected keyword argument {name!r}" in message:
            return f"args.{name}"
    return field


def entry_point_names(group: str) -> list[str]:
    # Reads installed packages' metadata only; nothing is imported.
    return sorted({ep.name for ep in importlib.metadata.entry_points(group=group)})


def _import(module: str) -> Any:
    if os.getcwd() not in sys.path:  # "importable from the working folder", as with `python -m`
        sys.path.append(os.getcwd())
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name and (module == err.name or module.startswith(err.name + ".")):
            raise PluginError(
                f"module {module!r} not found (not importable from the working folder or PYTHONPATH)"
            ) from None
        raise PluginError(f"module not found while importing {module!r}: {err.name!r}") from None
    except Exception as err:  # a plugin's import may raise anything
        raise PluginError(f"importing {module!r} raised {one_line(err)}") from None


def _attribute(owner: Any, dotted: str, where: str) -> Any:
    value = owner
    for part in dotted.split("."):
        if not hasattr(value, part):
            raise PluginError(f"{where} has no attribute {dotted!r}")
        value = getattr(value, part)
    return value


def _entry_point(name: str, group: str) -> importlib.metadata.EntryPoint:
    found = [ep for ep in importlib.metadata.entry_points(group=group) if ep.name == name]
    if not found:
        raise PluginError(f"no entry point {name!r} in group {group}")
    return found[0]


def _file_of(obj: Any) -> str | None:
    try:
        return inspect.getsourcefile(obj) or inspect.getfile(obj)
    except TypeError:
        module = sys.modules.get(getattr(obj, "__module__", ""), None)
        return getattr(module, "__file__", None)


def _sha256(path: str | None) -> str | None:
    if path is None or not os.path.isfile(path):
        return None
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def _distribution_of(module: str) -> tuple[str | None, str | None]:
    """The installed package that provides `module`'s top-level package, and its version."""
    names = importlib.metadata.packages_distributions().get(module.split(".")[0], [])
    if not names:
        return None, None
    try:
        return names[0], importlib.metadata.version(names[0])
    except importlib.metadata.PackageNotFoundError:
        return names[0], None


def _load_entry_point(name: str, group: str) -> tuple[Any, str | None, str | None]:
    ep = _entry_point(name, group)
    try:
        obj = ep.load()
    except ModuleNotFoundError as err:
        raise PluginError(f"entry point {name!r} = {ep.value!r}: module {err.name!r} not found") from None
    except AttributeError as err:
        raise PluginError(f"entry point {name!r} = {ep.value!r}: attribute missing ({err})") from None
    except Exception as err:
        raise PluginError(f"entry point {name!r} = {ep.value!r}: loading raised {one_line(err)}") from None
    dist = getattr(ep, "dist", None)
    return (obj, dist.name, dist.version) if dist is not None else (obj, None, None)


def resolve_object(name: str, group: str) -> tuple[Any, PluginSource]:
    """The object `name` names (`package.module:Name`, else an entry point of `group`) and where it comes from.

    The import runs the plugin's module, which may import torch: only plugins do that here.
    """
    match = QUALIFIED.match(name)
    if match:
        module_name, attr = match.groups()
        obj = _attribute(_import(module_name), attr, f"module {module_name!r}")
        package, version = _distribution_of(module_name)
    else:
        obj, package, version = _load_entry_point(name, group)
    if not callable(obj):
        raise PluginError(f"{name!r} is a {type(obj).__name__}, not a class or function")
    qualified = f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"
    file = _file_of(obj)
    return obj, PluginSource(name, qualified, file, _sha256(file), package, version)
