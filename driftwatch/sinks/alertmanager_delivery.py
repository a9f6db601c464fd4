"""Delivery of alert batches to one Alertmanager: a worker thread per URL.

A run must never wait for Alertmanager, and one unreachable Alertmanager must
not delay the others, so each configured URL gets a thread with a small
bounded queue (when full, the oldest batch is dropped: the next run or re-send
carries the same state again).  A POST that fails with a connection error, a
timeout, 429 or 5xx is retried a bounded number of times, waiting as
:mod:`driftwatch.backoff` says (equal jitter, or the answer's ``Retry-After``,
capped); other 4xx answers are not retried.  Between batches the worker re-sends
every firing alert once per resend interval, so alerts of a target whose
interval is longer than Alertmanager's patience stay active.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from driftwatch.backoff import parse_retry_after, retry_delay
from driftwatch.errors import truncate
from driftwatch.redact import scrub_text

log = logging.getLogger(__name__)

API_PATH = "/api/v2/alerts"
Postable = dict[str, Any]
"""One alert as Alertmanager's ``postableAlert`` (JSON-ready)."""
DeliveryHook = Callable[[int, bool], None]
"""Called with (URL index, delivered?) once per batch, after retries; fits
``MetricsStore.count_alertmanager_notification``."""


def display_url(url: str) -> str:
    """``url`` without any user:password part, for logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class DeliveryWorker(threading.Thread):
    """Delivers batches to one Alertmanager, retrying, and re-sends firing alerts."""

    def __init__(
        self,
        index: int,
        url: str,
        *,
        active: Callable[[], list[Postable]],
        resend_interval: float,
        timeout: float,
        stop: threading.Event,
        attempts: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        max_retry_after: float = 30.0,
        queue_size: int = 32,
        on_delivery: DeliveryHook | None = None,
    ) -> None:
        super().__init__(name=f"driftwatch-alertmanager-{index}", daemon=True)
        self._active = active
        self._resend = resend_interval
        self._timeout = timeout
        self._stopping = stop
        self.index = index
        base = url.rstrip("/")
        self.endpoint = base if base.endswith(API_PATH) else base + API_PATH
        self._shown = display_url(self.endpoint)
        parts = urlsplit(url)
        self._secrets = [s for s in (parts.password, parts.username) if s]
        self._attempts = max(1, attempts)
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._max_retry_after = max_retry_after
        self._queue: queue.Queue[list[Postable] | None] = queue.Queue(maxsize=queue_size)
        self._on_delivery = on_delivery
        self._pending = 0
        self._idle = threading.Condition()
        self._session = requests.Session()

    def put(self, batch: list[Postable] | None) -> None:
        """Queue a batch (None stops the worker); never blocks."""
        with self._idle:
            self._pending += 1
        while True:
            try:
                self._queue.put_nowait(batch)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    continue
                log.warning("alertmanager %s: queue full, dropped the oldest batch", self._shown)
                self._done()

    def wait_idle(self, deadline: float) -> bool:
        """Wait until every queued batch was handled (monotonic ``deadline``)."""
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
            return True

    def _done(self) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def run(self) -> None:
        """Deliver queued batches; re-send firing alerts once per resend interval."""
        resend = self._resend
        last_full = time.monotonic()
        while True:
            wait = max(0.0, last_full + resend - time.monotonic())
            try:
                batch = self._queue.get(timeout=wait)
            except queue.Empty:
                batch = []
            if batch is None:
                self._done()
                break
            if batch:
                self._deliver_safely(batch)
                self._done()
            if time.monotonic() - last_full >= resend:
                last_full = time.monotonic()
                active = self._active()
                if active:
                    self._deliver_safely(active)
        self._session.close()

    def _deliver_safely(self, batch: list[Postable]) -> None:
        try:
            self._deliver(batch)
        except Exception:  # the worker must outlive any one bad batch
            log.exception("alertmanager %s: delivery crashed", self._shown)
            self._report(False)

    def _deliver(self, batch: list[Postable]) -> None:
        stop = self._stopping
        for attempt in range(1, self._attempts + 1):
            retry_after: float | None = None
            try:
                response = self._session.post(self.endpoint, json=batch, timeout=self._timeout)
            except requests.RequestException as e:
                problem, retry = (
                    truncate(scrub_text(f"{type(e).__name__}: {e}", self._secrets)),
                    True,
                )
            else:
                if response.status_code < 300:
                    self._report(True)
                    return
                problem = truncate(
                    scrub_text(f"HTTP {response.status_code}: {response.text}", self._secrets)
                )
                retry = response.status_code >= 500 or response.status_code == 429
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if not retry or attempt == self._attempts or stop.is_set():
                log.error(
                    "alertmanager %s: gave up delivering %d alert(s): %s",
                    self._shown,
                    len(batch),
                    problem,
                )
                self._report(False)
                return
            delay = retry_delay(
                attempt,
                base=self._backoff,
                cap=self._max_backoff,
                retry_after=retry_after,
                max_retry_after=self._max_retry_after,
            )
            log.warning(
                "alertmanager %s: delivery failed (%s); retry %d in %.1fs",
                self._shown,
                problem,
                attempt,
                delay,
            )
            if stop.wait(delay):
                self._report(False)
                return

    def _report(self, success: bool) -> None:
        if self._on_delivery is not None:
            self._on_delivery(self.index, success)
