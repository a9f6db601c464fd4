"""``serve`` and ``check`` when Git misbehaves: unreachable, force-pushed, branch deleted,
cache corrupted, repository huge.

Decision (documented in SECURITY.md and docs/events.md): when Git cannot be
fetched, or the branch was deleted, a running service keeps comparing the last
good commit and says so — the run is ``partial`` with ``git_stale``,
``driftwatch_git_stale`` is 1, /api/v1/targets shows ``stale.git``, and one
``git.stale`` event is written (``git.recovered`` when Git is back).  Drift does
not vanish because a branch did.  Without a last good commit (a fresh start) the
run fails at the ``git`` stage with a clear error.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.kubeapi import KubeApiServer
from tests.reliability.conftest import LiveFactory
from tests.reliability.githttp import GitHttpRemote
from tests.reliability.helpers import (
    ROOT,
    commit,
    git,
    metric,
    object_events,
    shop_repo,
    short_types,
)
from tests.subprocess_cli import cli_env

TOKEN = "gitTok-5d1e0c7a"
CASES = ROOT / "tests" / "fixtures" / "recorded" / "scenarios" / "shop" / "cases"


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A working repository with the shop manifests, pushed to ``remote/shop.git``."""
    repo = shop_repo(tmp_path / "work")
    (tmp_path / "remote").mkdir()
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(tmp_path / "remote" / "shop.git"))
    git(repo, "remote", "add", "origin", str(tmp_path / "remote" / "shop.git"))
    return repo


@pytest.fixture
def http_remote(tmp_path: Path, work: Path) -> Iterator[GitHttpRemote]:
    remote = GitHttpRemote(tmp_path / "remote", username="git", token=TOKEN).start()
    yield remote
    remote.stop()
    assert remote.pushes() == []


@pytest.fixture
def cluster(kube_api_factory: Callable[..., KubeApiServer]) -> KubeApiServer:
    return kube_api_factory("shop/untouched-csa")


def _new_types(service: object, before: int) -> list[str]:
    return short_types(service.events()[before:])  # type: ignore[attr-defined]


def test_unreachable_remote_keeps_the_last_good_commit_and_says_so(
    cluster: KubeApiServer,
    live_service: LiveFactory,
    http_remote: GitHttpRemote,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DW_GIT_TOKEN", TOKEN)
    service = live_service(
        cluster,
        http_remote.url("shop.git"),
        target={"credentials": {"tokenEnv": "DW_GIT_TOKEN"}},
    )
    first = service.target_json()["last_run"]
    assert first["status"] == "success", first
    sha = first["revision"]["sha"]
    fetched = metric(service.metrics(), "driftwatch_git_last_fetch_success_timestamp_seconds")
    assert metric(service.metrics(), "driftwatch_git_stale", target="shop") == 0
    before = len(service.events())

    http_remote.down = True
    run = service.run()
    assert run["status"] == "partial" and run["git_stale"] and run["failed_stage"] == "git"
    assert run["revision"]["sha"] == sha
    assert "503" in run["error"] and TOKEN not in run["error"]
    assert "Traceback" not in run["error"]
    target = service.target_json()
    assert target["stale"]["git"] is True and target["stale"]["report"] is False
    metrics = service.metrics()
    assert metric(metrics, "driftwatch_git_stale", target="shop") == 1
    assert metric(metrics, "driftwatch_run_errors_total", stage="git") == 1
    assert metric(metrics, "driftwatch_git_last_fetch_success_timestamp_seconds") == fetched
    assert metric(metrics, "driftwatch_git_revision_info", sha=sha) == 1
    # still compared: the report is fresh, made from the last good commit
    report = service.drift_report()["report"]
    assert report["revision"]["sha"] == sha and report["totals"]["in_sync"] > 10
    service.run()  # still down: said once
    assert _new_types(service, before) == ["git.stale"]
    (stale,) = service.events()[before:]
    assert stale["data"]["errors"] and "503" in stale["data"]["errors"][0]
    assert service.ready() == 200

    http_remote.down = False
    assert service.run()["status"] == "success"
    assert metric(service.metrics(), "driftwatch_git_stale", target="shop") == 0
    assert service.target_json()["stale"]["git"] is False
    assert _new_types(service, before) == ["git.stale", "git.recovered"]
    assert object_events(service.events()) == []


def test_unreachable_remote_on_a_fresh_start_fails_at_the_git_stage(
    cluster: KubeApiServer, live_service: LiveFactory, tmp_path: Path
) -> None:
    service = live_service(cluster, str(tmp_path / "no-such-repo.git"))
    run = service.target_json()["last_run"]
    assert run["status"] == "failed" and run["failed_stage"] == "git"
    assert "no-such-repo.git" in run["error"] and "Traceback" not in run["error"]
    assert service.ready() == 503
    assert short_types(service.events()) == ["run.failed"]
    assert metric(service.metrics(), "driftwatch_runs_total", status="failed") == 1
    assert metric(service.metrics(), "driftwatch_run_errors_total", stage="git") == 1


def test_force_push_is_followed(
    cluster: KubeApiServer, live_service: LiveFactory, work: Path, tmp_path: Path
) -> None:
    first = git(work, "rev-parse", "HEAD")
    second = commit(work, {"NOTES.txt": "one\n"}, "notes")
    git(work, "push", "-q", "origin", "main")
    service = live_service(cluster, str(tmp_path / "remote" / "shop.git"))
    assert service.target_json()["last_run"]["revision"]["sha"] == second

    git(work, "reset", "-q", "--hard", first)
    rewritten = commit(work, {"NOTES.txt": "rewritten\n"}, "rewritten notes")
    git(work, "push", "-q", "--force", "origin", "main")
    run = service.run()
    assert run["status"] == "success" and run["revision"]["sha"] == rewritten
    (changed,) = [e for e in service.events() if e["shorttype"] == "git.revision_changed"]
    assert changed["data"]["previousRevision"]["sha"] == second
    assert changed["data"]["revision"]["sha"] == rewritten
    assert metric(service.metrics(), "driftwatch_git_revision_info", sha=rewritten) == 1
    assert metric(service.metrics(), "driftwatch_git_revision_info", sha=second) == 0


def test_deleted_branch_keeps_the_last_good_commit_until_restart_then_fails_clearly(
    cluster: KubeApiServer, live_service: LiveFactory, work: Path, tmp_path: Path
) -> None:
    git(work, "push", "-q", "origin", "main:release")
    remote = str(tmp_path / "remote" / "shop.git")
    cache = tmp_path / "shared-cache"
    service = live_service(cluster, remote, cache_dir=cache, target={"rev": "release"})
    sha = service.target_json()["last_run"]["revision"]["sha"]

    git(work, "push", "-q", "origin", "--delete", "release")
    run = service.run()
    assert run["status"] == "partial" and run["git_stale"]
    assert "'release' not found" in run["error"] and sha[:12] in run["error"]
    assert metric(service.metrics(), "driftwatch_git_stale", target="shop") == 1
    assert short_types(service.events()) == ["git.stale"]

    restarted = live_service(cluster, remote, cache_dir=cache, target={"rev": "release"})
    run = restarted.target_json()["last_run"]
    assert run["status"] == "failed" and run["failed_stage"] == "git"
    assert "revision 'release' not found" in run["error"]

    git(work, "push", "-q", "origin", "main:release")
    assert service.run()["status"] == "success"
    assert short_types(service.events()) == ["git.stale", "git.recovered"]


def test_corrupted_cache_is_cloned_again_without_a_failed_run(
    cluster: KubeApiServer, live_service: LiveFactory, work: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    service = live_service(cluster, str(tmp_path / "remote" / "shop.git"), cache_dir=cache)
    (bare,) = (cache / "git" / "repos").glob("*.git")
    for path in bare.rglob("*"):
        if path.is_file() and ("objects" in path.parts or path.name == "packed-refs"):
            path.chmod(0o644)
            path.write_bytes(b"\x00garbage\x00")
    (bare / "HEAD").write_text("garbage\n")
    git(work, "commit", "-q", "--allow-empty", "-m", "after corruption")
    git(work, "push", "-q", "origin", "main")
    run = service.run()
    assert run["status"] == "success", run
    assert run["revision"]["sha"] == git(work, "rev-parse", "HEAD")
    assert not run["git_stale"]


# ---------------------------------------------------------------- a very large repository

MEASURE = textwrap.dedent("""
    import resource, subprocess, sys
    done = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=120)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(done.returncode, peak)
    sys.stderr.write(done.stderr[-2000:])
""")


def _check_peak_rss(repo: Path, cache: Path) -> tuple[int, int]:
    """(exit code, peak RSS in KiB of the check and everything it ran)."""
    argv = [
        sys.executable,
        "-m",
        "driftwatch",
        "check",
        "--repo",
        str(repo),
        "--rev",
        "main",
        "--path",
        "apps/shop",
        "--snapshot",
        str(CASES / "untouched-csa" / "live.json"),
        "--cache-dir",
        str(cache),
        "-o",
        "json",
    ]
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *argv],
        capture_output=True,
        text=True,
        timeout=180,
        env=cli_env(),
        cwd=ROOT,
    )
    code, peak = done.stdout.split()
    return int(code), int(peak)


@pytest.mark.slow
def test_a_huge_repository_is_checked_in_bounded_memory(tmp_path: Path) -> None:
    blob_mb = 10
    files: dict[str, str | bytes | None] = {}
    small = shop_repo(tmp_path / "small", {})
    for name in os.listdir(small):
        if name.endswith(".yaml"):
            files[f"apps/shop/{name}"] = (small / name).read_text()
    big = tmp_path / "big"
    docs = big / "docs"
    docs.mkdir(parents=True)
    for i in range(20_000):
        (docs / f"page-{i:05d}.md").write_text(f"# page {i}\n")
    assets = big / "assets"
    assets.mkdir()
    for i in range(3):
        (assets / f"video-{i}.bin").write_bytes(os.urandom(blob_mb * 1024 * 1024))
    for name, content in files.items():
        (big / name).parent.mkdir(parents=True, exist_ok=True)
        (big / name).write_text(str(content))
    git(big, "init", "-q", "-b", "main")
    git(big, "add", "-A")
    git(big, "commit", "-q", "-m", "huge")
    baseline_repo = tmp_path / "baseline"
    baseline_repo.mkdir()
    for name, content in files.items():
        (baseline_repo / name).parent.mkdir(parents=True, exist_ok=True)
        (baseline_repo / name).write_text(str(content))
    git(baseline_repo, "init", "-q", "-b", "main")
    git(baseline_repo, "add", "-A")
    git(baseline_repo, "commit", "-q", "-m", "small")

    code, baseline = _check_peak_rss(baseline_repo, tmp_path / "cache-small")
    assert code == 0
    code, peak = _check_peak_rss(big, tmp_path / "cache-big")
    assert code == 0
    blobs_kib = 3 * blob_mb * 1024
    # git streams blobs to disk; driftwatch reads only the manifests under the path.
    # Holding the blobs in memory twice would add 2 x 30 MiB.
    print(f"peak RSS: baseline {baseline} KiB, huge repository {peak} KiB")
    assert peak < baseline + blobs_kib * 1.5, (peak, baseline)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0
