"""Structured logs: one JSON object per line with target and trace id from context."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from driftwatch.logs import log_context, set_trace_id_source, setup_logging
from driftwatch.sinks.tracing import OtelTracer


@pytest.fixture
def captured() -> Iterator[tuple[io.StringIO, logging.Handler]]:
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = setup_logging("info", "json", stream=stream)
    yield stream, handler
    root.removeHandler(handler)
    root.setLevel(level)
    set_trace_id_source(None)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_target_and_trace_id(
    captured: tuple[io.StringIO, logging.Handler],
) -> None:
    stream, _ = captured
    tracer = OtelTracer.with_exporter(InMemorySpanExporter(), batch=False)
    set_trace_id_source(tracer.current_trace_id)
    log = logging.getLogger("driftwatch.test")
    log.info("outside")
    with log_context(target="shop"), tracer.span("driftwatch.run"):
        trace_id = tracer.current_trace_id()
        log.warning("inside %s", "run", extra={"status": "partial", "obj": object()})
    log.debug("hidden at info level")
    tracer.shutdown()
    outside, inside = lines(stream)
    assert set(outside) == {"time", "level", "logger", "message"}
    assert str(outside["time"]).endswith("Z")
    assert inside["target"] == "shop" and inside["trace_id"] == trace_id
    assert inside["message"] == "inside run" and inside["level"] == "warning"
    assert inside["status"] == "partial" and "obj" not in inside


def test_exceptions_stay_on_one_json_line(captured: tuple[io.StringIO, logging.Handler]) -> None:
    stream, _ = captured
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("x").exception("failed")
    (line,) = lines(stream)
    assert "ValueError: boom" in str(line["exception"])


def test_text_format_for_people() -> None:
    stream = io.StringIO()
    handler = setup_logging("info", "text", stream=stream)
    try:
        with log_context(target="shop"):
            logging.getLogger("driftwatch.x").info("hello")
    finally:
        logging.getLogger().removeHandler(handler)
    assert stream.getvalue().rstrip().endswith("INFO    driftwatch.x [shop] hello")
