"""An in-process ``driftwatch serve`` with the real pipeline, audit log and HTTP API.

Built exactly as ``serve_cmd`` builds it (config file -> ``load_config``,
``pipeline_factory``, ``open_audit``), listening on 127.0.0.1.  The schedule is
an hour, so after the start-up run the test drives runs itself with
:meth:`LiveService.run` and reads the outcome over HTTP, as a user would.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from driftwatch.config.load import load_config
from driftwatch.service import Service, ServiceOptions, open_audit, pipeline_factory
from driftwatch.sinks.tracing import NOOP_TRACER, Tracer
from tests.service.helpers import http_get, wait_for


class LiveService:
    """A started service for one configuration file; stop it with :meth:`stop`."""

    def __init__(
        self,
        config_path: Path,
        *,
        state_dir: Path,
        cache_dir: Path,
        token_file: Path | None = None,
        tracer: Tracer | None = None,
        wait_first: bool = True,
    ) -> None:
        config = load_config(config_path)
        self.service = Service(
            config,
            runner_factory=pipeline_factory(
                state_dir=state_dir, cache_dir=cache_dir, tracer=tracer or NOOP_TRACER
            ),
            options=ServiceOptions(
                listen="127.0.0.1:0",
                grace_period=30,
                token_file=str(token_file) if token_file else None,
            ),
            audit=open_audit(config, state_dir),
        )
        self.token = token_file.read_text().strip() if token_file else None
        self.service.start()
        host, port = self.service.http.address
        self.base = f"http://{host}:{port}"
        self.target = config.targets[0].name
        if wait_first:
            self.wait_idle()

    def wait_idle(self) -> None:
        """Wait until the start-up run is recorded and nothing runs."""

        def idle() -> bool:
            st = self.service.state.get(self.target)
            return st.last_run is not None and st.running_since is None

        wait_for(idle, timeout=120, what="the first run")

    def run(self) -> dict[str, Any]:
        """One run now (in this thread); the target's ``last_run`` as /api/v1/targets shows it."""
        assert self.service.run_target(self.target), "the run was skipped"
        return self.target_json()["last_run"]  # type: ignore[no-any-return]

    def get(self, path: str) -> tuple[int, bytes]:
        status, _, body = http_get(self.base, path, token=self.token)
        return status, body

    def json(self, path: str) -> Any:
        status, body = self.get(path)
        assert status == 200, (path, status, body[:300])
        return json.loads(body)

    def metrics(self) -> str:
        status, body = self.get("/metrics")
        assert status == 200
        return body.decode()

    def target_json(self) -> dict[str, Any]:
        (entry,) = self.json("/api/v1/targets")["targets"]
        return entry  # type: ignore[no-any-return]

    def drift_report(self) -> dict[str, Any]:
        (entry,) = self.json("/api/v1/drift?all=1")["targets"]
        return entry  # type: ignore[no-any-return]

    def events(self) -> list[dict[str, Any]]:
        return self.json("/api/v1/events?limit=10000")["events"]  # type: ignore[no-any-return]

    def ready(self) -> int:
        return self.get("/readyz")[0]

    def stop(self) -> None:
        self.service.stop(grace_period=30)
