"""Cheap Git polling for watch mode: ``git ls-remote`` the target's ref, run when it moved.

A fetch downloads objects; ``ls-remote`` only asks the remote which commit a ref
points at, so it can run every few seconds.  The credentials are handed to git
exactly as :class:`driftwatch.source.git.GitSource` hands them (environment only,
never argv or the URL).  A target pinned to a commit has nothing to poll.

The ref resolves as the checkout resolves it (:mod:`driftwatch.source.revs`):
``HEAD``; a full ref name; else the branch ``refs/heads/<rev>``, then the tag
``refs/tags/<rev>`` (peeled to its commit).  When the remote's commit differs
from the one the last run compared, the poller asks for a run once per new commit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import git

from driftwatch.config.model import Target
from driftwatch.errors import DriftwatchError, truncate
from driftwatch.redact import scrub_text
from driftwatch.source.credentials import git_auth
from driftwatch.source.revs import is_full_sha, remote_refs
from driftwatch.source.urls import is_local_path, safe_url, split_credentials, strip_urls_in_text

log = logging.getLogger(__name__)

LS_REMOTE_TIMEOUT = 30.0


def ref_candidates(rev: str) -> list[str]:
    """``ls-remote`` names ``rev`` may mean, preferred first ([] if a commit).

    Annotated tags are listed twice by ``ls-remote``; the peeled ``<ref>^{}`` line
    holds the commit.
    """
    if is_full_sha(rev.strip()):
        return []
    names: list[str] = []
    for ref in remote_refs(rev):
        peelable = ref != "HEAD" and not ref.startswith("refs/heads/")
        names.extend([f"{ref}^{{}}", ref] if peelable else [ref])
    return names


def parse_ls_remote(output: str, candidates: list[str]) -> str | None:
    """The commit of the first candidate listed in ``git ls-remote`` output."""
    refs: dict[str, str] = {}
    for line in output.splitlines():
        sha, _, name = line.strip().partition("\t")
        if sha and name:
            refs[name] = sha
    return next((refs[name] for name in candidates if name in refs), None)


def remote_sha(target: Target, cache_dir: Path, timeout: float = LS_REMOTE_TIMEOUT) -> str | None:
    """The commit the target's ref points at on the remote (None: nothing to poll).

    Raises ``DriftwatchError`` (scrubbed of credentials) when git fails.
    """
    candidates = ref_candidates(target.rev)
    if not candidates:
        return None
    parts = split_credentials(target.repo)
    url = str(Path(parts.url).expanduser().resolve()) if is_local_path(parts.url) else parts.url
    auth = git_auth(target.credentials, parts, cache_dir)
    try:  # a pattern matches a ref name's tail: "<tag>^{}" must be asked for by name
        output = git.cmd.Git().ls_remote(
            "--", url, *candidates, env=auth.env, kill_after_timeout=timeout
        )
    except git.GitError as e:
        detail = scrub_text(strip_urls_in_text(str(e)), auth.secrets)
        raise DriftwatchError(
            f"git ls-remote {safe_url(url)} failed: {truncate(detail, 300)}"
        ) from e
    return parse_ls_remote(str(output), candidates)


class GitPoller:
    """Polls one target's ref on a thread; calls ``on_change(name)`` once per new commit."""

    def __init__(
        self,
        target: Target,
        cache_dir: Path,
        interval: float,
        on_change: Callable[[str], object],
    ) -> None:
        self.target = target
        self.cache_dir = cache_dir
        self.interval = interval
        self._on_change = on_change
        self._compared: str | None = None
        self._asked: str | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.polls = 0
        self._thread = threading.Thread(
            target=self._loop, name=f"driftwatch-gitpoll-{target.name}", daemon=True
        )

    def start(self) -> GitPoller:
        """Start polling (the first poll after one interval)."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop polling."""
        self._stop.set()

    def compared(self, sha: str | None) -> None:
        """The commit the latest run compared (polling starts once one is known)."""
        with self._lock:
            if sha:
                self._compared = sha

    def poll_once(self) -> bool:
        """Ask the remote once; True when a run was asked for."""
        with self._lock:
            known = self._compared
        if known is None:
            return False
        try:
            sha = remote_sha(self.target, self.cache_dir)
        except DriftwatchError as e:
            log.warning("%s", e, extra={"target": self.target.name})
            return False
        finally:
            self.polls += 1
        with self._lock:
            if sha is None or sha == self._compared or sha == self._asked:
                return False
            self._asked = sha
        log.info("Git moved to %s: running now", sha[:12], extra={"target": self.target.name})
        self._on_change(self.target.name)
        return True

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll_once()
            except Exception:  # polling must never die
                log.exception("git poll failed", extra={"target": self.target.name})
