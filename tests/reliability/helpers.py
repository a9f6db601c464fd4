"""Shared pieces of the reliability tests: real Git repos, config files, metrics, events.

Everything runs against real components: the shop manifests in a real Git
repository, a configuration file loaded by the real loader, the real pipeline,
the Kubernetes API test server (``tests.kubeapi``), the real audit log.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
SHOP_GIT = ROOT / "tests" / "fixtures" / "recorded" / "scenarios" / "shop" / "git"
MARKER = "app.kubernetes.io/part-of=shop"


def git(cwd: Path, *args: str, check: bool = True) -> str:
    """Run the real git binary; fail with git's stderr."""
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check:
        assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout.strip()


def shop_repo(path: Path, files: Mapping[str, str | bytes | None] | None = None) -> Path:
    """A working repository (branch ``main``) holding the shop manifests, plus ``files``.

    ``files`` maps a repository path to its content (``None`` deletes the file).
    """
    shutil.copytree(SHOP_GIT, path)
    for name, content in (files or {}).items():
        target = path / name
        if content is None:
            target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "shop manifests")
    return path


def commit(repo: Path, files: Mapping[str, str | None], message: str = "change") -> str:
    """Change files in a working repository and commit; the new SHA."""
    for name, content in files.items():
        target = repo / name
        if content is None:
            target.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def write_config(
    path: Path,
    *,
    repo: str,
    kubeconfig: Path | None = None,
    snapshot: Path | None = None,
    state_dir: Path | None = None,
    cache_dir: Path | None = None,
    timeout: str = "5s",
    page_size: int = 500,
    target: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """A configuration file with one cluster ``test`` and one target ``shop``."""
    cluster: dict[str, Any] = {"name": "test", "timeout": timeout, "pageSize": page_size}
    if snapshot is not None:
        cluster = {"name": "test", "snapshot": str(snapshot)}
    elif kubeconfig is not None:
        cluster["kubeconfig"] = str(kubeconfig)
    config: dict[str, Any] = {
        "clusters": [cluster],
        "targets": [
            {
                "name": "shop",
                "repo": repo,
                "rev": "main",
                "cluster": "test",
                "selector": MARKER,
                "schedule": {"interval": "1h"},
                **(target or {}),
            }
        ],
        "server": {"listen": "127.0.0.1:0"},
        **(extra or {}),
    }
    if state_dir is not None:
        config["stateDir"] = str(state_dir)
    if cache_dir is not None:
        config["cacheDir"] = str(cache_dir)
    path.write_text(json.dumps(config, indent=1))  # JSON is YAML
    return path


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of every sample ``name`` whose labels include ``labels`` (0 when none)."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def has_sample(text: str, name: str, **labels: str) -> bool:
    """Whether a sample ``name`` with these labels is exposed at all."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return True
    return False


def short_types(events: list[dict[str, Any]]) -> list[str]:
    """``shorttype`` of each event, in log order."""
    return [str(e.get("shorttype")) for e in events]


def object_events(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(shorttype, subject) of every object event (subjects with a resource)."""
    return [
        (str(e["shorttype"]), str(e["subject"]))
        for e in events
        if str(e.get("subject", "")).count("/") >= 4
    ]


def read_event_files(state_dir: Path) -> list[dict[str, Any]]:
    """Every complete record of the audit log files, in order."""
    out: list[dict[str, Any]] = []
    for path in sorted((state_dir / "events").glob("events-*.jsonl")):
        for line in path.read_bytes().splitlines():
            if line.strip():
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue
    return out
