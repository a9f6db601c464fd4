"""The plain renderer: every manifest file under a directory, as written.

Which files count (deterministic: directories and files walked in sorted order):

* every ``*.yaml``, ``*.yml`` and ``*.json`` file under the target path, recursively;
* except files and directories whose name starts with ``.`` (``.git``,
  ``.github``, ``.pre-commit-config.yaml``, ...), and ``kustomization.yaml`` /
  ``kustomization.yml`` files (they only mean something to Kustomize);
* symbolic links are followed only when they stay inside the repository; a link
  pointing outside it is an error, never read.

Any other file under the path that fails to parse or is not a Kubernetes object
is reported as an error for that file; the other files are still read.
"""

from __future__ import annotations

import os
from pathlib import Path

from driftwatch.errors import RenderError
from driftwatch.model import SourceError
from driftwatch.render.assemble import RenderedDoc
from driftwatch.render.yamlload import (
    DEFAULT_LIMITS,
    Limits,
    YamlLoadError,
    decode,
    load_documents,
    load_json,
    read_bytes,
)

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
IGNORED_NAMES = frozenset({"kustomization.yaml", "kustomization.yml"})


def inside(root: Path, rel_path: str) -> Path:
    """``root/rel_path`` resolved, refusing a path that leaves the repository."""
    root = root.resolve()
    base = (root / rel_path).resolve()
    if base != root and root not in base.parents:
        raise RenderError(f"path {rel_path!r} is outside the repository")
    if not base.exists():
        raise RenderError(f"path {rel_path!r} does not exist in the repository")
    return base


def manifest_files(base: Path) -> list[Path]:
    """The manifest files under ``base`` (or ``base`` itself when it is a file), sorted."""
    if base.is_file():
        return [base]
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or name in IGNORED_NAMES:
                continue
            if name.lower().endswith(MANIFEST_SUFFIXES):
                found.append(Path(dirpath, name))
    return found


def render_plain(
    root: Path, rel_path: str, limits: Limits = DEFAULT_LIMITS
) -> tuple[list[RenderedDoc], list[SourceError]]:
    """The documents of every manifest file under ``rel_path``, and per-file errors."""
    root = root.resolve()
    docs: list[RenderedDoc] = []
    errors: list[SourceError] = []
    for path in manifest_files(inside(root, rel_path)):
        display = path.relative_to(root).as_posix()
        file_docs, file_errors = parse_file(root, path, display, limits)
        docs.extend(file_docs)
        errors.extend(SourceError(e.file, e.message, e.line) for e in file_errors)
    return docs, errors


def parse_file(
    root: Path, path: Path, display: str, limits: Limits = DEFAULT_LIMITS
) -> tuple[list[RenderedDoc], list[YamlLoadError]]:
    """Parse one manifest file (YAML stream or JSON) into documents."""
    if path.is_symlink():
        target = path.resolve()
        if target != root and root not in target.parents:
            return [], [YamlLoadError(display, "symbolic link points outside the repository")]
    try:
        data = read_bytes(path, display, limits)
    except YamlLoadError as e:
        return [], [e]
    return parse_blob(data, display, limits)


def parse_blob(
    data: bytes, display: str, limits: Limits = DEFAULT_LIMITS
) -> tuple[list[RenderedDoc], list[YamlLoadError]]:
    """Parse one manifest file's bytes (JSON when ``display`` ends in ``.json``, else YAML)."""
    try:
        text = decode(data, display, limits)
    except YamlLoadError as e:
        return [], [e]
    if display.lower().endswith(".json"):
        parsed, errors = load_json(text, display)
    else:
        parsed, errors = load_documents(text, display, limits)
    docs = [RenderedDoc(display, d.index, d.line, d.data, d.item_lines) for d in parsed]
    return docs, errors
