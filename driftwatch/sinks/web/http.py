"""The request and response the pages exchange with the HTTP server (no HTTP code here)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

HTML_TYPE = "text/html; charset=utf-8"


@dataclass(frozen=True, slots=True)
class WebRequest:
    """What the pages need of an HTTP request."""

    method: str
    target: str
    """The raw request target: path and query."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Header names in lower case."""
    body: bytes = b""
    client: str = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class WebResponse:
    """Status, extra headers and body (HTML unless ``content_type`` says otherwise)."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = HTML_TYPE


class PageHandler(Protocol):
    """What the HTTP server asks about every path that is not its own."""

    def handle(self, request: WebRequest) -> WebResponse | None:
        """The page's response, or None when the path is no page (the server answers 404)."""

    def session_valid(self, cookie_header: str | None) -> bool:
        """Whether a ``Cookie`` header holds a valid page session.

        Lets the pages' JSON links open in the browser that logged in; never for POSTs.
        """
