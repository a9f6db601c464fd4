"""Structured logging for the service: JSON lines for machines, plain text for people.

Every line carries time, level, logger and message, plus the target being run and
the trace id when known.  Both come from context variables, so code deep in the
pipeline logs them without passing them around: the service wraps each run in
:func:`log_context`, and the tracer's current trace id is consulted through the
function given to :func:`set_trace_id_source`.

Messages are expected to be redacted already (error texts are truncated and come
from driftwatch's own exceptions); report values are never logged.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Literal, TextIO

LogFormat = Literal["json", "text", "auto"]

_target: contextvars.ContextVar[str | None] = contextvars.ContextVar("dw_target", default=None)
_trace_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("dw_trace", default=None)
_trace_source: Callable[[], str | None] | None = None

_RESERVED = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_EXTRA_TYPES = (str, int, float, bool, type(None))


@contextmanager
def log_context(*, target: str | None = None, trace_id: str | None = None) -> Iterator[None]:
    """Log lines inside the block name this target (and trace id, when given)."""
    tokens = [_target.set(target)] if target is not None else []
    trace_token = _trace_id.set(trace_id) if trace_id is not None else None
    try:
        yield
    finally:
        if trace_token is not None:
            _trace_id.reset(trace_token)
        for token in tokens:
            _target.reset(token)


def set_trace_id_source(source: Callable[[], str | None] | None) -> None:
    """Where the current trace id comes from (``tracer.current_trace_id``), or None."""
    global _trace_source
    _trace_source = source


def _current_trace_id() -> str | None:
    explicit = _trace_id.get()
    if explicit is not None or _trace_source is None:
        return explicit
    try:
        return _trace_source()
    except Exception:
        return None


class _ContextFilter(logging.Filter):
    """Copies the context variables onto each record as ``target``/``trace_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "target", None) is None:
            record.target = _target.get()
        if getattr(record, "trace_id", None) is None:
            record.trace_id = _current_trace_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; extra fields given with ``extra=`` are kept if scalar."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        time = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line: dict[str, object] = {
            "time": time.replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("target", "trace_id"):
            value = getattr(record, key, None)
            if value is not None:
                line[key] = value
        for key, value in vars(record).items():
            if key not in _RESERVED and key not in line and isinstance(value, _EXTRA_TYPES):
                if value is not None:
                    line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time level logger [target] message`` for a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one readable line (plus a traceback, if any)."""
        time = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        target = getattr(record, "target", None)
        where = f" [{target}]" if target else ""
        text = f"{time} {record.levelname:<7} {record.name}{where} {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def setup_logging(
    level: str | int = "info", fmt: LogFormat = "auto", stream: TextIO | None = None
) -> logging.Handler:
    """Send every log record to stderr (or ``stream``) in ``fmt``; return the handler.

    ``auto`` is text on a terminal and JSON lines otherwise.  Replaces handlers
    installed by an earlier call, so it is safe to call twice.
    """
    stream = sys.stderr if stream is None else stream
    if fmt == "auto":
        fmt = "text" if stream.isatty() else "json"
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(_ContextFilter())
    handler.set_name("driftwatch")
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == "driftwatch":
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    for noisy in ("apscheduler", "urllib3", "kubernetes"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler
