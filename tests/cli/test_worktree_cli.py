"""A local working tree with uncommitted edits: told so, and ``--rev WORKTREE`` compares them."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.subprocess_cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
SHOP_GIT = ROOT / "tests/fixtures/recorded/scenarios/shop/git"
SCALED = ROOT / "tests/fixtures/recorded/scenarios/shop/cases/scale/live.json"


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "gitops"
    shutil.copytree(SHOP_GIT, repo / "apps" / "shop")
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "shop"], check=True)
    # The person catches up with `kubectl scale` in their editor, and does not commit yet.
    api = repo / "apps" / "shop" / "20-api.yaml"
    api.write_text(api.read_text().replace("replicas: 2", "replicas: 4", 1))
    return repo


def _check(repo: Path | str, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "check",
        "--repo",
        str(repo),
        "--path",
        "apps/shop",
        "--selector",
        "app.kubernetes.io/part-of=shop",
        "--snapshot",
        str(SCALED),
        "--cache-dir",
        str(tmp_path / "cache"),
        *extra,
    )


def test_uncommitted_changes_are_named_in_the_header(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    result = _check(repo, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    header = result.stdout.splitlines()[:3]
    note = next((line for line in header if "note:" in line), "")
    assert "1 uncommitted change under apps/shop" in note, header
    assert "--rev WORKTREE" in note
    assert "MODIFIED Deployment.apps/shop/shop-api" in result.stdout, "HEAD is what was compared"


def test_rev_worktree_compares_the_files_as_they_are(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    result = _check(repo, tmp_path, "--rev", "WORKTREE", "-o", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    target = json.loads(result.stdout)["targets"][0]
    revision = target["revision"]
    assert revision["ref"] == "WORKTREE"
    assert "1 uncommitted change" in revision["note"]
    assert target["report"]["objects"] == [], "the edited replicas match the cluster"
    assert not (tmp_path / "cache" / "render").exists(), "a working tree is never cached"
    assert not (tmp_path / "cache" / "git").exists(), "nothing fetched"


def test_a_clean_working_tree_has_no_note(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    subprocess.run(["git", "-C", str(repo), "commit", "-qam", "scaled"], check=True)
    result = _check(repo, tmp_path, "-o", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["targets"][0]["revision"]["note"] is None


def test_rev_worktree_needs_a_local_directory(tmp_path: Path) -> None:
    result = _check("https://example.invalid/gitops.git", tmp_path, "--rev", "WORKTREE")
    assert result.returncode == 2
    assert "not a local directory" in result.stdout + result.stderr
