"""The service's in-memory state as the web pages read it (``driftwatch.sinks.web.WebSource``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from driftwatch.config.model import Config
from driftwatch.errors import DriftwatchError
from driftwatch.history.counts import CountPoint, DriftCountSeries
from driftwatch.model import DriftState, ResourceKey
from driftwatch.service.api import ApiView
from driftwatch.sinks.web.app import TargetStatus


class ServiceWebSource:
    """Reads what the API reads (``ApiView``) plus the drift count series."""

    def __init__(self, view: ApiView, series: DriftCountSeries) -> None:
        self._view = view
        self._series = series

    def config(self) -> Config:
        """The configuration in force (swapped on reload)."""
        return self._view.config

    def statuses(self) -> list[TargetStatus]:
        """Every configured target with its last run and last report."""
        next_runs = self._view.next_runs()
        out = []
        for target in self._view.config.targets:
            st = self._view.state.get(target.name)
            out.append(
                TargetStatus(
                    target,
                    st.last_run,
                    st.report_run,
                    st.running_since,
                    next_runs.get(target.name),
                )
            )
        return out

    def first_seen(self, target: str, key: ResourceKey, state: DriftState) -> float | None:
        """Drift start from the audit history, else from memory."""
        return self._view.first_seen(target, key, state)

    def events(self, target: str, key: ResourceKey, limit: int) -> list[Mapping[str, Any]] | None:
        """The object's audit events (None without an event log or when it cannot answer)."""
        if self._view.audit is None:
            return None
        try:
            return list(self._view.audit.query(target=target, resource=key, limit=limit))
        except (DriftwatchError, ValueError, OSError):
            return None

    def series(self, target: str) -> list[CountPoint]:
        """Drift counts per run."""
        return self._series.points(target)

    def bearer_token(self) -> str | None:
        """The same token as /api."""
        return self._view.token

    def refresh(self, target: str) -> bool:
        """Ask for a run now, as ``POST /api/v1/refresh`` does."""
        names = {t.name for t in self._view.config.targets}
        return target in names and self._view.refresh is not None and self._view.refresh(target)
