"""Which role a field manager plays: the Git applier, a controller, or a person.

A field is told apart by who owns it.  The applier's writes are Git's own; a
known controller's are its business (the HPA scaling, the Deployment controller
annotating a revision); anything else — ``kubectl-edit``, ``kubectl-patch``,
``kubectl scale`` (manager ``kubectl``, subresource ``scale``), an unknown
script — is a change Git did not make.  Name, operation and subresource are
matched together: under server-side apply the applier is also called ``kubectl``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from driftwatch.compare.managed import ManagerEntry


class Role(enum.StrEnum):
    """What a manager's ownership of a field means."""

    APPLIER = "applier"
    CONTROLLER = "controller"
    PERSON = "person"


@dataclass(frozen=True, slots=True)
class ManagerPattern:
    """A manager name with an optional operation (``Apply``/``Update``); never a subresource."""

    name: str
    operation: str | None = None

    @classmethod
    def parse(cls, text: str) -> ManagerPattern:
        """``helm`` or ``kubectl:Apply``."""
        name, _, operation = text.partition(":")
        return cls(name, operation or None)

    def matches(self, entry: ManagerEntry) -> bool:
        """Whether the entry is this manager (top-level writes only, no subresource)."""
        return (
            entry.manager == self.name
            and entry.subresource is None
            and (self.operation is None or self.operation == entry.operation)
        )


DEFAULT_APPLIERS: tuple[str, ...] = (
    "kubectl-client-side-apply:Update",  # kubectl apply (client-side), with last-applied annotation
    "kubectl:Apply",  # kubectl apply --server-side
    "kubectl-last-applied:Apply",  # kubectl's migration of last-applied under SSA
    "helm",  # Helm 3 (Update) and Helm 4 (Apply)
    "argocd-controller",  # Argo CD, client- and server-side sync
    "argocd-application-controller",
    "kustomize-controller",  # Flux
    "helm-controller",  # Flux HelmRelease
)
"""Appliers driftwatch knows out of the box; ``managers.appliers`` in the config adds more."""

DEFAULT_CONTROLLERS: tuple[str, ...] = (
    "kube-controller-manager",
    "kube-scheduler",
    "cloud-controller-manager",
    "kube-apiserver",
    "kubelet",
)
"""Control-plane managers whose writes are not drift unless they change a declared value."""


APPLIER_BOOKKEEPING: tuple[str, ...] = (
    "app.kubernetes.io/instance",  # Argo CD's default tracking label
    "app.kubernetes.io/managed-by",  # Helm's ownership label
    "argocd.argoproj.io/",  # Argo CD tracking-id and sync annotations
    "meta.helm.sh/",  # Helm release-name/namespace annotations
    "kustomize.toolkit.fluxcd.io/",  # Flux Kustomization ownership labels
    "helm.toolkit.fluxcd.io/",  # Flux HelmRelease ownership labels
)
"""Labels and annotations GitOps tools stamp on every object they apply (keys or key prefixes).

Written by the applier but never in Git, they are the tool's bookkeeping, not drift —
when the applier owns them.  A person adding the same key is still drift.
"""


def is_bookkeeping(path: tuple[object, ...]) -> bool:
    """Whether ``path`` is an applier's bookkeeping label or annotation."""
    if len(path) != 3 or path[0] != "metadata" or path[1] not in ("labels", "annotations"):
        return False
    key = str(path[2])
    return any(key == p or (p.endswith("/") and key.startswith(p)) for p in APPLIER_BOOKKEEPING)


class ManagerRoles:
    """Classifies managedFields entries by role."""

    def __init__(self, appliers: Iterable[str] = (), controllers: Iterable[str] = ()) -> None:
        self._appliers = tuple(ManagerPattern.parse(p) for p in (*DEFAULT_APPLIERS, *appliers))
        self._controllers = frozenset((*DEFAULT_CONTROLLERS, *controllers))

    def role(self, entry: ManagerEntry) -> Role:
        """The role of one entry."""
        if any(p.matches(entry) for p in self._appliers):
            return Role.APPLIER
        if entry.manager in self._controllers or entry.subresource == "status":
            return Role.CONTROLLER
        return Role.PERSON
