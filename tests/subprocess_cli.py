"""Running ``python -m driftwatch`` as a user would: a subprocess, a timeout, a clean env."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["check_against", "cli_env", "run_cli"]


def cli_env(**extra: str) -> dict[str, str]:
    """The environment for a driftwatch subprocess (hermetic Git, repo on PYTHONPATH)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **extra}
    env.pop("OTEL_TRACES_EXPORTER", None)
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    return {**env, **extra}


def run_cli(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python -m driftwatch ARGS`` with a timeout (a hang fails the test)."""
    return subprocess.run(
        [sys.executable, "-m", "driftwatch", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=dict(env) if env is not None else cli_env(),
        stdin=subprocess.DEVNULL,
    )


def check_against(
    repo: Path, kubeconfig: Path, cache: Path, *extra: str, path: str = "."
) -> list[str]:
    """``check`` of the shop target at ``repo``'s ``main`` against a live cluster's kubeconfig."""
    return [
        "check",
        *("--repo", str(repo), "--rev", "main", "--path", path),
        *("--selector", "app.kubernetes.io/part-of=shop"),
        *("--kubeconfig", str(kubeconfig), "--cache-dir", str(cache)),
        *extra,
    ]


def start_cli(*args: str, stdout: int = subprocess.PIPE) -> subprocess.Popen[str]:
    """``python -m driftwatch ARGS`` started in the background (stderr piped, text mode)."""
    return subprocess.Popen(
        [sys.executable, "-m", "driftwatch", *args],
        cwd=ROOT,
        env=cli_env(),
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
    )
