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

import posixpath
from dataclasses import replace
from pathlib import Path
from typing import Any

from driftwatch.config.model import Renderer, Target
from driftwatch.errors import RenderError
from driftwatch.gcpause import paused_gc
from driftwatch.model import DesiredSet, SourceError
from driftwatch.redact import SecretHasher
from driftwatch.render.assemble import RenderedDoc, assemble
from driftwatch.render.blobs import PathListing, listing
from driftwatch.render.cache import RenderCache, cache_key, file_digest
from driftwatch.render.kustomize import KUSTOMIZATION_FILES
from driftwatch.render.parse_cache import ParseCache, pack_key, redaction_id
from driftwatch.render.plain import inside
from driftwatch.render.yamlload import DEFAULT_LIMITS
from driftwatch.source import Checkout

__all__ = ["ParseCache", "RenderCache", "detect_renderer", "render_inputs", "render_target"]


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


def render_inputs(target: Target, checkout: Checkout) -> dict[str, Any]:
    """Everything a render depends on, for the cache key (see ``driftwatch.render.cache``).

    Known before the tree is looked at (the renderer as configured: what ``auto``
    picks is fixed by the commit), so an unchanged commit costs no listing.
    Values files are covered by the commit when they sit in the repository,
    else by their content's digest.
    """
    inputs: dict[str, Any] = {
        "sha": checkout.revision.sha,
        "repository": checkout.revision.repository,
        "path": target.path,
        "renderer": target.renderer.value,
        "namespace": target.namespace,
        "kustomize_command": target.kustomize_command,
        "release": target.helm.release,
        "set": target.helm.set,
        "values": [_values_input(target, checkout, v) for v in target.helm.values],
    }
    return inputs


def _values_input(target: Target, checkout: Checkout, value: str) -> tuple[str, str]:
    """A values file's name and its digest (``in-commit`` when the commit covers it)."""
    if not Path(value).is_absolute():
        inside_repo = posixpath.normpath(posixpath.join(target.path, value))
        if not inside_repo.startswith(".."):
            return value, "in-commit"
        path = (checkout.root / target.path / value).resolve()
    else:
        path = Path(value)
    return str(path), file_digest(path)


def render_target(
    target: Target,
    checkout: Checkout,
    *,
    cache: RenderCache | None = None,
    parse_cache: ParseCache | None = None,
    redactor: SecretHasher | None = None,
) -> DesiredSet:
    """The desired set ``target`` declares at ``checkout`` (from ``cache`` when unchanged).

    Raises ``RenderError`` when the path is missing or a Kustomize/Helm build fails.
    """
    key = None
    if cache is not None and checkout.revision.sha and not checkout.worktree:
        inputs = render_inputs(target, checkout)
        inputs["redaction"] = redaction_id(redactor)
        key = cache_key(inputs)
        hit = cache.load(key, target.name)
        if hit is not None:
            hit.target = target.name
            hit.revision = checkout.revision
            return hit
    files = _listing(target, checkout)
    if files is not None:
        renderer = _renderer_of(target, files)
    else:
        renderer = detect_renderer(target, checkout.root)
    from_blobs = files is not None and renderer is Renderer.PLAIN
    parsed_before = parse_cache.parsed if parse_cache is not None else 0
    with paused_gc():
        if from_blobs:
            assert files is not None and checkout.tree is not None
            docs, errors = _plain_from_blobs(checkout, files, parse_cache, redactor)
        else:
            docs, errors = _run(renderer, target, checkout.root)
        desired = assemble(
            target.name,
            docs,
            default_namespace=target.namespace,
            errors=errors,
            flattened=from_blobs,
        )
        if redactor is not None and not from_blobs:  # blob documents were redacted as parsed
            redact = redactor.redact
            desired.objects = {
                k: replace(obj, body=redact(obj.body)) for k, obj in desired.objects.items()
            }
    desired.revision = checkout.revision
    desired.from_cache = from_blobs and _all_cached(parse_cache, parsed_before)
    if cache is not None and key is not None:
        # On disk only redacted, and never for blob renders: their parse cache holds them.
        cache.store(key, desired, persist=redactor is not None and not from_blobs)
    return desired


def _listing(target: Target, checkout: Checkout) -> PathListing | None:
    """The target path's files at the commit, when they can be read without a written tree."""
    if checkout.tree is None or checkout.worktree:
        return None
    return listing(checkout.tree.entries(), target.path)


def _renderer_of(target: Target, files: PathListing) -> Renderer:
    if target.renderer is not Renderer.AUTO:
        return target.renderer
    if files.kustomization:
        return Renderer.KUSTOMIZE
    if files.chart:
        return Renderer.HELM
    return Renderer.PLAIN


def _plain_from_blobs(
    checkout: Checkout,
    files: PathListing,
    parse_cache: ParseCache | None,
    redactor: SecretHasher | None,
) -> tuple[list[RenderedDoc], list[SourceError]]:
    tree = checkout.tree
    assert tree is not None
    cache = parse_cache if parse_cache is not None else ParseCache(None)
    pack = pack_key(checkout.revision.repository, files.path, DEFAULT_LIMITS)
    return cache.documents(files.files, tree.read, pack=pack, redactor=redactor)


def _all_cached(parse_cache: ParseCache | None, parsed_before: int) -> bool:
    return parse_cache is not None and parse_cache.parsed == parsed_before


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
