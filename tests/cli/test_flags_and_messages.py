"""Flags are honoured or refused in one line, and messages say what happened (subprocesses)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from tests.kubeapi import KubeApiServer
from tests.kubeapi.fixtures import kubeconfig_for
from tests.reliability.helpers import shop_repo, write_config
from tests.subprocess_cli import ROOT, run_cli, start_cli

EXAMPLES = "examples/driftwatch.yaml"


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_quick_target_flags_with_a_config_file_are_refused_not_ignored() -> None:
    for args in (
        ["serve", "--config", EXAMPLES, "--interval", "10s"],
        ["check", "--config", EXAMPLES, "--namespace", "other"],
        ["check", "--config", EXAMPLES, "-l", "app=x", "--rev", "main"],
        ["render", "--config", EXAMPLES, "--values", "v.yaml"],
    ):
        line = _one_error_line(run_cli(*args))
        flag = args[3] if args[3].startswith("--") else "--selector"
        assert flag in line and "with --config" in line, (args, line)


def test_snapshot_refuses_kind_with_a_dump_and_a_kind_the_cluster_does_not_serve(
    kube_api: KubeApiServer, tmp_path: Path
) -> None:
    dump = str(ROOT / "examples" / "cluster-snapshot.json")
    out = tmp_path / "snap.json.gz"
    line = _one_error_line(
        run_cli("snapshot", "--snapshot", dump, "--kind", "Deployment.apps", "--file", str(out))
    )
    assert "--kind" in line and "--snapshot" in line and not out.exists()
    kubeconfig = str(kubeconfig_for(kube_api, tmp_path / "kubeconfig"))
    typo = run_cli("snapshot", "--kubeconfig", kubeconfig, "--kind", "Deploymnt", "-f", str(out))
    assert typo.returncode == 2 and not out.exists()
    assert "error: --kind: the cluster serves no kind Deploymnt" in typo.stderr
    one = run_cli(
        "snapshot", "--kubeconfig", kubeconfig, "--kind", "Namespace", "-n", "shop", "-f", str(out)
    )
    assert one.returncode == 0, one.stderr
    count = json.loads(
        run_cli(
            "snapshot",
            "--kubeconfig",
            kubeconfig,
            "--kind",
            "Namespace",
            "-f",
            str(out),
            "-o",
            "json",
        ).stdout
    )["objects"]
    assert one.stdout.splitlines()[0] == (
        f"wrote {count} object{'' if count == 1 else 's'} to {out}"
    )


def test_config_and_connection_messages_name_what_is_wrong(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "clusters: [{name: demo, snapshot: x.json}]\n"
        "targets:\n  - name: shop\n    repo: .\n    cluster: prod\n"
    )
    result = run_cli("check", "--config", str(config))
    assert result.returncode == 2
    assert (
        f"{config}:5: targets[0].cluster: target 'shop' names unknown cluster 'prod'"
        in result.stderr
    )
    assert "Value error" not in result.stderr and "(top level)" not in result.stderr

    missing = tmp_path / "nope" / "kubeconfig"
    repo = shop_repo(tmp_path / "shop")
    result = run_cli("check", "--repo", str(repo), "--kubeconfig", str(missing))
    assert result.returncode == 2
    assert f"kubeconfig file {missing} does not exist" in result.stdout
    assert "Invalid kube-config" not in result.stdout + result.stderr

    typo = _one_error_line(run_cli("chek"))
    assert "did you mean 'check'?" in typo


def test_a_git_failure_is_reported_once(tmp_path: Path) -> None:
    result = run_cli("check", "--repo", str(tmp_path / "no-repo"), "--snapshot", "x.json")
    assert result.returncode == 2
    output = result.stdout + result.stderr
    assert output.count("does not appear to be a git repository") == 1, output


def test_serve_logs_a_failed_run_as_a_warning_with_stage_and_reason(
    kube_api: KubeApiServer, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path / "driftwatch.yaml",
        repo=str(tmp_path / "no-repo"),
        kubeconfig=kubeconfig_for(kube_api, tmp_path / "kubeconfig"),
        cache_dir=tmp_path / "cache",
    )
    proc = start_cli(
        *("serve", "--config", str(config), "--log-format", "text", "--listen", "127.0.0.1:0"),
        stdout=subprocess.DEVNULL,
    )
    found = ""
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if "run failed" in line:
                found = line
                break
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert " WARNING " in found, found
    assert "[shop] run failed at git in " in found
    assert "does not appear to be a git repository" in found
