"""One backoff for every retry: exponential with equal jitter, or what ``Retry-After`` asks.

Kubernetes API reads (``cluster.retry``), watch reconnects (``cluster.watching``)
and Alertmanager deliveries (``sinks.alertmanager_delivery``) all wait the same
way.  Equal jitter keeps half of the exponential ceiling, so a retry never comes
back at once, and randomises the other half, so many clients that failed together
do not retry together.  A server that says when to come back (``Retry-After``,
in seconds or as an HTTP date) is believed, up to a cap.
"""

from __future__ import annotations

import random
import time
from email.utils import parsedate_to_datetime


def equal_jitter(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with equal jitter: half the ceiling, plus up to half again."""
    ceiling = min(cap, base * 2.0 ** (attempt - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def retry_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    retry_after: float | None = None,
    max_retry_after: float,
) -> float:
    """Seconds to wait after failed try number ``attempt`` (1 = the first)."""
    if retry_after is not None:
        return min(max(0.0, retry_after), max_retry_after)
    return equal_jitter(attempt, base, cap)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header value asks for (None when absent or unreadable).

    The value is delta-seconds or an HTTP date (RFC 9110 section 10.2.3); a date in
    the past means "now".
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
