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
