"""Which resource serves a kind: the discovery documents, read lazily and cached.

``/api`` and ``/apis`` list the group-versions and each group's preferred
version; ``/api/v1`` and ``/apis/<g>/<v>`` list the resources.  A kind resolves
at the apiVersion a manifest declares when the server serves it there, else at
the group's preferred version, else at any other served version.  Subresources
(``deployments/scale``) are ignored.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from driftwatch.cluster.api_errors import ApiRequestError
from driftwatch.cluster.client import ReadOnlyClient
from driftwatch.cluster.retry import RetryPolicy
from driftwatch.model import GroupKind, ResourceType, split_api_version


@dataclass(frozen=True, slots=True)
class ServedGroup:
    """A group's versions as ``/api`` or ``/apis`` lists them, preferred first."""

    name: str
    versions: tuple[str, ...]
    preferred: str


class DiscoveryError(ApiRequestError):
    """A discovery document could not be read (the types it would describe are unknown)."""


def collection_path(resource: ResourceType, namespace: str | None = None) -> str:
    """``/api/v1/namespaces/shop/configmaps``, ``/apis/apps/v1/deployments`` ..."""
    base = (
        f"/apis/{resource.group}/{resource.version}"
        if resource.group
        else f"/api/{resource.version}"
    )
    if namespace is not None and resource.namespaced:
        return f"{base}/namespaces/{namespace}/{resource.plural}"
    return f"{base}/{resource.plural}"


def openapi_path(group: str, version: str) -> str:
    """The ``/openapi/v3`` index key of a group-version: ``api/v1``, ``apis/apps/v1``."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


class Discovery:
    """Resolves GroupKinds to served resources; thread-safe, each document read once."""

    def __init__(self, client: ReadOnlyClient, retry: RetryPolicy | None = None) -> None:
        self._client = client
        self._retry = retry or RetryPolicy()
        self._lock = threading.Lock()
        self._groups: dict[str, ServedGroup] | None = None
        self._resources: dict[tuple[str, str], dict[str, ResourceType]] = {}

    def use(self, client: ReadOnlyClient) -> None:
        """Read documents not read yet through ``client`` (the earlier one may be closed)."""
        with self._lock:
            self._client = client

    def _get(self, path: str) -> dict[str, Any]:
        try:
            return self._retry.call(lambda: self._client.get(path))
        except ApiRequestError as e:
            error = DiscoveryError(f"discovery failed: {e}", status=e.status, reason=e.reason)
            error.attempts = e.attempts
            raise error from e

    def groups(self) -> dict[str, ServedGroup]:
        """Every served group ('' for core); raises ``DiscoveryError`` if the roots fail."""
        with self._lock:
            if self._groups is None:
                core = self._get("/api")
                groups = {
                    "": ServedGroup("", tuple(str(v) for v in core.get("versions") or ()), "v1")
                }
                for item in self._get("/apis").get("groups") or ():
                    versions = tuple(str(v["version"]) for v in item.get("versions") or ())
                    preferred = (item.get("preferredVersion") or {}).get("version") or (
                        versions[0] if versions else ""
                    )
                    groups[str(item["name"])] = ServedGroup(str(item["name"]), versions, preferred)
                self._groups = groups
            return self._groups

    def resources(self, group: str, version: str) -> dict[str, ResourceType]:
        """Kind -> resource of one group-version (empty if the server says 404)."""
        with self._lock:
            cached = self._resources.get((group, version))
        if cached is not None:
            return cached
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        try:
            doc = self._get(path)
        except DiscoveryError as e:
            if e.status != 404:
                raise
            doc = {}
        found: dict[str, ResourceType] = {}
        for res in doc.get("resources") or ():
            name = str(res.get("name", ""))
            if "/" in name or not name:
                continue
            kind = str(res.get("kind", ""))
            found.setdefault(
                kind, ResourceType(group, version, kind, name, bool(res.get("namespaced")))
            )
        with self._lock:
            self._resources[(group, version)] = found
        return found

    def resolve(self, group_kind: GroupKind, api_version: str | None = None) -> ResourceType | None:
        """The resource serving ``group_kind`` (None: not served), preferring ``api_version``."""
        served = self.groups().get(group_kind.group)
        if served is None:
            return None
        candidates: list[str] = []
        if api_version:
            declared_group, declared_version = split_api_version(api_version)
            if declared_group == group_kind.group and declared_version in served.versions:
                candidates.append(declared_version)
        for version in (served.preferred, *served.versions):
            if version and version not in candidates:
                candidates.append(version)
        for version in candidates:
            resource = self.resources(group_kind.group, version).get(group_kind.kind)
            if resource is not None:
                return resource
        return None
