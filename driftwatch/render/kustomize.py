"""The Kustomize renderer: the output of ``kustomize build`` for a directory.

The command is, in order of preference: the target's ``kustomizeCommand``
(split like a shell would, the directory appended), ``kustomize build`` when a
``kustomize`` binary is on PATH, else ``kubectl kustomize``.  It runs with a
timeout; a failure raises ``RenderError`` carrying the tool's (truncated)
stderr.  Kustomize does not say which file each object came from, so origins
name the kustomization directory and the document's position in the output.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

from driftwatch.errors import RenderError, truncate
from driftwatch.model import SourceError
from driftwatch.render.assemble import RenderedDoc
from driftwatch.render.plain import inside
from driftwatch.render.yamlload import Limits, YamlLoadError, decode, load_documents

DEFAULT_TIMEOUT = 120.0
_OUTPUT_LIMITS = Limits(max_file_bytes=512 * 1024 * 1024)
_STDERR_LIMIT = 1500
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


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
    argv = [*kustomize_command(command), str(directory)]
    try:
        proc = subprocess.run(
            argv, cwd=directory, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as e:
        raise RenderError(f"{argv[0]}: building {display} timed out after {timeout:g}s") from e
    except OSError as e:
        raise RenderError(f"{argv[0]}: cannot run: {e.strerror or e}") from e
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
    docs = [RenderedDoc(display, d.index, None, d.data, ()) for d in parsed]
    return docs, [SourceError(e.file, f"in the build output: {e.message}", None) for e in errors]
