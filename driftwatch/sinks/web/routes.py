"""Every page URL of ``driftwatch serve`` in one table, and the one place a URL names its target.

Routes are matched on the raw (still percent-encoded) path, one segment per
parameter, then each parameter is decoded: a name holding ``%2F`` stays one
segment.  ``_`` stands for the core API group and for the namespace of a
cluster-scoped object (Kubernetes names never contain ``_``); an empty segment
is read the same, so a dashboard's link built from empty labels still lands.

:func:`target_of` answers "which target is this request about?" for any page
path (None for the overview and the login page); the sharding layer uses it to
send a request to the replica that owns the target.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from driftwatch.model import ResourceKey

EMPTY = "_"
"""Path segment for the core group and for no namespace."""


@dataclass(frozen=True, slots=True)
class Route:
    """One page: its name (the handler), the methods it takes and its path pattern."""

    name: str
    methods: frozenset[str]
    pattern: re.Pattern[str]


_SEG = r"[^/]+"
_GET = frozenset({"GET", "HEAD"})
_POST = frozenset({"POST"})

ROUTES: tuple[Route, ...] = (
    Route("overview", _GET, re.compile(r"^/$")),
    Route("target", _GET, re.compile(rf"^/targets/(?P<target>{_SEG})$")),
    Route(
        "object",
        _GET,
        re.compile(
            rf"^/targets/(?P<target>{_SEG})/objects/(?P<group>[^/]*)/(?P<kind>{_SEG})"
            rf"/(?P<namespace>[^/]*)/(?P<name>{_SEG})$"
        ),
    ),
    Route("refresh", _POST, re.compile(rf"^/targets/(?P<target>{_SEG})/refresh$")),
    Route("login", _GET | _POST, re.compile(r"^/login$")),
    Route("logout", _POST, re.compile(r"^/logout$")),
    Route("static", _GET, re.compile(r"^/static/(?P<file>[a-z0-9-]+\.css)$")),
)


@dataclass(frozen=True, slots=True)
class Match:
    """A matched route with its decoded parameters."""

    route: Route
    params: dict[str, str]


def match(path: str) -> Match | None:
    """The route a raw request path (no query) belongs to, or None (not a page: 404 or API)."""
    for route in ROUTES:
        found = route.pattern.match(path)
        if found is not None:
            params = {k: unquote(v, errors="strict") for k, v in found.groupdict().items()}
            return Match(route, params)
    return None


def target_of(path: str) -> str | None:
    """The target a page path is about, or None (overview, login, static files, not a page)."""
    try:
        found = match(path)
    except UnicodeDecodeError:
        return None  # the page answers 400
    return found.params.get("target") if found is not None else None


def key_of(params: dict[str, str]) -> ResourceKey:
    """The object an ``object`` route names (``_`` back to empty)."""

    def part(name: str) -> str:
        value = params[name]
        return "" if value in (EMPTY, "") else value

    return ResourceKey(part("group"), params["kind"], part("namespace"), params["name"])


def _seg(text: str) -> str:
    return quote(text, safe="") if text else EMPTY


def target_path(target: str) -> str:
    """``/targets/NAME``."""
    return f"/targets/{_seg(target)}"


def object_path(target: str, key: ResourceKey) -> str:
    """``/targets/NAME/objects/GROUP/KIND/NAMESPACE/NAME`` (``_`` for empty parts)."""
    return (
        f"{target_path(target)}/objects/{_seg(key.group)}/{_seg(key.kind)}"
        f"/{_seg(key.namespace)}/{_seg(key.name)}"
    )


def refresh_path(target: str) -> str:
    """Where a target's refresh button posts."""
    return f"{target_path(target)}/refresh"


def object_url(external_url: str, target: str, key: ResourceKey) -> str:
    """The object page under driftwatch's external URL (for alerts and dashboards)."""
    return external_url.rstrip("/") + object_path(target, key)
