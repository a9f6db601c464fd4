"""Per-stage cProfile of one pipeline run, worker threads included.

The pipeline announces each stage through its ``progress`` callback; the
profiler switches to a fresh ``cProfile.Profile`` there.  The snapshot stage
does its listing in a thread pool, which cProfile (one thread per profile)
would miss, so while profiling, every ``ThreadPoolExecutor`` work item runs
under its own profile that is merged into the stage it ran in.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import thread as futures_thread
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_ROOT = str(Path(__file__).resolve().parent.parent) + "/"


def _where(func: tuple[str, int, str]) -> str:
    """``path/to/file.py:line(function)``, shortened to the repository or the package."""
    file, line, name = func
    if file.startswith(_ROOT):
        file = file[len(_ROOT) :]
    elif "site-packages/" in file:
        file = file.split("site-packages/", 1)[1]
    elif "/lib/python3" in file:
        file = "stdlib/" + file.split("/lib/python3", 1)[1].split("/", 1)[-1]
    return f"{file}:{line}({name})" if line else name


class StageProfiler:
    """Collects one ``pstats`` per stage; use ``progress`` as the pipeline's progress callback."""

    def __init__(self) -> None:
        self.profiles: dict[str, list[cProfile.Profile]] = {}
        self._current: cProfile.Profile | None = None
        self._stage: str | None = None
        self._lock = threading.Lock()

    def progress(self, _target: str, stage: Any) -> None:
        """Called by the pipeline as each stage begins."""
        self.stop()
        self._stage = str(getattr(stage, "value", stage))
        self._current = cProfile.Profile()
        self._current.enable()

    def stop(self) -> None:
        """End the current stage's profile (call once the run is over)."""
        if self._current is not None and self._stage is not None:
            self._current.disable()
            self._add(self._stage, self._current)
        self._current = None

    def _add(self, stage: str, profile: cProfile.Profile) -> None:
        with self._lock:
            self.profiles.setdefault(stage, []).append(profile)

    @contextmanager
    def threads(self) -> Iterator[None]:
        """Profile thread-pool work items too, for as long as the context lasts."""
        original: Callable[[Any], None] = futures_thread._WorkItem.run
        profiler = self

        def run(item: Any) -> None:
            stage = profiler._stage or "unknown"
            profile = cProfile.Profile()
            profile.enable()
            try:
                original(item)
            finally:
                profile.disable()
                profiler._add(stage, profile)

        futures_thread._WorkItem.run = run  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            futures_thread._WorkItem.run = original  # type: ignore[method-assign,assignment]

    def stats(self, stage: str) -> pstats.Stats | None:
        """The merged statistics of one stage."""
        profiles = self.profiles.get(stage)
        if not profiles:
            return None
        stats = pstats.Stats(profiles[0])
        for extra in profiles[1:]:
            stats.add(extra)
        return stats

    def hotspots(self, stage: str, top: int = 12) -> list[dict[str, Any]]:
        """The ``top`` functions of a stage by own time, with cumulative time and calls."""
        stats = self.stats(stage)
        if stats is None:
            return []
        table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
        rows = sorted(table.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
        return [
            {
                "function": _where(func),
                "tottime": round(tt, 4),
                "cumtime": round(ct, 4),
                "calls": nc,
            }
            for func, (_cc, nc, tt, ct, _callers) in rows
        ]

    def write(self, directory: Path, label: str) -> None:
        """``<label>-<stage>.txt`` per stage: top 40 by own time and by cumulative time."""
        directory.mkdir(parents=True, exist_ok=True)
        for stage in self.profiles:
            stats = self.stats(stage)
            if stats is None:
                continue
            out = io.StringIO()
            stats.stream = out  # type: ignore[attr-defined]
            stats.sort_stats("tottime").print_stats(40)
            stats.sort_stats("cumulative").print_stats(40)
            (directory / f"{label}-{stage}.txt").write_text(out.getvalue())
