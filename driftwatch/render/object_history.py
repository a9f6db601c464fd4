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
    history = GitHistory(git_dir, sha, limit=limit)
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
        history.close()
    return out


def object_history(
    history: GitHistory, file: str, key: ResourceKey, redact: Redact
) -> DeclarationHistory | None:
    """The versions of ``key`` in ``file`` at the commits that touched it (None: unknown)."""
    commits = history.commits(file)
    if commits is None:
        return None
    versions: list[tuple[GitRevision, Manifest | None]] = []
    for commit, _ in commits.commits:
        found = _find(history.blob(commit.sha, file), file, key)
        if found is _UNREADABLE:
            continue
        versions.append((commit, redact(found) if isinstance(found, dict) else None))
    return DeclarationHistory(tuple(versions), commits.complete)


def removed_object(
    history: GitHistory, under: str, key: ResourceKey, redact: Redact
) -> DeclarationHistory | None:
    """The commit that removed ``key`` from the files under ``under``, and what it removed.

    The answer is two versions — (the removing commit, None), (its parent, the
    body) — or none when no commit in reach removed it.
    """
    commits = history.commits(under)
    if commits is None:
        return None
    for commit, files in commits.commits:
        for name in files:
            if not name.lower().endswith(MANIFEST_SUFFIXES):
                continue
            before = _find(history.blob(commit.sha + "^", name), name, key)
            if not isinstance(before, dict):
                continue
            if isinstance(_find(history.blob(commit.sha, name), name, key), dict):
                continue
            parent = GitRevision(commit.sha + "^", "")
            return DeclarationHistory(((commit, None), (parent, redact(before))), complete=True)
    return DeclarationHistory((), commits.complete)


def _find(data: bytes | None, file: str, key: ResourceKey) -> object:
    """The body of ``key`` in a file's bytes, None when absent, ``_UNREADABLE`` on a bad file."""
    if data is None:
        return None
    try:
        text = decode(data, file)
    except YamlLoadError:
        return _UNREADABLE
    docs, errors = (
        load_json(text, file) if file.lower().endswith(".json") else load_documents(text, file)
    )
    if errors and not docs:
        return _UNREADABLE
    for doc in docs:
        body = doc.data
        if not isinstance(body, dict):
            continue
        if body.get("kind") == "List" and isinstance(body.get("items"), list):
            candidates = [i for i in body["items"] if isinstance(i, dict)]
        else:
            candidates = [body]
        for item in candidates:
            if _same_object(key_of(item), key):
                return item
    return _UNREADABLE if errors else None


def _same_object(found: ResourceKey, key: ResourceKey) -> bool:
    """Same object; a declaration without a namespace takes the target's (or none)."""
    return found._replace(namespace="") == key._replace(namespace="") and (
        not found.namespace or found.namespace == key.namespace
    )
