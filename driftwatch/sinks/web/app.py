"""The pages of ``driftwatch serve``: overview, target, object; login; the refresh button.

Transport-free: :meth:`WebApp.handle` takes a :class:`WebRequest` and returns a
:class:`WebResponse` (or None when the path is not a page), so the HTTP server
stays the only place that speaks HTTP and these pages can be tested without a
socket.  Pages render from the service's in-memory state through a
:class:`WebSource`; nothing here reads the cluster or Git.

Security: every value is escaped by Jinja's autoescape; responses carry a
Content-Security-Policy that allows no script at all (the pages need none) and
no framing; with a bearer token configured every page but the login form and
the stylesheet needs the token (``Authorization: Bearer``) or a session cookie;
every POST needs a same-origin ``Origin`` (when the browser sends one) and the
form's CSRF token; without a token, refresh is accepted from loopback only, as
on ``/api/v1/refresh``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from importlib import resources
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

import jinja2

from driftwatch.config.model import Config, Target
from driftwatch.history.counts import CountPoint
from driftwatch.model import DriftState, ObjectDrift, ResourceKey
from driftwatch.run import TargetRun
from driftwatch.sinks.http_api import is_loopback
from driftwatch.sinks.web.auth import COOKIE, SESSION_SECONDS, Session, Sessions, token_matches
from driftwatch.sinks.web.http import WebRequest, WebResponse
from driftwatch.sinks.web.routes import key_of, match, target_path
from driftwatch.sinks.web.views import (
    STATE_LABEL,
    STATE_ORDER,
    LinkSettings,
    chart_view,
    counts_view,
    fmt_age,
    fmt_time,
    object_rows,
    object_view,
    report_errors,
    run_view,
    target_links,
    timeline_view,
)

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
PAGE_SIZE = 100
"""Objects per page of the target page."""
MAX_PARAM = 256
"""Longest filter value kept (longer is cut)."""
TIMELINE_LIMIT = 200


@dataclass(frozen=True, slots=True)
class TargetStatus:
    """One configured target as the service knows it now."""

    target: Target
    last_run: TargetRun | None
    report_run: TargetRun | None
    """The last run with a report."""
    running_since: float | None = None
    next_run_at: float | None = None


class WebSource(Protocol):
    """Where the pages read from (the service implements it over its in-memory state)."""

    def config(self) -> Config:
        """The configuration in force."""

    def statuses(self) -> list[TargetStatus]:
        """Every configured target, in configuration order."""

    def first_seen(self, target: str, key: ResourceKey, state: DriftState) -> float | None:
        """When an object was first seen drifted in this episode (None: unknown)."""

    def events(self, target: str, key: ResourceKey, limit: int) -> list[Mapping[str, Any]] | None:
        """The object's audit events, oldest first (None: there is no event log)."""

    def series(self, target: str) -> list[CountPoint]:
        """The target's drift counts per run, oldest first."""

    def bearer_token(self) -> str | None:
        """The token pages and /api need, or None when open."""

    def refresh(self, target: str) -> bool:
        """Ask for a run of ``target`` now; False when unknown."""


class _RefusedError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def templates() -> jinja2.Environment:
    """The page templates, HTML-escaping every value."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("driftwatch.sinks.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["state_label"] = STATE_LABEL
    return env


def stylesheet() -> str:
    """The one stylesheet (served at /static/driftwatch.css, inlined in the HTML report)."""
    return (resources.files("driftwatch.sinks.web") / "static" / "driftwatch.css").read_text(
        encoding="utf-8"
    )


class WebApp:
    """Renders the pages for requests (thread-safe: no per-request state kept)."""

    def __init__(
        self,
        source: WebSource,
        *,
        external_url: Callable[[], str | None] = lambda: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.source = source
        self._external_url = external_url
        self._clock = clock
        self.sessions = Sessions(clock)
        self.env = templates()
        self._css = stylesheet().encode()

    # ------------------------------------------------------------------ dispatch

    def handle(self, request: WebRequest) -> WebResponse | None:
        """The response to a page request, or None when the path is no page."""
        url = urlsplit(request.target)
        try:
            found = match(url.path)
        except UnicodeDecodeError:
            return self._error(400, "malformed path")
        if found is None:
            return None
        route = found.route
        if request.method not in route.methods:
            allow = ", ".join(sorted(route.methods))
            response = self._error(405, "method not allowed")
            response.headers["Allow"] = allow
            return response
        if route.name == "static":
            if found.params["file"] != "driftwatch.css":
                return self._error(404, "not found")
            return WebResponse(200, self._css, content_type="text/css; charset=utf-8")
        token = self.source.bearer_token()
        session = self._session(token, request)
        bearer = token is not None and self._bearer_ok(token, request)
        try:
            query = _query(url.query)
            if route.name == "login":
                return self._login(request, token, session, query)
            if token is not None and session is None and not bearer:
                return self._login_form(_local(request.target), status=401)  # then back here
            if request.method == "POST":
                self._check_post(request, token, session, bearer)
                if route.name == "logout":
                    return _redirect("/login", cookie=_clear_cookie())
                return self._refresh(request, token, found.params["target"])
            context = {"session": session is not None, "csrf": self.sessions.csrf(token, session)}
            if route.name == "overview":
                return self._page("overview.html", self.overview(), context)
            if route.name == "target":
                return self._page(
                    "target.html", self.target(found.params["target"], query), context
                )
            return self._page(
                "object.html", self.object(found.params["target"], key_of(found.params)), context
            )
        except _RefusedError as e:
            return self._error(e.status, e.message)

    def session_valid(self, cookie_header: str | None) -> bool:
        """Whether the cookie proves a session under the configured token."""
        token = self.source.bearer_token()
        return token is not None and self.sessions.check(token, _cookie(cookie_header)) is not None

    # ------------------------------------------------------------------ pages

    def overview(self) -> dict[str, Any]:
        """Every target: counts, last run, revision, errors, the drift chart."""
        now = self._clock()
        links = self._links()
        rows = []
        for status in self.source.statuses():
            name = status.target.name
            report_run = status.report_run
            report = report_run.report if report_run is not None else None
            rows.append(
                {
                    "name": name,
                    "cluster": status.target.cluster,
                    "links": target_links(name, links),
                    "counts": counts_view(report),
                    "drifted": len(report.drifted) if report is not None else None,
                    "last": run_view(status.last_run, now),
                    "report_at": fmt_time(report_run.finished_at) if report_run else "",
                    "stale": status.last_run is not None and status.last_run is not report_run,
                    "running": fmt_age(now - status.running_since)
                    if status.running_since is not None
                    else "",
                    "next": fmt_time(status.next_run_at),
                    "errors": report_errors(report),
                    "chart": chart_view(self.source.series(name), now),
                }
            )
        return {"title": "driftwatch", "targets": rows, "now": fmt_time(now)}

    def target(self, name: str, query: Mapping[str, str]) -> dict[str, Any]:
        """One target's objects, filtered, grouped by state, longest drifting first, paginated."""
        status = self._status(name)
        now = self._clock()
        report_run = status.report_run
        report = report_run.report if report_run is not None else None
        filters = {k: query.get(k, "")[:MAX_PARAM] for k in ("kind", "namespace", "name", "state")}
        state = filters["state"]
        if state and state not in {s.value for s in DriftState}:
            raise _RefusedError(400, "unknown state filter")
        rows = []
        if report is not None:
            rows = object_rows(
                name,
                report,
                lambda key, st: self.source.first_seen(name, key, st),
                _selector(filters),
            )
        pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
        page_text = query.get("page", "1")
        if not page_text.isdigit() or not 1 <= int(page_text) <= pages:
            raise _RefusedError(404, f"no page {page_text[:20]!r} (1 to {pages})")
        page = int(page_text)
        shown = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        groups = []
        for st in STATE_ORDER:
            members = [
                {
                    "kind": r.key.group_kind.display(),
                    "namespace": r.key.namespace,
                    "name": r.key.name,
                    "href": r.href,
                    "age": fmt_age(now - r.since) if r.since is not None else "",
                    "since": fmt_time(r.since),
                    "changed_by": r.changed_by,
                    "fields": len(r.obj.fields),
                    "reason": r.obj.reason,
                }
                for r in shown
                if r.state is st
            ]
            if members:
                groups.append({"state": st.value, "label": STATE_LABEL[st], "rows": members})
        base = {k: v for k, v in filters.items() if v}

        def page_href(number: int) -> str:
            return target_path(name) + "?" + urlencode({**base, "page": str(number)})

        return {
            "title": f"{name} · driftwatch",
            "name": name,
            "cluster": status.target.cluster,
            "links": target_links(name, self._links()),
            "last": run_view(status.last_run, now),
            "counts": counts_view(report),
            "errors": report_errors(report),
            "filters": filters,
            "states": [{"value": s.value, "label": STATE_LABEL[s]} for s in STATE_ORDER],
            "groups": groups,
            "total": len(rows),
            "page": page,
            "pages": pages,
            "prev": page_href(page - 1) if page > 1 else None,
            "next": page_href(page + 1) if page < pages else None,
            "has_report": report is not None,
            "refreshed": query.get("refresh") == "requested",
        }

    def object(self, name: str, key: ResourceKey) -> dict[str, Any]:
        """One object: diff, who changed each field and when, since when, timeline, links."""
        status = self._status(name)
        report_run = status.report_run
        report = report_run.report if report_run is not None else None
        obj = _find(report.objects, key) if report is not None else None
        if obj is None:
            raise _RefusedError(404, f"target {name} has no object {key.display()}")
        since = (
            self.source.first_seen(name, key, obj.state)
            if obj.state is not DriftState.IN_SYNC
            else None
        )
        view = object_view(
            status.target,
            name,
            obj,
            report_run,
            since=since,
            now=self._clock(),
            links=self._links(),
        )
        events = self.source.events(name, key, TIMELINE_LIMIT)
        return {
            "title": f"{key.display()} · {name} · driftwatch",
            "obj": view,
            "timeline": timeline_view(events) if events is not None else None,
            "report_at": fmt_time(report_run.finished_at) if report_run else "",
        }

    # ------------------------------------------------------------------ helpers

    def _links(self) -> LinkSettings:
        server = self.source.config().server
        return LinkSettings(grafana_url=server.grafana_url, git_web=dict(server.git_web))

    def _status(self, name: str) -> TargetStatus:
        for status in self.source.statuses():
            if status.target.name == name:
                return status
        raise _RefusedError(404, f"no target {name[:64]!r}")

    def _page(self, template: str, data: dict[str, Any], context: dict[str, Any]) -> WebResponse:
        body = self.env.get_template(template).render(**data, **context).encode()
        return WebResponse(200, body, _page_headers())

    def _error(self, status: int, message: str) -> WebResponse:
        body = self.env.get_template("error.html").render(
            title=f"{status} · driftwatch", status=status, message=message, session=False
        )
        return WebResponse(status, body.encode(), _page_headers())

    def _login_form(self, next_path: str, *, status: int = 200, wrong: bool = False) -> WebResponse:
        body = self.env.get_template("login.html").render(
            title="Log in · driftwatch", next=next_path, wrong=wrong, session=False
        )
        return WebResponse(status, body.encode(), _page_headers())

    def _session(self, token: str | None, request: WebRequest) -> Session | None:
        if token is None:
            return None
        return self.sessions.check(token, _cookie(request.headers.get("cookie")))

    @staticmethod
    def _bearer_ok(token: str, request: WebRequest) -> bool:
        scheme, _, given = (request.headers.get("authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and token_matches(token, given)

    def _login(
        self,
        request: WebRequest,
        token: str | None,
        session: Session | None,
        query: Mapping[str, str],
    ) -> WebResponse:
        if request.method == "GET" or request.method == "HEAD":
            next_path = _local(query.get("next", "/"))
            if token is None or session is not None:
                return _redirect(next_path)
            return self._login_form(next_path)
        self._same_origin(request)
        form = _form(request.body)
        next_path = _local(form.get("next", "/"))
        if token is None:
            return _redirect(next_path)
        if not token_matches(token, form.get("token")):
            return self._login_form(next_path, status=401, wrong=True)
        cookie = _session_cookie(self.sessions.issue(token), self._secure(request))
        return _redirect(next_path, cookie=cookie)

    def _check_post(
        self, request: WebRequest, token: str | None, session: Session | None, bearer: bool
    ) -> None:
        self._same_origin(request)
        if bearer:
            return  # a browser never adds an Authorization header by itself: no CSRF
        if not self.sessions.csrf_ok(token, session, _form(request.body).get("csrf")):
            raise _RefusedError(403, "the form expired or came from another site: reload the page")

    def _refresh(self, request: WebRequest, token: str | None, name: str) -> WebResponse:
        if token is None and not is_loopback(request.client):
            raise _RefusedError(403, "refresh without a token is only accepted from loopback")
        self._status(name)
        if not self.source.refresh(name):
            raise _RefusedError(409, f"target {name[:64]!r} cannot run now")
        return _redirect(target_path(name) + "?refresh=requested")

    @staticmethod
    def _same_origin(request: WebRequest) -> None:
        origin = request.headers.get("origin")
        if origin is None:
            return
        host = request.headers.get("host", "")
        if urlsplit(origin).netloc != host:
            raise _RefusedError(403, "cross-origin form post refused")

    def _secure(self, request: WebRequest) -> bool:
        external = self._external_url() or ""
        forwarded = request.headers.get("x-forwarded-proto", "")
        return external.startswith("https://") or forwarded.lower() == "https"


def _page_headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": CSP,
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
    }


def _redirect(location: str, *, cookie: str | None = None) -> WebResponse:
    headers = {"Location": location}
    if cookie is not None:
        headers["Set-Cookie"] = cookie
    return WebResponse(303, b"", headers)


def _session_cookie(value: str, secure: bool) -> str:
    attrs = f"{COOKIE}={value}; Path=/; Max-Age={SESSION_SECONDS}; HttpOnly; SameSite=Lax"
    return attrs + ("; Secure" if secure else "")


def _clear_cookie() -> str:
    return f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"


def _cookie(header: str | None) -> str | None:
    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None else None


def _local(path: str) -> str:
    """``path`` if it stays on this server (``/x``), else ``/``: no open redirect."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > 2048:
        return "/"
    return path


def _query(text: str) -> dict[str, str]:
    try:
        parsed = parse_qs(text, keep_blank_values=True, max_num_fields=16, errors="strict")
    except ValueError as e:
        raise _RefusedError(400, "malformed query string") from e
    return {k: v[0] for k, v in parsed.items()}


def _form(body: bytes) -> dict[str, str]:
    try:
        parsed = parse_qs(body.decode(), keep_blank_values=True, max_num_fields=8, errors="strict")
    except ValueError as e:
        raise _RefusedError(400, "malformed form") from e
    return {k: v[0] for k, v in parsed.items()}


def _selector(filters: Mapping[str, str]) -> Callable[[ObjectDrift], bool]:
    kind = filters["kind"].lower()
    namespace = filters["namespace"]
    name = filters["name"].lower()
    state = filters["state"]

    def select(obj: ObjectDrift) -> bool:
        key = obj.key
        if state and obj.state.value != state:
            return False
        if namespace and key.namespace != namespace:
            return False
        if name and name not in key.name.lower():
            return False
        return not kind or kind in (key.kind.lower(), key.group_kind.display().lower())

    return select


def _find(objects: list[ObjectDrift], key: ResourceKey) -> ObjectDrift | None:
    for obj in objects:
        if obj.key == key:
            return obj
    return None
