"""Builders for the watch-mode tests: a shop Git repository, a config file, a live service.

Everything is real: the shop manifests in a Git repository, the configuration
loader, the pipeline, the audit log and the Kubernetes API test server.  Live
changes are the recorded ones (``tests/fixtures/recorded``): a case's object is
put into the server's store, as the real cluster held it after the change.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from driftwatch.cluster.watching import WatchSettings
from driftwatch.config.load import load_config
from driftwatch.service import Service, ServiceOptions, open_audit, pipeline_factory
from driftwatch.service.watch import WatchOptions
from driftwatch.sinks.tracing import NOOP_TRACER
from tests.kubeapi import KubeApiServer, load_scenario
from tests.kubeapi.fixtures import kubeconfig_for
from tests.service.helpers import http_get, wait_for

ROOT = Path(__file__).resolve().parents[2]
SHOP_GIT = ROOT / "tests" / "fixtures" / "recorded" / "scenarios" / "shop" / "git"
MARKER = "app.kubernetes.io/part-of=shop"
TOKEN = "refresh-token-0123456789"

FAST = WatchOptions(
    watch=WatchSettings(timeout_seconds=30, backoff_base=0.05, backoff_max=0.4),
    git_poll_interval=0.3,
    retry_busy=0.05,
)


def git(cwd: Path, *args: str) -> str:
    """Run the real git binary; fail with its stderr."""
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout.strip()


def shop_repo(path: Path) -> Path:
    """A working repository (branch ``main``) holding the recorded shop manifests."""
    shutil.copytree(SHOP_GIT, path)
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "shop manifests")
    return path


SLICES = {
    "all": [p.name for p in sorted(SHOP_GIT.glob("*.yaml"))],
    "config": ["10-config.yaml"],
    "api": ["20-api.yaml"],
    "db": ["30-db.yaml"],
    "rbac": ["50-rbac.yaml"],
    "widget": ["60-crd.yaml", "70-widget.yaml"],
}
"""Targets made of the recorded shop manifests: one directory each, overlapping kinds."""


def sliced_repo(path: Path) -> Path:
    """One Git repository (branch ``main``), a directory per entry of :data:`SLICES`."""
    for name, files in SLICES.items():
        (path / name).mkdir(parents=True)
        for file in files:
            shutil.copy(SHOP_GIT / file, path / name / file)
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "shop slices")
    return path


def sliced_config(
    repo: Path, kubeconfig: Path, names: list[str], *, watch: bool = False, **cluster: Any
) -> dict[str, Any]:
    """A configuration with one target per slice in ``names``, all on cluster ``test``."""
    return {
        "clusters": [{"name": "test", "kubeconfig": str(kubeconfig), **cluster}],
        "targets": [
            {
                "name": name,
                "repo": str(repo),
                "rev": "main",
                "path": name,
                "cluster": "test",
                "selector": MARKER,
                "watch": watch,
                "schedule": {"interval": "1h"},
            }
            for name in names
        ],
        "server": {"listen": "127.0.0.1:0"},
    }


def case_object(case: str, kind: str, name: str) -> dict[str, Any]:
    """The live object ``kind/name`` as the cluster held it in recorded case ``shop/<case>``."""
    for item in load_scenario(f"shop/{case}"):
        if item["kind"] == kind and item["metadata"]["name"] == name:
            return item
    raise KeyError(f"{kind}/{name} not in recorded case {case}")


def case_only(case: str, base: str = "untouched-csa") -> list[dict[str, Any]]:
    """Objects of recorded case ``case`` that ``base`` does not hold (e.g. a stray object)."""
    known = {
        (i["kind"], i["metadata"].get("namespace"), i["metadata"]["name"])
        for i in load_scenario(f"shop/{base}")
    }
    return [
        i
        for i in load_scenario(f"shop/{case}")
        if (i["kind"], i["metadata"].get("namespace"), i["metadata"]["name"]) not in known
    ]


def write_config(path: Path, repo: Path, kubeconfig: Path, **target: Any) -> Path:
    """A config file: cluster ``test``, target ``shop`` watching, hourly schedule."""
    config = {
        "clusters": [{"name": "test", "kubeconfig": str(kubeconfig), "timeout": "5s"}],
        "targets": [
            {
                "name": "shop",
                "repo": str(repo),
                "rev": "main",
                "cluster": "test",
                "selector": MARKER,
                "watch": True,
                "schedule": {"interval": "1h"},
                **target,
            }
        ],
        "server": {"listen": "127.0.0.1:0"},
    }
    path.write_text(json.dumps(config, indent=1))
    return path


class WatchedService:
    """An in-process ``driftwatch serve`` over the test server, with watch mode on."""

    def __init__(
        self,
        server: KubeApiServer,
        tmp: Path,
        *,
        audit: bool = True,
        token: str | None = None,
        options: WatchOptions = FAST,
        **target: Any,
    ) -> None:
        self.server = server
        self.repo = shop_repo(tmp / "shop")
        kubeconfig = kubeconfig_for(server, tmp / "kubeconfig")
        config_path = write_config(tmp / "driftwatch.yaml", self.repo, kubeconfig, **target)
        config = load_config(config_path)
        state_dir = tmp / "state"
        token_file = None
        if token is not None:
            token_file = tmp / "token"
            token_file.write_text(token)
        self.token = token
        self.service = Service(
            config,
            runner_factory=pipeline_factory(
                state_dir=state_dir, cache_dir=tmp / "cache", tracer=NOOP_TRACER
            ),
            options=ServiceOptions(
                listen="127.0.0.1:0",
                grace_period=30,
                token_file=str(token_file) if token_file else None,
                watch_mode=options,
            ),
            audit=open_audit(config, state_dir) if audit else None,
        )
        self.service.start()
        host, port = self.service.http.address
        self.base = f"http://{host}:{port}"
        wait_for(self.idle, timeout=60, what="the first run")

    def idle(self) -> bool:
        """The first run is recorded and nothing runs."""
        st = self.service.state.get("shop")
        return st.last_run is not None and st.running_since is None

    def watching(self) -> bool:
        """Every watch stream of the target is open."""
        watch = self.service.watch.target_watch("shop")
        return watch is not None and watch.healthy

    def wait_watching(self) -> None:
        wait_for(self.watching, timeout=30, what="the watches to open")

    def runs(self) -> int:
        """Full and watch runs recorded by the metrics (``driftwatch_runs_total``)."""
        return int(metric(self.metrics(), "driftwatch_runs_total"))

    def get(self, path: str, **kw: Any) -> tuple[int, bytes]:
        status, _, body = http_get(self.base, path, token=self.token, **kw)
        return status, body

    def json(self, path: str) -> Any:
        status, body = self.get(path)
        assert status == 200, (path, status, body[:300])
        return json.loads(body)

    def metrics(self) -> str:
        return self.get("/metrics")[1].decode()

    def state_of(self, kind: str, name: str) -> str | None:
        """The object's state in the served report (None when it is not in it)."""
        (entry,) = self.json("/api/v1/drift?all=1")["targets"]
        for obj in entry["report"]["objects"]:
            if obj["kind"] == kind and obj["name"] == name:
                return str(obj["state"])
        return None

    def events(self) -> list[tuple[str, str]]:
        """(shorttype, subject) of every audit event."""
        events = self.json("/api/v1/events?limit=10000")["events"]
        return [(str(e.get("shorttype")), str(e.get("subject"))) for e in events]

    def stop(self) -> None:
        self.service.stop(grace_period=30)


def metric(text: str, metric_name: str, **labels: str) -> float:
    """The sum of every sample ``metric_name`` whose labels include ``labels`` (0 when none)."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == metric_name and all(
                sample.labels.get(k) == v for k, v in labels.items()
            ):
                total += sample.value
    return total


def eventually(predicate: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Wait for ``predicate`` (the watch delivers within seconds; the timeout is generous)."""
    wait_for(predicate, timeout=timeout, what=what)


def put_case(server: KubeApiServer, case: str, kind: str, name: str) -> dict[str, Any]:
    """Make the server hold ``kind/name`` as recorded case ``case`` has it."""
    return server.store.put(case_object(case, kind, name))
