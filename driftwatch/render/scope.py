"""Which kinds are cluster-scoped, without asking a cluster.

Rendering happens before (and independently of) any cluster read, yet a
desired object's identity needs its namespace: a namespaced object that
declares none lands in the target's default namespace, a cluster-scoped one has
none.  The built-in Kubernetes kinds are listed here; custom kinds are
cluster-scoped when a CustomResourceDefinition in the same desired set says so
(``spec.scope: Cluster``), or when they are in the short table of widely used
cluster-scoped custom kinds below.  Anything else is assumed namespaced; the
compare core re-keys a declared object whose kind the cluster serves cluster-wide
(``TypeRead.key_for``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from driftwatch.model import GroupKind, split_api_version

BUILTIN_CLUSTER_SCOPED: frozenset[GroupKind] = frozenset(
    GroupKind(group, kind)
    for group, kinds in {
        "": ("Namespace", "Node", "PersistentVolume", "ComponentStatus"),
        "rbac.authorization.k8s.io": ("ClusterRole", "ClusterRoleBinding"),
        "apiextensions.k8s.io": ("CustomResourceDefinition",),
        "apiregistration.k8s.io": ("APIService",),
        "storage.k8s.io": (
            "StorageClass",
            "CSIDriver",
            "CSINode",
            "VolumeAttachment",
            "VolumeAttributesClass",
        ),
        "scheduling.k8s.io": ("PriorityClass",),
        "networking.k8s.io": ("IngressClass", "IPAddress", "ServiceCIDR"),
        "node.k8s.io": ("RuntimeClass",),
        "admissionregistration.k8s.io": (
            "ValidatingWebhookConfiguration",
            "MutatingWebhookConfiguration",
            "ValidatingAdmissionPolicy",
            "ValidatingAdmissionPolicyBinding",
            "MutatingAdmissionPolicy",
            "MutatingAdmissionPolicyBinding",
        ),
        "certificates.k8s.io": ("CertificateSigningRequest", "ClusterTrustBundle"),
        "flowcontrol.apiserver.k8s.io": ("FlowSchema", "PriorityLevelConfiguration"),
        "resource.k8s.io": ("DeviceClass", "ResourceSlice"),
        "authentication.k8s.io": ("TokenReview", "SelfSubjectReview"),
        "authorization.k8s.io": (
            "SubjectAccessReview",
            "SelfSubjectAccessReview",
            "SelfSubjectRulesReview",
        ),
        # Widely used add-ons whose CRDs are usually installed separately.
        "cert-manager.io": ("ClusterIssuer",),
        "kyverno.io": ("ClusterPolicy", "ClusterCleanupPolicy"),
        "external-secrets.io": ("ClusterSecretStore", "ClusterExternalSecret"),
        "gateway.networking.k8s.io": ("GatewayClass",),
        "snapshot.storage.k8s.io": ("VolumeSnapshotClass", "VolumeSnapshotContent"),
    }.items()
    for kind in kinds
)


def cluster_scoped_kinds(manifests: Iterable[Mapping[str, Any]]) -> set[GroupKind]:
    """Built-in cluster-scoped kinds plus those CRDs among ``manifests`` declare as such."""
    kinds = set(BUILTIN_CLUSTER_SCOPED)
    for body in manifests:
        if body.get("kind") != "CustomResourceDefinition":
            continue
        group, _ = split_api_version(str(body.get("apiVersion", "")))
        if group != "apiextensions.k8s.io":
            continue
        spec = body.get("spec")
        if not isinstance(spec, Mapping) or spec.get("scope") != "Cluster":
            continue
        names = spec.get("names")
        if isinstance(names, Mapping) and names.get("kind"):
            kinds.add(GroupKind(str(spec.get("group", "")), str(names["kind"])))
    return kinds
