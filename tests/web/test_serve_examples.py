"""What a new user sees: `driftwatch serve --config examples/driftwatch.yaml`, then its URL."""

from __future__ import annotations

import re
from pathlib import Path

from tests.reliability.serve_proc import ServeProcess
from tests.service.helpers import wait_for
from tests.web.demo import request


def test_serve_prints_the_pages_url_and_two_clicks_reach_a_diff_and_its_author(
    tmp_path: Path,
) -> None:
    serve = ServeProcess(
        "--config", "examples/driftwatch.yaml", "--listen", "127.0.0.1:0",
        "--state-dir", str(tmp_path / "state"), "--cache-dir", str(tmp_path / "cache"),
    )  # fmt: skip
    try:
        wait_for(
            lambda: any("drift pages at" in line.get("message", "") for line in serve.logs()),
            timeout=30,
            what="the pages URL",
        )
        message = next(m["message"] for m in serve.logs() if "drift pages at" in m["message"])
        url = message.split("drift pages at ", 1)[1].strip()
        assert url == serve.base + "/"

        def overview_has_reports() -> bool:
            return "no report yet" not in request(url)[2]

        wait_for(overview_has_reports, timeout=60, what="every target's first report")
        overview = request(url)[2]
        assert "1 modified" in overview and "<polyline" in overview  # counts and the chart
        target_href = re.search(r'class="tname" href="(/targets/shop-api)"', overview)
        assert target_href is not None  # click 1
        target = request(serve.base + target_href.group(1))[2]
        object_href = re.search(r'class="oname" href="([^"]+)">shop-api<', target)
        assert object_href is not None  # click 2
        status, _, page = request(serve.base + object_href.group(1))
        assert status == 200
        assert "containers[name=api]/env[name=FEATURE_X]" in page
        assert 'class="manager">kubectl-set<' in page
        assert "drift detected" in page  # the timeline is not empty
    finally:
        assert serve.stop() == 0
