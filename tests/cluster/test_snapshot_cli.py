"""``driftwatch snapshot`` against the API test server, through the real CLI entry point."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

from click.testing import CliRunner

from driftwatch.cli import cli
from driftwatch.cluster import load_snapshot
from driftwatch.keys import load_or_create_key
from driftwatch.model import GroupKind, ReadState
from driftwatch.redact import SecretHasher
from tests.kubeapi import KubeApiServer


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_snapshot_writes_a_file_without_secret_values(
    kube_api: KubeApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    out, state = tmp_path / "snap.json.gz", tmp_path / "state"
    code, stdout, stderr = run(
        "snapshot",
        "--kubeconfig",
        str(kubeconfig),
        "--file",
        str(out),
        "--state-dir",
        str(state),
        "--kind",
        "Secret",
        "--kind",
        "Deployment.apps",
        "-n",
        "shop",
    )
    assert code == 0, stderr
    assert f"to {out}" in stdout and "Secret: complete" in stdout
    text = gzip.decompress(out.read_bytes())
    assert b"s3cr3t-Shop-Pa55" not in text and base64.b64encode(b"s3cr3t-Shop-Pa55") not in text
    snap = load_snapshot(out, SecretHasher(load_or_create_key(state)))
    assert {k.namespace for k in snap.objects} == {"shop"}
    assert snap.types[GroupKind("apps", "Deployment")].state is ReadState.COMPLETE
    assert kube_api.writes() == []


def test_snapshot_json_summary_and_exit_2_when_a_type_fails(
    kube_api: KubeApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    kube_api.fail(r"/configmaps$", status=403, times=None)
    code, stdout, _ = run(
        "snapshot",
        "--kubeconfig",
        str(kubeconfig),
        "-f",
        str(tmp_path / "s"),
        "--state-dir",
        str(tmp_path),
        "--kind",
        "ConfigMap",
        "--kind",
        "Role.rbac.authorization.k8s.io",
        "-o",
        "json",
    )
    assert code == 2
    summary = json.loads(stdout)
    states = {t["kind"]: t["state"] for t in summary["types"]}
    assert states == {"ConfigMap": "failed", "Role.rbac.authorization.k8s.io": "complete"}


def test_snapshot_converts_a_kubectl_dump(tmp_path: Path) -> None:
    from tests.kubeapi import load_scenario

    dump = tmp_path / "dump.json"
    dump.write_text(
        json.dumps(
            {"apiVersion": "v1", "kind": "List", "items": load_scenario("shop/untouched-csa")}
        )
    )
    code, _, stderr = run(
        "snapshot",
        "--snapshot",
        str(dump),
        "-f",
        str(tmp_path / "s.gz"),
        "--state-dir",
        str(tmp_path / "st"),
    )
    assert code == 0, stderr
    assert b"s3cr3t-Shop-Pa55" not in gzip.decompress((tmp_path / "s.gz").read_bytes())


def test_snapshot_errors_are_one_clear_line(tmp_path: Path) -> None:
    code, _, stderr = run(
        "snapshot",
        "--kubeconfig",
        str(tmp_path / "missing"),
        "-f",
        str(tmp_path / "s"),
        "--state-dir",
        str(tmp_path),
        "--kind",
        "ConfigMap",
    )
    assert code == 2
    assert str(tmp_path / "missing") in stderr and "Traceback" not in stderr
    code, _, stderr = run(
        "snapshot",
        "--kubeconfig",
        str(tmp_path / "missing"),
        "-f",
        str(tmp_path / "s"),
        "--state-dir",
        str(tmp_path),
    )
    assert code == 2 and "--kind" in stderr
