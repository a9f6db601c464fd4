"""One object's declarations at earlier commits, parsed from its file's Git history.

A file often holds several objects, so each candidate commit's version of the
file is parsed and the object picked out by identity.  A version that does not
parse is skipped (it neither declares nor removes anything); Secret values are
redacted with the run's key before anything compares them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from driftwatch.model import DeclarationHistory, GitRevision, Manifest, ResourceKey, key_of
from driftwatch.render.plain import MANIFEST_SUFFIXES
from driftwatch.render.yamlload import YamlLoadError, decode, load_documents, load_json
from driftwatch.source.history import DEFAULT_LIMIT, GitHistory

Redact = Callable[[Mapping[str, Any]], dict[str, Any]]
_UNREADABLE = object()


def read_histories(
    git_dir: Path,
    sha: str,
    under: str,
    wanted: Iterable[tuple[ResourceKey, str | None]],
    redact: Redact,
    *,
    limit: int = DEFAULT_LIMIT,
) -> dict[ResourceKey, DeclarationHistory]:
    """Histories of the wanted objects: by their origin file, or (not declared) by removal.

    An object whose history could not be read gets no entry: its direction is
    decided without Git history, or is unknown.
    """
    history = _Files(GitHistory(git_dir, sha, limit=limit))
    out: dict[ResourceKey, DeclarationHistory] = {}
    try:
        for key, file in wanted:
            if file is not None:
                found = object_history(history, file, key, redact)
            else:
                found = removed_object(history, under, key, redact)
            if found is not None:
                out[key] = found
    finally:
        history.git.close()
    return out


Wanted = tuple[ResourceKey, str | None]


class HistoryCache:
    """Histories already read, per target, at the revision they were read at.

    Exact: what earlier commits declared never changes for one revision, so a
    drift that lasts over many runs (or watch events) reads Git once.  Only the
    objects asked about in the latest call are kept, so it holds no more than
    one run's reads.
    """

    def __init__(self) -> None:
        self._by_target: dict[str, tuple[str, dict[Wanted, DeclarationHistory]]] = {}

    def read(
        self,
        target: str,
        git_dir: Path,
        sha: str,
        under: str,
        wanted: list[Wanted],
        redact: Redact,
    ) -> dict[ResourceKey, DeclarationHistory]:
        """``read_histories`` of ``wanted``, from the cache where it was read before."""
        revision, known = self._by_target.get(target, ("", {}))
        if revision != sha:
            known = {}
        missing = [w for w in wanted if w not in known]
        if missing:
            fresh = read_histories(git_dir, sha, under, missing, redact)
            known.update({(key, file): fresh[key] for key, file in missing if key in fresh})
        kept = {w: known[w] for w in wanted if w in known}
        self._by_target[target] = (sha, kept)
        return {key: history for (key, _), history in kept.items()}


class _Files:
    """A history reader that parses each (commit, file) once for all the objects asked about."""

    def __init__(self, git: GitHistory) -> None:
        self.git = git
        self._parsed: dict[tuple[str, str], list[dict[str, Any]] | None] = {}

    def find(self, commit: str, file: str, key: ResourceKey) -> object:
        """The body of ``key`` in ``file`` at ``commit``; None when absent; ``_UNREADABLE``."""
        if (commit, file) not in self._parsed:
            self._parsed[commit, file] = _parse(self.git.blob(commit, file), file)
        bodies = self._parsed[commit, file]
        if bodies is None:
            return _UNREADABLE
        return next((b for b in bodies if _same_object(key_of(b), key)), None)


def object_history(
    history: _Files, file: str, key: ResourceKey, redact: Redact
) -> DeclarationHistory | None:
    """The versions of ``key`` in ``file`` at the commits that touched it (None: unknown)."""
    commits = history.git.commits(file)
    if commits is None:
        return None
    versions: list[tuple[GitRevision, Manifest | None]] = []
    for commit, _ in commits.commits:
        found = history.find(commit.sha, file, key)
        if found is _UNREADABLE:
            continue
        versions.append((commit, redact(found) if isinstance(found, dict) else None))
    return DeclarationHistory(tuple(versions), commits.complete)


def removed_object(
    history: _Files, under: str, key: ResourceKey, redact: Redact
) -> DeclarationHistory | None:
    """The commit that removed ``key`` from the files under ``under``, and what it removed.

    The answer is two versions — (the removing commit, None), (its parent, the
    body) — or none when no commit in reach removed it.
    """
    commits = history.git.commits(under)
    if commits is None:
        return None
    for commit, files in commits.commits:
        for name in files:
            if not name.lower().endswith(MANIFEST_SUFFIXES):
                continue
            before = history.find(commit.sha + "^", name, key)
            if not isinstance(before, dict):
                continue
            if isinstance(history.find(commit.sha, name, key), dict):
                continue
            parent = GitRevision(commit.sha + "^", "")
            return DeclarationHistory(((commit, None), (parent, redact(before))), complete=True)
    return DeclarationHistory((), commits.complete)


def _parse(data: bytes | None, file: str) -> list[dict[str, Any]] | None:
    """The objects of one file version ([] when it did not exist), None when it did not parse."""
    if data is None:
        return []
    try:
        text = decode(data, file)
    except YamlLoadError:
        return None
    docs, errors = (
        load_json(text, file) if file.lower().endswith(".json") else load_documents(text, file)
    )
    if errors:  # a partly readable version neither declares nor removes for sure
        return None
    bodies: list[dict[str, Any]] = []
    for doc in docs:
        body = doc.data
        if not isinstance(body, dict):
            continue
        if body.get("kind") == "List" and isinstance(body.get("items"), list):
            bodies.extend(i for i in body["items"] if isinstance(i, dict))
        else:
            bodies.append(body)
    return bodies


def _same_object(found: ResourceKey, key: ResourceKey) -> bool:
    """Same object; a declaration without a namespace takes the target's (or none)."""
    return found._replace(namespace="") == key._replace(namespace="") and (
        not found.namespace or found.namespace == key.namespace
    )
