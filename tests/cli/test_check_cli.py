"""``driftwatch check`` as a user runs it: a subprocess, real Git, each exit code and format."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.kubeapi.fixtures import ServerFactory, kubeconfig_for
from tests.subprocess_cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
SHOP_GIT = ROOT / "tests/fixtures/recorded/scenarios/shop/git"
CASES = ROOT / "tests/fixtures/recorded/scenarios/shop/cases"


@pytest.fixture(scope="module")
def shop_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real Git repository holding the shop scenario's manifests."""
    repo = tmp_path_factory.mktemp("shop-repo")
    shutil.copytree(SHOP_GIT, repo / "apps" / "shop")
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "shop manifests"], check=True)
    return repo


def quick(repo: Path, *extra: str) -> list[str]:
    return [
        "check",
        "--repo",
        str(repo),
        "--rev",
        "main",
        "--path",
        "apps/shop",
        "--selector",
        "app.kubernetes.io/part-of=shop",
        *extra,
    ]


def test_examples_show_drift_with_attribution_and_exit_1(tmp_path: Path) -> None:
    result = run_cli("check", "--config", "examples/driftwatch.yaml", "--cache-dir", str(tmp_path))
    assert result.returncode == 1, result.stderr
    assert "MODIFIED Deployment.apps/shop/shop-api" in result.stdout
    assert "env[name=FEATURE_X]" in result.stdout and "kubectl-set" in result.stdout
    assert "UNMANAGED ConfigMap/shop/shop-stray" in result.stdout
    assert "MISSING Secret/shop/shop-api-token" in result.stdout
    assert "\033[" not in result.stdout  # no colours when piped
    assert "s3cr3t-Shop-Pa55" not in result.stdout + result.stderr


def test_untouched_snapshot_is_in_sync_and_exits_0(shop_repo: Path, tmp_path: Path) -> None:
    result = run_cli(
        *quick(
            shop_repo,
            "--snapshot",
            str(CASES / "untouched-ssa" / "live.json"),
            "--cache-dir",
            str(tmp_path),
        )
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 modified, 0 missing, 0 unmanaged, 0 unknown" in result.stdout


def test_json_output_is_stable_and_names_fields_and_managers(
    shop_repo: Path, tmp_path: Path
) -> None:
    result = run_cli(
        *quick(
            shop_repo,
            "--snapshot",
            str(CASES / "scale" / "live.json"),
            "--cache-dir",
            str(tmp_path),
            "-o",
            "json",
        )
    )
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert document["schema"] == "driftwatch.check/v1" and document["exit_code"] == 1
    report = document["targets"][0]["report"]
    [drifted] = report["objects"]
    assert (drifted["kind"], drifted["name"], drifted["state"]) == (
        "Deployment",
        "shop-api",
        "modified",
    )
    [field] = drifted["fields"]
    assert field["path"] == "/spec/replicas"
    assert (field["desired"], field["live"]) == (2, 4)
    assert field["attribution"]["manager"] == "kubectl"
    assert field["attribution"]["subresource"] == "scale"


def test_junit_output_marks_drift_as_failures(shop_repo: Path, tmp_path: Path) -> None:
    result = run_cli(
        *quick(
            shop_repo,
            "--snapshot",
            str(CASES / "delete-cm" / "live.json"),
            "--cache-dir",
            str(tmp_path),
            "-o",
            "junit",
        )
    )
    assert result.returncode == 1
    suite = ET.fromstring(result.stdout).find("testsuite")
    assert suite is not None and suite.get("failures") == "1" and suite.get("errors") == "0"
    failed = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failed == ["ConfigMap/shop/shop-config"]


def test_bad_config_exits_2_with_the_file_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("targets:\n  - name: x\n    repo: .\n    intreval: 5\n")
    result = run_cli("check", "--config", str(bad))
    assert result.returncode == 2
    assert "bad.yaml" in result.stderr and "Traceback" not in result.stderr


def test_missing_revision_exits_2(shop_repo: Path, tmp_path: Path) -> None:
    args = quick(
        shop_repo,
        "--snapshot",
        str(CASES / "untouched-csa" / "live.json"),
        "--cache-dir",
        str(tmp_path),
    )
    args[args.index("main")] = "no-such-branch"
    result = run_cli(*args)
    assert result.returncode == 2
    assert "no-such-branch" in result.stdout + result.stderr


def test_live_cluster_over_http_drift_then_unknown_type_exits_2(
    kube_api_factory: ServerFactory,
    shop_repo: Path,
    tmp_path: Path,
) -> None:
    server = kube_api_factory("shop/set-env-add")
    kubeconfig = kubeconfig_for(server, tmp_path / "kubeconfig")
    result = run_cli(
        *quick(
            shop_repo, "--kubeconfig", str(kubeconfig), "--cache-dir", str(tmp_path), "-o", "json"
        )
    )
    assert result.returncode == 1, result.stderr
    objects = json.loads(result.stdout)["targets"][0]["report"]["objects"]
    assert [(o["kind"], o["state"]) for o in objects] == [("Deployment", "modified")]
    assert objects[0]["fields"][0]["attribution"]["manager"] == "kubectl-set"

    server.fail(r"/api/v1/.*configmaps", status=500, times=None)
    result = run_cli(
        *quick(
            shop_repo, "--kubeconfig", str(kubeconfig), "--cache-dir", str(tmp_path), "-o", "json"
        )
    )
    assert result.returncode == 2
    report = json.loads(result.stdout)["targets"][0]["report"]
    states = {(o["kind"], o["name"]): o["state"] for o in report["objects"]}
    assert states[("ConfigMap", "shop-config")] == "unknown"
    assert "missing" not in states.values()
    assert server.writes() == []
