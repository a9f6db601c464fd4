"""``driftwatch serve`` as a subprocess: started, read (logs, HTTP), stopped or killed."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

from tests.reliability.helpers import ROOT
from tests.service.helpers import http_get, wait_for
from tests.subprocess_cli import cli_env


class ServeProcess:
    """One ``driftwatch serve`` process with JSON logs collected from stderr."""

    def __init__(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        preexec_fn: Callable[[], None] | None = None,
    ) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "driftwatch", "serve", "--log-format", "json", *args],
            cwd=ROOT,
            env=dict(env) if env is not None else cli_env(PYTHONDONTWRITEBYTECODE="1"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=preexec_fn,  # resource limits for the child only
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        try:
            wait_for(
                lambda: self._listening() is not None or self.proc.poll() is not None,
                timeout=60,
                what="serve to listen",
            )
            address = self._listening()
            assert address is not None, "".join(self.lines)[-3000:]
        except BaseException:
            self.kill()
            raise
        self.base = "http://" + address

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            self.lines.append(raw.decode(errors="replace"))

    def _listening(self) -> str | None:
        for line in list(self.lines):
            if "serving on" in line:
                return str(json.loads(line)["message"]).split()[2]
        return None

    def logs(self) -> list[dict[str, Any]]:
        """The JSON log lines so far."""
        out = []
        for line in list(self.lines):
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def get(self, path: str, token: str | None = None) -> tuple[int, bytes]:
        status, _, body = http_get(self.base, path, token=token)
        return status, body

    def metrics(self) -> str:
        status, body = self.get("/metrics")
        assert status == 200
        return body.decode()

    def _finish(self) -> None:
        self._reader.join(10)
        if self.proc.stderr is not None:
            self.proc.stderr.close()

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM and wait; the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self._finish()

    def kill(self) -> None:
        """SIGKILL: no chance to finish anything."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(30)
        self._finish()
