"""Saved snapshots: no Secret value ever written, round trip, foreign kubectl dumps, bad files."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest

from driftwatch.cluster import (
    ReadOnlyClient,
    RetryPolicy,
    SnapshotRequest,
    TypeRequest,
    load_snapshot,
    save_snapshot,
    take_snapshot,
)
from driftwatch.errors import SnapshotFileError
from driftwatch.model import GroupKind, LiveSnapshot, ReadState, ResourceKey
from driftwatch.redact import SecretHasher, is_fingerprint
from tests.kubeapi import load_scenario

SECRET = GroupKind("", "Secret")
CM = GroupKind("", "ConfigMap")
WIDGET = GroupKind("example.com", "Widget")
RECORDED_SECRETS = ["s3cr3t-Shop-Pa55", "token-for-api"]


def hasher(seed: bytes = b"k") -> SecretHasher:
    return SecretHasher(seed * 32)


@pytest.fixture
def live(client: ReadOnlyClient, retry: RetryPolicy) -> LiveSnapshot:
    request = SnapshotRequest(
        types=(
            TypeRequest(SECRET),
            TypeRequest(CM),
            TypeRequest(WIDGET),
            TypeRequest(GroupKind("example.org", "Gadget")),
        )
    )
    return take_snapshot(client, request, retry=retry)


def test_a_saved_snapshot_holds_no_secret_value(live: LiveSnapshot, tmp_path: Path) -> None:
    path = tmp_path / "snap.json.gz"
    assert any(k.kind == "Secret" for k in live.objects)
    save_snapshot(live, path, hasher())
    raw = path.read_bytes()
    assert raw[:2] == b"\x1f\x8b"
    text = gzip.decompress(raw)
    for secret in RECORDED_SECRETS:
        assert secret.encode() not in text
        assert base64.b64encode(secret.encode()) not in text
    assert b"czNjcjN0LVNob3AtUGE1NQ==" not in text  # the recorded data value itself


def test_save_then_load_round_trips(live: LiveSnapshot, tmp_path: Path) -> None:
    path = tmp_path / "snap.json.gz"
    save_snapshot(live, path, hasher())
    loaded = load_snapshot(path, hasher())
    assert set(loaded.objects) == set(live.objects)
    assert loaded.types == live.types
    assert loaded.types[GroupKind("example.org", "Gadget")].state is ReadState.NOT_SERVED
    assert loaded.server_version == live.server_version == "v1.36.2"
    assert loaded.taken_at == live.taken_at
    assert set(loaded.openapi) == set(live.openapi) == {"api/v1", "apis/example.com/v1"}
    assert loaded.secrets_hashed and loaded.managed_fields_present
    secret = loaded.objects[ResourceKey("", "Secret", "shop", "shop-db")]
    assert all(is_fingerprint(v) for v in secret["data"].values())
    assert (
        secret["data"]
        == hasher().redact(live.objects[ResourceKey("", "Secret", "shop", "shop-db")])["data"]
    )
    cm = ResourceKey("", "ConfigMap", "shop", "shop-config")
    assert loaded.objects[cm] == live.objects[cm]


def test_loading_with_another_state_directorys_key_is_refused(
    live: LiveSnapshot, tmp_path: Path
) -> None:
    path = tmp_path / "snap.json.gz"
    save_snapshot(live, path, hasher(b"a"))
    with pytest.raises(SnapshotFileError, match="another state directory's key") as info:
        load_snapshot(path, hasher(b"b"))
    assert str(path) in str(info.value)


def test_a_foreign_kubectl_dump_loads_as_complete_for_the_kinds_and_namespaces_it_holds(
    tmp_path: Path,
) -> None:
    items = load_scenario("shop/untouched-csa")
    for item in items:  # `kubectl get -A -o json` leaves managedFields out
        item["metadata"].pop("managedFields", None)
    path = tmp_path / "dump.json"
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "List",
                "items": items,
                "metadata": {"resourceVersion": ""},
            }
        )
    )
    snap = load_snapshot(path, hasher())
    assert len(snap.objects) == len(items)
    assert snap.types[SECRET].state is ReadState.COMPLETE
    assert snap.types[SECRET].namespaces == ("shop",)  # the only namespace it holds Secrets of
    assert snap.types[GroupKind("rbac.authorization.k8s.io", "ClusterRole")].namespaces is None
    assert GroupKind("batch", "Job") not in snap.types  # absent from the dump: not read
    assert not snap.secrets_hashed and not snap.managed_fields_present
    secret = snap.objects[ResourceKey("", "Secret", "shop", "shop-db")]
    assert secret["data"]["password"] == "czNjcjN0LVNob3AtUGE1NQ=="  # the pipeline hashes it


def test_a_foreign_dump_with_managed_fields_keeps_attribution(tmp_path: Path) -> None:
    path = tmp_path / "dump.json.gz"
    items = load_scenario("shop/untouched-csa")
    path.write_bytes(
        gzip.compress(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}).encode())
    )
    snap = load_snapshot(path, hasher())
    assert snap.managed_fields_present
    assert len(snap.objects) == len(items)


def test_a_converted_dump_is_saved_without_secret_values(tmp_path: Path) -> None:
    dump = tmp_path / "dump.json"
    dump.write_text(
        json.dumps(
            {"apiVersion": "v1", "kind": "List", "items": load_scenario("shop/secret-change")}
        )
    )
    save_snapshot(load_snapshot(dump, hasher()), tmp_path / "s.gz", hasher())
    text = gzip.decompress((tmp_path / "s.gz").read_bytes())
    for secret in ("s3cr3t-Shop-Pa55", "n3w-Leaked-Pa55"):
        assert secret.encode() not in text and base64.b64encode(secret.encode()) not in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not JSON"),
        (b"{not json", "not JSON"),
        (b"\x1f\x8b\x08garbage", "not a valid gzip"),
        (b'{"kind": "ConfigMap", "metadata": {}}', "not a List"),
        (b'{"kind": "List", "items": [42]}', "item 0"),
        (
            b'{"kind": "List", "items": [], "metadata": {"driftwatch": {"formatVersion": 99}}}',
            "format version",
        ),
    ],
)
def test_bad_files_are_errors_naming_the_file(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(SnapshotFileError, match=message) as info:
        load_snapshot(path, hasher())
    assert str(path) in str(info.value)


def test_a_missing_file_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(SnapshotFileError, match=r"nope\.json"):
        load_snapshot(tmp_path / "nope.json", hasher())
