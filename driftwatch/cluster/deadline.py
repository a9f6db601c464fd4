"""The overall time limit of one cluster read, so a server that never answers cannot hang a run.

Socket timeouts alone do not bound a run: a server that accepts and never answers
costs a read timeout per attempt, and one that sends a byte every few seconds
never trips a read timeout at all.  A ``Deadline`` caps every request's connect
and read timeouts at the time left, and the client checks it between chunks of a
body; once it has passed, every request fails at once with ``DeadlineExceeded``,
which is not retried.  The types not read by then are unknown, never missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from driftwatch.cluster.api_errors import ApiRequestError


class DeadlineExceeded(ApiRequestError):  # noqa: N818 (reads as what happened)
    """The run's time for this cluster ran out before the request could finish."""


class Deadline:
    """A point in (monotonic) time after which no more requests are made."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._ends = clock() + seconds

    def remaining(self) -> float:
        """Seconds left (0 once passed)."""
        return max(0.0, self._ends - self._clock())

    @property
    def expired(self) -> bool:
        """Whether the deadline has passed."""
        return self.remaining() <= 0.0

    def cap(self, timeout: float) -> float:
        """``timeout``, or the time left when that is shorter (never 0: urllib3 needs > 0)."""
        return max(0.001, min(timeout, self.remaining()))

    def exceeded(self, what: str, cause: str = "") -> DeadlineExceeded:
        """The error for ``what`` (e.g. ``GET /api/v1/pods``) stopped by this deadline."""
        text = f"{what}: stopped at the cluster read deadline ({self.seconds:g}s)"
        error = DeadlineExceeded(text + (f" ({cause})" if cause else ""))
        error.final = True
        error.time_left = 0.0
        return error
