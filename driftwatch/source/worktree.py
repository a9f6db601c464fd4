"""A local working tree: its files as they are, or a note that uncommitted changes were left out.

``--repo ./gitops`` compares a commit (``HEAD`` by default), which is what a
pipeline should compare; a person editing manifests may expect their edits to
count.  Either way they are told: ``--rev WORKTREE`` reads the directory's files
as they are (no fetch, no cache, uncommitted and untracked files included), and
any other revision of a working tree whose ``HEAD`` is the compared commit
carries a note counting the uncommitted changes under the target's path.
Read-only: ``git status`` and ``git log`` only.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from driftwatch.errors import SourceFetchError
from driftwatch.model import GitRevision
from driftwatch.source.checkout import WORKTREE, Checkout

_TIMEOUT = 60.0


def worktree_checkout(directory: Path | None, path: str, shown: str) -> Checkout:
    """The directory's files as they are (``rev: WORKTREE``); raises unless it is local."""
    if directory is None or not directory.is_dir():
        raise SourceFetchError(
            f"{shown}: rev {WORKTREE} reads a local directory's files, "
            "but the repository is not a local directory"
        )
    sha = author = time = subject = ""
    out = _git(directory, "log", "-1", "--format=%H%x00%an%x00%cI%x00%s", "HEAD")
    if out is not None and out.count("\0") == 3:
        sha, author, time, subject = out.rstrip("\n").split("\0")
    changes = _uncommitted(directory, path)
    if changes:
        note = f"the working tree as it is: {_count(changes)} under {path} not committed"
    else:
        note = "the working tree as it is"
    revision = GitRevision(
        sha=sha,
        ref=WORKTREE,
        author=author,
        time=time,
        subject=subject,
        repository=shown,
        note=note,
    )
    return Checkout(directory, revision, worktree=True)


def uncommitted_note(directory: Path, sha: str, path: str) -> str:
    """Why the comparison leaves the working tree's edits out, or ``""`` when it does not."""
    changes = _uncommitted(directory, path, head=sha)
    if not changes:
        return ""
    return (
        f"{_count(changes)} under {path} in {directory} not compared "
        f"(commit {sha[:12]} is); --rev {WORKTREE} compares the files as they are"
    )


def _count(changes: int) -> str:
    return f"{changes} uncommitted change{'s' if changes != 1 else ''}"


def _uncommitted(directory: Path, path: str, head: str | None = None) -> int:
    """Changed and untracked files under ``path`` (0: not a work tree, or HEAD is not ``head``)."""
    out = _git(
        directory,
        "status",
        "--porcelain=v2",
        "-z",
        "--branch",
        "--untracked-files=all",
        "--",
        path or ".",
    )
    if out is None:
        return 0
    records = out.split("\0")
    changes = 0
    skip = False
    for record in records:
        if skip:
            skip = False
            continue
        if record.startswith("# branch.oid "):
            if head is not None and record.removeprefix("# branch.oid ").strip() != head:
                return 0
        elif record and not record.startswith("#"):
            changes += 1
            skip = record.startswith("2 ")  # a rename: the original path follows
    return changes


def _git(directory: Path, *args: str) -> str | None:
    """Git's output, or None when it fails (not a work tree, no commit yet)."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}
    try:
        proc = subprocess.run(
            ["git", "-C", str(directory), *args],
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            env=env,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None
