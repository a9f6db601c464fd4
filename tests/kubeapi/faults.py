"""Per-request fault injection for the test server.

A ``Fault`` matches requests by method, a path regex and query parameters, lets
``skip`` matching requests through, then applies its action to the next
``times`` ones (``None``: forever).  Actions:

- ``status``: answer ``status`` with a real ``Status`` body (``retry_after`` adds
  a ``Retry-After`` header, as for 429);
- ``delay``: sleep ``delay`` seconds, then answer normally (longer than the
  client's timeout, it is a timeout);
- ``reset``: close the connection without answering;
- ``reset_mid_body``: send the headers and half of the body, then close;
- ``expire``: answer 410 Expired as for a continue token from before a compaction;
- ``hang``: accept the request and never answer (until the server stops);
- ``trickle``: send the headers, then one byte of body every ``delay`` seconds,
  forever (each byte resets a client's read timeout).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

ACTIONS = frozenset({"status", "delay", "reset", "reset_mid_body", "expire", "hang", "trickle"})


@dataclass(slots=True)
class Fault:
    """One fault rule; ``hits`` counts how often it fired."""

    action: str
    method: str | None = "GET"
    path: str | None = None
    """Regex searched in the request path (None: any path)."""
    query: Mapping[str, str | None] = field(default_factory=dict)
    """Parameter -> regex its value must match (None: the parameter must be present)."""
    times: int | None = 1
    skip: int = 0
    status: int = 500
    retry_after: float | None = None
    delay: float = 0.0
    message: str | None = None
    hits: int = 0
    seen: int = 0

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown fault action {self.action!r}; one of {sorted(ACTIONS)}")

    def matches(self, method: str, path: str, query: Mapping[str, str]) -> bool:
        """Whether this rule is about the request (before counting)."""
        if self.method is not None and method != self.method:
            return False
        if self.path is not None and not re.search(self.path, path):
            return False
        for name, pattern in self.query.items():
            if name not in query:
                return False
            if pattern is not None and not re.search(pattern, query[name]):
                return False
        return True

    @property
    def exhausted(self) -> bool:
        """True once it fired ``times`` times."""
        return self.times is not None and self.hits >= self.times


class FaultPlan:
    """The active fault rules of one server, first match wins."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        """Install a rule (returned, so a test can read ``hits``)."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str, query: Mapping[str, str]) -> Fault | None:
        """The rule that fires for this request, counted, or None."""
        with self._lock:
            for fault in self._faults:
                if fault.exhausted or not fault.matches(method, path, query):
                    continue
                fault.seen += 1
                if fault.seen <= fault.skip:
                    continue
                fault.hits += 1
                return fault
        return None
