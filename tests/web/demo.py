"""The examples as a running service, with hostile Git content added, for the page tests.

The Git side is a real repository (a copy of ``examples/gitops`` plus hostile
values and names, as a malicious pull request could add), the cluster side the
examples' recorded snapshot, untouched; the service is the real one (pipeline,
audit log, drift count series) listening on a free loopback port.
"""

from __future__ import annotations

import shutil
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml

from driftwatch.config.load import load_config
from driftwatch.history.counts import DriftCountSeries
from driftwatch.service import Service, ServiceOptions, open_audit, pipeline_factory
from driftwatch.sinks.tracing import NoopTracer
from tests.service.helpers import wait_for

ROOT = Path(__file__).resolve().parents[2]
HOSTILE_VALUE = "<script>document.title='pwned'</script> \"double\" 'single' & ünïcødé ✓ 🚀"
HOSTILE_NAME = "<img src=x onerror=\"document.title='pwned'\">"
LONG_VALUE = "L" * 6000
HOSTILE_LABEL = "\"><script>document.title='pwned'</script>"


def hostile_repo(directory: Path) -> Path:
    """``examples/`` in a fresh Git repository, with hostile values and an object name."""
    shutil.copytree(ROOT / "examples", directory / "examples")
    config_file = directory / "examples/gitops/shop/10-config.yaml"
    docs = list(yaml.safe_load_all(config_file.read_text()))
    for doc in docs:
        if doc["kind"] == "ConfigMap" and doc["metadata"]["name"] == "shop-config":
            doc["data"]["HOSTILE"] = HOSTILE_VALUE
            doc["data"]["LONG"] = LONG_VALUE
            doc["metadata"]["labels"]["evil"] = HOSTILE_LABEL
    docs.append(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": HOSTILE_NAME,
                "namespace": "shop",
                "labels": {"app.kubernetes.io/part-of": "shop"},
            },
            "data": {"x": HOSTILE_VALUE},
        }
    )
    config_file.write_text(yaml.safe_dump_all(docs, allow_unicode=True))
    git = ["git", "-C", str(directory)]
    subprocess.run(["git", "init", "-q", "-b", "main", str(directory)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run(
        [*git, "-c", "user.name=Mallory", "-c", "user.email=m@example.com", "commit", "-qm", "x"],
        check=True,
    )
    return directory / "examples/driftwatch.yaml"


@dataclass
class Demo:
    """A running service over the demo repository."""

    service: Service
    base: str
    token: str | None

    def get(
        self, path: str, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        return request(self.base + path, headers=headers)

    def post(
        self, path: str, body: str, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        return request(self.base + path, body.encode(), headers=headers)


def request(
    url: str, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    """GET (or POST with ``data``) without following redirects."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    req = urllib.request.Request(url, data=data, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with opener.open(req, timeout=20) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, dict(e.headers), e.read().decode()


def start_demo(directory: Path, *, token: str | None = None) -> Demo:
    """Start the service on the hostile demo; returns once every target has a report."""
    config_path = hostile_repo(directory / "repo")
    state = directory / "state"
    token_file = None
    if token is not None:
        token_file = directory / "token"
        token_file.write_text(token)
    config = load_config(config_path)
    config = config.model_copy(
        update={"server": config.server.model_copy(update={"listen": "127.0.0.1:0"})}
    )
    service = Service(
        config,
        runner_factory=pipeline_factory(
            state_dir=state, cache_dir=directory / "cache", tracer=NoopTracer()
        ),
        options=ServiceOptions(token_file=str(token_file) if token_file else None),
        audit=open_audit(config, state),
        series=DriftCountSeries(state),
    )
    service.start()
    try:
        wait_for(
            lambda: all(s.report_run is not None for s in service.state.all()),
            timeout=120,
            what="a report of every target",
        )
    except BaseException:
        service.stop(1)
        raise
    host, port = service.http.address
    return Demo(service, f"http://{host}:{port}", token)
