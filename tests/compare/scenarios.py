"""Load the recorded scenarios (tests/fixtures/recorded) as compare inputs.

The live side is exactly what the real kube-apiserver returned; the desired side
is the scenario's Git manifests.  Both pass through the same redaction as in the
pipeline, so Secret values reach the compare core only as fingerprints.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from driftwatch.compare import CompareOptions
from driftwatch.model import (
    DesiredObject,
    DesiredSet,
    GroupKind,
    LiveSnapshot,
    ReadState,
    ResourceKey,
    ResourceType,
    SourceLocation,
    TypeRead,
    key_of,
    split_api_version,
)
from driftwatch.redact import SecretHasher

RECORDED = Path(__file__).resolve().parent.parent / "fixtures" / "recorded"
SHOP = RECORDED / "scenarios" / "shop"
HASHER = SecretHasher(b"test-key-for-recorded-scenarios!")


def discovery_types() -> dict[GroupKind, ResourceType]:
    """Every resource type the recorded server serves (preferred = first seen)."""
    types: dict[GroupKind, ResourceType] = {}
    root = RECORDED / "server" / "discovery"
    docs = [("", root / "api" / "v1.json")] + [
        (p.parent.name, p) for p in sorted((root / "apis").glob("*/*.json"))
    ]
    for group, path in docs:
        doc = json.loads(path.read_text())
        version = doc["groupVersion"].rpartition("/")[2]
        for res in doc["resources"]:
            if "/" in res["name"]:
                continue
            gk = GroupKind(group, res["kind"])
            types.setdefault(
                gk, ResourceType(group, version, res["kind"], res["name"], res["namespaced"])
            )
    return types


def desired_set(git_dir: Path = SHOP / "git", target: str = "shop") -> DesiredSet:
    desired = DesiredSet(target=target)
    for path in sorted(git_dir.glob("*.yaml")):
        for index, doc in enumerate(yaml.safe_load_all(path.read_text())):
            if not doc:
                continue
            body = HASHER.redact(doc)
            key = key_of(body)
            desired.objects[key] = DesiredObject(
                key, body["apiVersion"], body, SourceLocation(path.name, index)
            )
    return desired


def live_snapshot(case: str, *, extra_kinds: tuple[GroupKind, ...] = ()) -> LiveSnapshot:
    data = json.loads((SHOP / "cases" / case / "live.json").read_text())
    types = discovery_types()
    snapshot = LiveSnapshot(taken_at="2026-11-30T00:00:00Z")
    for item in data["items"]:
        body = HASHER.redact(item)
        snapshot.objects[key_of(body)] = body
    kinds = {k.group_kind for k in desired_set().objects} | set(extra_kinds)
    for gk in kinds:
        snapshot.types[gk] = TypeRead(gk, ReadState.COMPLETE, resource=types[gk])
    return snapshot


@dataclass(frozen=True)
class Case:
    name: str
    expected: dict[str, Any]

    @property
    def live_text(self) -> str:
        return (SHOP / "cases" / self.name / "live.json").read_text()


def cases() -> list[Case]:
    return [
        Case(p.name, json.loads((p / "expected.json").read_text()))
        for p in sorted((SHOP / "cases").iterdir())
    ]


def shop_options() -> CompareOptions:
    scenario = json.loads((SHOP / "scenario.json").read_text())
    return CompareOptions(
        marker=scenario["marker"],
        unmanaged_kinds=frozenset(
            {GroupKind("", "ConfigMap"), GroupKind("", "Secret"), GroupKind("apps", "Deployment")}
        ),
    )


def key_from_expected(entry: dict[str, Any]) -> ResourceKey:
    return ResourceKey(entry["group"], entry["kind"], entry["namespace"] or "", entry["name"])


__all__ = [
    "Case",
    "cases",
    "desired_set",
    "discovery_types",
    "key_from_expected",
    "live_snapshot",
    "shop_options",
    "split_api_version",
]
