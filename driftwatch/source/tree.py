"""A commit's files read straight from the cached repository's object database.

Writing a commit's tree to disk costs a file per manifest (most of a first
run's Git time at thousands of files); a plain-YAML target needs only the
bytes.  ``GitTree`` lists the commit once (``git ls-tree -r -l -z``: path,
mode, blob SHA and size of every file) and reads the blobs it is asked for
through one ``git cat-file --batch`` process.  The blob SHA is the content's
name, so a parse cache keyed by it re-parses only files a commit changed.

``materialize()`` still writes the tree (``driftwatch.source.cache``) for
renderers that need files on disk (Kustomize, Helm).  Only reads: nothing here
writes to the repository.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import git

from driftwatch.errors import RenderError, truncate
from driftwatch.source.cache import CacheCorruptError, locked, materialize

REGULAR_MODES = frozenset({"100644", "100755"})
"""File modes of ordinary files; symbolic links are ``120000``, submodules ``160000``."""


@dataclass(frozen=True, slots=True)
class TreeEntry:
    """One file of a commit: path (POSIX, from the repository root), mode, blob SHA, size."""

    path: str
    mode: str
    sha: str
    size: int

    @property
    def regular(self) -> bool:
        """An ordinary file (not a symbolic link or a submodule)."""
        return self.mode in REGULAR_MODES


class GitTree:
    """One commit of a cached bare repository, readable without writing it out."""

    def __init__(self, repo_dir: Path, sha: str, trees_dir: Path, max_trees: int) -> None:
        self.repo_dir = repo_dir
        self.sha = sha
        self._trees_dir = trees_dir
        self._max_trees = max_trees
        self._entries: list[TreeEntry] | None = None
        self._root: Path | None = None
        self._guard = threading.Lock()

    def entries(self) -> list[TreeEntry]:
        """Every file of the commit (listed once, then remembered)."""
        with self._guard:
            if self._entries is None:
                with locked(self.repo_dir):
                    self._entries = self._list()
            return self._entries

    def verify(self) -> None:
        """List the commit and check every blob is present; the caller holds the repo lock.

        Raises ``CacheCorruptError`` (the cache is cloned again) when git cannot
        read the tree or a blob is missing: a broken cache must fail at checkout,
        where it can be repaired, not later in the render.
        """
        try:
            entries = self._list()
        except RenderError as e:
            raise CacheCorruptError(str(e)) from e
        blobs = "".join(f"{e.sha}\n" for e in entries if e.mode != "160000")
        proc = subprocess.run(
            ["git", f"--git-dir={self.repo_dir}", "cat-file", "--batch-check"],
            input=blobs.encode(),
            capture_output=True,
            check=False,
            env=_env(),
        )
        if proc.returncode != 0 or b" missing\n" in proc.stdout:
            raise CacheCorruptError(f"objects of commit {self.sha[:12]} are missing")
        with self._guard:
            self._entries = entries

    def _list(self) -> list[TreeEntry]:
        return _parse_ls_tree(self._git("ls-tree", "-r", "-l", "-z", "--full-tree", self.sha))

    def read(self, shas: Iterable[str]) -> dict[str, bytes]:
        """The content of each blob in ``shas`` (one ``git cat-file --batch`` process)."""
        wanted = list(dict.fromkeys(shas))
        if not wanted:
            return {}
        with locked(self.repo_dir):
            return _cat_file(self.repo_dir, wanted)

    def materialize(self) -> Path:
        """The commit's files written under the cache's ``trees/<sha>`` (once; reused after)."""
        with self._guard:
            if self._root is None:
                try:
                    with locked(self.repo_dir):
                        repo = git.Repo(self.repo_dir)
                        try:
                            self._root = materialize(
                                repo, self.sha, self._trees_dir, self._max_trees
                            )
                        finally:
                            repo.close()
                except (CacheCorruptError, OSError, git.GitError) as e:
                    raise RenderError(
                        f"cannot write the files of commit {self.sha[:12]} for the renderer: "
                        f"{truncate(str(e), 300)}"
                    ) from e
            return self._root

    def _git(self, *args: str) -> bytes:
        proc = subprocess.run(
            ["git", f"--git-dir={self.repo_dir}", *args],
            capture_output=True,
            check=False,
            env=_env(),
        )
        if proc.returncode != 0:
            detail = proc.stderr.decode("utf-8", "replace").strip()
            raise RenderError(f"cannot list commit {self.sha[:12]}: {truncate(detail, 400)}")
        return proc.stdout


def _env() -> dict[str, str]:
    return {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


def _parse_ls_tree(out: bytes) -> list[TreeEntry]:
    """Records of ``git ls-tree -r -l -z``: mode, type, SHA, size, a tab, the path, a NUL."""
    entries: list[TreeEntry] = []
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, _kind, sha, size = meta.split()
        entries.append(
            TreeEntry(
                os.fsdecode(raw_path),
                mode.decode(),
                sha.decode(),
                int(size) if size != b"-" else 0,
            )
        )
    return entries


def _cat_file(repo_dir: Path, shas: list[str]) -> dict[str, bytes]:
    proc = subprocess.Popen(
        ["git", f"--git-dir={repo_dir}", "cat-file", "--batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    assert proc.stdin is not None and proc.stdout is not None

    def feed() -> None:
        assert proc.stdin is not None
        try:
            proc.stdin.write("".join(f"{sha}\n" for sha in shas).encode())
            proc.stdin.close()
        except OSError:  # git died; its exit status says why
            pass

    writer = threading.Thread(target=feed, name="git-cat-file-feed", daemon=True)
    writer.start()
    out: dict[str, bytes] = {}
    try:
        for sha in shas:
            header = proc.stdout.readline().split()
            if len(header) != 3:
                raise RenderError(f"cannot read blob {sha[:12]} from the git cache")
            size = int(header[2])
            out[sha] = proc.stdout.read(size)
            proc.stdout.read(1)
    finally:
        writer.join()
        proc.stdout.close()
        stderr = proc.stderr.read() if proc.stderr else b""
        if proc.stderr:
            proc.stderr.close()
        if proc.wait() != 0 and len(out) < len(shas):
            detail = stderr.decode("utf-8", "replace").strip()
            raise RenderError(f"git cat-file failed: {truncate(detail, 400)}")
    return out
