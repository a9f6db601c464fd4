"""Child processes of the benchmark: the API server, measured runs, and the machine they ran on.

Every process is started here with its own process group and is always
stopped by its own pid (``ServerProcess`` is a context manager).  Traffic stays
on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import platform
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


class BenchError(RuntimeError):
    """A benchmark step failed (a child exited badly, a server did not start)."""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("KUBECONFIG", None)
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a running process, from /proc (0.0 where /proc is unavailable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class ServerProcess:
    """``python -m bench.serve`` in its own process; ``with`` starts it and always stops it."""

    objects: int
    kubeconfig: Path
    per_namespace: int = 100
    timeout: float = 900.0
    ownership: bool = False
    """Seed the server-side-applied and controller-owned shares (``bench.generate``)."""
    process: subprocess.Popen[str] | None = None
    ready_line: str = ""
    stderr: list[str] = field(default_factory=list)

    def __enter__(self) -> ServerProcess:
        command = [PYTHON, "-m", "bench.serve", "--objects", str(self.objects)]
        command += ["--per-namespace", str(self.per_namespace)]
        command += ["--kubeconfig", str(self.kubeconfig)]
        command += ["--ownership"] if self.ownership else []
        self.process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            self.ready_line = self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> str:
        assert self.process is not None and self.process.stdout is not None
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], 1.0)
            if ready:
                line = self.process.stdout.readline()
                if line.startswith("ready "):
                    return line.strip()
                if not line and self.process.poll() is not None:
                    break
            elif self.process.poll() is not None:
                break
        err = self.process.stderr.read() if self.process.stderr else ""
        raise BenchError(f"bench.serve did not become ready: {err[-2000:]}")

    @property
    def pid(self) -> int:
        """The server's pid."""
        assert self.process is not None
        return self.process.pid

    def cpu_seconds(self) -> float:
        """CPU the server process used so far."""
        return proc_cpu_seconds(self.pid)

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after 15 s; returns the exit code (3: it saw a write)."""
        process = self.process
        if process is None or process.poll() is not None:
            return process.returncode if process else None
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        if process.stderr is not None:
            self.stderr.append(process.stderr.read())
        return process.returncode

    def __exit__(self, *exc: object) -> None:
        code = self.stop()
        if code not in (0, None) and exc[0] is None:
            raise BenchError(f"bench.serve exited {code}: {''.join(self.stderr)[-2000:]}")


def run_json(module: str, args: list[str], *, timeout: float = 3600.0) -> dict[str, Any]:
    """Run ``python -m module args`` to completion; its stdout is one JSON object.

    Adds ``process_seconds`` (wall time of the whole process, interpreter start
    and imports included) and ``process_maxrss_mb`` (from ``wait4``).
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        [PYTHON, "-m", module, *args],
        cwd=REPO_ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise BenchError(f"{module} timed out after {timeout:.0f}s") from None
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise BenchError(f"{module} exited {process.returncode}: {err[-3000:]}")
    try:
        result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError) as e:
        raise BenchError(f"{module} printed no JSON: {out[-500:]} {err[-1500:]}") from e
    result["process_seconds"] = elapsed
    return result


def machine() -> dict[str, Any]:
    """CPU model, cores, memory, OS, Python and library versions, date, driftwatch commit."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "driftwatch"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    import kubernetes
    import yaml

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "kubernetes_client": kubernetes.__version__,
        "pyyaml": f"{yaml.__version__} (libyaml {'yes' if yaml.__with_libyaml__ else 'no'})",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "driftwatch_commit": commit + (" + uncommitted changes" if dirty else ""),
    }
