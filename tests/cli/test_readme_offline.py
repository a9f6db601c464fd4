"""The README's offline workflow, run verbatim: snapshot a cluster, compare with the file later.

The commands are read from the README's code block (not copied here), and run
by a shell, from a Git clone holding the examples, against the Kubernetes API
test server as the kubeconfig's current context.  Fingerprints use one key for
every command, so the check works without ``--state-dir`` and two runs print the
same thing; the key can also come from ``$DRIFTWATCH_FINGERPRINT_KEY`` on a
machine that never saw the snapshot being taken.
"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

from tests.kubeapi import KubeApiServer
from tests.kubeapi.fixtures import kubeconfig_for
from tests.reliability.helpers import git
from tests.subprocess_cli import ROOT, cli_env

MARKER = "<!-- offline-workflow:"


def readme_commands() -> list[str]:
    """The command lines of the README's offline-workflow code block."""
    text = (ROOT / "README.md").read_text()
    start = text.index(MARKER)
    block = re.search(r"```sh\n(.*?)```", text[start:], re.S)
    assert block is not None, "no ```sh block after the offline-workflow marker"
    lines = [line.strip() for line in block.group(1).splitlines()]
    commands = [line for line in lines if line and not line.startswith("#")]
    assert commands and not any("..." in c or "…" in c for c in commands), commands
    return commands


def _clone_of_examples(path: Path) -> Path:
    shutil.copytree(ROOT / "examples", path / "examples")
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "examples")
    return path


def _shell(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def _env(tmp_path: Path, server: KubeApiServer, state: Path, **extra: str) -> dict[str, str]:
    """A user's shell: ``driftwatch`` on PATH, the test server as the current context."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "driftwatch"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m driftwatch "$@"\n')
    shim.chmod(0o755)
    env = cli_env(
        KUBECONFIG=str(kubeconfig_for(server, tmp_path / "kubeconfig")),
        XDG_STATE_HOME=str(state),
        **extra,
    )
    env["PATH"] = f"{bin_dir}:{env.get('PATH', '')}"
    env.pop("DRIFTWATCH_FINGERPRINT_KEY", None)
    env.pop("DRIFTWATCH_FINGERPRINT_KEY_FILE", None)
    env.update(extra)
    return env


def test_the_readme_offline_workflow_runs_as_written(
    kube_api: KubeApiServer, tmp_path: Path
) -> None:
    snapshot_cmd, check_cmd = readme_commands()
    assert snapshot_cmd.startswith("driftwatch snapshot") and check_cmd.startswith(
        "driftwatch check"
    )
    clone = _clone_of_examples(tmp_path / "clone")
    state = tmp_path / "state"
    env = _env(tmp_path, kube_api, state)

    saved = _shell(snapshot_cmd, clone, env)
    assert saved.returncode == 0, saved.stdout + saved.stderr
    assert (clone / "shop.json.gz").is_file()
    assert re.match(r"wrote \d+ objects to shop.json.gz", saved.stdout)

    first = _shell(check_cmd, clone, env)
    second = _shell(check_cmd, clone, env)
    assert first.returncode in (0, 1), first.stdout + first.stderr  # compared, not refused
    assert "another state directory's key" not in first.stdout + first.stderr
    assert "target-shop" in first.stdout and "not fully compared" in first.stdout
    assert first.stdout == second.stdout  # fingerprints are stable from run to run
    # Only the key was kept: no audit log or history was turned on.
    assert sorted(p.name for p in (state / "driftwatch").iterdir()) == ["fingerprint.key"]
    assert not (clone / "events").exists()


def test_a_fresh_ci_runner_compares_with_the_key_from_the_environment(
    kube_api: KubeApiServer, tmp_path: Path
) -> None:
    snapshot_cmd, check_cmd = readme_commands()
    clone = _clone_of_examples(tmp_path / "clone")
    key = secrets.token_hex(32)
    machine_a = _env(tmp_path, kube_api, tmp_path / "a", DRIFTWATCH_FINGERPRINT_KEY=key)
    assert _shell(snapshot_cmd, clone, machine_a).returncode == 0
    runner = _env(tmp_path, kube_api, tmp_path / "b", DRIFTWATCH_FINGERPRINT_KEY=key)
    compared = _shell(check_cmd, clone, runner)
    assert compared.returncode in (0, 1), compared.stdout + compared.stderr
    assert not (tmp_path / "b").exists()  # nothing written where the key did not live

    other = _env(
        tmp_path, kube_api, tmp_path / "c", DRIFTWATCH_FINGERPRINT_KEY=secrets.token_hex(32)
    )
    refused = _shell(check_cmd, clone, other)
    assert refused.returncode == 2 and "key" in refused.stdout + refused.stderr
