"""The render stage: a target's checked-out path -> ``DesiredSet``.

``render_target(target, checkout, cache=...)`` picks the renderer (the target's
``renderer``, or by what the path holds: a ``kustomization.yaml`` /
``kustomization.yml`` / ``Kustomization`` -> Kustomize, a ``Chart.yaml`` -> Helm,
anything else -> plain manifest files), runs it, and assembles the result
(``driftwatch.render.assemble``).  A file that cannot be read is an error in
``DesiredSet.errors`` and the rest is still rendered; a renderer that fails as
a whole (Kustomize or Helm error) raises ``RenderError``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from driftwatch.config.model import Renderer, Target
from driftwatch.errors import RenderError
from driftwatch.gcpause import paused_gc
from driftwatch.model import DesiredSet, SourceError
from driftwatch.render.assemble import RenderedDoc, assemble
from driftwatch.render.cache import RenderCache, cache_key, file_digest
from driftwatch.render.kustomize import KUSTOMIZATION_FILES
from driftwatch.render.plain import inside
from driftwatch.source import Checkout

__all__ = ["RenderCache", "detect_renderer", "render_inputs", "render_target"]


def detect_renderer(target: Target, root: Path) -> Renderer:
    """The renderer for ``target`` in the tree at ``root`` (resolving ``auto``)."""
    if target.renderer is not Renderer.AUTO:
        return target.renderer
    base = inside(root, target.path)
    if base.is_dir():
        if any((base / name).is_file() for name in KUSTOMIZATION_FILES):
            return Renderer.KUSTOMIZE
        if (base / "Chart.yaml").is_file():
            return Renderer.HELM
    return Renderer.PLAIN


def render_inputs(target: Target, checkout: Checkout, renderer: Renderer) -> dict[str, Any]:
    """Everything a render depends on, for the cache key (see ``driftwatch.render.cache``)."""
    inputs: dict[str, Any] = {
        "sha": checkout.revision.sha,
        "repository": checkout.revision.repository,
        "path": target.path,
        "renderer": renderer.value,
        "namespace": target.namespace,
        "kustomize_command": target.kustomize_command,
    }
    if renderer is Renderer.HELM:
        from driftwatch.render.helm import values_paths

        chart_dir = (checkout.root / target.path).resolve()
        inputs["release"] = target.helm.release
        inputs["set"] = target.helm.set
        inputs["values"] = [(str(p), file_digest(p)) for p in values_paths(target, chart_dir)]
    return inputs


def render_target(
    target: Target, checkout: Checkout, *, cache: RenderCache | None = None
) -> DesiredSet:
    """The desired set ``target`` declares at ``checkout`` (from ``cache`` when unchanged).

    Raises ``RenderError`` when the path is missing or a Kustomize/Helm build fails.
    """
    root = checkout.root
    renderer = detect_renderer(target, root)
    key = None
    if cache is not None and checkout.revision.sha:
        key = cache_key(render_inputs(target, checkout, renderer))
        hit = cache.load(key, target.name)
        if hit is not None:
            hit.target = target.name
            hit.revision = checkout.revision
            return hit
    with paused_gc():
        docs, errors = _run(renderer, target, root)
        desired = assemble(target.name, docs, default_namespace=target.namespace, errors=errors)
    desired.revision = checkout.revision
    if cache is not None and key is not None:
        cache.store(key, desired)
    return desired


def _run(
    renderer: Renderer, target: Target, root: Path
) -> tuple[list[RenderedDoc], list[SourceError]]:
    if renderer is Renderer.KUSTOMIZE:
        from driftwatch.render.kustomize import render_kustomize

        return render_kustomize(root, target.path, target.kustomize_command)
    if renderer is Renderer.HELM:
        from driftwatch.render.helm import render_helm

        return render_helm(root, target)
    if renderer is Renderer.PLAIN:
        from driftwatch.render.plain import render_plain

        return render_plain(root, target.path)
    raise RenderError(f"unknown renderer {renderer!r}")  # pragma: no cover
