"""What the Git source hands the renderers: a repository's files at one revision."""

from __future__ import annotations

from pathlib import Path

from driftwatch.model import GitRevision
from driftwatch.source.tree import GitTree

WORKTREE = "WORKTREE"
"""The revision that means "the local directory's files as they are"."""


class Checkout:
    """A repository at one commit (or a working tree as it is), ready for the renderers.

    ``tree`` reads the commit's files from the Git cache without writing them;
    ``root`` is a directory holding them, written on first use when the
    checkout came from the cache (do not write to it).  ``stale`` is True when
    the fetch failed and this is the last commit fetched before.
    """

    __slots__ = ("_root", "fetch_error", "revision", "stale", "tree", "worktree")

    def __init__(
        self,
        root: Path | None,
        revision: GitRevision,
        stale: bool = False,
        fetch_error: str | None = None,
        *,
        tree: GitTree | None = None,
        worktree: bool = False,
    ) -> None:
        if root is None and tree is None:
            raise ValueError("a checkout needs a directory or a Git tree")
        self._root = root
        self.revision = revision
        self.stale = stale
        self.fetch_error = fetch_error
        self.tree = tree
        self.worktree = worktree
        """True for ``rev: WORKTREE``: files may change without a new commit (never cached)."""

    @property
    def root(self) -> Path:
        """The directory holding the files (the commit's tree is written on first use)."""
        if self._root is None:
            assert self.tree is not None
            self._root = self.tree.materialize()
        return self._root
