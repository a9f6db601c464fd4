"""Tracing of runs: a tiny interface, a free no-op default and an OpenTelemetry backend.

The pipeline only sees :class:`Tracer`.  Without an exporter configured through the
standard ``OTEL_*`` variables, :func:`tracer_from_env` returns :data:`NOOP_TRACER`,
whose spans cost one attribute lookup, so tracing has no overhead unless asked for.

Span names: ``driftwatch.run`` (one trace per target run), its children
``driftwatch.stage.<stage>`` and ``driftwatch.list <group>/<kind>`` per resource
type listed.  Attributes follow the OpenTelemetry semantic conventions
(``k8s.*``, ``vcs.*``) plus ``driftwatch.*`` ones; see the ``ATTR_*`` constants.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Protocol, TypeAlias

from driftwatch import __version__
from driftwatch.model import GitRevision, TargetReport

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

log = logging.getLogger(__name__)

AttributeValue: TypeAlias = str | bool | int | float | Sequence[str]

RUN_SPAN = "driftwatch.run"
ATTR_TARGET = "driftwatch.target"
ATTR_CLUSTER = "k8s.cluster.name"
ATTR_NAMESPACE = "k8s.namespace.name"
ATTR_REPOSITORY = "vcs.repository.url.full"
ATTR_REF = "vcs.ref.head.name"
ATTR_REVISION = "vcs.ref.head.revision"
ATTR_STATUS = "driftwatch.run.status"


def stage_span_name(stage: str) -> str:
    """``driftwatch.stage.<stage>`` (pass ``Stage.value``)."""
    return f"driftwatch.stage.{stage}"


def list_span_name(group: str, kind: str) -> str:
    """``driftwatch.list <group>/<kind>`` (``core`` stands for the empty core group)."""
    return f"driftwatch.list {group or 'core'}/{kind}"


def revision_attributes(revision: GitRevision | None) -> dict[str, AttributeValue]:
    """``vcs.*`` attributes of a commit (the repository URL is already credential-free)."""
    if revision is None:
        return {}
    attrs: dict[str, AttributeValue] = {ATTR_REVISION: revision.sha, ATTR_REF: revision.ref}
    if revision.repository:
        attrs[ATTR_REPOSITORY] = revision.repository
    return attrs


def report_attributes(report: TargetReport) -> dict[str, AttributeValue]:
    """``driftwatch.resources.<state>`` counts (plus ``ignored``) of a report."""
    attrs: dict[str, AttributeValue] = {
        f"driftwatch.resources.{state.value}": count for state, count in report.totals().items()
    }
    attrs["driftwatch.resources.ignored"] = report.ignored_count
    attrs["driftwatch.source_errors"] = len(report.source_errors)
    attrs["driftwatch.unknown_types"] = len(report.read_errors)
    return attrs


class Span(Protocol):
    """What a stage may do with its span."""

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        """Attach one attribute."""

    def record_exception(self, exception: BaseException) -> None:
        """Record an exception as a span event (does not change the status)."""

    def set_status(self, ok: bool, description: str | None = None) -> None:
        """Mark the span OK or in error (``description``: a short, redacted reason)."""


class Tracer(Protocol):
    """Starts spans; the only tracing API the pipeline uses."""

    def span(
        self, name: str, attributes: Mapping[str, AttributeValue] | None = None
    ) -> AbstractContextManager[Span]:
        """A span, current while the block runs; an exception escaping it marks it in error."""

    def current_trace_id(self) -> str | None:
        """The 32-hex trace id of the current span, or None when not tracing."""


class _NoopSpan:
    def set_attribute(self, key: str, value: AttributeValue) -> None:
        pass

    def record_exception(self, exception: BaseException) -> None:
        pass

    def set_status(self, ok: bool, description: str | None = None) -> None:
        pass


class _NoopContext(AbstractContextManager[Span]):
    _span = _NoopSpan()

    def __enter__(self) -> Span:
        return self._span

    def __exit__(self, *exc: object) -> None:
        return None


class NoopTracer:
    """Does nothing, as cheaply as possible."""

    _context = _NoopContext()

    def span(
        self, name: str, attributes: Mapping[str, AttributeValue] | None = None
    ) -> AbstractContextManager[Span]:
        """The shared no-op span context."""
        return self._context

    def current_trace_id(self) -> str | None:
        """Always None."""
        return None

    def shutdown(self) -> None:
        """Nothing to flush."""


NOOP_TRACER = NoopTracer()


class _OtelSpan:
    def __init__(self, span: object) -> None:
        from opentelemetry.trace import Span as OtelSpanType

        assert isinstance(span, OtelSpanType)
        self._span = span

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        self._span.set_attribute(key, value)

    def record_exception(self, exception: BaseException) -> None:
        self._span.record_exception(exception)

    def set_status(self, ok: bool, description: str | None = None) -> None:
        from opentelemetry.trace import Status, StatusCode

        if ok:
            self._span.set_status(Status(StatusCode.OK))
        else:
            self._span.set_status(Status(StatusCode.ERROR, description))


class OtelTracer:
    """Spans through an OpenTelemetry SDK ``TracerProvider`` of its own (not the global one)."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self._tracer = provider.get_tracer("driftwatch", __version__)

    @classmethod
    def with_exporter(
        cls, exporter: SpanExporter, *, batch: bool = True, service_name: str | None = None
    ) -> OtelTracer:
        """A tracer exporting to ``exporter`` (tests: ``InMemorySpanExporter``, ``batch=False``)."""
        from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

        name = service_name or os.environ.get("OTEL_SERVICE_NAME") or "driftwatch"
        resource = Resource.create({SERVICE_NAME: name, SERVICE_VERSION: __version__})
        provider = TracerProvider(resource=resource)
        processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
        provider.add_span_processor(processor)
        return cls(provider)

    @contextmanager
    def _span(self, name: str, attributes: Mapping[str, AttributeValue] | None) -> Iterator[Span]:
        with self._tracer.start_as_current_span(name, attributes=attributes) as span:
            yield _OtelSpan(span)

    def span(
        self, name: str, attributes: Mapping[str, AttributeValue] | None = None
    ) -> AbstractContextManager[Span]:
        """An SDK span; exceptions are recorded and set the status to ERROR."""
        return self._span(name, attributes)

    def current_trace_id(self) -> str | None:
        """The current span's trace id, when it is one of ours or any valid one."""
        from opentelemetry import trace

        context = trace.get_current_span().get_span_context()
        return format(context.trace_id, "032x") if context.is_valid else None

    def shutdown(self) -> None:
        """Flush pending spans and stop the exporter."""
        self.provider.shutdown()


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def tracer_from_env(env: Mapping[str, str] | None = None) -> NoopTracer | OtelTracer:
    """The tracer the standard ``OTEL_*`` variables ask for; no-op when none is configured.

    Enabled by ``OTEL_TRACES_EXPORTER=otlp`` (or ``console``) or by an OTLP endpoint
    (``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``);
    ``OTEL_SDK_DISABLED=true`` and ``OTEL_TRACES_EXPORTER=none`` turn it off.  The
    exporter is OTLP over HTTP/protobuf; it reads its own settings from the same variables.
    """
    env = os.environ if env is None else env
    if _truthy(env.get("OTEL_SDK_DISABLED")):
        return NOOP_TRACER
    exporters = [e.strip().lower() for e in env.get("OTEL_TRACES_EXPORTER", "").split(",") if e]
    endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    if "none" in exporters or (not exporters and not endpoint):
        return NOOP_TRACER
    if "console" in exporters:
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return OtelTracer.with_exporter(
            ConsoleSpanExporter(), service_name=env.get("OTEL_SERVICE_NAME")
        )
    if exporters and "otlp" not in exporters:
        log.warning(
            "OTEL_TRACES_EXPORTER=%s is not supported (use otlp); tracing is off",
            ",".join(exporters),
        )
        return NOOP_TRACER
    protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL"
    )
    if protocol and protocol != "http/protobuf":
        log.warning("OTLP protocol %s is not supported; exporting with http/protobuf", protocol)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OtelTracer.with_exporter(OTLPSpanExporter(), service_name=env.get("OTEL_SERVICE_NAME"))
