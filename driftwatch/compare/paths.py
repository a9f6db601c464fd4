"""Field paths that people can read and programs can parse.

A path is a tuple of segments: a ``str`` is a field or map key, an ``ItemKey``
names an item of a keyed list by its keys, a ``SetValue`` names a member of a
set list, and an ``int`` is a position in an atomic list.  Rendered, a path is
JSON-Pointer-like with list items named by their keys:

    /spec/template/spec/containers[name=api]/image
    /spec/ports[port=80,protocol=TCP]/nodePort
    /metadata/labels/app.kubernetes.io~1name
    /metadata/finalizers[=kubernetes]

Escapes inside a key or value: ``~0`` for ``~``, ``~1`` for ``/``, ``~2`` for
``[``, ``~3`` for ``]``, ``~4`` for ``,`` and ``~5`` for ``=``, so any label key
(``/`` and ``.`` included) survives a round trip.  Ignore rules use the same
notation with ``*`` as a whole segment (any key or item) or ``[*]``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NamedTuple, TypeAlias


class ItemKey(NamedTuple):
    """An item of a keyed list, e.g. ``(("name", "api"),)``."""

    pairs: tuple[tuple[str, Any], ...]

    def as_dict(self) -> dict[str, Any]:
        """The key fields as a mapping."""
        return dict(self.pairs)


class SetValue(NamedTuple):
    """A member of a set list."""

    value: Any


Segment: TypeAlias = "str | ItemKey | SetValue | int"
Path: TypeAlias = "tuple[Segment, ...]"

_ESCAPES = (("~", "~0"), ("/", "~1"), ("[", "~2"), ("]", "~3"), (",", "~4"), ("=", "~5"))


def escape(text: str) -> str:
    """Escape a key or value for a rendered path."""
    for raw, escaped in _ESCAPES:
        text = text.replace(raw, escaped)
    return text


def unescape(text: str) -> str:
    """Undo ``escape``."""
    for raw, escaped in reversed(_ESCAPES):
        text = text.replace(escaped, raw)
    return text


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return escape(value)
    return escape(json.dumps(value))


def render(path: Sequence[Segment]) -> str:
    """The readable, parseable form of a path (``/`` for the root)."""
    parts: list[str] = []
    for seg in path:
        if isinstance(seg, str):
            parts.append("/" + escape(seg))
        elif isinstance(seg, ItemKey):
            parts.append("[" + ",".join(f"{escape(k)}={_scalar(v)}" for k, v in seg.pairs) + "]")
        elif isinstance(seg, SetValue):
            parts.append(f"[={_scalar(seg.value)}]")
        else:
            parts.append(f"[{seg}]")
    return "".join(parts) or "/"


def _parse_value(text: str) -> Any:
    raw = unescape(text)
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return value if isinstance(value, (int, float, bool)) or value is None else raw


def parse(text: str) -> Path:
    """Parse a rendered path back into segments (inverse of ``render``).

    Item key values that look like numbers or booleans come back as such, as
    list keys such as ``containerPort`` are numbers in the API.
    """
    if text in ("", "/"):
        return ()
    segments: list[Segment] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "/":
            end = i + 1
            while end < len(text) and text[end] not in "/[":
                end += 1
            segments.append(unescape(text[i + 1 : end]))
            i = end
        elif char == "[":
            end = text.index("]", i)
            body = text[i + 1 : end]
            if body.startswith("="):
                segments.append(SetValue(_parse_value(body[1:])))
            elif body == "*":
                segments.append("*")
            elif "=" in body:
                pairs = []
                for part in body.split(","):
                    key, _, value = part.partition("=")
                    pairs.append((unescape(key), _parse_value(value)))
                segments.append(ItemKey(tuple(pairs)))
            else:
                segments.append(int(body))
            i = end + 1
        else:
            raise ValueError(f"bad field path {text!r} at {i}: expected '/' or '['")
    return tuple(segments)


def matches(pattern: Sequence[Segment], path: Sequence[Segment]) -> bool:
    """Whether ``path`` is ``pattern`` or lies under it; ``*`` matches any one segment.

    An ``ItemKey`` in the pattern matches an item whose keys include the pattern's.
    """
    if len(pattern) > len(path):
        return False
    for want, have in zip(pattern, path, strict=False):
        if want == "*":
            continue
        if isinstance(want, ItemKey) and isinstance(have, ItemKey):
            have_keys = have.as_dict()
            if any(
                have_keys.get(k) != v and str(have_keys.get(k)) != str(v) for k, v in want.pairs
            ):
                return False
            continue
        if want != have:
            return False
    return True


def from_dotted(text: str) -> Path:
    """Parse the dotted notation of the recorded fixtures (``spec.containers[name=api].image``).

    Only for paths whose keys contain no dots; driftwatch's own notation is ``render``'s.
    """
    pointer = ""
    depth = 0
    for char in text:
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        pointer += "/" if char == "." and depth == 0 else char
    return parse("/" + pointer)
