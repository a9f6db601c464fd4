"""Sessions and CSRF tokens for the pages: stateless, signed with a key derived from the token.

With a bearer token configured, a browser logs in once through a form; the
session cookie (``HttpOnly``, ``SameSite=Lax`` so that a link from chat or
e-mail still arrives logged in) carries an expiry and a random nonce, signed
with HMAC-SHA256 under a key derived from the token: changing the token ends
every session, and no session state is kept on the server.  The CSRF token of a
form is an HMAC of the session's nonce (or, without a configured token, of a
per-process random secret), so a page of another origin cannot forge it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

COOKIE = "driftwatch_session"
SESSION_SECONDS = 12 * 3600


@dataclass(frozen=True, slots=True)
class Session:
    """A valid session: its nonce (the CSRF token is bound to it)."""

    nonce: str


class Sessions:
    """Issues and checks session cookies and CSRF tokens."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._open_secret = secrets.token_bytes(32)
        """Signs CSRF tokens when no bearer token is configured (per process)."""

    @staticmethod
    def _key(token: str | None, purpose: str, fallback: bytes) -> bytes:
        if token is None:
            return hashlib.sha256(fallback + purpose.encode()).digest()
        return hashlib.sha256(f"driftwatch-web/{purpose}\0{token}".encode()).digest()

    def _sign(self, token: str | None, purpose: str, message: str) -> str:
        key = self._key(token, purpose, self._open_secret)
        return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()

    def issue(self, token: str) -> str:
        """A new session cookie value for someone who presented ``token``."""
        expiry = int(self._clock()) + SESSION_SECONDS
        nonce = secrets.token_urlsafe(16)
        message = f"{expiry}.{nonce}"
        return f"v1.{message}.{self._sign(token, 'session', message)}"

    def check(self, token: str, cookie: str | None) -> Session | None:
        """The session a cookie value proves, or None (absent, forged, expired, old token)."""
        if not cookie:
            return None
        version, _, rest = cookie.partition(".")
        message, _, signature = rest.rpartition(".")
        expiry_text, _, nonce = message.partition(".")
        if version != "v1" or not expiry_text.isdigit() or not nonce:
            return None
        if not hmac.compare_digest(signature, self._sign(token, "session", message)):
            return None
        if int(expiry_text) < self._clock():
            return None
        return Session(nonce)

    def csrf(self, token: str | None, session: Session | None) -> str:
        """The CSRF token forms of this session carry."""
        return self._sign(token, "csrf", session.nonce if session else "no-session")

    def csrf_ok(self, token: str | None, session: Session | None, given: str | None) -> bool:
        """Whether a posted CSRF token is this session's."""
        return bool(given) and hmac.compare_digest(str(given), self.csrf(token, session))


def token_matches(token: str, given: str | None) -> bool:
    """Constant-time comparison of a presented token with the configured one."""
    return given is not None and hmac.compare_digest(given.strip().encode(), token.encode())
