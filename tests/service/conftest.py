"""Fixtures: an in-process Service on 127.0.0.1 with a fake runner, stopped after the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from driftwatch.config.model import Config
from driftwatch.service import Service, ServiceOptions
from tests.service.helpers import FakeRunner

StartService = Callable[..., tuple[Service, str]]


@pytest.fixture
def start_service() -> Iterator[StartService]:
    started: list[Service] = []

    def start(
        config: Config, runner: Any, *, options: ServiceOptions | None = None, **kw: Any
    ) -> tuple[Service, str]:
        factory = kw.pop("runner_factory", None) or (lambda _config: runner)
        service = Service(
            config,
            runner_factory=factory,
            options=options or ServiceOptions(listen="127.0.0.1:0", grace_period=10),
            **kw,
        )
        started.append(service)
        service.start()
        host, port = service.http.address
        return service, f"http://{host}:{port}"

    yield start
    for service in started:
        if isinstance(getattr(service, "_runner", None), FakeRunner):
            gate = service._runner.gate
            if gate is not None:
                gate.set()
        service.stop(grace_period=10)
