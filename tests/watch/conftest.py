"""Fixtures of the watch-mode tests: an in-process service per test, stopped before its server."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.kubeapi import KubeApiServer
from tests.watch.helpers import WatchedService

if shutil.which("git") is None:  # pragma: no cover - CI installs git
    pytest.skip("git is not installed", allow_module_level=True)

StartWatched = Callable[..., WatchedService]


@pytest.fixture
def watched(tmp_path: Path, kube_api_factory: object) -> Iterator[StartWatched]:
    """``watched(server, **target)``: a started service watching ``server``."""
    started: list[WatchedService] = []

    def start(server: KubeApiServer, **kw: Any) -> WatchedService:
        service = WatchedService(server, tmp_path / f"svc{len(started)}", **kw)
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()
