"""Secret values never leave driftwatch: a hunt for planted markers in every output.

Unique marker values are planted in Secrets in Git (``stringData`` and ``data``),
in the live Secrets (``data`` and the last-applied annotation, consistently, as a
real server holds them after ``kubectl apply``), in an annotation configured in
``sensitiveAnnotations`` (Git and live), in the Git token (``tokenEnv`` against a
local smart-HTTP remote that requires it, ``tokenFile`` against an unreachable
one, and inline in a repository URL), and in the kubeconfig's bearer token.

Then everything a user or an operator can see is collected: ``check`` in every
output format, ``render``, ``snapshot`` files, ``events`` (list and verify),
``serve`` (every HTTP endpoint, with and without the API token), its debug logs
and its traces (console exporter), and every file of the state directories.
No marker may appear, in clear or base64- or hex-encoded.
"""

from __future__ import annotations

import base64
import copy
import gzip
import json
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.kubeapi import KubeApiServer, Store, load_scenario
from tests.kubeapi.fixtures import kubeconfig_for
from tests.reliability.githttp import GitHttpRemote
from tests.reliability.helpers import ROOT, git, shop_repo
from tests.service.helpers import http_get, wait_for
from tests.subprocess_cli import cli_env, run_cli

pytestmark = pytest.mark.slow

GIT_STRING_DATA = "mkGitStringData9f1c"
GIT_DATA = "mkGitData4b7e"
GIT_ANNOTATION = "mkGitAnnot2d8a"
LIVE_DB_PASSWORD = "mkLiveDbPass7c3f"
LIVE_TOKEN = "mkLiveToken1a5b"
LIVE_ANNOTATION = "mkLiveAnnot6e0d"
GIT_CREDENTIAL = "mkGitCred3f9a"
GIT_TOKEN_FILE = "mkGitTokFile5e21"
KUBE_TOKEN = "mkKubeTok8e2c"
API_TOKEN = "mkApiTok0b9d"
RECORDED = ("s3cr3t-Shop-Pa55", "token-for-api")

LIVE_MARKERS = (LIVE_DB_PASSWORD, LIVE_TOKEN, LIVE_ANNOTATION)
GIT_MARKERS = (GIT_STRING_DATA, GIT_DATA, GIT_ANNOTATION)
CREDENTIALS = (GIT_CREDENTIAL, GIT_TOKEN_FILE, KUBE_TOKEN)
SENSITIVE = "example.com/api-key"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def forms(marker: str) -> list[bytes]:
    """The marker as it could leak: clear, base64 (std and URL-safe), hex."""
    raw = marker.encode()
    b64 = base64.b64encode(raw).rstrip(b"=")
    return [raw, b64, base64.urlsafe_b64encode(raw).rstrip(b"="), raw.hex().encode()]


def leaks(data: bytes, markers: tuple[str, ...]) -> list[str]:
    return [m for m in markers for form in forms(m) if form in data]


# ---------------------------------------------------------------------- the planted values


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def live_objects() -> list[dict[str, Any]]:
    """The recorded shop objects, with marker values where a real server would hold them."""
    items = load_scenario("shop/untouched-csa")
    for item in items:
        meta = item["metadata"]
        if meta.get("namespace") != "shop":
            continue
        if item["kind"] == "Secret" and meta["name"] == "shop-db":
            item["data"]["password"] = _b64(LIVE_DB_PASSWORD)
            applied = json.loads(meta["annotations"][LAST_APPLIED])
            applied["stringData"]["password"] = LIVE_DB_PASSWORD
            meta["annotations"][LAST_APPLIED] = json.dumps(applied, separators=(",", ":")) + "\n"
        elif item["kind"] == "Secret" and meta["name"] == "shop-api-token":
            item["data"]["token"] = _b64(LIVE_TOKEN)
            applied = json.loads(meta["annotations"][LAST_APPLIED])
            applied["data"]["token"] = _b64(LIVE_TOKEN)
            meta["annotations"][LAST_APPLIED] = json.dumps(applied, separators=(",", ":")) + "\n"
        elif item["kind"] == "ConfigMap" and meta["name"] == "shop-config":
            applied = json.loads(meta["annotations"][LAST_APPLIED])
            applied["metadata"]["annotations"][SENSITIVE] = LIVE_ANNOTATION
            meta["annotations"][LAST_APPLIED] = json.dumps(applied, separators=(",", ":")) + "\n"
            meta["annotations"][SENSITIVE] = LIVE_ANNOTATION
            entry = meta["managedFields"][0]
            assert entry["manager"] == "kubectl-client-side-apply"
            fields = copy.deepcopy(entry["fieldsV1"])
            fields["f:metadata"]["f:annotations"][f"f:{SENSITIVE}"] = {}
            entry["fieldsV1"] = fields
    return items


def git_files() -> dict[str, str | bytes | None]:
    text = (ROOT / "tests/fixtures/recorded/scenarios/shop/git/10-config.yaml").read_text()
    text = text.replace("password: s3cr3t-Shop-Pa55", f"password: {GIT_STRING_DATA}")
    text = text.replace("token: dG9rZW4tZm9yLWFwaQ==", f"token: {_b64(GIT_DATA)}")
    text = text.replace(
        "  name: shop-config\n",
        f"  name: shop-config\n  annotations:\n    {SENSITIVE}: {GIT_ANNOTATION}\n",
    )
    assert text.count("mk") == 2 and _b64(GIT_DATA) in text
    return {"10-config.yaml": text}


# ---------------------------------------------------------------------- the setup


class Setup:
    def __init__(self, tmp_path: Path, server: KubeApiServer, remote: GitHttpRemote) -> None:
        self.tmp = tmp_path
        token_file = tmp_path / "git-token"
        token_file.write_text(GIT_TOKEN_FILE + "\n")
        self.api_token = tmp_path / "api-token"
        self.api_token.write_text(API_TOKEN + "\n")
        kubeconfig = kubeconfig_for(server, tmp_path / "kubeconfig")
        url = remote.url("shop.git")
        inline = url.replace("http://", f"http://git:{GIT_CREDENTIAL}@")
        base = {"rev": "main", "cluster": "test", "selector": "app.kubernetes.io/part-of=shop"}
        config = {
            "clusters": [{"name": "test", "kubeconfig": str(kubeconfig), "timeout": "5s"}],
            "targets": [
                {"name": "shop", "repo": url, "credentials": {"tokenEnv": "DW_GIT_TOKEN"}, **base},
                {"name": "inline", "repo": inline, **base},
                {
                    "name": "nowhere",
                    "repo": "http://127.0.0.1:9/gone.git",
                    "credentials": {"tokenFile": str(token_file)},
                    **base,
                },
            ],
            "sensitiveAnnotations": [SENSITIVE],
            "cacheDir": str(tmp_path / "cache"),
            "server": {"listen": "127.0.0.1:0", "tokenFile": str(self.api_token)},
        }
        self.config = tmp_path / "driftwatch.yaml"
        self.config.write_text(json.dumps(config))
        self.env = cli_env(DW_GIT_TOKEN=GIT_CREDENTIAL)
        self.seen: dict[str, bytes] = {}

    def cli(self, name: str, *args: str, expect: tuple[int, ...] = (0, 1, 2)) -> str:
        result = run_cli(*args, env=self.env, timeout=120)
        self.seen[f"{name} stdout"] = result.stdout.encode()
        self.seen[f"{name} stderr"] = result.stderr.encode()
        assert result.returncode in expect, (name, result.returncode, result.stderr[-2000:])
        assert "Traceback" not in result.stderr, result.stderr[-3000:]
        return result.stdout

    def files(self, name: str, root: Path, *, skip_key: bool = True) -> None:
        for path in sorted(root.rglob("*")):
            if path.is_file() and not (skip_key and path.name == "fingerprint.key"):
                data = path.read_bytes()
                if path.suffix == ".gz":
                    data = gzip.decompress(data)
                self.seen[f"{name}: {path.relative_to(root)}"] = data


@pytest.fixture
def setup(
    tmp_path: Path, kube_api_factory: Callable[..., KubeApiServer]
) -> Iterator[tuple[Setup, GitHttpRemote]]:
    store = Store()
    store.seed(live_objects())
    server = kube_api_factory(None, store=store, token=KUBE_TOKEN)
    work = shop_repo(tmp_path / "work", git_files())
    (tmp_path / "srv").mkdir()
    git(tmp_path, "clone", "-q", "--bare", str(work), str(tmp_path / "srv" / "shop.git"))
    remote = GitHttpRemote(tmp_path / "srv", username="git", token=GIT_CREDENTIAL).start()
    try:
        yield Setup(tmp_path, server, remote), remote
    finally:
        remote.stop()


def _serve(setup: Setup) -> None:
    """Run serve (debug logs, console traces), read every endpoint, stop it."""
    env = {**setup.env, "OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "dw-secrets"}
    state = setup.tmp / "state-serve"
    proc = subprocess.Popen(
        [sys.executable, "-m", "driftwatch", "serve", "--config", str(setup.config),
         "--state-dir", str(state), "--log-level", "debug", "--log-format", "json"],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out: list[bytes] = []
    err: list[bytes] = []
    readers = [
        threading.Thread(target=lambda: out.extend(iter(proc.stdout.readline, b"")), daemon=True),  # type: ignore[union-attr]
        threading.Thread(target=lambda: err.extend(iter(proc.stderr.readline, b"")), daemon=True),  # type: ignore[union-attr]
    ]
    for reader in readers:
        reader.start()
    try:
        wait_for(lambda: any(b"serving on" in line for line in err), 60, "serve to listen")
        line = json.loads(next(x for x in err if b"serving on" in x))
        base = "http://" + str(line["message"]).split()[2]

        def all_ran() -> bool:
            status, _, body = http_get(base, "/api/v1/targets", token=API_TOKEN)
            runs = [t["last_run"] for t in json.loads(body)["targets"]] if status == 200 else []
            return len(runs) == 3 and all(r is not None for r in runs)

        wait_for(all_ran, 120, "every target to run")
        paths = [
            "/metrics",
            "/healthz",
            "/readyz",
            "/api/v1/drift?all=1",
            "/api/v1/drift",
            "/api/v1/targets",
            "/api/v1/events?limit=10000",
            "/api/v1/events?type=x",
        ]
        for path in paths:
            for token in (API_TOKEN, None, "wrong"):
                status, headers, body = http_get(base, path, token=token)
                setup.seen[f"GET {path} token={token is not None}"] = (
                    json.dumps(headers).encode() + body
                )
        status, _, body = http_get(base, "/api/v1/drift?all=1", token=API_TOKEN)
        assert status == 200
        shop = next(t for t in json.loads(body)["targets"] if t["target"] == "shop")
        drifted = {
            (o["kind"], o["name"]): o for o in shop["report"]["objects"] if o["state"] == "modified"
        }
        assert ("Secret", "shop-db") in drifted and ("ConfigMap", "shop-config") in drifted
        # the values flowed through, as fingerprints
        assert "hmac-sha256:" in json.dumps(drifted[("Secret", "shop-db")])
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        for reader in readers:
            reader.join(10)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    setup.seen["serve stdout (traces)"] = b"".join(out)
    setup.seen["serve stderr (debug logs)"] = b"".join(err)
    assert b"driftwatch.run" in setup.seen["serve stdout (traces)"]  # traces were exported
    assert b'"level": "debug"' in setup.seen["serve stderr (debug logs)"]
    setup.files("serve state", state)


def test_no_secret_value_or_credential_appears_in_any_output_or_state_file(
    setup: tuple[Setup, GitHttpRemote],
) -> None:
    s, remote = setup
    state = s.tmp / "state-check"
    for fmt in ("text", "json", "junit"):
        s.cli(f"check -o {fmt}", "check", "--config", str(s.config), "--state-dir", str(state),
              "-o", fmt, "--all" if fmt == "json" else "--no-color", expect=(2,))  # fmt: skip
    document = json.loads(s.seen["check -o json stdout"])
    runs = {t["target"]: t for t in document["targets"]}
    assert runs["shop"]["status"] == "success" and runs["inline"]["status"] == "success"
    assert runs["nowhere"]["status"] == "failed" and runs["nowhere"]["failed_stage"] == "git"
    states = {(o["kind"], o["name"]): o["state"] for o in runs["shop"]["report"]["objects"]}
    for key in (("Secret", "shop-db"), ("Secret", "shop-api-token"), ("ConfigMap", "shop-config")):
        assert states[key] == "modified", key
    s.cli("render", "render", "--config", str(s.config), "--target", "shop")
    snapshot = s.tmp / "snap.json.gz"
    s.cli("snapshot", "snapshot", "--config", str(s.config), "--target", "shop",
          "--file", str(snapshot), "--state-dir", str(state))  # fmt: skip
    s.cli("events", "events", "--state-dir", str(state), "-o", "json")
    assert b"drift.detected" in s.seen["events stdout"]
    s.cli("events verify", "events", "verify", "--state-dir", str(state), expect=(0,))
    _serve(s)
    s.files("check state", state)
    s.seen["snapshot file"] = gzip.decompress(snapshot.read_bytes())
    assert b"hmac-sha256:" in s.seen["snapshot file"]
    cache: dict[str, bytes] = {}
    for path in (s.tmp / "cache").rglob("*"):
        if path.is_file():
            cache[f"cache: {path.relative_to(s.tmp)}"] = path.read_bytes()
    assert remote.pushes() == []
    assert any(r.authorized for r in remote.requests)  # the token was really used

    found = {
        name: leaks(data, LIVE_MARKERS + GIT_MARKERS + CREDENTIALS + (API_TOKEN, *RECORDED))
        for name, data in s.seen.items()
    }
    found = {name: hits for name, hits in found.items() if hits}
    assert found == {}, found
    # the cache holds the Git checkout (as any clone does: SECURITY.md) but never a live
    # value or a credential
    in_cache = {n: leaks(d, LIVE_MARKERS + CREDENTIALS + (API_TOKEN,)) for n, d in cache.items()}
    assert {n: h for n, h in in_cache.items() if h} == {}
    # what driftwatch derives from Git (parsed blobs, rendered sets) holds fingerprints only
    derived = {n: d for n, d in cache.items() if "/parse/" in n or "/render/" in n}
    assert derived, "the parse and render caches were written"
    assert {n: leaks(d, GIT_MARKERS) for n, d in derived.items() if leaks(d, GIT_MARKERS)} == {}
    assert any(b"hmac-sha256:" in d for d in derived.values())
    # the hunt can see: the Git cache holds the repository's values (compressed, as any clone)
    objects = b"".join(
        subprocess.run(
            ["git", f"--git-dir={repo}", "cat-file", "--batch-all-objects", "--batch"],
            capture_output=True,
            check=True,
        ).stdout
        for repo in (s.tmp / "cache").rglob("repos/*.git")
    )
    assert GIT_STRING_DATA in leaks(objects, GIT_MARKERS)
    assert len(s.seen) > 40
