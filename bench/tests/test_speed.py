"""The speed benchmark's second commit changes 1% of the files and nothing they declare."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bench.generate import Layout, write_repo
from bench.speed import change_files
from driftwatch.config.model import Target
from driftwatch.render import ParseCache, render_target
from driftwatch.source import GitSource


def test_one_percent_commit_changes_blobs_not_objects(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    first = write_repo(repo, Layout(1000))
    files = len([p for p in repo.rglob("*.yaml") if ".git" not in p.parts])
    changed = change_files(repo, 1.0)
    second = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert second != first
    assert changed == round(files / 100)

    source, cache = GitSource(tmp_path / "git"), ParseCache(None)
    bodies = []
    for rev in (first, second):
        target = Target(name="t", repo=str(repo), rev=rev)
        desired = render_target(target, source.checkout(target), parse_cache=cache)
        assert not desired.errors
        bodies.append({k: o.body for k, o in desired.objects.items()})
    assert bodies[0] == bodies[1], "the same objects: the drift found must not change"
    assert cache.parsed == files + changed, "the second commit parsed only the changed files"
