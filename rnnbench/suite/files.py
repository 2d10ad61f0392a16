"""Finding and reading suite files: built-in names, size and encoding checks, a hardened YAML loader."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

BUILTIN_SUITES = ("quick", "recap", "horizon", "data", "tasks", "ci", "lecture", "real")

MAX_SUITE_BYTES = 1_000_000  # a suite is a few hundred bytes; anything this large is a mistake
MAX_YAML_NODES = 100_000  # YAML nodes with every alias expanded; a real suite has a few hundred
MAX_YAML_DEPTH = 64  # nesting levels; a real suite has under ten


class SuiteError(Exception):
    """A suite that cannot be used; the message is one line naming the file and field."""

    def __init__(self, message: str) -> None:
        super().__init__(message.replace("\r", "\\r").replace("\n", "\\n"))  # one line, whatever the file holds


def builtin_suite_dir() -> Path:
    """Where the built-in suites are: inside the installed package, or the repository's suites/."""
    packaged = Path(str(resources.files("rnnbench"))) / "suites"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "suites"


def resolve_suite_path(name_or_path: str) -> Path:
    """A path to an existing file, or the name of a built-in suite."""
    path = Path(name_or_path)
    try:
        exists = path.exists()
    except OSError as err:  # e.g. a name too long for the file system
        raise SuiteError(f"{name_or_path[:200]}: cannot read: {err.strerror or err}") from None
    if exists or path.suffix in (".yaml", ".yml") or "/" in name_or_path:
        return path
    builtin = builtin_suite_dir() / f"{name_or_path}.yaml"
    if builtin.is_file():
        return builtin
    known = sorted(p.stem for p in builtin_suite_dir().glob("*.yaml"))
    raise SuiteError(f"{name_or_path}: no such file, nor a built-in suite (built-in: {', '.join(known)})")


class _SuiteLoader(yaml.SafeLoader):
    """yaml.SafeLoader (the same safe tags) that also refuses duplicate keys, deep nesting and alias bombs.

    SafeLoader shares an aliased node instead of copying it, so a "billion laughs" document
    loads fast and explodes later in whatever walks the result; counting its nodes as if every
    alias were expanded (memoized, so linear in the file) refuses it before anything is built.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(None, None, f"nested more than {MAX_YAML_DEPTH} levels deep", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_mapping_node(self, anchor: Any) -> Any:
        # PyYAML keeps the last of two equal keys; a second `defaults:` would silently drop the first.
        node = super().compose_mapping_node(anchor)
        seen: set[tuple[str, str]] = set()
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                if (key.tag, key.value) in seen:
                    raise yaml.composer.ComposerError(None, None, f"duplicate key {key.value!r}", key.start_mark)
                seen.add((key.tag, key.value))
        return node

    def compose_document(self) -> Any:
        node = super().compose_document()
        if node is not None and _expanded_size(node) > MAX_YAML_NODES:
            raise yaml.composer.ComposerError(
                None,
                None,
                f"its aliases expand it to more than {MAX_YAML_NODES} nodes; a suite has a few hundred",
                node.start_mark,
            )
        return node


def _expanded_size(root: yaml.Node) -> int:
    """Nodes in the document with every alias expanded, without expanding it; a cycle is an error."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        children = (
            [n for pair in node.value for n in pair]
            if isinstance(node, yaml.MappingNode)
            else (node.value if isinstance(node, yaml.SequenceNode) else [])
        )
        if children_done:
            size[id(node)] = 1 + sum(size[id(child)] for child in children)
            on_path.discard(id(node))
        elif id(node) in on_path:
            raise yaml.composer.ComposerError(None, None, "an alias refers to a node that contains it", node.start_mark)
        elif id(node) not in size:
            on_path.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children)
    return size[id(root)]


def read_yaml(path: Path) -> Any:
    """Read a YAML document safely, turning every failure into one SuiteError line."""
    if path.is_dir():
        raise SuiteError(f"{path}: is a directory, not a suite file")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise SuiteError(f"{path}: no such file") from None
    except OSError as err:
        raise SuiteError(f"{path}: cannot read: {err.strerror or err}") from None
    if not path.is_file():  # a FIFO would block, /dev/zero would never end
        raise SuiteError(f"{path}: not a regular file")
    if size > MAX_SUITE_BYTES:
        raise SuiteError(f"{path}: {size} bytes is too large for a suite file (limit {MAX_SUITE_BYTES})")
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SUITE_BYTES + 1)  # the file may have grown since stat
        if len(data) > MAX_SUITE_BYTES:
            raise SuiteError(f"{path}: too large for a suite file (limit {MAX_SUITE_BYTES} bytes)")
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise SuiteError(f"{path}: not UTF-8 text (byte {err.start})") from None
    except OSError as err:
        raise SuiteError(f"{path}: cannot read: {err.strerror or err}") from None
    if "\x00" in text:
        raise SuiteError(f"{path}: binary data, not a YAML suite")
    try:
        return yaml.load(text, Loader=_SuiteLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise SuiteError(f"{path}: invalid YAML{where}: {problem}") from None
    except RecursionError:
        raise SuiteError(f"{path}: YAML nested too deeply") from None
