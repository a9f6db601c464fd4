"""The target page at scale: 10,000 objects, grouped by state, longest drifting first, paged."""

from __future__ import annotations

import re

from driftwatch.model import DriftState
from driftwatch.sinks.web.app import PAGE_SIZE, WebApp
from driftwatch.sinks.web.http import WebRequest
from tests.service.helpers import config, drift, run_of
from tests.web.fake_source import StaticSource

NOW = 2_000_000_000.0


def big_app() -> WebApp:
    objects = [drift(f"obj-{i:05d}", state=DriftState.IN_SYNC) for i in range(9_900)]
    objects += [drift(f"mod-{i:03d}") for i in range(80)]
    objects += [drift(f"gone-{i:03d}", state=DriftState.MISSING) for i in range(20)]
    since = {o.key: NOW - 60 * (int(o.key.name[-3:]) + 1) for o in objects[9_900:]}
    source = StaticSource(
        config("big"), {"big": run_of("big", objects, finished_at=NOW)}, since=since
    )
    return WebApp(source, clock=lambda: NOW)


def get(app: WebApp, target: str) -> str:
    response = app.handle(WebRequest("GET", target))
    assert response is not None and response.status == 200, response
    return response.body.decode()


def names(html: str) -> list[str]:
    return re.findall(r'class="oname" href="[^"]+">([^<]+)</a>', html)


def test_drifted_first_longest_drifting_first_then_in_sync_collapsed() -> None:
    app = big_app()
    html = get(app, "/targets/big")
    shown = names(html)
    assert len(shown) == PAGE_SIZE
    assert shown[:3] == ["mod-079", "mod-078", "mod-077"]  # modified, longest drifting first
    assert shown[80:82] == ["gone-019", "gone-018"]  # then missing
    assert "page 1 of 100" in html and 'rel="next" href="/targets/big?page=2"' in html
    assert '<details class="group">' in get(app, "/targets/big?page=2")  # in sync: collapsed


def test_pages_and_filters_keep_each_other() -> None:
    app = big_app()
    last = get(app, "/targets/big?page=100")
    assert names(last)[-1] == "obj-09899" and 'rel="next"' not in last
    filtered = get(app, "/targets/big?state=missing&name=gone-01")
    assert sorted(names(filtered)) == [f"gone-{i:03d}" for i in range(10, 20)]
    assert "10 object(s)" in filtered
    page_two = get(app, "/targets/big?kind=deployment.apps&page=2")
    assert 'rel="prev" href="/targets/big?kind=deployment.apps&amp;page=1"' in page_two
