"""driftwatch never writes: not to the cluster, not to Git — proven three ways.

1. The session-wide guard (``tests/reliability/nowrites.py``) fails the run if
   any Kubernetes API test server saw a non-GET request; here it is shown to
   catch one, and the standalone server's exit code 3 is shown to report one.
2. ``check`` and ``serve`` against Git remotes (a local path and smart HTTP):
   every file of the remote — refs, packed-refs, objects — is byte-for-byte the
   same afterwards, and the HTTP remote never saw the push service.
3. A static guard over the source: no code path calls a Kubernetes write method
   or ``git push``.
"""

from __future__ import annotations

import hashlib
import re
import signal
import subprocess
import sys
import textwrap
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.kubeapi import KubeApiServer
from tests.reliability.conftest import LiveFactory
from tests.reliability.githttp import GitHttpRemote
from tests.reliability.helpers import ROOT, git, shop_repo, write_config
from tests.subprocess_cli import cli_env, run_cli

# ---------------------------------------------------------------------- 1. the guards

INNER_TEST = textwrap.dedent("""
    import urllib.error, urllib.request
    from tests.kubeapi import KubeApiServer

    def test_sends_a_write_without_saying_so():
        server = KubeApiServer(token=None).start()
        try:
            request = urllib.request.Request(server.url + "/api/v1/namespaces", data=b"{}",
                                             method="POST")
            try:
                urllib.request.urlopen(request, timeout=10)
            except urllib.error.HTTPError as e:
                e.close()
        finally:
            server.stop()
""")


def test_the_session_guard_fails_a_run_in_which_a_server_saw_a_write(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_inner.py").write_text(INNER_TEST)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "-p", "tests.reliability.nowrites", "-c", str(tmp_path / "pytest.ini"),
         "--rootdir", str(tmp_path), str(tmp_path / "test_inner.py")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=cli_env(),
    )  # fmt: skip
    assert "1 passed" in done.stdout, done.stdout + done.stderr  # the test itself passed ...
    assert done.returncode == 1  # ... but the session failed
    assert "driftwatch wrote to a cluster" in done.stdout
    assert "POST /api/v1/namespaces" in done.stdout


def _standalone(tmp_path: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.kubeapi", "--port", "0", "--scenario", "shop/scale",
         "--kubeconfig", str(tmp_path / "kubeconfig")],
        cwd=ROOT, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("ready "), line + (proc.stderr.read() if proc.stderr else "")
    return proc, line.split()[1]


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(30)
    finally:
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


def test_a_standalone_server_driven_by_check_exits_0(shop_git: Path, tmp_path: Path) -> None:
    proc, _ = _standalone(tmp_path)
    try:
        result = run_cli(
            "check", "--repo", str(shop_git), "--rev", "main", "--kubeconfig",
            str(tmp_path / "kubeconfig"), "--cache-dir", str(tmp_path / "cache"),
        )  # fmt: skip
        assert result.returncode == 1, result.stderr  # shop/scale: drift found
    finally:
        code = _stop(proc)
    assert code == 0, "the standalone server received a write"


def test_a_standalone_server_reports_a_write_with_exit_code_3(tmp_path: Path) -> None:
    proc, url = _standalone(tmp_path)
    try:
        request = urllib.request.Request(
            url + "/api/v1/namespaces/shop/configmaps",
            data=b"{}",
            method="POST",
            headers={"Authorization": "Bearer driftwatch-test-token"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        refused.value.close()
        assert refused.value.code == 403
    finally:
        code = _stop(proc)
    assert code == 3


# ---------------------------------------------------------------------- 2. Git is never pushed


def fingerprint(bare: Path) -> dict[str, str]:
    """Every file of a bare repository by content: refs, packed-refs, objects, config."""
    return {
        str(p.relative_to(bare)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(bare.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def remotes(tmp_path: Path) -> tuple[Path, Path]:
    work = shop_repo(tmp_path / "work")
    srv = tmp_path / "srv"
    srv.mkdir()
    bare = srv / "shop.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    git(bare, "tag", "v1")
    git(bare, "pack-refs", "--all")
    return work, bare


def test_check_and_serve_never_change_the_git_remote(
    remotes: tuple[Path, Path],
    kube_api_factory: Callable[..., KubeApiServer],
    live_service: LiveFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, bare = remotes
    before = fingerprint(bare)
    refs = git(bare, "for-each-ref")
    objects = git(bare, "count-objects", "-v")
    http = GitHttpRemote(bare.parent, username="git", token="t0k3n-for-push-test").start()
    monkeypatch.setenv("DW_GIT_TOKEN", "t0k3n-for-push-test")
    try:
        server = kube_api_factory("shop/scale")
        for repo, rev in ((str(bare), "main"), (http.url("shop.git"), "v1")):
            config = write_config(
                tmp_path / "driftwatch.yaml",
                repo=repo,
                snapshot=ROOT / "tests/fixtures/recorded/scenarios/shop/cases/scale/live.json",
                cache_dir=tmp_path / "cache-check",
                target={"rev": rev, "credentials": {"tokenEnv": "DW_GIT_TOKEN"}},
            )
            env = cli_env(DW_GIT_TOKEN="t0k3n-for-push-test")
            result = run_cli("check", "--config", str(config), "--state-dir",
                             str(tmp_path / "state"), env=env)  # fmt: skip
            assert result.returncode == 1, result.stderr
            service = live_service(
                server, repo, target={"credentials": {"tokenEnv": "DW_GIT_TOKEN"}}
            )
            for _ in range(3):
                assert service.run()["status"] == "success"
    finally:
        http.stop()
    assert http.pushes() == [] and http.requests
    assert git(bare, "for-each-ref") == refs
    assert git(bare, "count-objects", "-v") == objects
    assert fingerprint(bare) == before


# ---------------------------------------------------------------------- 3. static guard

WRITE_PATTERNS = {
    "a Kubernetes client write method": re.compile(
        r"\.(create|patch|replace|delete|connect)_[a-z_]+\(|\.delete_collection\b"
    ),
    "an HTTP write verb sent to a cluster": re.compile(
        r"""(method|verb)\s*=\s*["'](POST|PUT|PATCH|DELETE)["']"""
    ),
    "git push": re.compile(r"""["']push["']|\bgit\s+push\b|\.push\(|receive-pack|send-pack"""),
    "exec into pods": re.compile(r"\bconnect_get_namespaced_pod_exec\b|/exec\b"),
}


def test_no_code_path_calls_a_cluster_write_or_git_push() -> None:
    offenders = []
    for path in sorted((ROOT / "driftwatch").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            for what, pattern in WRITE_PATTERNS.items():
                if pattern.search(code):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {what}: {line.strip()}")
    assert offenders == []


def test_the_static_guard_would_see_a_write() -> None:
    samples = {
        "a Kubernetes client write method": "api.patch_namespaced_deployment(name, ns, body)",
        "an HTTP write verb sent to a cluster": 'client.request(method="PATCH", url=u)',
        "git push": 'repo.git.execute(["git", "push", "origin"])',
        "exec into pods": "core.connect_get_namespaced_pod_exec(name, ns)",
    }
    for what, sample in samples.items():
        assert WRITE_PATTERNS[what].search(sample), what
