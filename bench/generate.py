"""The benchmark's world: a GitOps repository of N objects and the live objects a server holds.

N objects come in units of ten per app (``UNIT``: ConfigMap, Deployment,
Service, Ingress / Secret, headless Service, StatefulSet / Role, RoleBinding /
Widget, in four files), ``per_namespace`` objects per namespace, plus one
Namespace manifest per namespace and the Widget CRD.  Both sides come from the
same recorded templates through the same renaming (``bench.templates``), so the
repository and the cluster agree exactly except for the drift below.

Drift, 3% of N, each derived from the recorded case that made it: one app in
20 each has its Deployment's image changed (``set-image``), scaled
(``scale``), an env var added (``set-env-add``), its ConfigMap edited
(``edit-cm``), its ConfigMap deleted (``delete-cm``), or a stray marked
ConfigMap beside it (``stray``).

Ownership shares (``ownership=True``, off by default so earlier results stay
comparable): one app in 10 is server-side applied (every object of the app as
the recorded ``untouched-ssa`` case holds it: ``kubectl`` ``Apply`` entries, no
last-applied annotation) and one in 10 is partly controller-owned (its
Deployment as recorded in ``hpa-scaled``: ``spec.replicas`` written by
kube-controller-manager through the scale subresource, plus the recorded
HorizontalPodAutoscaler declared in Git), so compare takes the SSA and
controller-attribution paths, not only the cheapest client-side-apply one.

``groups``: the apps' directories are grouped into that many target directories
(``apps/t000/<namespace>/...``), for the many-targets benchmark (``bench.scale``).

``python -m bench.generate DIR --objects N`` writes (and commits) a repository.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import templates
from bench.templates import Template, fill_git, fill_live, rename

UNIT: tuple[tuple[str, str, str], ...] = (
    ("ConfigMap", "shop-config", "app.yaml"),
    ("Deployment", "shop-api", "app.yaml"),
    ("Service", "shop-api", "app.yaml"),
    ("Ingress", "shop", "app.yaml"),
    ("Secret", "shop-db", "db.yaml"),
    ("Service", "shop-db", "db.yaml"),
    ("StatefulSet", "shop-db", "db.yaml"),
    ("Role", "shop-api", "rbac.yaml"),
    ("RoleBinding", "shop-api", "rbac.yaml"),
    ("Widget", "shop-widget", "widget.yaml"),
)
"""One app: (kind, recorded name, file in the app's directory)."""

DRIFT_SLOTS = {
    3: "set-image",
    7: "scale",
    11: "set-env-add",
    13: "edit-cm",
    16: "delete-cm",
    19: "stray",
}
"""App index modulo ``DRIFT_PERIOD`` -> recorded drift case (6 of 20 apps: 3% of objects)."""
DRIFT_PERIOD = 20

SSA_SLOT, CONTROLLER_SLOT = 4, 8
"""App index modulo 10 of the server-side-applied and the controller-owned share (never a
drift slot)."""

_GROUPS = {"Deployment": "apps", "StatefulSet": "apps", "Ingress": "networking.k8s.io"}
_GROUPS |= {"Role": "rbac.authorization.k8s.io", "RoleBinding": "rbac.authorization.k8s.io"}
_GROUPS |= {"Widget": "example.com", "CustomResourceDefinition": "apiextensions.k8s.io"}

DriftKey = tuple[str, str, str, str, str]
"""(group, kind, namespace, name, state) of one expected drifted object."""


@dataclass(frozen=True, slots=True)
class Layout:
    """How N objects are spread over apps and namespaces (deterministic)."""

    objects: int
    per_namespace: int = 100

    def __post_init__(self) -> None:
        size = len(UNIT)
        if self.objects <= 0 or self.objects % size or self.per_namespace % size:
            raise ValueError(f"object counts must be positive multiples of {size}")

    @property
    def apps(self) -> int:
        """Number of apps (units of ten objects)."""
        return self.objects // len(UNIT)

    @property
    def namespaces(self) -> list[str]:
        """Every generated namespace, in order."""
        per = self.per_namespace // len(UNIT)
        return [f"bench-{i:04d}" for i in range((self.apps + per - 1) // per)]

    def namespace_of(self, app: int) -> str:
        """The namespace of app ``app``."""
        return f"bench-{app // (self.per_namespace // len(UNIT)):04d}"

    @staticmethod
    def app_name(app: int) -> str:
        """``app00042``."""
        return f"app{app:05d}"

    @staticmethod
    def drift_of(app: int) -> str | None:
        """The recorded drift case applied to app ``app``, if any."""
        return DRIFT_SLOTS.get(app % DRIFT_PERIOD)

    def group_of(self, namespace: str, groups: int) -> str:
        """The target directory holding ``namespace`` when split into ``groups``."""
        names = self.namespaces
        per = max(1, -(-len(names) // groups))
        return f"t{names.index(namespace) // per:03d}"

    def declared_count(self) -> int:
        """Objects in Git: N, one Namespace per namespace, and the CRD."""
        return self.objects + len(self.namespaces) + 1


def props_for(app: str, size: int = 3072) -> str:
    """The ConfigMap's ``app.properties`` for one app: the recorded lines, padded to ~size bytes."""
    lines = ["checkout.enabled=true", "checkout.max-items=50"]
    index = 0
    while sum(len(line) + 1 for line in lines) < size:
        digest = hashlib.sha256(f"{app}/{index}".encode()).hexdigest()[:24]
        lines.append(f"feature.{app}.flag-{index:03d}={digest}")
        index += 1
    return "\n".join(lines) + "\n"


def expected_drift(layout: Layout) -> set[DriftKey]:
    """What a correct detector reports for ``layout``: (group, kind, namespace, name, state)."""
    out: set[DriftKey] = set()
    for app in range(layout.apps):
        case = layout.drift_of(app)
        if case is None:
            continue
        ns, name = layout.namespace_of(app), layout.app_name(app)
        if case in ("set-image", "scale", "set-env-add"):
            out.add(("apps", "Deployment", ns, f"{name}-api", "modified"))
        elif case == "edit-cm":
            out.add(("", "ConfigMap", ns, f"{name}-config", "modified"))
        elif case == "delete-cm":
            out.add(("", "ConfigMap", ns, f"{name}-config", "missing"))
        else:
            out.add(("", "ConfigMap", ns, f"{name}-stray", "unmanaged"))
    return out


# --------------------------------------------------------------------------- Git side


def _unit_templates() -> list[tuple[Template, str]]:
    return [(templates.template(kind, name), file) for kind, name, file in UNIT]


def write_repo(root: Path, layout: Layout, *, ownership: bool = False, groups: int = 0) -> str:
    """Write the repository for ``layout`` under ``root`` and commit it; returns the commit SHA."""
    root.mkdir(parents=True, exist_ok=True)
    unit = _unit_templates()
    namespace_tpl = templates.template("Namespace", "shop")
    hpa = templates.template("HorizontalPodAutoscaler", "shop-api")
    (root / "crds").mkdir(exist_ok=True)
    (root / "crds" / "widgets.yaml").write_text(templates.crd_manifest())
    (root / "README.md").write_text(f"Generated by bench.generate: {layout.objects} objects.\n")

    def where(ns: str) -> Path:
        return root / "apps" / layout.group_of(ns, groups) / ns if groups else root / "apps" / ns

    for ns in layout.namespaces:
        where(ns).mkdir(parents=True, exist_ok=True)
        text = rename(str(namespace_tpl.git), "shop", ns, own_name=ns)
        (where(ns) / "namespace.yaml").write_text(text)
    for app in range(layout.apps):
        ns, name = layout.namespace_of(app), layout.app_name(app)
        files: dict[str, list[str]] = {}
        props = props_for(name)
        extra = [(hpa, "app.yaml")] if ownership and app % 10 == CONTROLLER_SLOT else []
        for tpl, file in [*unit, *extra]:
            text = rename(str(tpl.git), name, ns, own_name=name if tpl.own_name else None)
            files.setdefault(file, []).append(fill_git(text, props))
        directory = where(ns) / name
        directory.mkdir(exist_ok=True)
        for file, docs in files.items():
            (directory / file).write_text("---\n".join(docs))
    return _commit(root)


def _commit(root: Path) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True
        )
        return done.stdout.strip()

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "bench: generated GitOps repository")
    # Packed, as a Git server (or any clone) holds a repository: fetching loose objects
    # would make git compress 10,000s of files on every fresh clone.
    git("repack", "-adq")
    return git("rev-parse", "HEAD")


# --------------------------------------------------------------------------- live side


def _uid(kind: str, namespace: str, name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench/{kind}/{namespace}/{name}"))


def live_objects(layout: Layout, *, ownership: bool = False) -> Iterator[dict[str, Any]]:
    """Every object the cluster holds: recorded system objects, then the generated ones."""
    yield from templates.system_objects()
    rv = templates.max_recorded_resource_version() + 1000
    unit = [tpl for tpl, _file in _unit_templates()]
    ssa = [templates.template(t.kind, t.name, case="untouched-ssa") for t in unit]
    controlled = [
        templates.template("Deployment", "shop-api", case="hpa-scaled")
        if t.kind == "Deployment"
        else t
        for t in unit
    ]
    controlled.append(templates.template("HorizontalPodAutoscaler", "shop-api"))
    drifted = {
        "set-image": templates.template("Deployment", "shop-api", case="set-image"),
        "scale": templates.template("Deployment", "shop-api", case="scale"),
        "set-env-add": templates.template("Deployment", "shop-api", case="set-env-add"),
        "edit-cm": templates.template("ConfigMap", "shop-config", case="edit-cm"),
    }
    stray = templates.template("ConfigMap", "shop-stray", case="stray", git=False)
    per_namespace = [
        templates.template("Namespace", "shop"),
        templates.template("ConfigMap", "kube-root-ca.crt", git=False),
        templates.template("ServiceAccount", "default", git=False),
    ]

    def make(tpl: Template, app: str, ns: str, props: str | None) -> dict[str, Any]:
        nonlocal rv
        rv += 1
        own = (ns if tpl.kind == "Namespace" else app) if tpl.own_name else None
        text = rename(tpl.live, app, ns, own_name=own)
        meta_name = own or rename(tpl.name, app, ns)
        return fill_live(text, _uid(tpl.kind, ns, meta_name), rv, props)

    for ns in layout.namespaces:
        for tpl in per_namespace:
            yield make(tpl, "shop", ns, None)
    for app in range(layout.apps):
        ns, name = layout.namespace_of(app), layout.app_name(app)
        props = props_for(name)
        case = layout.drift_of(app)
        kinds = unit
        if ownership and app % 10 == SSA_SLOT:
            kinds = ssa
        elif ownership and app % 10 == CONTROLLER_SLOT:
            kinds = controlled
        for tpl in kinds:
            if case == "delete-cm" and tpl.kind == "ConfigMap":
                continue
            swap = drifted.get(case or "")
            if swap is not None and (swap.kind, swap.name) == (tpl.kind, tpl.name):
                tpl = swap
            yield make(tpl, name, ns, props if tpl.kind == "ConfigMap" else None)
        if case == "stray":
            yield make(stray, name, ns, None)


def main(argv: list[str] | None = None) -> int:
    """Write a repository (for looking at what the benchmark generates)."""
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--per-namespace", type=int, default=100)
    args = parser.parse_args(argv)
    layout = Layout(args.objects, args.per_namespace)
    sha = write_repo(args.directory, layout)
    print(f"{args.directory}: {layout.declared_count()} objects declared, commit {sha}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
