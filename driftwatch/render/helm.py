"""The Helm renderer: what ``helm install`` would create from a chart in the repository.

Rendering goes through helm-python-sdk (Helm's own Go engine over a C ABI, no
``helm`` binary, no cluster).  The desired set is what an install creates:

* the chart's (and its subcharts') ``crds/`` files, as Helm installs them first;
* every rendered template, except ``NOTES.txt``, partials (``_*.tpl``),
  empty documents, and hooks: any object annotated ``helm.sh/hook``, which
  includes test pods.  Hooks run around an install; they are not its state.

Values are the chart's ``values.yaml`` with the target's values files merged
over it in order (maps merge key by key, anything else replaces, ``null``
removes a default: Helm's rules), then ``helm.set`` entries (Helm's ``--set-json``
path syntax: ``image.tag``, ``list[0].name``).  A relative values file is
relative to the chart directory; an absolute one may live outside the repository.

No cluster is contacted, so ``.Capabilities`` describes the SDK's default
cluster (its default Kubernetes version and only the built-in API versions) and
``lookup`` returns nothing: a chart that branches on them renders as it would
for ``helm template``, not for a live install.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from driftwatch.config.model import Target
from driftwatch.errors import RenderError, truncate
from driftwatch.model import SourceError
from driftwatch.render.assemble import RenderedDoc
from driftwatch.render.plain import inside
from driftwatch.render.yamlload import YamlLoadError, load_documents, read_text

HOOK_ANNOTATION = "helm.sh/hook"
_MESSAGE_LIMIT = 1500


def values_paths(target: Target, chart_dir: Path) -> list[Path]:
    """The target's values files, in merge order (relative ones under the chart directory)."""
    return [Path(v) if Path(v).is_absolute() else chart_dir / v for v in target.helm.values]


def merge_values(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's values-file merge: maps merge recursively, any other value replaces."""
    out = dict(base)
    for key, value in override.items():
        current = out.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            out[key] = merge_values(current, value)
        else:
            out[key] = value
    return out


def _load_values(root: Path, path: Path) -> dict[str, Any]:
    display = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    if not path.is_file():
        raise RenderError(f"values file {display} does not exist")
    try:
        docs, errors = load_documents(read_text(path, display), display)
    except YamlLoadError as e:
        raise RenderError(f"values file {e}") from e
    if errors:
        raise RenderError(f"values file {errors[0]}")
    if not docs:
        return {}
    if not isinstance(docs[0].data, dict):
        raise RenderError(f"values file {display}: top level must be a mapping")
    data: dict[str, Any] = docs[0].data
    return data


def user_values(root: Path, chart_dir: Path, target: Target) -> dict[str, Any]:
    """Values files merged in order, then ``helm.set`` on top."""
    import helm_python

    values: dict[str, Any] = {}
    for path in values_paths(target, chart_dir):
        values = merge_values(values, _load_values(root, path))
    for key, value in target.helm.set.items():
        try:
            parsed = helm_python.parse_set_json(f"{key}={json.dumps(value, default=str)}")
        except helm_python.HelmError as e:
            raise RenderError(f"helm.set {key!r}: {truncate(str(e))}") from e
        values = merge_values(values, parsed)
    return values


def render_helm(root: Path, target: Target) -> tuple[list[RenderedDoc], list[SourceError]]:
    """Render the chart at ``target.path``; raises ``RenderError`` when Helm fails."""
    import helm_python

    root = root.resolve()
    chart_dir = inside(root, target.path)
    prefix = chart_dir.relative_to(root).as_posix()
    values = user_values(root, chart_dir, target)
    try:
        chart = helm_python.Chart.load(chart_dir)
    except helm_python.HelmError as e:
        raise RenderError(f"helm: cannot load chart {prefix}: {_detail(e)}") from e
    with chart:
        _check_dependencies(chart, prefix)
        release = target.helm.release or chart.name
        namespace = target.namespace or "default"
        try:
            helm_python.validate_release_name(release)
            rendered = chart.render(values, name=release, namespace=namespace, is_install=True)
            crds = chart.crds
        except helm_python.HelmError as e:
            raise RenderError(f"helm: {_detail(e)}") from e
    docs: list[RenderedDoc] = []
    errors: list[SourceError] = []
    for crd in sorted(crds, key=lambda c: c["filename"]):
        _parse(_repo_path(prefix, crd["filename"]), crd["data"], docs, errors, hooks=False)
    for name in sorted(rendered):
        if name.endswith("NOTES.txt"):
            continue
        _parse(_repo_path(prefix, name), rendered[name], docs, errors, hooks=True)
    return docs, errors


def _detail(error: Exception) -> str:
    return truncate(str(error), _MESSAGE_LIMIT)


def _check_dependencies(chart: Any, prefix: str) -> None:
    declared = {d.get("alias") or d.get("name") for d in chart.metadata.get("dependencies") or ()}
    loaded = {d.get("name") for d in chart.dependencies}
    missing = sorted(str(d) for d in declared - loaded if d)
    if missing:
        raise RenderError(
            f"helm: chart {prefix} declares dependencies missing from its charts/ directory: "
            f"{', '.join(missing)} (vendor them with `helm dependency build` and commit them)"
        )


def _repo_path(prefix: str, helm_name: str) -> str:
    """``shop/templates/x.yaml`` (Helm's name) -> ``<chart path>/templates/x.yaml``."""
    _, _, rest = helm_name.partition("/")
    return f"{prefix}/{rest}" if prefix not in ("", ".") else rest


def _parse(
    display: str, text: str, docs: list[RenderedDoc], errors: list[SourceError], *, hooks: bool
) -> None:
    if not text.strip():
        return
    parsed, parse_errors = load_documents(text, display)
    errors.extend(SourceError(e.file, e.message, e.line) for e in parse_errors)
    for doc in parsed:
        if hooks and _is_hook(doc.data):
            continue
        docs.append(RenderedDoc(display, doc.index, None, doc.data, ()))


def _is_hook(body: Any) -> bool:
    if not isinstance(body, dict):
        return False
    meta = body.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    return isinstance(annotations, dict) and HOOK_ANNOTATION in annotations
