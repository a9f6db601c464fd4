"""The one backoff every retry uses: jittered exponential waits, or the server's Retry-After."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from driftwatch.backoff import equal_jitter, parse_retry_after, retry_delay

NOW = 1_800_000_000.0


def test_equal_jitter_waits_between_half_and_all_of_a_doubling_capped_ceiling() -> None:
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (6, 10.0), (30, 10.0)]:
        waits = {equal_jitter(attempt, 0.5, 10.0) for _ in range(200)}
        assert all(ceiling / 2 <= w <= ceiling for w in waits), (attempt, min(waits), max(waits))
        assert len(waits) > 1, "no jitter: clients that failed together retry together"


def test_a_server_retry_after_wins_over_the_backoff_up_to_the_cap() -> None:
    kw = {"base": 0.5, "cap": 10.0, "max_retry_after": 30.0}
    assert retry_delay(1, retry_after=7.0, **kw) == 7.0
    assert retry_delay(5, retry_after=0.0, **kw) == 0.0
    assert retry_delay(1, retry_after=3600.0, **kw) == 30.0
    assert 0.25 <= retry_delay(1, retry_after=None, **kw) <= 0.5


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 2.5 ", 2.5),
        ("-3", 0.0),
        (formatdate(NOW + 90, usegmt=True), 90.0),
        (formatdate(NOW - 90, usegmt=True), 0.0),
        (None, None),
        ("", None),
        ("soon", None),
    ],
)
def test_retry_after_is_read_in_both_forms_http_allows(
    header: str | None, seconds: float | None
) -> None:
    assert parse_retry_after(header, now=NOW) == seconds
