"""Detection latency of watch mode: from a change at the API server to its event in the audit log.

The Kubernetes API test server runs in this process, seeded with the generated
GitOps world (``bench.generate``); ``driftwatch serve`` runs as a child process
with ``watch: true`` and an hourly schedule, so after its start-up run only the
watch can notice anything.  Each change puts, into the server's store, the live
object a real kube-apiserver returned for a recorded change (``edit-cm``: a
ConfigMap edited; ``scale``: a Deployment scaled), renamed to one generated app.
The clock stops when the ``drift.detected`` event of that object is in the
event log file (tailed every 5 ms).

``python -m bench.watch_latency [--objects 8000] [--per-namespace 1000] [--singles 10]
[--burst 1000]`` prints one JSON document: per single change the latency, and for
the burst of changes (made back to back) the time until the last event, plus
per-change percentiles.  The test server wakes one Python thread per open watch on
every change, so with many namespaces (hundreds of watches) the *server* limits
the burst's rate; ``put_seconds`` shows how fast it took the changes.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.generate import Layout, live_objects, props_for, write_repo
from bench.procs import PYTHON, REPO_ROOT, BenchError, machine
from bench.templates import MARKER, fill_live, rename, template

CHANGES = (("ConfigMap", "", "shop-config", "edit-cm"), ("Deployment", "apps", "shop-api", "scale"))
"""(kind, group, recorded name, recorded case) of the changes made, alternately."""


class EventTail:
    """Reads new lines of the audit log's segment files as they are written."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._offsets: dict[Path, int] = {}
        self._partial: dict[Path, bytes] = {}
        self.seen: dict[str, float] = {}
        """``drift.detected`` subject -> when this process first read it."""

    def poll(self) -> None:
        """Read whatever was appended since the last poll."""
        if not self.directory.is_dir():
            return
        now = time.perf_counter()
        for path in sorted(self.directory.glob("events-*.jsonl")):
            offset = self._offsets.get(path, 0)
            with path.open("rb") as handle:
                handle.seek(offset)
                data = self._partial.pop(path, b"") + handle.read()
                self._offsets[path] = handle.tell()
            *lines, rest = data.split(b"\n")
            if rest:
                self._partial[path] = rest
            for line in lines:
                if not line.strip():
                    continue
                event = json.loads(line)
                if event.get("shorttype") == "drift.detected":
                    self.seen.setdefault(str(event.get("subject")), now)

    def wait(self, subjects: set[str], timeout: float) -> None:
        """Poll until every subject was seen (BenchError after ``timeout`` seconds)."""
        deadline = time.perf_counter() + timeout
        while not subjects <= self.seen.keys():
            if time.perf_counter() > deadline:
                missing = len(subjects - self.seen.keys())
                raise BenchError(f"{missing} drift event(s) never arrived")
            time.sleep(0.005)
            self.poll()


def changed_object(store: Any, layout: Layout, app: int, change: tuple[str, ...]) -> dict[str, Any]:
    """The live object of ``app`` after ``change``, derived from the recorded case."""
    kind, group, recorded, case = change
    ns, name = layout.namespace_of(app), layout.app_name(app)
    own = recorded.replace("shop", name)
    current = store.get(group, kind, ns, own)
    if current is None:
        raise BenchError(f"{kind} {ns}/{own} is not in the store")
    text = rename(template(kind, recorded, case=case).live, name, ns)
    props = props_for(name) if kind == "ConfigMap" else None
    body = fill_live(text, current["metadata"]["uid"], 0, props)
    body["metadata"].pop("resourceVersion", None)
    return body


def subject(body: dict[str, Any]) -> str:
    """The audit event subject of an object of target ``bench``."""
    group = str(body["apiVersion"]).rpartition("/")[0]
    meta = body["metadata"]
    return f"bench/{group}/{body['kind']}/{meta['namespace']}/{meta['name']}"


def write_config(path: Path, repo: Path, kubeconfig: Path) -> Path:
    """A configuration: one target ``bench`` with watch mode on and an hourly schedule."""
    config = {
        "clusters": [{"name": "bench", "kubeconfig": str(kubeconfig), "timeout": "30s"}],
        "targets": [
            {
                "name": "bench",
                "repo": str(repo),
                "rev": "main",
                "cluster": "bench",
                "selector": MARKER,
                "watch": True,
                "schedule": {"interval": "1h"},
            }
        ],
    }
    path.write_text(json.dumps(config, indent=1))
    return path


def start_serve(config: Path, work: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``driftwatch serve`` as a child; returns it and its base URL once it listens."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "driftwatch",
            "serve",
            "--config",
            str(config),
            "--state-dir",
            str(work / "state"),
            "--cache-dir",
            str(work / "cache"),
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--log-level",
            "warning",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    # the address is only logged at info level: find the port from /proc instead
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        port = _listening_port(proc.pid)
        if port is not None:
            return proc, f"http://127.0.0.1:{port}"
        if proc.poll() is not None:
            raise BenchError(f"serve exited with {proc.returncode}")
        time.sleep(0.1)
    raise BenchError("serve did not listen within 60 s")


def _listening_port(pid: int) -> int | None:
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        return None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
            return int(fields[1].split(":")[1], 16)
    return None


def wait_ready(base: str, timeout: float) -> None:
    """Wait for /readyz (the start-up run made a report)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise BenchError("serve never became ready")


def wait_watching(server: Any, settle: float = 2.0, timeout: float = 60.0) -> int:
    """Wait until no new watch opened for ``settle`` seconds; the number of open watches."""
    deadline = time.monotonic() + timeout
    count, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now = sum(1 for r in server.requests if "watch" in r.query)
        if now != count:
            count, since = now, time.monotonic()
        elif now and time.monotonic() - since >= settle:
            return now
        time.sleep(0.1)
    raise BenchError("the watches did not settle")


def measure(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Set everything up, make the changes, time them."""
    from tests.kubeapi.fixtures import kubeconfig_for
    from tests.kubeapi.server import KubeApiServer
    from tests.kubeapi.store import Store

    layout = Layout(args.objects, args.per_namespace)
    write_repo(work / "repo", layout)
    store = Store()
    store.seed(live_objects(layout))
    server = KubeApiServer(store).start()
    kubeconfig = kubeconfig_for(server, work / "kubeconfig")
    config = write_config(work / "driftwatch.yaml", work / "repo", kubeconfig)
    started = time.perf_counter()
    proc, base = start_serve(config, work)
    try:
        wait_ready(base, timeout=600)
        first_run = time.perf_counter() - started
        watches = wait_watching(server)
        tail = EventTail(work / "state" / "events")
        tail.poll()
        clean = [app for app in range(layout.apps) if layout.drift_of(app) is None]
        needed = args.singles + (args.burst + 1) // 2
        if len(clean) < needed:
            raise BenchError(f"need {needed} apps without drift, have {len(clean)}: more --objects")
        singles = []
        for index in range(args.singles):
            body = changed_object(store, layout, clean[index], CHANGES[index % 2])
            made = time.perf_counter()
            store.put(body)
            want = subject(body)
            tail.wait({want}, timeout=60)
            singles.append(tail.seen[want] - made)
            time.sleep(0.2)
        burst_apps = clean[args.singles :]
        bodies = [
            changed_object(store, layout, burst_apps[i // 2], CHANGES[i % 2])
            for i in range(args.burst)
        ]
        made_at: dict[str, float] = {}
        began = time.perf_counter()
        for body in bodies:
            made_at[subject(body)] = time.perf_counter()
            store.put(body)
        puts_done = time.perf_counter()
        tail.wait(set(made_at), timeout=600)
        last = max(tail.seen[s] for s in made_at)
        per_change = sorted(tail.seen[s] - t for s, t in made_at.items())
        writes = len(server.writes())
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        server.stop()
    return {
        "objects_declared": layout.declared_count(),
        "objects_live": store.count(),
        "watches_opened": watches,
        "first_full_run_seconds": round(first_run, 2),
        "single_change_seconds": {
            "count": len(singles),
            "median": round(statistics.median(singles), 4),
            "max": round(max(singles), 4),
            "all": [round(s, 4) for s in singles],
        },
        "burst": {
            "changes": args.burst,
            "put_seconds": round(puts_done - began, 3),
            "last_event_after_first_change_seconds": round(last - began, 3),
            "last_event_after_last_change_seconds": round(last - puts_done, 3),
            "per_change_p50_seconds": round(per_change[len(per_change) // 2], 3),
            "per_change_p95_seconds": round(per_change[int(len(per_change) * 0.95)], 3),
        },
        "write_requests": writes,
        "machine": machine(),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the measurement and print it as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.watch_latency", description=__doc__)
    parser.add_argument("--objects", type=int, default=8000)
    parser.add_argument(
        "--per-namespace",
        type=int,
        default=1000,
        help="objects per namespace (each namespace adds one watch per kind)",
    )
    parser.add_argument("--singles", type=int, default=10)
    parser.add_argument("--burst", type=int, default=1000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="driftwatch-watch-bench-") as tmp:
        result = measure(args, Path(tmp))
    print(json.dumps(result, indent=1))
    return 0 if result["write_requests"] == 0 else 3


if __name__ == "__main__":
    sys.exit(main())
