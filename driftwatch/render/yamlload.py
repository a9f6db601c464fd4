"""Safe, bounded YAML/JSON parsing for manifests that come from a Git repository.

Anything in a repository is untrusted input.  This module parses it with
PyYAML's safe loader (the libyaml-backed ``CSafeLoader`` when available) and
refuses, with the file and line, what would hurt the rest of the pipeline:

* files larger than ``Limits.max_file_bytes`` (checked before reading);
* text that is not UTF-8, or binary files (a NUL byte);
* duplicate mapping keys (YAML says they are an error; PyYAML keeps the last);
* nesting deeper than ``Limits.max_depth`` (downstream code recurses);
* alias expansion beyond ``Limits.max_expanded_nodes`` ("billion laughs"): the
  composed node tree is measured, with shared nodes counted once per reference,
  before anything is constructed, so such a file fails in milliseconds.

Values are loaded as Kubernetes' own YAML decoder would see them: timestamps
stay strings, non-string keys become strings, ``!!binary`` stays base64 text.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from driftwatch.errors import truncate
from driftwatch.render.yamlbuild import (
    INTERN_MAX,
    KEY_AS_TEXT,
    STR_TAG,
    UnusualDocumentError,
    build,
    text_of,
)

_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

DEFAULT_MAX_FILE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what one manifest file may cost to parse."""

    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_depth: int = 100
    max_expanded_nodes: int = 1_000_000
    """Total nodes a document may have once every alias is expanded."""


DEFAULT_LIMITS = Limits()


class YamlLoadError(Exception):
    """A file (or one document of it) could not be parsed; carries file and line."""

    def __init__(self, file: str, message: str, line: int | None = None) -> None:
        super().__init__(f"{file}:{line}: {message}" if line is not None else f"{file}: {message}")
        self.file = file
        self.message = message
        self.line = line

    @classmethod
    def too_large(cls, file: str, size: int, limits: Limits) -> YamlLoadError:
        """A file refused by its size, before it is read."""
        return cls(file, f"file is {size} bytes, over the {limits.max_file_bytes}-byte limit")


@dataclass(frozen=True, slots=True)
class ParsedDoc:
    """One YAML document: its 0-based index in the stream, 1-based line, and data."""

    index: int
    line: int | None
    data: Any
    item_lines: tuple[int, ...] = ()
    """For a ``kind: *List`` document: the line of each item, when known."""


class _ManifestLoader(_BASE_LOADER):  # type: ignore[misc]
    """Safe loader whose timestamps and ``!!binary`` stay text, as Kubernetes reads them."""

    def resolve(self, kind: Any, value: Any, implicit: tuple[bool, bool]) -> str:
        """PyYAML's implicit tag resolution, remembered per short plain scalar.

        The composer asks once per scalar and the answer depends on the text
        only (this loader has no path resolvers): ``apps/v1``, ``TCP`` or
        ``80`` need not be matched against every regular expression again.
        """
        if kind is not ScalarNode:
            return str(super().resolve(kind, value, implicit))
        if not implicit[0]:
            return _STR_TAG  # quoted or block scalar: a string
        tag = _PLAIN_TAGS.get(value)
        if tag is None:
            tag = str(super().resolve(kind, value, implicit))
            if len(value) <= _INTERN_MAX and len(_PLAIN_TAGS) < _PLAIN_TAGS_MAX:
                _PLAIN_TAGS[value] = tag
        return tag


_PLAIN_TAGS: dict[str, str] = {}
_PLAIN_TAGS_MAX = 100_000


_STR_TAG = STR_TAG
_KEY_RETAG = KEY_AS_TEXT
_INTERN_MAX = INTERN_MAX
_scalar_text = text_of


def _shared_str(loader: Any, node: ScalarNode) -> str:
    """A scalar string, interned when short.

    Keys and values like ``apiVersion``, ``apps/v1`` or ``TCP`` repeat in every
    manifest; one shared copy each cuts a large desired set's memory.
    """
    value = str(node.value)
    return sys.intern(value) if len(value) <= _INTERN_MAX else value


_ManifestLoader.add_constructor(_STR_TAG, _shared_str)
_ManifestLoader.add_constructor("tag:yaml.org,2002:timestamp", _scalar_text)
_ManifestLoader.add_constructor("tag:yaml.org,2002:binary", _scalar_text)


def read_text(path: Path, display: str, limits: Limits = DEFAULT_LIMITS) -> str:
    """The UTF-8 text of ``path``, refusing oversize, binary and non-UTF-8 files."""
    return decode(read_bytes(path, display, limits), display, limits)


def read_bytes(path: Path, display: str, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The bytes of ``path``, refusing a file over the size limit before reading it."""
    try:
        size = path.stat().st_size
        if size > limits.max_file_bytes:
            raise YamlLoadError.too_large(display, size, limits)
        return path.read_bytes()
    except OSError as e:
        raise YamlLoadError(display, f"cannot read: {e.strerror or e}") from e


def decode(data: bytes, display: str, limits: Limits = DEFAULT_LIMITS) -> str:
    """``data`` as text, with the same refusals as ``read_text``."""
    if len(data) > limits.max_file_bytes:
        raise YamlLoadError(
            display, f"{len(data)} bytes, over the {limits.max_file_bytes}-byte limit"
        )
    if b"\x00" in data:
        raise YamlLoadError(display, "binary file (contains NUL bytes), not a manifest")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise YamlLoadError(display, f"not valid UTF-8 (byte offset {e.start})", line) from e
    return text.removeprefix("\ufeff")


def load_documents(
    text: str, display: str, limits: Limits = DEFAULT_LIMITS
) -> tuple[list[ParsedDoc], list[YamlLoadError]]:
    """Every document of a YAML stream; a broken document is an error, not the end.

    A syntax error stops the stream (the parser cannot resynchronise), but the
    documents before it are returned.  A document that breaks a limit is
    reported and skipped; the next ones are still read.
    """
    docs: list[ParsedDoc] = []
    errors: list[YamlLoadError] = []
    check_aliases = "&" in text
    loader = _ManifestLoader(text)
    index = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            line = node.start_mark.line + 1 if node.start_mark is not None else None
            try:
                data = _construct(loader, node, display, limits, check_aliases)
            except YamlLoadError as e:
                errors.append(e)
                loader.constructed_objects = {}
                loader.recursive_objects = {}
                loader.state_generators = []
            else:
                if data is not None:
                    docs.append(ParsedDoc(index, line, data, _item_lines(node, data)))
            index += 1
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        errors.append(YamlLoadError(display, f"YAML syntax error: {truncate(_problem(e))}", line))
    except yaml.reader.ReaderError as e:  # a character YAML forbids: say which and where
        code = e.character if isinstance(e.character, int) else ord(str(e.character)[:1] or " ")
        line = text.count("\n", 0, e.position) + 1
        errors.append(
            YamlLoadError(display, f"unacceptable character #x{code:04x}: {e.reason}", line)
        )
    except yaml.YAMLError as e:
        errors.append(YamlLoadError(display, f"YAML error: {truncate(str(e))}"))
    finally:
        loader.dispose()
    return docs, errors


def _construct(loader: Any, node: Node, display: str, limits: Limits, aliases: bool) -> Any:
    """The document's data: the one-pass builder, or the checked path when it needs more."""
    if not aliases:
        try:
            return build(loader, node, limits.max_depth)
        except UnusualDocumentError:
            pass  # the checked path below gives the exact error, or constructs what is unusual
    _check_tree(node, display, limits, aliases)
    return loader.construct_document(node)


def _problem(e: yaml.MarkedYAMLError) -> str:
    parts = [p for p in (e.context, e.problem) if p]
    return "; ".join(parts) or str(e)


def load_json(text: str, display: str) -> tuple[list[ParsedDoc], list[YamlLoadError]]:
    """A JSON manifest file: one document (duplicate keys and deep nesting refused)."""
    try:
        data = json.loads(text, object_pairs_hook=_json_object)
    except _DuplicateKeyError as e:
        return [], [YamlLoadError(display, f"duplicate key {e.key!r}")]
    except json.JSONDecodeError as e:
        return [], [YamlLoadError(display, f"invalid JSON: {e.msg}", e.lineno)]
    except RecursionError:
        return [], [YamlLoadError(display, "nesting too deep")]
    if data is None:
        return [], []
    if _json_depth(data) > DEFAULT_LIMITS.max_depth:
        return [], [YamlLoadError(display, f"nesting deeper than {DEFAULT_LIMITS.max_depth}")]
    return [ParsedDoc(0, 1, data)], []


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKeyError(key)
            seen.add(key)
    return out


def _json_depth(data: Any) -> int:
    best = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        best = max(best, depth)
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return best


def _line(node: Node) -> int | None:
    return node.start_mark.line + 1 if node.start_mark is not None else None


def _check_tree(root: Node, display: str, limits: Limits, check_aliases: bool) -> None:
    """Refuse duplicate keys, excessive depth and alias bombs before constructing."""
    if check_aliases:
        _check_expansion(root, display, limits)
    stack: list[tuple[Node, int]] = [(root, 1)]
    seen: set[int] = set()
    max_depth = limits.max_depth
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise YamlLoadError(display, f"nesting deeper than {max_depth} levels", _line(node))
        kind = type(node)
        if kind is MappingNode:
            if check_aliases:
                if id(node) in seen:
                    continue
                seen.add(id(node))
            pairs = node.value
            keys = []
            for key, value in pairs:
                if type(key) is ScalarNode:
                    keys.append(key.value)
                    if key.tag != _STR_TAG and key.tag in _KEY_RETAG:
                        key.tag = _STR_TAG
                if type(value) is not ScalarNode:
                    stack.append((value, depth + 1))
            if len(set(keys)) != len(keys):
                _raise_duplicate(pairs, display)
        elif kind is SequenceNode:
            if check_aliases:
                if id(node) in seen:
                    continue
                seen.add(id(node))
            for value in node.value:
                if type(value) is not ScalarNode:
                    stack.append((value, depth + 1))


def _raise_duplicate(pairs: list[tuple[Node, Node]], display: str) -> None:
    seen: set[str] = set()
    for key, _ in pairs:
        if type(key) is ScalarNode:
            if key.value in seen:
                raise YamlLoadError(display, f"duplicate key {key.value!r}", _line(key))
            seen.add(key.value)


def _check_expansion(root: Node, display: str, limits: Limits) -> None:
    """Count nodes as if every alias were expanded, memoising shared nodes."""
    budget = limits.max_expanded_nodes
    sizes: dict[int, int] = {}
    # Iterative post-order: (node, children_done).
    stack: list[tuple[Node, bool]] = [(root, False)]
    in_progress: set[int] = set()
    while stack:
        node, done = stack.pop()
        nid = id(node)
        if type(node) is ScalarNode:
            sizes[nid] = 1
            continue
        if not done:
            if nid in sizes:
                continue
            if nid in in_progress:
                raise YamlLoadError(display, "recursive alias", _line(node))
            in_progress.add(nid)
            stack.append((node, True))
            children = _children(node)
            stack.extend((c, False) for c in children if id(c) not in sizes)
            continue
        in_progress.discard(nid)
        total = 1 + sum(sizes.get(id(c), 1) for c in _children(node))
        if total > budget:
            raise YamlLoadError(
                display,
                f"aliases expand to more than {budget} nodes (a 'billion laughs' document?)",
                _line(node),
            )
        sizes[nid] = total


def _children(node: Node) -> list[Node]:
    if type(node) is MappingNode:
        out: list[Node] = []
        for key, value in node.value:
            out.append(key)
            out.append(value)
        return out
    if type(node) is SequenceNode:
        return list(node.value)
    return []


def _item_lines(node: Node, data: Any) -> tuple[int, ...]:
    if not (isinstance(data, dict) and str(data.get("kind", "")).endswith("List")):
        return ()
    if type(node) is not MappingNode:
        return ()
    for key, value in node.value:
        if type(key) is ScalarNode and key.value == "items" and type(value) is SequenceNode:
            return tuple(item.start_mark.line + 1 for item in value.value)
    return ()
