"""The pages in a real browser, walked as a user would: overview -> target -> drifted object.

Chromium (Debian's package) runs headless with JavaScript disabled, as the pages
must work without it; screenshots land in ``tmp/artifacts/`` (or
``$DRIFTWATCH_TEST_ARTIFACTS``).  Skips, with the reason, only where chromium
or playwright is missing; ``.ci/run`` installs both.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.browser import browser, screenshot
from tests.web.demo import HOSTILE_LABEL, HOSTILE_NAME, Demo, start_demo

TOKEN = "br0wser-t0ken"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with browser() as launched:
        yield launched


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    running = start_demo(tmp_path_factory.mktemp("browser"), token=TOKEN)
    yield running
    running.service.stop(5)


@pytest.fixture
def page(chromium: Any, demo: Demo) -> Iterator[Any]:
    context = chromium.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    tab = context.new_page()
    yield tab
    context.close()


def log_in(page: Any, demo: Demo, path: str = "/") -> None:
    response = page.goto(demo.base + path)
    assert response.status == 401
    page.fill("input[name=token]", TOKEN)
    page.click("button:text('Log in')")


def test_a_page_without_the_token_is_refused(page: Any, demo: Demo) -> None:
    response = page.goto(demo.base + "/targets/shop")
    assert response.status == 401
    assert page.is_visible("input[name=token]")
    assert "shop-config" not in page.content()
    page.fill("input[name=token]", "wrong")
    page.click("button:text('Log in')")
    assert page.is_visible("text=That token is not right.")
    screenshot(page, "login-refused")


def test_overview_to_a_fields_diff_and_author_in_two_clicks(page: Any, demo: Demo) -> None:
    log_in(page, demo)
    assert page.url == demo.base + "/"
    cookie = next(c for c in page.context.cookies() if c["name"] == "driftwatch_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    row = page.locator("tr.target", has=page.locator("a.tname:text-is('shop-api')"))
    assert "1 modified" in row.inner_text()
    assert row.locator("svg.chart polyline").count() >= 1  # the drift chart is drawn
    screenshot(page, "overview")

    row.locator("a.tname").click()  # click 1
    assert page.url == demo.base + "/targets/shop-api"
    assert page.locator("section.group h2").first.inner_text().startswith("modified")
    screenshot(page, "target")

    page.click("a.oname:text-is('shop-api')")  # click 2
    hunk = page.locator(".hunk").first
    assert hunk.locator("code.path").inner_text() == (
        "/spec/template/spec/containers[name=api]/env[name=FEATURE_X]"
    )
    assert hunk.locator(".manager").inner_text() == "kubectl-set"
    assert "2026-11-30T04:31:29Z" in hunk.inner_text()
    assert hunk.locator(".plus").first.inner_text() == "+name: FEATURE_X"
    assert page.is_visible("dt:text('Drifting since')")
    timeline = page.locator("section.timeline li")
    assert timeline.count() >= 1 and "drift detected" in timeline.first.inner_text()
    screenshot(page, "object")

    page.click("text=raw events")  # follow the timeline to the audit log's records
    events = page.locator("body").inner_text()
    assert '"type": "io.driftwatch.drift.detected"' in events and "FEATURE_X" in events
    page.go_back()
    page.click("text=Raw JSON")
    assert '"target": "shop-api"' in page.locator("body").inner_text()


def test_hostile_input_is_shown_as_text(page: Any, demo: Demo) -> None:
    log_in(page, demo, "/targets/shop")
    hostile_link = page.locator("a.oname").filter(has_text=HOSTILE_NAME)
    assert hostile_link.count() == 1 and hostile_link.inner_text() == HOSTILE_NAME
    page.click("a.oname:text-is('shop-config')")
    assert page.title() != "pwned"
    assert page.locator("script").count() == 0 and page.locator("main img").count() == 0
    text = page.locator(".diff").inner_text()
    assert "<script>document.title=" in text and "ünïcødé ✓ 🚀" in text
    assert "/metadata/labels/evil" in text and HOSTILE_LABEL[:2] in text
    screenshot(page, "hostile-object")
    page.go_back()
    hostile_link.click()
    assert page.title() != "pwned"
    assert HOSTILE_NAME in page.locator("h2").first.inner_text()
    screenshot(page, "hostile-name")


def test_refresh_button_posts_and_comes_back(page: Any, demo: Demo) -> None:
    log_in(page, demo, "/targets/shop-db")
    page.click("button:text('Refresh')")
    assert page.url.endswith("/targets/shop-db?refresh=requested")
    assert page.is_visible("text=Run requested")


def test_check_html_report_opens_with_no_network(chromium: Any, tmp_path: Path) -> None:
    from tests.subprocess_cli import run_cli

    result = run_cli(
        "check", "--config", "examples/driftwatch.yaml", "--state-dir", str(tmp_path), "-o", "html"
    )
    assert result.returncode == 1, result.stderr
    report = tmp_path / "report.html"
    report.write_text(result.stdout, encoding="utf-8")
    context = chromium.new_context(offline=True, java_script_enabled=False)
    tab = context.new_page()
    requests: list[str] = []
    tab.on("request", lambda r: requests.append(r.url))
    tab.goto(report.as_uri())
    assert requests == [report.as_uri()]
    background = tab.eval_on_selector(".plus", "e => getComputedStyle(e).backgroundColor")
    assert background != "rgba(0, 0, 0, 0)"  # the inline stylesheet applied
    paths = tab.locator("code.path").all_inner_texts()
    assert "/spec/template/spec/containers[name=api]/env[name=FEATURE_X]" in paths
    screenshot(tab, "check-report")
    context.close()
