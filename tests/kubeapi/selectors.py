"""Label and field selectors as kube-apiserver parses them (the subset driftwatch uses).

Label: ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``, ``k``, ``!k``,
comma-separated (ANDed).  Field: ``metadata.name`` and ``metadata.namespace`` with
``=``, ``==``, ``!=``.  Anything else is a ``SelectorError`` (the server answers 400).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Matcher = Callable[[Mapping[str, str]], bool]

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_SET = re.compile(rf"^({_KEY})\s+(in|notin)\s*\((.*)\)$")
_EQ = re.compile(rf"^({_KEY})\s*(==|=|!=)\s*(.*)$")
_EXISTS = re.compile(rf"^(!?)\s*({_KEY})$")


class SelectorError(ValueError):
    """A selector the server cannot parse."""


def _split(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def _requirement(text: str) -> Matcher:
    match = _SET.match(text)
    if match:
        key, op, values = match.group(1), match.group(3), match.group(4)
        wanted = {v.strip() for v in values.split(",") if v.strip()}
        if op == "in":
            return lambda labels: labels.get(key) in wanted
        return lambda labels: labels.get(key) not in wanted
    match = _EQ.match(text)
    if match:
        key, op, value = match.group(1), match.group(3), match.group(4).strip()
        if op == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    match = _EXISTS.match(text)
    if match:
        negate, key = match.group(1) == "!", match.group(2)
        if negate:
            return lambda labels: key not in labels
        return lambda labels: key in labels
    raise SelectorError(f"unable to parse requirement: {text!r}")


def label_matcher(selector: str | None) -> Matcher | None:
    """A predicate over an object's labels, or None for "everything"."""
    if not selector or not selector.strip():
        return None
    requirements = [_requirement(part) for part in _split(selector)]
    return lambda labels: all(req(labels) for req in requirements)


FieldMatcher = Callable[[Mapping[str, Any]], bool]
_FIELDS = {"metadata.name": "name", "metadata.namespace": "namespace"}


def _field_check(attr: str, value: str, *, negate: bool) -> FieldMatcher:
    def check(meta: Mapping[str, Any]) -> bool:
        return ((meta.get(attr) or "") == value) != negate

    return check


def field_matcher(selector: str | None) -> FieldMatcher | None:
    """A predicate over an object's metadata, or None for "everything"."""
    if not selector or not selector.strip():
        return None
    checks: list[FieldMatcher] = []
    for part in _split(selector):
        match = re.match(r"^([A-Za-z.]+)\s*(==|=|!=)\s*(.*)$", part)
        if not match:
            raise SelectorError(f"invalid field selector: {part!r}")
        field, op, value = match.group(1), match.group(2), match.group(3).strip()
        if field not in _FIELDS:
            raise SelectorError(f"field label not supported: {field}")
        checks.append(_field_check(_FIELDS[field], value, negate=op == "!="))
    return lambda meta: all(check(meta) for check in checks)
