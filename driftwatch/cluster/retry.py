"""Bounded retries for cluster reads, waiting as :mod:`driftwatch.backoff` says.

Retried: no answer at all (connection reset, timeout), 429 (waiting what
``Retry-After`` says, capped) and 500/502/503/504.  Anything else — 401, 403,
404, 410 — is an answer, not a hiccup, and goes straight back to the caller; so
do a refused connection and a host name that does not resolve (nothing listens
there: seconds of retries would only hide that), and a request whose wait would
run past the read's deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from driftwatch.backoff import retry_delay
from driftwatch.cluster.api_errors import ApiRequestError

T = TypeVar("T")

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


def retryable(error: ApiRequestError) -> bool:
    """Whether trying the same request again may succeed."""
    if error.final:
        return False
    return error.status is None or error.status in RETRYABLE_STATUS


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry one request."""

    attempts: int = 5
    """Tries in total, the first included."""
    base_delay: float = 0.5
    max_delay: float = 10.0
    max_retry_after: float = 30.0
    """Cap on a server's ``Retry-After``."""
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def delay(self, attempt: int, error: ApiRequestError) -> float:
        """Seconds to wait before try number ``attempt + 1``."""
        return retry_delay(
            attempt,
            base=self.base_delay,
            cap=self.max_delay,
            retry_after=error.retry_after,
            max_retry_after=self.max_retry_after,
        )

    def call(self, request: Callable[[], T]) -> T:
        """Run ``request``, retrying retryable failures; the last error is re-raised."""
        attempt = 1
        while True:
            try:
                return request()
            except ApiRequestError as error:
                wait = self.delay(attempt, error)
                out_of_time = error.time_left is not None and wait >= error.time_left
                if attempt >= self.attempts or not retryable(error) or out_of_time:
                    error.attempts = attempt
                    raise
                self.sleep(wait)
                attempt += 1


NO_RETRY = RetryPolicy(attempts=1)
