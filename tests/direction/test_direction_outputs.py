"""Which side moved, as a user sees it: ``driftwatch check`` text, JSON and audit events.

The recorded ``scale`` case (someone ran ``kubectl scale``) against a Git
history where a later commit bumped the api image: one object, a hand edit and
a pending deploy at once.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.direction.repo import AFTER, SHOP, ShopRepo
from tests.eventlog.helpers import stored_records
from tests.subprocess_cli import run_cli

IMAGE = "/spec/template/spec/containers[name=api]/image"


def check(repo: ShopRepo, tmp_path: Path, *extra: str) -> tuple[int, str, str]:
    result = run_cli(
        "check",
        "--repo",
        str(repo.path),
        "--rev",
        "main",
        "--path",
        "apps/shop",
        "--selector",
        "app.kubernetes.io/part-of=shop",
        "--snapshot",
        str(SHOP / "cases" / "scale" / "live.json"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--no-color",
        *extra,
    )
    return result.returncode, result.stdout, result.stderr


def bumped(tmp_path: Path) -> tuple[ShopRepo, str]:
    repo = ShopRepo(tmp_path / "repo")
    repo.edit("20-api.yaml", "shop-api:1.2.0", "shop-api:1.4.0")
    return repo, repo.commit("bump api to 1.4", AFTER, author="Ana Lima")


def test_text_report_tells_the_hand_edit_from_the_pending_commit(tmp_path: Path) -> None:
    repo, sha = bumped(tmp_path)
    code, out, err = check(repo, tmp_path)
    assert code == 1, err
    assert f"both moved: Git is ahead: {sha[:7]} 'bump api to 1.4' by Ana Lima" in out
    assert "and changed in the cluster by kubectl (Update/scale)" in out
    assert "@@ /spec/replicas @@ changed in the cluster, by kubectl (Update/scale)" in out
    assert f"@@ {IMAGE} @@ changed in Git, not yet applied ({sha[:7]} 'bump api to 1.4'" in out
    assert "example.invalid" not in out + err, "never an e-mail address"


def test_json_names_direction_and_commit_per_object_and_field(tmp_path: Path) -> None:
    repo, sha = bumped(tmp_path)
    code, out, err = check(repo, tmp_path, "-o", "json", "--state-dir", str(tmp_path / "state"))
    assert code == 1, err
    [target] = json.loads(out)["targets"]
    [obj] = target["report"]["objects"]
    assert obj["direction"] == "both"
    assert obj["git_commit"] == {
        "sha": sha,
        "short_sha": sha[:7],
        "author": "Ana Lima",
        "time": "2026-12-01T09:00:00+00:00",
        "subject": "bump api to 1.4",
    }
    fields = {f["path"]: (f["direction"], f["git_commit"]) for f in obj["fields"]}
    assert fields["/spec/replicas"] == ("cluster", None)
    assert fields[IMAGE] == ("git", obj["git_commit"])
    [event] = [r for r in stored_records(tmp_path / "state") if r["data"].get("resource")]
    assert event["data"]["direction"] == "both"
    assert event["data"]["gitCommit"]["subject"] == "bump api to 1.4"
    assert {f["path"]: f["direction"] for f in event["data"]["fields"]} == {
        "/spec/replicas": "cluster",
        IMAGE: "git",
    }
    assert "example.invalid" not in out + json.dumps(stored_records(tmp_path / "state"))
