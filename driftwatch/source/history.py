"""Git history of a target's files, read from the cached repository (never the remote).

Deciding which side moved needs what Git declared at earlier commits, and only for
drifted objects: a clean run never calls this.  Every walk is bounded (``limit``
commits) so one long history costs the same as a short one; a walk that hit the
bound says so (``complete=False``) and the caller answers ``unknown`` where the
older commits would have mattered.  Only reads: ``git log`` and ``git cat-file``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import git

from driftwatch.model import GitRevision

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 50
_RECORD, _FIELD = "\x1e", "\x1f"
_FORMAT = "%x1e%H%x1f%an%x1f%cI%x1f%s"


@dataclass(frozen=True, slots=True)
class Commits:
    """Commits touching a path, newest first, each with the files it changed there."""

    commits: tuple[tuple[GitRevision, tuple[str, ...]], ...]
    complete: bool
    """The walk reached the oldest commit touching the path (the bound was not hit)."""


class GitHistory:
    """Reads one cached repository's history up to one commit.

    Author names and subjects are read; e-mail addresses never are.
    """

    def __init__(self, git_dir: Path, sha: str, *, limit: int = DEFAULT_LIMIT) -> None:
        self._repo = git.Repo(git_dir)
        self._sha = sha
        self.limit = limit
        self._logs: dict[str, Commits | None] = {}
        self._blobs: dict[tuple[str, str], bytes | None] = {}
        """Many drifted objects share a file: each log and blob is read once per reader."""

    def close(self) -> None:
        """Release the repository's git processes."""
        self._repo.close()

    def commits(self, path: str) -> Commits | None:
        """The newest ``limit`` commits up to the revision touching ``path`` (None on failure)."""
        if path not in self._logs:
            self._logs[path] = self._log(path)
        return self._logs[path]

    def _log(self, path: str) -> Commits | None:
        args = ["git", "log", f"--format={_FORMAT}", "--name-only", "--no-renames"]
        args += [f"-n{self.limit}", self._sha, "--", path or "."]
        try:
            out = self._repo.git.execute(args)
        except git.GitCommandError as e:
            log.warning("git log %s failed: %s", path, str(e).strip()[:200])
            return None
        found: list[tuple[GitRevision, tuple[str, ...]]] = []
        for record in str(out).split(_RECORD):
            head, _, names = record.partition("\n")
            parts = head.split(_FIELD)
            if len(parts) != 4:
                continue
            sha, author, time, subject = parts
            files = tuple(n for n in names.splitlines() if n.strip())
            found.append((GitRevision(sha, "", author=author, time=time, subject=subject), files))
        return Commits(tuple(found), complete=len(found) < self.limit)

    def blob(self, commit: str, path: str) -> bytes | None:
        """The file at ``commit`` (a full SHA or ``SHA^``); None when it did not exist there."""
        if (commit, path) not in self._blobs:
            self._blobs[commit, path] = self._blob(commit, path)
        return self._blobs[commit, path]

    def _blob(self, commit: str, path: str) -> bytes | None:
        try:
            data = self._repo.git.execute(
                ["git", "cat-file", "blob", f"{commit}:{path}"], stdout_as_string=False
            )
        except git.GitCommandError:
            return None
        return data if isinstance(data, bytes) else None
