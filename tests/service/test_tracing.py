"""Tracing: span names and semantic-convention attributes, and when tracing is on at all."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from driftwatch.run import Stage
from driftwatch.sinks.tracing import (
    ATTR_CLUSTER,
    ATTR_NAMESPACE,
    ATTR_TARGET,
    NOOP_TRACER,
    RUN_SPAN,
    OtelTracer,
    list_span_name,
    report_attributes,
    revision_attributes,
    stage_span_name,
    tracer_from_env,
)
from tests.service.helpers import REVISION, drift, report


@pytest.fixture
def traced() -> Iterator[tuple[OtelTracer, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    tracer = OtelTracer.with_exporter(exporter, batch=False)
    yield tracer, exporter
    tracer.shutdown()


def test_a_run_is_one_trace_with_stage_and_list_children(
    traced: tuple[OtelTracer, InMemorySpanExporter],
) -> None:
    tracer, exporter = traced
    assert tracer.current_trace_id() is None
    with tracer.span(
        RUN_SPAN, {ATTR_TARGET: "shop", ATTR_CLUSTER: "prod", **revision_attributes(REVISION)}
    ) as run_span:
        trace_id = tracer.current_trace_id()
        with tracer.span(stage_span_name(Stage.SNAPSHOT.value)):
            with tracer.span(list_span_name("apps", "Deployment"), {ATTR_NAMESPACE: "shop"}):
                pass
            with tracer.span(list_span_name("", "ConfigMap")):
                pass
        for key, value in report_attributes(report("shop", [drift()])).items():
            run_span.set_attribute(key, value)
        run_span.set_status(True)
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert set(spans) == {
        "driftwatch.run",
        "driftwatch.stage.snapshot",
        "driftwatch.list apps/Deployment",
        "driftwatch.list core/ConfigMap",
    }
    assert trace_id is not None and len(trace_id) == 32
    assert {format(s.context.trace_id, "032x") for s in spans.values()} == {trace_id}
    root = spans["driftwatch.run"]
    assert root.parent is None
    assert spans["driftwatch.stage.snapshot"].parent.span_id == root.context.span_id  # type: ignore[union-attr]
    attrs = dict(root.attributes or {})
    assert attrs["driftwatch.target"] == "shop"
    assert attrs["k8s.cluster.name"] == "prod"
    assert attrs["vcs.ref.head.revision"] == REVISION.sha
    assert attrs["vcs.ref.head.name"] == "refs/heads/main"
    assert attrs["vcs.repository.url.full"] == REVISION.repository
    assert attrs["driftwatch.resources.modified"] == 1
    assert attrs["driftwatch.resources.in_sync"] == 0
    assert root.status.status_code is StatusCode.OK
    assert root.resource.attributes["service.name"] == "driftwatch"


def test_errors_are_recorded_on_the_span(traced: tuple[OtelTracer, InMemorySpanExporter]) -> None:
    tracer, exporter = traced
    with pytest.raises(RuntimeError), tracer.span(stage_span_name("git")):
        raise RuntimeError("fetch failed")
    with tracer.span(stage_span_name("render")) as span:
        span.record_exception(ValueError("bad yaml"))
        span.set_status(False, "render failed")
    git, render = exporter.get_finished_spans()
    assert git.status.status_code is StatusCode.ERROR
    assert [e.name for e in git.events] == ["exception"]
    assert render.status.status_code is StatusCode.ERROR
    assert render.status.description == "render failed"


def test_noop_tracer_when_no_exporter_is_configured() -> None:
    assert tracer_from_env({}) is NOOP_TRACER
    endpoint = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"}
    assert tracer_from_env({**endpoint, "OTEL_SDK_DISABLED": "true"}) is NOOP_TRACER
    assert tracer_from_env({**endpoint, "OTEL_TRACES_EXPORTER": "none"}) is NOOP_TRACER
    assert tracer_from_env({"OTEL_TRACES_EXPORTER": "zipkin"}) is NOOP_TRACER
    with NOOP_TRACER.span("x") as span:
        span.set_attribute("a", 1)
        assert NOOP_TRACER.current_trace_id() is None


def test_otlp_endpoint_exports_spans_over_http(monkeypatch: pytest.MonkeyPatch) -> None:
    received: list[bytes] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
        monkeypatch.setenv("OTEL_SERVICE_NAME", "driftwatch-test")
        tracer = tracer_from_env()
        assert isinstance(tracer, OtelTracer)
        with tracer.span(RUN_SPAN, {ATTR_TARGET: "shop"}):
            pass
        tracer.shutdown()
    finally:
        server.shutdown()
        server.server_close()
    request = ExportTraceServiceRequest()
    request.ParseFromString(b"".join(received))
    (resource_spans,) = request.resource_spans
    service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert service["service.name"] == "driftwatch-test"
    names = [s.name for ss in resource_spans.scope_spans for s in ss.spans]
    assert names == ["driftwatch.run"]
