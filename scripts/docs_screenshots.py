#!/usr/bin/env python3
"""Screenshots of the drift pages for the README, from `driftwatch serve` on the examples.

Starts the service in-process on the examples (state in a temp dir, so the
timeline and chart have data), walks overview -> target -> object in headless
Debian Chromium (Playwright) and writes docs/images/pages-overview.png and
docs/images/pages-object.png.

Usage:
    .venv/bin/python scripts/docs_screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from driftwatch.config.load import load_config  # noqa: E402
from driftwatch.history.counts import DriftCountSeries  # noqa: E402
from driftwatch.service import Service, open_audit, pipeline_factory  # noqa: E402
from driftwatch.sinks.tracing import NoopTracer  # noqa: E402
from tests.web.browser import CHROMIUM_FLAGS  # noqa: E402

OUT = ROOT / "docs" / "images"


def main() -> None:
    """Serve the examples, walk the pages, write the two screenshots."""
    config = load_config(ROOT / "examples" / "driftwatch.yaml")
    config = config.model_copy(
        update={"server": config.server.model_copy(update={"listen": "127.0.0.1:0"})}
    )
    with tempfile.TemporaryDirectory() as work:
        state = Path(work) / "state"
        service = Service(
            config,
            runner_factory=pipeline_factory(
                state_dir=state, cache_dir=Path(work) / "cache", tracer=NoopTracer()
            ),
            audit=open_audit(config, state),
            series=DriftCountSeries(state),
        )
        service.start()
        try:
            while not all(s.report_run is not None for s in service.state.all()):
                time.sleep(0.1)
            host, port = service.http.address
            base = f"http://{host}:{port}"
            OUT.mkdir(parents=True, exist_ok=True)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS
                )
                page = browser.new_page(viewport={"width": 1200, "height": 560})
                page.goto(base + "/")
                page.screenshot(path=str(OUT / "pages-overview.png"))
                page.click("a.tname:text-is('shop-api')")
                page.click("a.oname:text-is('shop-api')")
                page.set_viewport_size({"width": 1200, "height": 520})
                page.screenshot(path=str(OUT / "pages-object.png"))
                browser.close()
        finally:
            service.stop(5)
    print(f"wrote {OUT / 'pages-overview.png'} and {OUT / 'pages-object.png'}")


if __name__ == "__main__":
    main()
