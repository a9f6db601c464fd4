"""The Kustomize renderer: the output of ``kustomize build`` for a directory.

The command is, in order of preference: the target's ``kustomizeCommand``
(split like a shell would, the directory appended), ``kustomize build`` when a
``kustomize`` binary is on PATH, else ``kubectl kustomize``.  It runs with a
timeout; a failure raises ``RenderError`` carrying the tool's (truncated)
stderr.

Kustomize says which file each object came from only when asked: the build runs
on a generated wrapper kustomization (in a temporary directory) whose only
resource is the target's directory and which sets ``buildMetadata:
[originAnnotations]``.  The ``config.kubernetes.io/origin`` annotation this adds
names the source file (or, for generated objects, the kustomization that
configured them); it becomes the object's origin (file, and the document and line
when the file declares the object under its name) and is removed from the body
before anything compares it.  A build that fails with the wrapper (an old
Kustomize) is run again without it, for the tool's own error or plain output.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from driftwatch.errors import RenderError, truncate
from driftwatch.model import SourceError
from driftwatch.render.assemble import RenderedDoc
from driftwatch.render.plain import inside
from driftwatch.render.yamlload import Limits, YamlLoadError, decode, load_documents

DEFAULT_TIMEOUT = 120.0
_OUTPUT_LIMITS = Limits(max_file_bytes=512 * 1024 * 1024)
_STDERR_LIMIT = 1500
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
ORIGIN_ANNOTATION = "config.kubernetes.io/origin"


def kustomize_command(configured: str | None) -> list[str]:
    """The argv (without the directory) that builds a kustomization."""
    if configured:
        return shlex.split(configured)
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    raise RenderError("cannot render a kustomization: neither kustomize nor kubectl is on PATH")


def render_kustomize(
    root: Path, rel_path: str, command: str | None = None, timeout: float = DEFAULT_TIMEOUT
) -> tuple[list[RenderedDoc], list[SourceError]]:
    """Build the kustomization at ``rel_path``; raises ``RenderError`` when the tool fails."""
    root = root.resolve()
    directory = inside(root, rel_path)
    display = directory.relative_to(root).as_posix()
    base = kustomize_command(command)
    with tempfile.TemporaryDirectory(prefix="driftwatch-kustomize-") as wrapper:
        wrapper_dir = Path(wrapper)
        _write_wrapper(wrapper_dir, directory)
        proc = _build(base, wrapper_dir, display, timeout)
        origins: Path | None = wrapper_dir
        if proc.returncode != 0:
            proc, origins = _build(base, directory, display, timeout), None
    argv = [*base, str(directory)]
    if proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", "replace").replace(str(root) + "/", "")
        raise RenderError(
            f"{' '.join(argv[:-1])} {display} failed (exit {proc.returncode}): "
            f"{truncate(stderr, _STDERR_LIMIT)}"
        )
    try:
        text = decode(proc.stdout, display, _OUTPUT_LIMITS)
    except YamlLoadError as e:
        raise RenderError(f"{argv[0]} output for {display}: {e.message}") from e
    parsed, errors = load_documents(text, display, _OUTPUT_LIMITS)
    sources = _Sources(root)
    docs = []
    for d in parsed:
        origin = _pop_origin(d.data) if origins is not None else None
        file = sources.relative(origins, origin) if origins is not None and origin else None
        if file is None:
            docs.append(RenderedDoc(display, d.index, None, d.data, ()))
            continue
        document, line = sources.locate(file, d.data)
        docs.append(RenderedDoc(file, document, line, d.data, ()))
    return docs, [SourceError(e.file, f"in the build output: {e.message}", None) for e in errors]


def _write_wrapper(wrapper: Path, directory: Path) -> None:
    """A kustomization that builds ``directory`` with origin annotations."""
    wrapper.joinpath("kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": [os.path.relpath(directory, wrapper)],
                "buildMetadata": ["originAnnotations"],
            }
        )
    )


def _build(
    base: list[str], directory: Path, display: str, timeout: float
) -> subprocess.CompletedProcess[bytes]:
    argv = [*base, str(directory)]
    try:
        return subprocess.run(
            argv, cwd=directory, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as e:
        raise RenderError(f"{argv[0]}: building {display} timed out after {timeout:g}s") from e
    except OSError as e:
        raise RenderError(f"{argv[0]}: cannot run: {e.strerror or e}") from e


def _pop_origin(body: Any) -> dict[str, Any] | None:
    """Remove the origin annotation from ``body`` (and an annotations map it leaves empty)."""
    if not isinstance(body, dict) or not isinstance(body.get("metadata"), dict):
        return None
    metadata = body["metadata"]
    annotations = metadata.get("annotations")
    if not isinstance(annotations, dict) or ORIGIN_ANNOTATION not in annotations:
        return None
    text = annotations.pop(ORIGIN_ANNOTATION)
    if not annotations:
        del metadata["annotations"]
    try:
        origin = yaml.safe_load(text) if isinstance(text, str) else None
    except yaml.YAMLError:
        return None
    return origin if isinstance(origin, dict) else None


class _Sources:
    """Source files named by origins: repository-relative paths, documents and lines."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._docs: dict[str, list[tuple[int, int | None, Any]]] = {}

    def relative(self, wrapper: Path, origin: dict[str, Any]) -> str | None:
        """The repository-relative file an origin names (None: outside the repository)."""
        if origin.get("repo"):
            return None  # a remote base: no file of this repository declares it
        path = origin.get("path") or origin.get("configuredIn")
        if not isinstance(path, str) or not path:
            return None
        resolved = (wrapper / path).resolve()
        try:
            return resolved.relative_to(self.root).as_posix()
        except ValueError:
            return None

    def locate(self, file: str, body: Any) -> tuple[int, int | None]:
        """(document, line) of ``body`` in ``file``: the one document of its kind and name."""
        kind = body.get("kind") if isinstance(body, dict) else None
        name = (body.get("metadata") or {}).get("name") if isinstance(body, dict) else None
        found = [
            (index, line)
            for index, line, data in self._load(file)
            if isinstance(data, dict)
            and data.get("kind") == kind
            and isinstance(name, str)
            and str((data.get("metadata") or {}).get("name") or "\0") in name
        ]
        return found[0] if len(found) == 1 else (0, None)

    def _load(self, file: str) -> list[tuple[int, int | None, Any]]:
        if file not in self._docs:
            try:
                text = (self.root / file).read_text(encoding="utf-8")
                parsed, _ = load_documents(text, file)
                self._docs[file] = [(d.index, d.line, d.data) for d in parsed]
            except (OSError, UnicodeDecodeError, YamlLoadError):
                self._docs[file] = []
        return self._docs[file]
