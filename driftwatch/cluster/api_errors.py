"""How a failed Kubernetes API request is described: status, reason, Retry-After, no secrets.

Messages name the request path (never its query or headers, which could carry a
token) and cap the server's text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import urllib3

from driftwatch.backoff import parse_retry_after
from driftwatch.errors import ClusterError, truncate


class ApiRequestError(ClusterError):
    """A request failed: an HTTP error status, or no answer at all (``status`` None)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reason: str = "",
        retry_after: float | None = None,
        continue_token: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.retry_after = retry_after
        self.continue_token = continue_token
        self.attempts = 1
        """How many times the request was tried (set by the retry policy)."""
        self.final = False
        """Trying again cannot help (refused, unresolvable, out of time): never retried."""
        self.time_left: float | None = None
        """Seconds left before the read's deadline when this failed (None: no deadline)."""


def retry_after_of(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from a ``Retry-After`` header (kube-apiserver sends the seconds form)."""
    return parse_retry_after((headers or {}).get("Retry-After"))


def describe(error: BaseException) -> str:
    """A one-line reason for a transport error, without URLs' query strings.

    urllib3 2.x makes ``NewConnectionError`` (and ``NameResolutionError`` below
    it) subclasses of ``ConnectTimeoutError``, so those are told apart first:
    a refused connection or an unknown host is not a timeout.
    """
    reason = getattr(error, "reason", None)
    if isinstance(error, urllib3.exceptions.MaxRetryError) and isinstance(reason, BaseException):
        error = reason
    exceptions = urllib3.exceptions
    if isinstance(error, exceptions.NameResolutionError):
        host = str(getattr(error, "_host", "") or "")
        return f"host name {truncate(host, 80)} not resolved" if host else "host name not resolved"
    if isinstance(error, exceptions.NewConnectionError):
        cause = error.__cause__ or error.__context__
        if isinstance(cause, ConnectionRefusedError) or "refused" in str(error).lower():
            return "connection refused"
        if isinstance(cause, TimeoutError):
            return "connect timed out"
        detail = str(cause) if cause is not None else str(error)
        return truncate(f"cannot connect: {detail}", 160)
    if isinstance(error, exceptions.ReadTimeoutError):
        return "read timed out"
    if isinstance(error, exceptions.ConnectTimeoutError):
        return "connect timed out"
    if isinstance(reason, BaseException):
        error = reason
    text = str(error).split("?", 1)[0]
    return truncate(f"{type(error).__name__}: {text}" if text else type(error).__name__, 160)


def is_unreachable(error: BaseException) -> bool:
    """A refused connection or a host name that does not resolve: retrying will not help soon."""
    reason = getattr(error, "reason", None)
    if isinstance(error, urllib3.exceptions.MaxRetryError) and isinstance(reason, BaseException):
        error = reason
    if isinstance(error, urllib3.exceptions.NameResolutionError):
        return True
    return isinstance(error, urllib3.exceptions.NewConnectionError) and isinstance(
        error.__cause__ or error.__context__, ConnectionRefusedError
    )


def status_error(
    path: str, status: int, data: bytes, headers: Mapping[str, str]
) -> ApiRequestError:
    """The error for a non-2xx answer, from its ``Status`` body when it has one."""
    reason, message, token = "", "", None
    try:
        body = json.loads(data)
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("kind") == "Status":
        reason = str(body.get("reason") or "")
        message = str(body.get("message") or "")
        token = (body.get("metadata") or {}).get("continue") or None
    else:
        message = data[:200].decode("utf-8", "replace")
    text = f"GET {path}: HTTP {status}" + (f" {reason}" if reason else "")
    if message:
        text += f": {truncate(message, 160)}"
    return ApiRequestError(
        text,
        status=status,
        reason=reason,
        retry_after=retry_after_of(headers),
        continue_token=token,
    )
