"""The on-disk Git cache: one bare repository per URL, and trees per commit.

Kept apart from the fetch logic because it is where the filesystem is touched:
locking (one checkout per repository at a time, across threads and processes),
opening or creating the bare repository, telling a readable cache from a broken
one (``CacheCorruptError``, which makes the caller re-clone), and writing a
commit's tree to ``trees/<sha>`` atomically (a private index plus
``checkout-index``, streamed by git; never read into memory).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import git

from driftwatch.errors import truncate

_LOCKS_GUARD = threading.Lock()
_LOCKS: dict[str, threading.Lock] = {}


class CacheCorruptError(Exception):
    """Git could not read the cached repository; it is removed and cloned again."""


@contextlib.contextmanager
def locked(repo_dir: Path) -> Iterator[None]:
    """One checkout per repository at a time, across threads and processes."""
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(str(repo_dir), threading.Lock())
    repo_dir.parent.mkdir(parents=True, exist_ok=True)
    with lock, open(repo_dir.with_suffix(".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def open_or_init(repo_dir: Path, shown: str) -> git.Repo:
    """The bare cache repository (created empty when absent); a broken one raises."""
    if not repo_dir.exists():
        repo = git.Repo.init(repo_dir, bare=True, mkdir=True)
        with repo.config_writer() as cfg:
            # For people inspecting the cache; fetches pass the URL explicitly.
            cfg.set_value('remote "origin"', "url", shown)
            cfg.set_value("gc", "autoDetach", "false")
        return repo
    try:
        repo = git.Repo(repo_dir)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as e:
        raise CacheCorruptError(f"not a git repository: {truncate(str(e))}") from e
    check_health(repo)
    return repo


def check_health(repo: git.Repo) -> None:
    """Raise ``CacheCorruptError`` unless git can read the cache and every ref's object.

    Cheap (one read per ref), and what tells a broken cache from a broken network.
    """
    try:
        repo.git.execute(["git", "rev-parse", "--git-dir"])
        repo.git.execute(["git", "for-each-ref", "--format=%(objecttype)"])
    except git.GitCommandError as e:
        raise CacheCorruptError(truncate(str(e.stderr or e))) from e


def materialize(repo: git.Repo, sha: str, trees: Path, max_trees: int) -> Path:
    """``trees/<sha>`` holding the commit's files (written once, reused after)."""
    final = trees / sha
    if final.is_dir():
        with contextlib.suppress(OSError):
            os.utime(final)
        return final
    trees.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=trees, prefix=f".tmp-{sha[:12]}-"))
    index = tmp.with_suffix(".index")
    env = {"GIT_INDEX_FILE": str(index), "GIT_LFS_SKIP_SMUDGE": "1"}
    base = ["git", f"--work-tree={tmp}"]
    try:
        repo.git.execute([*base, "read-tree", sha], env=env)
        repo.git.execute([*base, "checkout-index", "--all", "--force"], env=env)
        os.rename(tmp, final)
    except git.GitCommandError as e:
        raise CacheCorruptError(truncate(e.stderr or str(e))) from e
    except OSError:
        if not final.is_dir():  # else another process finished the same tree first
            raise
    finally:
        index.unlink(missing_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
    _prune(trees, keep=final, max_trees=max_trees)
    return final


def _prune(trees: Path, keep: Path, max_trees: int) -> None:
    """Remove the least recently used trees beyond ``max_trees``."""
    try:
        entries = [p for p in trees.iterdir() if p.is_dir() and not p.name.startswith(".")]
        entries.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in entries[max_trees:]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)
