"""Build Python data from a composed YAML document in one tight pass, checks included.

PyYAML's constructor is generic Python (a state machine of generators, one
``construct_object`` call per node); most of a manifest's parse time is spent
there.  A Kubernetes manifest needs far less: maps, lists and the core scalar
types.  ``build(node, max_depth)`` constructs exactly what the checked path
(``yamlload``: ``_check_tree`` then PyYAML's ``construct_document`` with the
manifest loader's constructors) would, while checking in the same pass what
that path checks — duplicate keys and nesting depth — and raises ``UnusualDocumentError``
the moment a document needs more: a duplicate key, nesting past the limit, a
tag other than the core ones, a merge key (``<<``), a key that is not a
scalar.  The caller then runs the checked path on that document, so every
refusal keeps its exact error.  Documents of a stream with anchors never come
here: shared nodes need the alias-expansion check and PyYAML's sharing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, cast

from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_P = "tag:yaml.org,2002:"
STR_TAG = _P + "str"
_MAP_TAG = _P + "map"
_SEQ_TAG = _P + "seq"
INTERN_MAX = 64
"""Strings up to this length are interned: keys and values like ``apps/v1`` repeat."""

KEY_AS_TEXT = frozenset(_P + t for t in ("int", "float", "bool", "null", "timestamp", "binary"))
"""Mapping keys with these tags are read as their text (JSON keys are strings)."""


class UnusualDocumentError(Exception):
    """The document needs the checked path (see the module doc)."""


def text_of(constructor: Any, node: ScalarNode) -> str:
    """A scalar's text, whatever its tag (the constructor for timestamps and ``!!binary``)."""
    return str(node.value)


_SCALARS: dict[str, Callable[[Any, ScalarNode], Any]] = {
    _P + "int": SafeConstructor.construct_yaml_int,
    _P + "float": SafeConstructor.construct_yaml_float,
    _P + "bool": SafeConstructor.construct_yaml_bool,
    _P + "null": SafeConstructor.construct_yaml_null,
    _P + "timestamp": text_of,  # Kubernetes reads timestamps as strings
    _P + "binary": text_of,  # ... and !!binary as its base64 text
}


def build(constructor: Any, node: Node, max_depth: int) -> Any:
    """The document's data, or ``UnusualDocumentError``; ``constructor`` builds other scalars."""
    intern = sys.intern
    scalars = _scalars_for(constructor)

    def value_of(node: Node, depth: int) -> Any:
        kind = type(node)
        if kind is ScalarNode:
            tag = node.tag
            if tag == STR_TAG:
                text: str = node.value
                return intern(text) if len(text) <= INTERN_MAX else text
            make = scalars.get(tag)
            if make is None:
                raise UnusualDocumentError
            return make(cast(ScalarNode, node))
        if depth > max_depth:
            raise UnusualDocumentError
        if kind is MappingNode:
            if node.tag != _MAP_TAG:
                raise UnusualDocumentError
            pairs = node.value
            out: dict[Any, Any] = {}
            for key_node, item in pairs:
                if type(key_node) is not ScalarNode:
                    raise UnusualDocumentError
                tag = key_node.tag
                if tag != STR_TAG and tag not in KEY_AS_TEXT:
                    raise UnusualDocumentError
                key: str = key_node.value
                if len(key) <= INTERN_MAX:
                    key = intern(key)
                out[key] = value_of(item, depth + 1)
            if len(out) != len(pairs):
                raise UnusualDocumentError  # a duplicate key: the checked path names it
            return out
        if kind is SequenceNode:
            if node.tag != _SEQ_TAG:
                raise UnusualDocumentError
            return [value_of(item, depth + 1) for item in node.value]
        raise UnusualDocumentError

    return value_of(node, 1)


def _scalars_for(constructor: Any) -> dict[str, Callable[[ScalarNode], Any]]:
    return {tag: _bound(make, constructor) for tag, make in _SCALARS.items()}


def _bound(make: Callable[[Any, ScalarNode], Any], constructor: Any) -> Callable[[ScalarNode], Any]:
    return lambda node: make(constructor, node)
