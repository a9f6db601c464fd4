"""A ``WebSource`` over fixed runs, for page tests and the page benchmark."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from driftwatch.config.model import Config
from driftwatch.history.counts import CountPoint
from driftwatch.model import DriftState, ResourceKey
from driftwatch.run import TargetRun
from driftwatch.sinks.web.app import TargetStatus


class StaticSource:
    """Fixed runs per target, first-seen times per key, no event log."""

    def __init__(
        self,
        config: Config,
        runs: Mapping[str, TargetRun],
        *,
        since: Mapping[ResourceKey, float] | None = None,
        series: Mapping[str, list[CountPoint]] | None = None,
        token: str | None = None,
    ) -> None:
        self._config = config
        self._runs = dict(runs)
        self._since = dict(since or {})
        self._series = dict(series or {})
        self._token = token
        self.refreshed: list[str] = []

    def config(self) -> Config:
        return self._config

    def statuses(self) -> list[TargetStatus]:
        return [
            TargetStatus(t, self._runs.get(t.name), self._runs.get(t.name))
            for t in self._config.targets
        ]

    def first_seen(self, target: str, key: ResourceKey, state: DriftState) -> float | None:
        return self._since.get(key)

    def events(self, target: str, key: ResourceKey, limit: int) -> list[Mapping[str, Any]] | None:
        return None

    def series(self, target: str) -> list[CountPoint]:
        return self._series.get(target, [])

    def bearer_token(self) -> str | None:
        return self._token

    def refresh(self, target: str) -> bool:
        self.refreshed.append(target)
        return True
