"""What the service runs: anything with ``run(target_name) -> TargetRun``.

The real implementation is ``driftwatch.pipeline.Pipeline``; tests pass fakes.
A runner is rebuilt from each (re)loaded configuration by a :data:`RunnerFactory`.
Watch mode needs more of it (:class:`WatchRunner`): what the last run compared,
and where its Git cache is.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

from driftwatch.config.model import Config
from driftwatch.pipeline import Compared, Pipeline
from driftwatch.run import TargetRun
from driftwatch.sinks.tracing import Tracer


class Runner(Protocol):
    """Runs one target once; never raises for run failures (returns a FAILED run)."""

    def run(self, target_name: str) -> TargetRun:
        """Run ``target_name`` through every stage and return the outcome."""


class GitCache(Protocol):
    """Where a runner keeps its Git repositories (the Git poll reuses its credentials there)."""

    @property
    def cache_dir(self) -> Path:
        """The cache directory."""


@runtime_checkable
class WatchRunner(Runner, Protocol):
    """A runner that hands watch mode what its last full run compared (``Pipeline`` does)."""

    @property
    def git(self) -> GitCache:
        """The runner's Git source."""

    def take_compared(self, target_name: str) -> Compared | None:
        """The desired set, live snapshot and judge of the last report (handed over once)."""


RunnerFactory = Callable[[Config], Runner]
"""Builds the runner for a configuration (may raise ``ConfigError``)."""


def pipeline_factory(
    *, state_dir: Path | None, cache_dir: Path | None, tracer: Tracer
) -> RunnerFactory:
    """A factory of ``driftwatch.pipeline.Pipeline`` objects sharing these directories."""

    def make(config: Config) -> Runner:
        runner: WatchRunner = Pipeline(
            config, state_dir=state_dir, cache_dir=cache_dir, tracer=tracer
        )
        return runner

    return make
