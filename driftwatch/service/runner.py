"""What the service runs: anything with ``run(target_name) -> TargetRun``.

The real implementation is ``driftwatch.pipeline.Pipeline``; tests pass fakes.
A runner is rebuilt from each (re)loaded configuration by a :data:`RunnerFactory`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from driftwatch.config.model import Config
from driftwatch.run import TargetRun
from driftwatch.sinks.tracing import Tracer


class Runner(Protocol):
    """Runs one target once; never raises for run failures (returns a FAILED run)."""

    def run(self, target_name: str) -> TargetRun:
        """Run ``target_name`` through every stage and return the outcome."""


RunnerFactory = Callable[[Config], Runner]
"""Builds the runner for a configuration (may raise ``ConfigError``)."""


def pipeline_factory(
    *, state_dir: Path | None, cache_dir: Path | None, tracer: Tracer
) -> RunnerFactory:
    """A factory of ``driftwatch.pipeline.Pipeline`` objects sharing these directories."""

    def make(config: Config) -> Runner:
        from driftwatch.pipeline import Pipeline  # type: ignore[import-not-found,unused-ignore]

        runner: Runner = Pipeline(config, state_dir=state_dir, cache_dir=cache_dir, tracer=tracer)
        return runner

    return make
