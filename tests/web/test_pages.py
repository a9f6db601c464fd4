"""The pages over HTTP as a browser would fetch them: content, escaping, auth, CSRF, headers.

The service is the real one over the examples (plus hostile Git content); the
browser walk is in test_browser.py, these check what needs no rendering engine.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from driftwatch.model import ResourceKey
from driftwatch.sinks.web.routes import object_path
from tests.web.demo import HOSTILE_NAME, HOSTILE_VALUE, LONG_VALUE, Demo, start_demo

TOKEN = "t0ken-for-pages"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    running = start_demo(tmp_path_factory.mktemp("web-open"))
    yield running
    running.service.stop(5)


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    running = start_demo(tmp_path_factory.mktemp("web-token"), token=TOKEN)
    yield running
    running.service.stop(5)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def test_overview_lists_every_target_with_counts_chart_and_revision(demo: Demo) -> None:
    status, headers, html = demo.get("/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    for name in ("shop", "shop-api", "shop-db"):
        assert f'href="/targets/{name}"' in html
    assert "1 modified" in html  # shop-api
    assert "<svg" in html and "<polyline" in html  # the drift chart has a point
    sha = demo.service.state.get("shop").last_run.revision.sha  # type: ignore[union-attr]
    assert sha[:12] in html


def test_object_page_shows_diff_author_since_and_timeline(demo: Demo) -> None:
    path = object_path("shop-api", ResourceKey("apps", "Deployment", "shop", "shop-api"))
    assert path == "/targets/shop-api/objects/apps/Deployment/shop/shop-api"
    status, _, html = demo.get(path)
    assert status == 200
    assert "/spec/template/spec/containers[name=api]/env[name=FEATURE_X]" in html
    assert "kubectl-set" in html and "2026-11-30T04:31:29Z" in html
    assert "Drifting since" in html
    assert "Which side moved" in html and "changed in the cluster" in html
    assert "drift detected" in html  # the timeline, from the audit log
    assert "/api/v1/drift?target=shop-api" in html


def test_core_group_and_secret_values_only_as_fingerprints(demo: Demo) -> None:
    status, _, html = demo.get("/targets/shop/objects/_/Secret/shop/shop-db")
    assert status == 200
    assert "/data/password" in html and "hmac-sha256:" in html
    assert "s3cr3t-Shop-Pa55" not in html and "n3w-Leaked-Pa55" not in html


def test_hostile_git_content_is_escaped(demo: Demo) -> None:
    _, _, html = demo.get("/targets/shop/objects/_/ConfigMap/shop/shop-config")
    assert "&lt;script&gt;document.title=" in html
    assert "<script" not in html.lower()
    assert "ünïcødé ✓ 🚀" in html and LONG_VALUE in html
    _, _, target = demo.get("/targets/shop")
    assert "<img" not in target and "&lt;img src=x onerror=" in target
    hostile = object_path("shop", ResourceKey("", "ConfigMap", "shop", HOSTILE_NAME))
    assert quote(HOSTILE_NAME, safe="") in hostile and hostile in target.replace("&amp;", "&")
    status, _, page = demo.get(hostile)
    assert status == 200 and "missing" in page and "<img" not in page
    assert HOSTILE_VALUE not in page  # a missing object has no diff: nothing raw either


def test_headers_forbid_script_and_framing(demo: Demo) -> None:
    _, headers, _ = demo.get("/targets/shop")
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp  # no script at all
    assert "frame-ancestors 'none'" in csp and headers["X-Frame-Options"] == "DENY"
    status, css_headers, css = demo.get("/static/driftwatch.css")
    assert status == 200 and css_headers["Content-Type"].startswith("text/css") and ".diff" in css


def test_target_page_filters_and_unknown_things_are_404(demo: Demo) -> None:
    _, _, html = demo.get("/targets/shop?kind=Secret")
    assert "shop-db" in html and "shop-config" not in html
    _, _, html = demo.get("/targets/shop?state=missing")
    assert "shop-api-token" in html and "shop-stray" not in html
    assert demo.get("/targets/nope")[0] == 404
    assert demo.get("/targets/shop/objects/_/ConfigMap/shop/nope")[0] == 404
    assert demo.get("/targets/shop?page=9")[0] == 404
    assert demo.get("/targets/shop?state=%3Cscript%3E")[0] == 400
    assert demo.get("/nothing-here")[0] == 404


def test_refresh_needs_the_forms_csrf_token_and_same_origin(demo: Demo) -> None:
    _, _, html = demo.get("/targets/shop-db")
    csrf = csrf_of(html)
    assert demo.post("/targets/shop-db/refresh", "csrf=forged")[0] == 403
    assert demo.post("/targets/shop-db/refresh", "")[0] == 403
    evil = {"Origin": "https://evil.example"}
    assert demo.post("/targets/shop-db/refresh", f"csrf={csrf}", evil)[0] == 403
    host = demo.base.removeprefix("http://")
    status, headers, _ = demo.post(
        "/targets/shop-db/refresh", f"csrf={csrf}", {"Origin": demo.base, "Host": host}
    )
    assert status == 303 and headers["Location"] == "/targets/shop-db?refresh=requested"
    assert demo.get("/targets/shop-db/refresh")[0] == 405


def test_pages_need_the_token_and_refuse_without_it(locked: Demo) -> None:
    for path in ("/", "/targets/shop", "/targets/shop-api/objects/apps/Deployment/shop/shop-api"):
        status, _, html = locked.get(path)
        assert status == 401
        assert "kubectl-set" not in html and "modified" not in html and "shop-config" not in html
        assert 'action="/login"' in html
    ok = locked.get("/", {"Authorization": f"Bearer {TOKEN}"})
    assert ok[0] == 200 and 'href="/targets/shop"' in ok[2]
    assert locked.get("/api/v1/targets")[0] == 401  # the same token guards /api


def test_login_sets_a_lax_httponly_session_that_opens_the_pages(locked: Demo) -> None:
    wrong = locked.post("/login", "token=nope&next=/targets/shop")
    assert wrong[0] == 401 and "not right" in wrong[2]
    status, headers, _ = locked.post("/login", f"token={TOKEN}&next=/targets/shop")
    assert status == 303 and headers["Location"] == "/targets/shop"
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    session = cookie.split(";", 1)[0]
    page = locked.get("/targets/shop", {"Cookie": session})
    assert page[0] == 200 and "shop-config" in page[2]
    forged = session[:-4] + ("0000" if not session.endswith("0000") else "1111")
    assert locked.get("/targets/shop", {"Cookie": forged})[0] == 401
    # no open redirect after login
    status, headers, _ = locked.post("/login", f"token={TOKEN}&next=//evil.example/x")
    assert headers["Location"] == "/"
    # logout needs the CSRF token of the session
    csrf = csrf_of(page[2])
    assert locked.post("/logout", "csrf=x", {"Cookie": session})[0] == 403
    status, headers, _ = locked.post("/logout", f"csrf={csrf}", {"Cookie": session})
    assert status == 303 and "Max-Age=0" in headers["Set-Cookie"]


def test_check_writes_one_self_contained_html_report(tmp_path: Path) -> None:
    from tests.subprocess_cli import run_cli
    from tests.web.demo import hostile_repo

    config = hostile_repo(tmp_path / "repo")
    result = run_cli(
        "check", "--config", str(config), "--state-dir", str(tmp_path / "s"), "-o", "html"
    )
    assert result.returncode == 1, result.stderr
    html = result.stdout
    assert html.startswith("<!doctype html>") and "<style>" in html
    assert 'content="default-src &#39;none&#39;' in html  # the file itself forbids any fetch
    assert not re.search(r"<(?:link|script|img)\b", html, re.IGNORECASE)
    assert "env[name=FEATURE_X]" in html and "kubectl-set" in html
    assert "&lt;script&gt;" in html and "s3cr3t-Shop-Pa55" not in html


def test_timeline_follows_an_episode_to_its_resolution(tmp_path: Path) -> None:
    import subprocess

    running = start_demo(tmp_path)
    try:
        repo = tmp_path / "repo"
        api = repo / "examples/gitops/shop-api/base/api.yaml"
        text = api.read_text()
        declared = '            - name: FEATURE_X\n              value: "on"\n'
        api.write_text(text.replace("          env:\n", "          env:\n" + declared, 1))
        git = ["git", "-C", str(repo), "-c", "user.name=Dev", "-c", "user.email=d@example.com"]
        subprocess.run([*git, "commit", "-qam", "declare FEATURE_X"], check=True)
        assert running.service.run_target("shop-api")
        path = "/targets/shop-api/objects/apps/Deployment/shop/shop-api"
        status, _, html = running.get(path)
        assert status == 200 and "in sync" in html
        labels = re.findall(r"</time> <strong>([^<]+)</strong>", html)
        assert labels[:2] == ["drift resolved", "drift detected"]  # newest first
        assert "/api/v1/drift?target=shop-api" in html and "all=1" in html
    finally:
        running.service.stop(5)


def test_unmanaged_object_names_its_creator(demo: Demo) -> None:
    status, _, html = demo.get("/targets/shop/objects/_/ConfigMap/shop/shop-stray")
    assert status == 200 and "unmanaged" in html
    creator = re.search(r"<dt>Created by</dt><dd class=\"who\">([^<]+)</dd>", html)
    assert creator is not None and creator.group(1).startswith("kubectl")
