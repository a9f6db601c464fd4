"""Sessions: signed, expiring, ended by a token change; CSRF tokens bound to the session."""

from __future__ import annotations

from driftwatch.sinks.web.auth import SESSION_SECONDS, Sessions
from driftwatch.sinks.web.http import WebRequest
from tests.service.helpers import config
from tests.web.fake_source import StaticSource


def test_a_session_lasts_its_time_and_ends_with_the_token() -> None:
    now = [1_000_000.0]
    sessions = Sessions(clock=lambda: now[0])
    cookie = sessions.issue("old-token")
    session = sessions.check("old-token", cookie)
    assert session is not None
    assert sessions.check("new-token", cookie) is None  # token rotated: logged out
    assert sessions.check("old-token", cookie.replace("v1.", "v2.")) is None
    assert sessions.check("old-token", "v1.9999999999.nonce.forged") is None
    now[0] += SESSION_SECONDS + 1
    assert sessions.check("old-token", cookie) is None  # expired


def test_csrf_tokens_belong_to_one_session() -> None:
    sessions = Sessions()
    one = sessions.check("t", sessions.issue("t"))
    two = sessions.check("t", sessions.issue("t"))
    assert one is not None and two is not None
    assert sessions.csrf_ok("t", one, sessions.csrf("t", one))
    assert not sessions.csrf_ok("t", two, sessions.csrf("t", one))
    assert not sessions.csrf_ok("t", one, None)
    # without a configured token, a per-process secret signs them
    assert not Sessions().csrf_ok(None, None, sessions.csrf(None, None))


def test_the_cookie_is_secure_behind_https() -> None:
    from driftwatch.sinks.web.app import WebApp

    app = WebApp(StaticSource(config("shop"), {}, token="tok"))
    plain = app.handle(WebRequest("POST", "/login", body=b"token=tok&next=/"))
    behind_tls = app.handle(
        WebRequest("POST", "/login", {"x-forwarded-proto": "https"}, b"token=tok&next=/")
    )
    assert plain is not None and behind_tls is not None
    assert "Secure" not in plain.headers["Set-Cookie"]
    assert behind_tls.headers["Set-Cookie"].endswith("; Secure")
