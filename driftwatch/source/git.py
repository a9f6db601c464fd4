"""The Git source: a target's repository at its revision, as a directory on disk.

``GitSource(cache_dir).checkout(target)``:

1. keeps one bare repository per URL under ``cache_dir/repos/<hash of URL>.git``
   (created on first use, fetched on every later call: branches with
   ``+refs/heads/*:refs/remotes/origin/*`` and tags with ``+refs/tags/*``,
   forced, so a force-push or a moved tag is followed);
2. resolves the target's ``rev`` (``HEAD``, a branch, a tag, a full or short
   SHA) to a commit, preferring the freshly fetched remote branch;
3. returns it as a ``Checkout`` whose files are read straight from the
   object database (``driftwatch.source.tree``); the tree is written to
   ``cache_dir/trees/<sha>`` (a private index and ``checkout-index``) only
   when a renderer asks for ``Checkout.root`` (Kustomize, Helm).

``rev: WORKTREE`` (``--rev WORKTREE``) with a local ``repo`` directory reads its
files as they are, uncommitted changes included (nothing is fetched or cached).
For any other revision of a local working tree that has uncommitted changes
under the target's path, the revision carries a note saying they were left out.

Git is only ever asked to fetch: nothing is pushed, no remote is written.  When
the fetch fails but the revision resolves in the cache, the last fetched commit
is returned with ``stale=True`` and the (scrubbed) error: the remote's state is
unknown, comparing against the last good commit is still meaningful.  A cache
that git cannot read is removed and cloned again.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from dataclasses import replace
from pathlib import Path

import git

from driftwatch.config.model import Target
from driftwatch.errors import SourceFetchError, truncate
from driftwatch.model import GitRevision
from driftwatch.redact import scrub_text
from driftwatch.source.cache import (
    CacheCorruptError,
    check_health,
    locked,
    open_or_init,
)
from driftwatch.source.checkout import WORKTREE, Checkout
from driftwatch.source.credentials import GitAuth, git_auth
from driftwatch.source.revs import is_full_sha as _is_full_sha
from driftwatch.source.revs import may_be_commit, remote_refs
from driftwatch.source.tree import GitTree
from driftwatch.source.urls import is_local_path, safe_url, split_credentials, strip_urls_in_text
from driftwatch.source.worktree import uncommitted_note, worktree_checkout

__all__ = ["WORKTREE", "Checkout", "GitSource"]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 300.0
_HEAD_REF = "refs/driftwatch/HEAD"
_REFSPECS = ("+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*")


class GitSource:
    """Fetches targets' repositories into ``cache_dir`` and materialises their trees."""

    def __init__(
        self, cache_dir: str | Path, *, timeout: float = DEFAULT_TIMEOUT, max_trees: int = 64
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self.timeout = timeout
        self.max_trees = max_trees

    def checkout(self, target: Target) -> Checkout:
        """The target's repository at its revision (see the module doc).

        Raises ``SourceFetchError`` when the repository cannot be fetched and
        nothing usable is cached, or when the revision does not exist.
        """
        parts = split_credentials(target.repo)
        local = is_local_path(parts.url)
        url = str(Path(parts.url).expanduser().resolve()) if local else parts.url
        shown = safe_url(url)
        if target.rev.strip() == WORKTREE:
            return worktree_checkout(Path(url) if local else None, target.path, shown)
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as e:
            raise SourceFetchError(
                f"cannot create the git cache {self.cache_dir}: {e.strerror or e}"
            ) from e
        auth = git_auth(target.credentials, parts, self.cache_dir)
        repo_dir = (
            self.cache_dir / "repos" / (hashlib.sha256(url.encode()).hexdigest()[:24] + ".git")
        )
        try:
            with locked(repo_dir):
                try:
                    return self._checkout(target, url, shown, auth, repo_dir)
                except CacheCorruptError as e:
                    log.warning("git cache for %s is unreadable (%s); cloning again", shown, e)
                    shutil.rmtree(repo_dir, ignore_errors=True)
                try:
                    return self._checkout(target, url, shown, auth, repo_dir)
                except CacheCorruptError as e:
                    raise SourceFetchError(
                        f"{shown}: repository unreadable after re-clone: {e}"
                    ) from e
        except git.GitError as e:
            detail = scrub_text(strip_urls_in_text(str(e)), auth.secrets)
            raise SourceFetchError(f"{shown}: git failed: {truncate(detail, 400)}") from e
        except OSError as e:
            raise SourceFetchError(
                f"{shown}: cannot use the git cache {self.cache_dir}: {e.strerror or e}"
            ) from e

    # ------------------------------------------------------------------ steps

    def _checkout(
        self, target: Target, url: str, shown: str, auth: GitAuth, repo_dir: Path
    ) -> Checkout:
        repo = open_or_init(repo_dir, shown)
        try:
            rev = target.rev.strip() or "HEAD"
            return self._checkout_in(repo, rev, url, shown, auth, target.path)
        finally:
            repo.close()

    def _checkout_in(
        self, repo: git.Repo, rev: str, url: str, shown: str, auth: GitAuth, path: str
    ) -> Checkout:
        fetch_error: str | None = None
        # A full SHA already fetched is immutable: no need to ask the remote again.
        sha = _resolve(repo, rev) if _is_full_sha(rev) else None
        if sha is None:
            fetch_error = self._fetch(repo, url, shown, auth)
            sha = _resolve(repo, rev)
            if sha is None and fetch_error is None and _is_full_sha(rev):
                # A commit no branch or tag points at: servers may still serve it by id.
                self._fetch(repo, url, shown, auth, refspecs=(rev,))
                sha = _resolve(repo, rev)
        if sha is None:
            if fetch_error is not None:
                raise SourceFetchError(fetch_error)
            raise SourceFetchError(
                f"{shown}: revision {rev!r} not found (no such branch, tag or commit)"
            )
        tree = GitTree(Path(repo.git_dir), sha, self.cache_dir / "trees", self.max_trees)
        tree.verify()
        revision = _revision(repo, sha, rev, shown)
        if is_local_path(url):
            revision = replace(revision, note=uncommitted_note(Path(url), sha, path))
        return Checkout(
            None, revision, stale=fetch_error is not None, fetch_error=fetch_error, tree=tree
        )

    def _fetch(
        self,
        repo: git.Repo,
        url: str,
        shown: str,
        auth: GitAuth,
        refspecs: tuple[str, ...] | None = None,
    ) -> str | None:
        """Fetch; return None on success or the scrubbed error (corruption raises)."""
        specs = refspecs or (f"+HEAD:{_HEAD_REF}", *_REFSPECS)
        args = [
            "-c",
            "gc.autoDetach=false",
            "fetch",
            "--prune",
            "--force",
            "--no-tags",
            "--no-write-fetch-head",
            "--quiet",
            "--",
            url,
            *specs,
        ]
        try:
            repo.git.execute(["git", *args], env=auth.env, kill_after_timeout=self.timeout)
            return None
        except git.GitCommandError as e:
            message = _clean(e, auth)
            if refspecs is None and "couldn't find remote ref HEAD" in message:
                return self._fetch(repo, url, shown, auth, _REFSPECS)
            check_health(repo)
            error = f"git fetch {shown} failed: {message}"
            has_refs = bool(repo.git.execute(["git", "for-each-ref", "--count=1"]))
            log.info("%s%s", error, " (using the last fetched commit)" if has_refs else "")
            return error


# ---------------------------------------------------------------------- helpers


def _fetched_as(ref: str) -> str:
    """The name ``_fetch`` stores the remote's ``ref`` under."""
    if ref == "HEAD":
        return _HEAD_REF
    if ref.startswith("refs/heads/"):
        return "refs/remotes/origin/" + ref.removeprefix("refs/heads/")
    return ref


def _candidates(rev: str) -> list[str]:
    names = [_fetched_as(ref) for ref in remote_refs(rev)]
    return [*names, rev] if may_be_commit(rev) else names


def _resolve(repo: git.Repo, rev: str) -> str | None:
    """The commit ``rev`` names in the cache, or None."""
    for ref in _candidates(rev):
        try:
            out = repo.git.execute(["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"])
        except git.GitCommandError:
            continue
        if out.strip():
            return out.strip()
    return None


def _revision(repo: git.Repo, sha: str, rev: str, shown: str) -> GitRevision:
    try:
        commit = repo.commit(sha)
        return GitRevision(
            sha=sha,
            ref=rev,
            author=str(commit.author.name or ""),
            time=commit.committed_datetime.isoformat(),
            subject=str(commit.summary),
            repository=shown,
        )
    except (ValueError, git.GitCommandError) as e:
        raise CacheCorruptError(f"cannot read commit {sha}: {truncate(str(e))}") from e


def _clean(error: git.GitCommandError, auth: GitAuth) -> str:
    text = error.stderr if isinstance(error.stderr, str) and error.stderr.strip() else str(error)
    text = text.strip().removeprefix("stderr:").strip().strip("'").strip()
    return truncate(scrub_text(strip_urls_in_text(text), auth.secrets), 400)
