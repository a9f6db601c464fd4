"""Kubernetes label selectors (``a=b,c!=d,e in (f,g),!h``), parsed and matched.

The ownership marker that makes a live object count as a target's is a label
selector; this is the same grammar ``kubectl -l`` accepts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

Requirement = Callable[[Mapping[str, str]], bool]

_SET = re.compile(r"^\s*([^\s!=,()]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQ = re.compile(r"^\s*([^\s!=,()]+)\s*(==|=|!=)\s*([^\s,()]*)\s*$")
_EXISTS = re.compile(r"^\s*(!?)\s*([^\s!=,()]+)\s*$")


def _split(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current)
    return parts


def _requirement(part: str) -> Requirement:
    if match := _SET.match(part):
        key, op, values = (
            match.group(1),
            match.group(2),
            {v.strip() for v in match.group(3).split(",")},
        )
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if match := _EQ.match(part):
        key, op, value = match.groups()
        if op == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if match := _EXISTS.match(part):
        negate, key = match.groups()
        if negate:
            return lambda labels: key not in labels
        return lambda labels: key in labels
    raise ValueError(f"invalid label selector requirement {part.strip()!r}")


class LabelSelector:
    """A parsed selector; ``matches(labels)``. The empty selector matches everything."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._requirements = [_requirement(p) for p in _split(text)]

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        """Whether labels satisfy every requirement."""
        labels = labels or {}
        return all(req(labels) for req in self._requirements)
