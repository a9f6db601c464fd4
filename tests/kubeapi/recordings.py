"""The recorded server documents (version, discovery, OpenAPI), loaded once per process.

Everything here comes from ``tests/fixtures/recorded/server`` as a real
kube-apiserver returned it; the test server only filters it (a group can be
hidden to play "CRD not installed").
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RECORDED = Path(__file__).resolve().parent.parent / "fixtures" / "recorded"
SERVER = RECORDED / "server"


@dataclass(frozen=True, slots=True)
class TypeDef:
    """One servable resource (no subresources), as the recorded discovery lists it."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        """``group/version`` or ``v1``."""
        return f"{self.group}/{self.version}" if self.group else self.version


@functools.cache
def read_bytes(relative: str) -> bytes:
    """A recorded server file's bytes (cached)."""
    return (SERVER / relative).read_bytes()


@functools.cache
def read_json(relative: str) -> Any:
    """A recorded server file, parsed (cached; callers must not mutate it)."""
    return json.loads(read_bytes(relative))


def discovery_doc(group: str, version: str) -> dict[str, Any] | None:
    """The recorded APIResourceList of a group-version, or None if it was not recorded."""
    relative = "discovery/api/v1.json" if not group else f"discovery/apis/{group}/{version}.json"
    if not group and version != "v1":
        return None
    if not (SERVER / relative).is_file():
        return None
    doc: dict[str, Any] = read_json(relative)
    return doc


def group_versions() -> list[tuple[str, str]]:
    """Every recorded (group, version), core first."""
    out = [("", "v1")]
    for group in read_json("discovery/apis.json")["groups"]:
        out.extend((group["name"], v["version"]) for v in group["versions"])
    return out


@functools.cache
def type_defs() -> tuple[TypeDef, ...]:
    """Every servable resource of every recorded group-version."""
    defs: list[TypeDef] = []
    for group, version in group_versions():
        doc = discovery_doc(group, version)
        if doc is None:
            continue
        for res in doc["resources"]:
            if "/" in res["name"]:
                continue
            defs.append(TypeDef(group, version, res["kind"], res["name"], bool(res["namespaced"])))
    return tuple(defs)


def openapi_file(path: str) -> str | None:
    """The recorded file for ``/openapi/v3/<path>``, or None."""
    if ".." in path.split("/"):
        return None
    relative = f"openapi/v3/{path}.json" if path else "openapi/v3/index.json"
    return relative if (SERVER / relative).is_file() else None
