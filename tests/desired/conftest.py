"""Fixtures for the desired side: real git repositories and targets made in tmp dirs."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftwatch.config.model import Target
from driftwatch.source import Checkout, GitSource

SHOP = Path(__file__).resolve().parents[1] / "fixtures" / "recorded" / "scenarios" / "shop" / "git"


def git(cwd: Path, *args: str) -> str:
    """Run the real git binary; fail the test with git's stderr on error."""
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout.strip()


class Remote:
    """A bare 'remote' repository and a working clone that pushes to it."""

    def __init__(self, root: Path) -> None:
        self.bare = root / "remote.git"
        self.work = root / "work"
        root.mkdir(parents=True, exist_ok=True)
        git(root, "init", "--quiet", "--bare", "--initial-branch=main", str(self.bare))
        git(root, "init", "--quiet", "--initial-branch=main", str(self.work))
        git(self.work, "remote", "add", "origin", str(self.bare))

    def commit(self, files: dict[str, str | None], message: str = "change") -> str:
        """Write (or delete, for None) files, commit everything; return the new SHA."""
        for name, content in files.items():
            path = self.work / name
            if content is None:
                path.unlink()
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content)
        git(self.work, "add", "--all")
        git(self.work, "commit", "--quiet", "--allow-empty", "-m", message)
        return git(self.work, "rev-parse", "HEAD")

    def copy_tree(self, source: Path, dest: str = ".") -> None:
        """Copy a directory of fixture files into the working tree (not committed)."""
        shutil.copytree(source, self.work / dest, dirs_exist_ok=True)

    def push(self, *refs: str, force: bool = False) -> None:
        git(self.work, "push", "--quiet", *(["--force"] if force else []), "origin", *refs)

    def refs(self) -> dict[str, str]:
        """Every ref of the bare remote: the read-only proof compares these."""
        out = git(self.bare, "for-each-ref", "--format=%(refname) %(objectname)")
        pairs = (line.split(" ", 1) for line in out.splitlines())
        return {name: sha for name, sha in pairs}

    def snapshot(self) -> tuple[dict[str, str], str]:
        """Refs plus the object listing of the remote, to prove nothing was written."""
        objects = git(self.bare, "count-objects", "-v")
        return self.refs(), objects


@pytest.fixture(autouse=True)
def _git_identity(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Deterministic, isolated git: no user or system config leaks into tests."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "Dana Dev")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "dana@example.com")


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    """An empty remote plus working clone."""
    return Remote(tmp_path / "origin")


@pytest.fixture
def source(tmp_path: Path) -> GitSource:
    """A GitSource with its own cache directory."""
    return GitSource(tmp_path / "cache" / "git", timeout=60)


@pytest.fixture
def shop_remote(remote: Remote) -> Remote:
    """A remote whose main branch holds the recorded shop manifests."""
    remote.copy_tree(SHOP)
    remote.commit({}, "shop manifests")
    remote.push("main")
    return remote


def make_target(repo: Path | str, **fields: object) -> Target:
    """A target for ``repo`` (name ``t`` unless given)."""
    return Target.model_validate({"name": "t", "repo": str(repo), **fields})


@pytest.fixture
def checkout_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory to write a repository tree into by hand (renderer tests)."""
    root = tmp_path / "tree"
    root.mkdir()
    yield root


def local_checkout(root: Path, sha: str = "0" * 40) -> Checkout:
    """A Checkout over a hand-written directory, for renderer tests without git."""
    from driftwatch.model import GitRevision

    return Checkout(root, GitRevision(sha=sha, ref="main", repository="test"))


needs_kubectl = pytest.mark.skipif(
    shutil.which("kubectl") is None and shutil.which("kustomize") is None,
    reason="kustomize tests need kubectl (kubectl kustomize) or kustomize on PATH",
)
