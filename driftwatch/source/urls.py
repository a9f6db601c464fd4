"""Repository URLs without their credentials, for display and for the cache key.

A repository URL may carry a password or token (``https://user:token@host/...``
or ``https://token@host/...``).  Such a URL is never written to disk, logged or
put in a message: ``safe_url`` is what people see, ``split_credentials`` takes
the secret out so it can travel to git through the process environment only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from driftwatch.config.load import is_local_path

__all__ = ["UrlParts", "is_local_path", "safe_url", "split_credentials", "strip_urls_in_text"]

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_USERINFO_ANYWHERE = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


@dataclass(frozen=True, slots=True)
class UrlParts:
    """A URL split into what git may see on disk and the credentials it carried."""

    url: str
    username: str | None = None
    password: str | None = None


def split_credentials(url: str) -> UrlParts:
    """Take ``user:password@`` out of an http(s) URL (other URLs are returned as they are).

    For ``ssh://user@host`` the user is part of the address, not a secret, and stays.
    """
    if not url.lower().startswith(("http://", "https://")):
        return UrlParts(url)
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return UrlParts(url)
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, sep, password = userinfo.partition(":")
    clean = urlunsplit((parts.scheme, hostport, parts.path, parts.query, parts.fragment))
    return UrlParts(clean, user or None, password if sep else None)


def safe_url(url: str) -> str:
    """``url`` fit to show: credentials removed from http(s) URLs, ``user:pass@`` from any."""
    if url.lower().startswith(("http://", "https://")):
        return split_credentials(url).url
    if _SCHEME.match(url):
        parts = urlsplit(url)
        userinfo, at, hostport = parts.netloc.rpartition("@")
        if at and ":" in userinfo:
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}@{hostport}" if user else hostport
            return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return url


def strip_urls_in_text(text: str) -> str:
    """Remove userinfo from every URL inside free text (git error messages)."""
    return _USERINFO_ANYWHERE.sub(lambda m: m.group("scheme"), text)
