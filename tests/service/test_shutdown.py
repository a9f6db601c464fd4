"""``driftwatch serve`` as a process: SIGTERM/SIGINT finish running checks and exit 0."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.service.helpers import http_get, wait_for

ROOT = Path(__file__).parents[2]


class ServeProcess:
    def __init__(self, tmp_path: Path, seconds: float, *args: str) -> None:
        self.markers = tmp_path / "markers"
        self.markers.mkdir()
        repo = tmp_path / "repo"
        repo.mkdir()
        self.lines: list[dict[str, object]] = []
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.service.fake_serve",
                str(seconds),
                str(self.markers),
                "serve",
                "--repo",
                str(repo),
                "--listen",
                "127.0.0.1:0",
                "--log-format",
                "json",
                *args,
            ],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            try:
                self.lines.append(json.loads(raw))
            except ValueError:
                self.lines.append({"message": raw.decode(errors="replace")})

    def messages(self) -> list[str]:
        return [str(line.get("message")) for line in list(self.lines)]

    def base_url(self) -> str:
        try:
            wait_for(
                lambda: any(m.startswith("serving on") for m in self.messages()), what="serving"
            )
        except AssertionError:
            raise AssertionError(f"not serving (exit {self.proc.poll()}): {self.lines}") from None
        line = next(m for m in self.messages() if m.startswith("serving on"))
        return "http://" + line.split()[2]

    def wait(self) -> int:
        code = self.proc.wait(30)
        self.reader.join(10)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.reader.join(10)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_lets_the_running_check_finish_then_exits_0(tmp_path: Path, sig: int) -> None:
    serve = ServeProcess(tmp_path, 1.0)
    try:
        assert http_get(serve.base_url(), "/healthz")[0] == 200
        wait_for(lambda: (serve.markers / "started-1").exists(), what="a check to start")
        serve.proc.send_signal(sig)
        assert serve.wait() == 0
    finally:
        serve.kill()
    assert (serve.markers / "finished-1").exists()
    messages = serve.messages()
    stop = next(i for i, m in enumerate(messages) if m.startswith("stopping"))
    finished = next(i for i, m in enumerate(messages) if m.startswith("run success"))
    assert finished > stop
    run_line = serve.lines[finished]
    assert run_line["target"] == "repo" and run_line["level"] == "info"
    assert not (serve.markers / "started-2").exists()


def test_check_outliving_the_grace_period_does_not_block_exit(tmp_path: Path) -> None:
    serve = ServeProcess(tmp_path, 120.0, "--grace-period", "500ms")
    try:
        serve.base_url()
        wait_for(lambda: (serve.markers / "started-1").exists(), what="a check to start")
        serve.proc.send_signal(signal.SIGTERM)
        assert serve.wait() == 0
    finally:
        serve.kill()
    assert not (serve.markers / "finished-1").exists()
    assert any("grace period" in m for m in serve.messages())


def test_config_errors_print_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("targets: [{name: a, repo: /tmp, intreval: 5}]\n")
    for args in (
        [],
        ["--config", str(bad)],
        ["--config", str(tmp_path / "missing.yaml")],
        ["--repo", str(tmp_path), "--listen", "nonsense"],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "driftwatch", "serve", *args],
            cwd=ROOT,
            capture_output=True,
            timeout=60,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 2, (args, result.stderr)
        err = result.stderr.decode().strip()
        assert err.startswith("error: ") and "Traceback" not in err, (args, err)
