"""``check`` offline when either side is incomplete: unknown is never drift.

Git side: a manifest file that no longer parses leaves its objects out of the
desired set, so live objects it declared must come out UNKNOWN (naming the
file), never UNMANAGED, and the history they had must stay as it was.  Live
side: a foreign ``kubectl get -o json`` dump proves completeness only for the
(kind, namespace) pairs it holds.  Wrong declared types are source errors with a
foreign dump too, as they are online.  Everything runs as a user would: a real
Git repository, the CLI in a subprocess, recorded live objects.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.subprocess_cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
SHOP_GIT = ROOT / "tests/fixtures/recorded/scenarios/shop/git"
CASES = ROOT / "tests/fixtures/recorded/scenarios/shop/cases"
MARKER = "app.kubernetes.io/part-of=shop"
DECLARED_IN_CONFIG = {
    ("ConfigMap", "shop-config"),
    ("Secret", "shop-db"),
    ("Secret", "shop-api-token"),
}


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _repo(path: Path, extra: dict[str, str] | None = None) -> Path:
    shutil.copytree(SHOP_GIT, path)
    for name, text in (extra or {}).items():
        (path / name).write_text(text)
    _git(path, "init", "-q", "-b", "main")
    _git(path, "add", "-A")
    _git(path, "commit", "-qm", "shop manifests")
    return path


def corrupt_config_file(repo: Path) -> str:
    """Break the YAML of the existing ``10-config.yaml`` in a new commit; the commit's SHA.

    Its kinds stay scanned: ConfigMap and Secret are ``unmanagedKinds`` of the target.
    """
    path = repo / "10-config.yaml"
    text = path.read_text()
    assert "  LOG_FORMAT: json\n" in text
    path.write_text(text.replace("  LOG_FORMAT: json\n", "  LOG_FORMAT: json\n   oops: [\n", 1))
    _git(repo, "commit", "-qam", "config: a bad edit")
    return _git(repo, "rev-parse", "HEAD")


def _config(path: Path, repo: Path, rev: str, snapshot: Path) -> Path:
    config = {
        "clusters": [{"name": "recorded", "snapshot": str(snapshot)}],
        "targets": [
            {
                "name": "shop",
                "repo": str(repo),
                "rev": rev,
                "cluster": "recorded",
                "selector": MARKER,
                "unmanagedKinds": ["ConfigMap", "Secret"],
            }
        ],
    }
    path.write_text(json.dumps(config))
    return path


def _objects(result: subprocess.CompletedProcess[str]) -> dict[tuple[str, str, str], Any]:
    document = json.loads(result.stdout)
    [target] = document["targets"]
    return {(o["kind"], o["namespace"], o["name"]): o for o in target["report"]["objects"]}


def _events(state: Path) -> list[dict[str, Any]]:
    result = run_cli("events", "--state-dir", str(state), "-o", "json")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_a_corrupted_manifest_file_makes_its_live_objects_unknown_and_keeps_their_history(
    tmp_path: Path,
) -> None:
    repo = _repo(tmp_path / "repo")
    good = _git(repo, "rev-parse", "HEAD")
    bad = corrupt_config_file(repo)
    snapshot = CASES / "edit-cm" / "live.json"  # shop-config edited by hand
    state, cache = tmp_path / "state", tmp_path / "cache"
    common = ("--state-dir", str(state), "--cache-dir", str(cache))

    first = run_cli(
        "check", "--config", str(_config(tmp_path / "a.json", repo, good, snapshot)), *common
    )
    assert first.returncode == 1, first.stdout + first.stderr
    assert "MODIFIED ConfigMap/shop/shop-config" in first.stdout
    before = len(_events(state))

    config = _config(tmp_path / "b.json", repo, bad, snapshot)
    text = run_cli("check", "--config", str(config), *common)
    assert text.returncode == 2, text.stdout + text.stderr
    assert "UNMANAGED" not in text.stdout and "MODIFIED" not in text.stdout
    for kind, name in DECLARED_IN_CONFIG:
        line = next(ln for ln in text.stdout.splitlines() if f"{kind}/shop/{name}" in ln)
        assert line.startswith("UNKNOWN") and "10-config.yaml" in line, line
    assert "10-config.yaml:" in text.stdout  # the source error, with its line

    document = run_cli("check", "--config", str(config), "-o", "json", "--cache-dir", str(cache))
    assert document.returncode == 2
    objects = _objects(document)
    for kind, name in DECLARED_IN_CONFIG:
        entry = objects[(kind, "shop", name)]
        assert entry["state"] == "unknown" and "10-config.yaml" in entry["reason"], entry
    assert not [o for o in objects.values() if o["state"] in ("unmanaged", "missing")]
    totals = json.loads(document.stdout)["targets"][0]["report"]["totals"]
    assert totals["unmanaged"] == 0 and totals["unknown"] == 3

    new = [e["shorttype"] for e in _events(state)[before:]]
    assert "source.error" in new
    assert not {"drift.resolved", "resource.restored", "resource.unmanaged"} & set(new), new


def test_a_foreign_dump_covers_only_the_kinds_and_namespaces_it_holds(tmp_path: Path) -> None:
    api = (SHOP_GIT / "20-api.yaml").read_text().split("\n---\n")[0]
    assert "kind: Deployment" in api and "namespace: shop" in api
    extra = {
        # The same Deployment declared in a namespace the dump holds nothing of...
        "80-web.yaml": api.replace("namespace: shop", "namespace: web"),
        # ...and one more in the namespace it does hold, but that is not there.
        "81-canary.yaml": api.replace("name: shop-api\n", "name: shop-api-canary\n", 1),
    }
    repo = _repo(tmp_path / "repo", extra)
    recorded = json.loads((CASES / "untouched-csa" / "live.json").read_text())
    # What `kubectl get deploy -n shop -o json --show-managed-fields` prints.
    items = [
        i
        for i in recorded["items"]
        if i["kind"] == "Deployment" and i["metadata"].get("namespace") == "shop"
    ]
    assert [i["metadata"]["name"] for i in items] == ["shop-api"]
    dump = tmp_path / "deploy-shop.json"
    dump.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))

    config = _config(tmp_path / "c.json", repo, "main", dump)
    result = run_cli("check", "--config", str(config), "-o", "json", "--cache-dir", str(tmp_path))
    assert result.returncode == 2, result.stdout + result.stderr
    objects = _objects(result)
    web = objects[("Deployment", "web", "shop-api")]
    assert web["state"] == "unknown"
    assert web["reason"] == "the dump holds no Deployment.apps in namespace web"
    assert objects[("Deployment", "shop", "shop-api-canary")]["state"] == "missing"
    in_sync = {"state": "in_sync"}  # the JSON report lists in-sync objects only by count
    assert objects.get(("Deployment", "shop", "shop-api"), in_sync)["state"] == "in_sync"
    assert objects[("ConfigMap", "shop", "shop-config")]["state"] == "unknown"  # kind not held


def test_a_wrong_declared_type_is_a_source_error_with_a_foreign_dump_too(tmp_path: Path) -> None:
    api = (SHOP_GIT / "20-api.yaml").read_text()
    assert "  replicas: 2\n" in api
    repo = _repo(tmp_path / "repo")
    (repo / "20-api.yaml").write_text(api.replace("  replicas: 2\n", '  replicas: "three"\n', 1))
    _git(repo, "commit", "-qam", "replicas as words")
    # A plain `kubectl get -A -o json` dump: no OpenAPI document in it.
    config = _config(tmp_path / "c.json", repo, "main", CASES / "untouched-csa" / "live.json")
    result = run_cli("check", "--config", str(config), "--cache-dir", str(tmp_path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        "20-api.yaml:1: Deployment.apps/shop/shop-api: /spec/replicas: expected an integer, "
        "got the string 'three'" in result.stdout
    ), result.stdout
