"""``driftwatch serve``: targets on schedules, results to sinks, state over HTTP.

``Service`` ties the pieces together; ``Runner`` is what it runs (the pipeline or
a test fake); ``ServiceOptions`` carries the command-line settings.
"""

from driftwatch.service.app import Service, ServiceOptions, read_token
from driftwatch.service.audit import Audit, open_audit
from driftwatch.service.runner import Runner, RunnerFactory, pipeline_factory

__all__ = [
    "Audit",
    "Runner",
    "RunnerFactory",
    "Service",
    "ServiceOptions",
    "open_audit",
    "pipeline_factory",
    "read_token",
]
