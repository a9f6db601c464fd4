"""The plain renderer over a commit's blobs: the same files, never written to disk.

``listing(tree_entries, rel_path)`` picks exactly the files ``plain.manifest_files``
would pick in a written tree, in the same order (a directory's files sorted,
then its subdirectories sorted, as ``os.walk`` goes), and says what the path
holds (a Kustomization, a Chart, or plain files) for choosing the renderer.
Where only a written tree can answer exactly — a symbolic link or submodule
at or under the path, a path that leaves the repository or does not exist —
it returns None and the caller falls back to the written tree, so every
refusal and error message stays the one ``plain`` gives.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass

from driftwatch.render.kustomize import KUSTOMIZATION_FILES
from driftwatch.render.plain import IGNORED_NAMES, MANIFEST_SUFFIXES
from driftwatch.source.tree import TreeEntry


@dataclass(frozen=True, slots=True)
class PathListing:
    """The manifest files of a target's path at one commit, and what else the path holds."""

    path: str
    """The normalised path (``""`` for the repository root)."""
    files: list[TreeEntry]
    kustomization: bool
    chart: bool


def listing(entries: Sequence[TreeEntry], rel_path: str) -> PathListing | None:
    """What the written tree's plain renderer would read under ``rel_path`` (see module doc)."""
    base = posixpath.normpath(rel_path.strip() or ".")
    if base.startswith(("/", "../")) or base == "..":
        return None
    base = "" if base == "." else base
    prefix = base + "/" if base else ""
    under: list[TreeEntry] = []
    for entry in entries:
        if entry.path == base:
            return PathListing(base, [entry], False, False) if entry.regular else None
        if entry.path.startswith(prefix):
            if not entry.regular:
                return None
            under.append(entry)
        elif not entry.regular and prefix.startswith(entry.path + "/"):
            return None  # the path goes through a symbolic link or submodule
    if not under:
        return None
    direct = {e.path[len(prefix) :] for e in under if "/" not in e.path[len(prefix) :]}
    chosen: list[tuple[tuple[tuple[int, str], ...], TreeEntry]] = []
    for entry in under:
        parts = entry.path[len(prefix) :].split("/")
        name = parts[-1]
        if any(p.startswith(".") for p in parts) or name in IGNORED_NAMES:
            continue
        if not name.lower().endswith(MANIFEST_SUFFIXES):
            continue
        order = (*((1, p) for p in parts[:-1]), (0, name))
        chosen.append((order, entry))
    chosen.sort(key=lambda pair: pair[0])
    return PathListing(
        base,
        [entry for _, entry in chosen],
        kustomization=any(name in direct for name in KUSTOMIZATION_FILES),
        chart="Chart.yaml" in direct,
    )
