"""The bad-input corpus (tests/badinput/index.yaml): every bad file is a clear error naming it.

Each manifest is put beside the good shop manifests in a real Git repository and
run through the real pipeline against the Kubernetes API test server: the run
is partial (exit code 2 for ``check``), the error names the file (and line where
known), the good objects are still compared, nothing hangs (timeouts), nothing
prints a traceback.  Whole-target failures (Kustomize, Helm) sit beside a good
target; bad configuration, kubeconfig and snapshot files are given to ``check``.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from driftwatch.config.load import load_config
from driftwatch.model import DriftState
from driftwatch.pipeline import Pipeline
from driftwatch.run import RunStatus
from tests.kubeapi import KubeApiServer
from tests.kubeapi.fixtures import kubeconfig_for
from tests.reliability.helpers import (
    ROOT,
    SHOP_GIT,
    git,
    shop_repo,
    write_config,
)
from tests.subprocess_cli import run_cli

CORPUS = ROOT / "tests" / "badinput"
INDEX: list[dict[str, Any]] = yaml.safe_load((CORPUS / "index.yaml").read_text())["entries"]
CASES = ROOT / "tests" / "fixtures" / "recorded" / "scenarios" / "shop" / "cases"


def entries(use: str) -> list[dict[str, Any]]:
    return [e for e in INDEX if e["use"] == use]


def test_the_corpus_is_complete_and_every_file_exists() -> None:
    assert len(INDEX) >= 30
    for entry in INDEX:
        assert (CORPUS / entry["file"]).exists(), entry["file"]
        assert entry["what"] and entry["expect"]
    indexed = {e["file"] for e in INDEX if e["use"] == "manifest"}
    on_disk = {f"manifests/{p.name}" for p in (CORPUS / "manifests").iterdir()}
    assert indexed == on_disk


def _shop_keys() -> set[tuple[str, str, str]]:
    keys = set()
    for path in SHOP_GIT.glob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                keys.add(
                    (doc["kind"], doc["metadata"].get("namespace", ""), doc["metadata"]["name"])
                )
    return keys


def _pipeline(tmp_path: Path, repo: Path, server: KubeApiServer) -> Pipeline:
    config = write_config(
        tmp_path / "driftwatch.yaml",
        repo=str(repo),
        kubeconfig=kubeconfig_for(server, tmp_path / "kubeconfig"),
        target={"path": "apps/shop"},
    )
    return Pipeline(load_config(config), state_dir=tmp_path / "state", cache_dir=tmp_path / "cache")


@pytest.fixture(scope="module")
def cluster() -> Any:
    server = KubeApiServer(
        __import__("tests.kubeapi", fromlist=["store_for_scenario"]).store_for_scenario(
            "shop/untouched-csa"
        )
    ).start()
    yield server
    server.stop()
    assert server.writes() == []


@pytest.mark.timeout(60)
@pytest.mark.parametrize("entry", entries("manifest"), ids=lambda e: Path(e["file"]).name)
def test_a_bad_manifest_is_a_clear_error_and_the_rest_is_compared(
    entry: dict[str, Any], cluster: KubeApiServer, tmp_path: Path
) -> None:
    name = Path(entry["file"]).name
    repo = tmp_path / "repo"
    (repo / "apps").mkdir(parents=True)
    shutil.copytree(SHOP_GIT, repo / "apps" / "shop")
    shutil.copy(CORPUS / entry["file"], repo / "apps" / "shop" / name)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "shop plus one bad file")

    started = time.monotonic()
    run = _pipeline(tmp_path, repo, cluster).run("shop")
    assert time.monotonic() - started < 50  # never a hang (the timeout mark also guards)
    assert run.report is not None, run.error
    report = run.report
    states = {(o.key.kind, o.key.namespace, o.key.name): o for o in report.objects}
    for key in _shop_keys():  # every good object is still compared
        assert states[key].state is DriftState.IN_SYNC, (key, states[key])

    if entry.get("state"):
        (obj,) = [o for k, o in states.items() if k not in _shop_keys()]
        assert obj.state.value == entry["state"]
        assert entry["expect"] in (obj.reason or ""), obj.reason
        return
    assert run.status is RunStatus.PARTIAL and run.failed_stage is not None
    mine = [e for e in report.source_errors if e.file == f"apps/shop/{name}"]
    assert mine, [e.display() for e in report.source_errors]
    assert any(entry["expect"] in e.message for e in mine), [e.display() for e in mine]
    if "line" in entry:
        assert entry["line"] in [e.line for e in mine], [e.display() for e in mine]
    assert all(e.file == f"apps/shop/{name}" for e in report.source_errors)
    assert "Traceback" not in (run.error or "")
    assert name in (run.error or "")


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_check_with_the_whole_corpus_names_every_file_and_still_reports_drift(
    kube_api_factory: Callable[..., KubeApiServer], tmp_path: Path
) -> None:
    server = kube_api_factory("shop/scale")
    files: dict[str, str | bytes | None] = {
        f"bad/{Path(e['file']).name}": (CORPUS / e["file"]).read_bytes()
        for e in entries("manifest")
    }
    repo = shop_repo(tmp_path / "repo", files)
    config = write_config(
        tmp_path / "driftwatch.yaml",
        repo=str(repo),
        kubeconfig=kubeconfig_for(server, tmp_path / "kubeconfig"),
        cache_dir=tmp_path / "cache",
    )
    result = run_cli("check", "--config", str(config), "-o", "json")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    (target,) = json.loads(result.stdout)["targets"]
    report = target["report"]
    named = {e["file"] for e in report["source_errors"]}
    expected = {f"bad/{Path(e['file']).name}" for e in entries("manifest") if not e.get("state")}
    assert named == expected
    states = {(o["kind"], o["name"]): o["state"] for o in report["objects"]}
    assert states[("Deployment", "shop-api")] == "modified"  # the real drift is still found

    text = run_cli("check", "--config", str(config))
    assert text.returncode == 2 and "Traceback" not in text.stderr
    for name in expected:
        assert name in text.stdout, name


@pytest.mark.timeout(90)
def test_a_50_mb_manifest_is_refused_by_size_without_reading_it(
    cluster: KubeApiServer, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    (repo / "apps").mkdir(parents=True)
    shutil.copytree(SHOP_GIT, repo / "apps" / "shop")
    with open(repo / "apps" / "shop" / "huge.yaml", "w") as out:
        out.write("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: huge\ndata:\n  blob: ")
        chunk = "x" * (1024 * 1024)
        for _ in range(50):
            out.write(chunk)
        out.write("\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "huge")
    run = _pipeline(tmp_path, repo, cluster).run("shop")
    assert run.report is not None and run.status is RunStatus.PARTIAL
    (error,) = run.report.source_errors
    assert error.file == "apps/shop/huge.yaml" and "byte limit" in error.message
    states = {o.key.name: o.state for o in run.report.objects if o.key.kind == "ConfigMap"}
    assert states["shop-config"] is DriftState.IN_SYNC and "huge" not in states


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_kustomize_and_helm_failures_fail_their_target_only(
    kube_api_factory: Callable[..., KubeApiServer], tmp_path: Path
) -> None:
    if shutil.which("kubectl") is None and shutil.which("kustomize") is None:
        pytest.skip("neither kubectl nor kustomize is installed (Kustomize targets need one)")
    server = kube_api_factory("shop/scale")
    repo = shop_repo(tmp_path / "repo")
    other = tmp_path / "other"
    for entry in entries("target"):
        shutil.copytree(CORPUS / entry["file"], other / "broken" / entry["file"])
    git(other, "init", "-q", "-b", "main")
    git(other, "add", "-A")
    git(other, "commit", "-q", "-m", "broken renders")
    broken = [
        {
            "name": f"broken-{i}",
            "repo": str(other),
            "rev": "main",
            "cluster": "test",
            "path": f"broken/{e['file']}",
            "namespace": "shop",
        }
        for i, e in enumerate(entries("target"))
    ]
    config = write_config(
        tmp_path / "driftwatch.yaml",
        repo=str(repo),
        kubeconfig=kubeconfig_for(server, tmp_path / "kubeconfig"),
        cache_dir=tmp_path / "cache",
    )
    document = json.loads(config.read_text())
    document["targets"] += broken
    config.write_text(json.dumps(document))
    result = run_cli("check", "--config", str(config), "-o", "json")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    targets = {t["target"]: t for t in json.loads(result.stdout)["targets"]}
    shop = targets.pop("shop")
    assert shop["status"] == "success"
    assert [o["name"] for o in shop["report"]["objects"]] == ["shop-api"]
    for i, entry in enumerate(entries("target")):
        run = targets[f"broken-{i}"]
        assert run["status"] == "failed" and run["failed_stage"] == "render", run
        assert entry["expect"] in run["error"], run["error"]
        assert str(tmp_path) not in run["error"]  # repository paths, not checkout paths


@pytest.mark.parametrize("entry", entries("config"), ids=lambda e: Path(e["file"]).name)
def test_a_bad_config_file_is_named_with_the_line(entry: dict[str, Any]) -> None:
    path = CORPUS / entry["file"]
    result = run_cli("check", "--config", str(path), timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{path}:{entry['line']}:" in result.stderr and entry["expect"] in result.stderr
    if path.name == "every-mistake.yaml":  # every mistake is listed, not only the first
        for key in ("timeout", "pageSize", "name", "renderer", "watch", "rotateBytes"):
            assert key in result.stderr, key
        assert "unknownTopLevel: unknown key" in result.stderr


def test_a_broken_kubeconfig_is_named_and_its_token_never_echoed(
    shop_git: Path, tmp_path: Path
) -> None:
    (entry,) = entries("kubeconfig")
    path = CORPUS / entry["file"]
    result = run_cli(
        "check", "--repo", str(shop_git), "--rev", "main", "--kubeconfig", str(path),
        "--cache-dir", str(tmp_path), timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    output = result.stdout + result.stderr
    assert str(path) in output and entry["expect"] in output
    assert "kubeconfig-Secret-Tok3n" not in output


@pytest.mark.parametrize("entry", entries("snapshot"), ids=lambda e: Path(e["file"]).name)
def test_a_bad_snapshot_file_is_named(
    entry: dict[str, Any], shop_git: Path, tmp_path: Path
) -> None:
    result = run_cli(
        "check", "--repo", str(shop_git), "--rev", "main",
        "--snapshot", str(CORPUS / entry["file"]), "--cache-dir", str(tmp_path), timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert entry["expect"] in result.stdout + result.stderr
