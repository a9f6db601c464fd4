"""Per-object templates taken from the recorded shop scenario, and the one renaming applied to both.

Every generated object is a recorded one renamed: its Git manifest is the
recorded manifest text, its live body the object the real kube-apiserver
returned for that manifest (``cases/<case>/live.json``).  ``rename`` changes
only the app name (``shop-api`` -> ``app00042-api``), the namespace and the
Ingress/Namespace name, identically in YAML and JSON text — so it reaches the
same strings inside ``managedFields`` and the last-applied annotation, and the
pair stays exactly what the server would have made of the renamed manifest.

Three values vary per object besides identity, the same way on both sides:
``uid`` and ``resourceVersion`` (live only: placeholders ``@@UID@@``/``@@RV@@``)
and the ConfigMap's ``app.properties`` (a few KB; ``@@PROPS@@`` in ``data``,
``@@PROPS_LA@@`` inside the last-applied annotation).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SHOP = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "recorded" / "scenarios"
SHOP = SHOP / "shop"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
MARKER = "app.kubernetes.io/part-of=shop"
"""The recorded scenario's ownership label: every generated object carries it."""

_RECORDED_PROPS_YAML = "  app.properties: |\n    checkout.enabled=true\n    checkout.max-items=50\n"
_PROPS_LA = "@@PROPS_LA@@"
_PROPS = "@@PROPS@@"

_APP_NAME = re.compile(r"\bshop(?=-(?:api|config|db|widget|stray)\b|\.example\.com\b)")
_NS_JSON = re.compile(r'(\\?"namespace\\?":\\?")shop(?=\\?")')
_NS_YAML = re.compile(r"^(\s*namespace: )shop$", re.MULTILINE)
_NAME_JSON = re.compile(r'(\\?"name\\?":\\?")shop(?=\\?")')
_NAME_YAML = re.compile(r"^(  name: )shop$", re.MULTILINE)
_NS_LABEL_JSON = re.compile(r'("kubernetes\.io/metadata\.name":")shop(?=")')


@dataclass(frozen=True, slots=True)
class Template:
    """One recorded object: its Git YAML text (None if Git lacks it) and live JSON text."""

    kind: str
    name: str
    git: str | None
    live: str
    own_name: bool = False
    """The object is named after the app/namespace itself (Ingress ``shop``, Namespace)."""


def rename(text: str, app: str, namespace: str, *, own_name: str | None = None) -> str:
    """The renaming, for YAML or JSON text (nested JSON in annotations included)."""
    text = _APP_NAME.sub(app, text)
    text = _NS_JSON.sub(lambda m: m.group(1) + namespace, text)
    text = _NS_YAML.sub(lambda m: m.group(1) + namespace, text)
    if own_name is not None:
        text = _NAME_JSON.sub(lambda m: m.group(1) + own_name, text)
        text = _NAME_YAML.sub(lambda m: m.group(1) + own_name, text)
        text = _NS_LABEL_JSON.sub(lambda m: m.group(1) + own_name, text)
    return text


def fill_live(text: str, uid: str, resource_version: int, props: str | None) -> dict[str, Any]:
    """A live JSON template with its placeholders filled, parsed."""
    text = text.replace("@@UID@@", uid, 1).replace("@@RV@@", str(resource_version), 1)
    if props is not None:
        escaped = json.dumps(props)
        text = text.replace(f'\\"{_PROPS_LA}\\"', json.dumps(escaped)[1:-1])
        text = text.replace(f'"{_PROPS}"', escaped)
    body: dict[str, Any] = json.loads(text)
    return body


def fill_git(text: str, props: str | None) -> str:
    """A Git YAML template with ``app.properties`` filled (a literal block)."""
    if props is None:
        return text
    lines = "".join(f"    {line}\n" for line in props.splitlines())
    return text.replace(f"  app.properties: {_PROPS}\n", "  app.properties: |\n" + lines)


@functools.cache
def _live_items(case: str) -> tuple[dict[str, Any], ...]:
    path = SHOP / "cases" / case / "live.json"
    return tuple(json.loads(path.read_text())["items"])


def recorded_live(case: str, kind: str, namespace: str, name: str) -> dict[str, Any]:
    """A recorded live object (a fresh copy)."""
    for item in _live_items(case):
        meta = item["metadata"]
        if item["kind"] == kind and meta["name"] == name and meta.get("namespace", "") == namespace:
            copy: dict[str, Any] = json.loads(json.dumps(item))
            return copy
    raise LookupError(f"no {kind} {namespace}/{name} in recorded case {case}")


@functools.cache
def _git_docs() -> dict[tuple[str, str], str]:
    docs: dict[tuple[str, str], str] = {}
    for path in sorted((SHOP / "git").glob("*.yaml")):
        for text in path.read_text().split("\n---\n"):
            text = text.strip("\n") + "\n"
            data = yaml.safe_load(text)
            docs[(data["kind"], data["metadata"]["name"])] = text
    return docs


def _live_text(body: dict[str, Any]) -> str:
    meta = body["metadata"]
    if "uid" in meta:
        meta["uid"] = "@@UID@@"
        meta["resourceVersion"] = "@@RV@@"
    if body["kind"] == "ConfigMap" and "app.properties" in (body.get("data") or {}):
        body["data"]["app.properties"] = _PROPS
        annotations = meta.get("annotations") or {}
        if LAST_APPLIED in annotations:
            applied = json.loads(annotations[LAST_APPLIED])
            applied["data"]["app.properties"] = _PROPS_LA
            # kubectl writes the annotation as Go's json.Marshal does: sorted, compact, "\n".
            annotations[LAST_APPLIED] = (
                json.dumps(applied, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                + "\n"
            )
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def _git_text(kind: str, name: str) -> str:
    text = _git_docs()[(kind, name)]
    if kind == "ConfigMap":
        if _RECORDED_PROPS_YAML not in text:
            raise LookupError("the recorded shop-config manifest changed: update bench/templates")
        text = text.replace(_RECORDED_PROPS_YAML, f"  app.properties: {_PROPS}\n")
    return text


def template(kind: str, name: str, *, case: str = "untouched-csa", git: bool = True) -> Template:
    """The template of recorded object ``kind`` ``name`` (namespace ``shop`` unless a Namespace)."""
    namespace = "" if kind in ("Namespace", "CustomResourceDefinition") else "shop"
    live = recorded_live(case, kind, namespace, name)
    return Template(
        kind,
        name,
        _git_text(kind, name) if git else None,
        _live_text(live),
        own_name=name == "shop",
    )


def system_objects() -> list[dict[str, Any]]:
    """The recorded cluster's other objects (system namespaces, ClusterRoles, the Widget CRD)."""
    out = []
    for item in _live_items("untouched-csa"):
        meta = item["metadata"]
        if meta.get("namespace") == "shop":
            continue
        if item["kind"] == "Namespace" and meta["name"] == "shop":
            continue
        if item["kind"] == "ClusterRole" and meta["name"] == "shop-reader":
            continue
        out.append(json.loads(json.dumps(item)))
    return out


def crd_manifest() -> str:
    """The Widget CRD as Git declares it (its live object is among ``system_objects``)."""
    return _git_docs()[("CustomResourceDefinition", "widgets.example.com")]


def max_recorded_resource_version() -> int:
    """The highest resourceVersion in the recordings (generated ones start above it)."""
    top = 0
    for item in _live_items("untouched-csa"):
        rv = str(item["metadata"].get("resourceVersion", "0"))
        top = max(top, int(rv) if rv.isdigit() else 0)
    return top
