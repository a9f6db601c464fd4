"""Routing and answers for GET requests: version, discovery, OpenAPI, get, list, watch."""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
from typing import TYPE_CHECKING, Any

from . import recordings
from .recordings import TypeDef
from .selectors import SelectorError, field_matcher, label_matcher
from .store import Store, Stored, _dumps

if TYPE_CHECKING:
    from .server import KubeApiServer, _Handler

_NOT_FOUND_PAGE = b"404 page not found\n"
_EXPIRED_MESSAGE = (
    "The provided continue parameter is too old to display a consistent list result. You can start "
    "a new list without the continue parameter, or use the continue token in this response to "
    "retrieve the remainder of the results. Continuing with the provided token results in an "
    "inconsistent list - objects that were created, modified, or deleted between the time the "
    "first chunk was returned and now may show up in the list."
)


def status_body(
    code: int,
    reason: str,
    message: str,
    details: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> bytes:
    """A ``Status`` object as bytes."""
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "code": code,
        "kind": "Status",
        "message": message,
        "metadata": metadata or {},
        "reason": reason,
        "status": "Failure",
    }
    if details:
        body["details"] = details
    return _dumps(body)


def encode_continue(rv: int, start: tuple[str, str]) -> str:
    """An opaque continue token like kube-apiserver's (base64url JSON, unpadded)."""
    key = f"{start[0]}/{start[1]}\u0000" if start[0] else f"{start[1]}\u0000"
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": key}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, tuple[str, str]]:
    """(rv, last key) from a token; ValueError with the server's wording when malformed."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        rv, start = int(data["rv"]), str(data["start"]).rstrip("\u0000")
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(
            "invalid continue token: continue key is not valid: "
            f"illegal base64 data at input byte {len(token) // 2}"
        ) from e
    namespace, _, name = start.rpartition("/")
    return rv, (namespace, name)


def expired_continue(token: str) -> bytes:
    """The 410 Expired answer to an old continue token (with a fresh, inconsistent one)."""
    try:
        _rv, start = decode_continue(token)
        fresh = encode_continue(-1, start)
    except ValueError:
        fresh = ""
    return status_body(
        410, "Expired", _EXPIRED_MESSAGE, metadata={"continue": fresh} if fresh else {}
    )


def _with_version(stored: Stored, td: TypeDef, version: str, *, full: bool, custom: bool) -> bytes:
    api_version = f"{td.group}/{version}" if td.group else version
    if stored.body.get("apiVersion") == api_version:
        return stored.full if full else stored.item
    if not full and not custom:
        return stored.item
    return _dumps({**stored.body, "apiVersion": api_version})


class ResourceHandler:
    """Serves one GET request."""

    def __init__(
        self, http: _Handler, api: KubeApiServer, path: str, query: dict[str, str]
    ) -> None:
        self.http = http
        self.api = api
        self.store: Store = api.store
        self.path = path.rstrip("/") or "/"
        self.query = query

    def serve(self) -> None:
        """Route the request."""
        path = self.path
        if path == "/version":
            self._recorded("version.json")
        elif path == "/api":
            self._recorded("discovery/api.json")
        elif path == "/apis":
            self._apis()
        elif path == "/openapi/v3" or path.startswith("/openapi/v3/"):
            self._openapi(path.removeprefix("/openapi/v3").strip("/"))
        elif path.startswith("/api/"):
            parts = path.split("/")[2:]
            self._resource("", parts[0], parts[1:])
        elif path.startswith("/apis/"):
            parts = path.split("/")[2:]
            if len(parts) < 2:
                self._not_found_page()
            else:
                self._resource(parts[0], parts[1], parts[2:])
        else:
            self._not_found_page()

    # -------------------------------------------------------------- documents

    def _not_found_page(self) -> None:
        self.http.send_bytes(404, _NOT_FOUND_PAGE, "text/plain; charset=utf-8")

    def _recorded(self, relative: str) -> None:
        self.http.send_bytes(200, recordings.read_bytes(relative), cut=self.http.cut)

    def _apis(self) -> None:
        if not self.store.hidden_groups:
            self._recorded("discovery/apis.json")
            return
        doc = dict(recordings.read_json("discovery/apis.json"))
        doc["groups"] = [g for g in doc["groups"] if g["name"] not in self.store.hidden_groups]
        self.http.send_bytes(200, _dumps(doc))

    def _openapi(self, sub: str) -> None:
        group = sub.split("/")[1] if sub.startswith("apis/") and sub.count("/") >= 1 else None
        relative = recordings.openapi_file(sub)
        replaced = self.store.openapi_documents
        if relative is None or (group in self.store.hidden_groups):
            self._not_found_page()
            return
        if sub in replaced:
            self.http.send_bytes(200, replaced[sub])
            return
        if not sub and (self.store.hidden_groups or replaced):
            doc = recordings.read_json(relative)
            paths = {
                k: v
                for k, v in doc["paths"].items()
                if not (k.startswith("apis/") and k.split("/")[1] in self.store.hidden_groups)
            }
            for key, body in replaced.items():
                digest = hashlib.sha512(body).hexdigest().upper()
                paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"}
            self.http.send_bytes(200, _dumps({"paths": paths}))
            return
        self._recorded(relative)

    # -------------------------------------------------------------- resources

    def _resource(self, group: str, version: str, rest: list[str]) -> None:
        if not rest:
            doc = recordings.discovery_doc(group, version)
            if doc is None or group in self.store.hidden_groups:
                self._not_found_page()
            else:
                self._recorded(
                    "discovery/api/v1.json"
                    if not group
                    else f"discovery/apis/{group}/{version}.json"
                )
            return
        namespace = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        td = self.store.served(group, version, rest[0])
        if td is None or len(rest) > 2 or (namespace is not None and not td.namespaced):
            self._not_found_page()
            return
        if len(rest) == 2:
            self._get(td, version, namespace or "", rest[1])
        elif self.query.get("watch") in ("1", "true", "True"):
            from .watch import serve_watch

            serve_watch(self, td, version, namespace)
        else:
            self._list(td, version, namespace)

    def _get(self, td: TypeDef, version: str, namespace: str, name: str) -> None:
        with self.store.lock:
            bucket = self.store.bucket((td.group, td.plural))
            stored = bucket.objects.get((namespace, name)) if bucket else None
            body = (
                None
                if stored is None
                else _with_version(stored, td, version, full=True, custom=True)
            )
        if body is None:
            what = f"{td.plural}.{td.group}" if td.group else td.plural
            details: dict[str, Any] = {"kind": td.plural, "name": name}
            if td.group:
                details["group"] = td.group
            self.http.send_status(404, "NotFound", f'{what} "{name}" not found', details=details)
            return
        self.http.send_bytes(200, body, cut=self.http.cut)

    def matchers(self) -> tuple[Any, Any] | None:
        """The request's label and field selectors, or None after answering 400."""
        try:
            return (
                label_matcher(self.query.get("labelSelector")),
                field_matcher(self.query.get("fieldSelector")),
            )
        except SelectorError as e:
            self.http.send_status(400, "BadRequest", str(e))
            return None

    def _list(self, td: TypeDef, version: str, namespace: str | None) -> None:
        matchers = self.matchers()
        if matchers is None:
            return
        labels, fields = matchers
        try:
            limit = max(0, int(self.query.get("limit") or 0))
        except ValueError:
            self.http.send_status(400, "BadRequest", "limit must be an integer")
            return
        token = self.query.get("continue")
        start: tuple[str, str] | None = None
        typeid = (td.group, td.plural)
        custom = self.store.is_custom(typeid)
        with self.store.lock:
            list_rv = self.store.resource_version
            if token:
                try:
                    list_rv, start = decode_continue(token)
                except ValueError as e:
                    self.http.send_status(400, "BadRequest", str(e))
                    return
                if list_rv < self.store.compacted:
                    self.http.send_bytes(410, expired_continue(token))
                    return
            bucket = self.store.bucket(typeid)
            keys = bucket.keys if bucket else []
            lo, hi = 0, len(keys)
            if namespace is not None:
                lo = bisect.bisect_left(keys, (namespace, ""))
                hi = bisect.bisect_left(keys, (namespace + "\u0000", ""))
            if start is not None:
                lo = max(lo, bisect.bisect_right(keys, start))
            items: list[bytes] = []
            index = lo
            while index < hi and (not limit or len(items) < limit):
                stored = bucket.objects[keys[index]] if bucket else None
                index += 1
                if (
                    stored is None
                    or (labels and not labels(stored.labels))
                    or (fields and not fields(stored.meta))
                ):
                    continue
                items.append(_with_version(stored, td, version, full=False, custom=custom))
            metadata: dict[str, Any] = {}
            if limit and index < hi:
                metadata["continue"] = encode_continue(list_rv, keys[index - 1])
                if not labels and not fields:
                    metadata["remainingItemCount"] = hi - index
        metadata["resourceVersion"] = str(list_rv)
        api_version = f"{td.group}/{version}" if td.group else version
        head = _dumps({"apiVersion": api_version, "kind": f"{td.kind}List", "metadata": metadata})
        body = head[:-1] + b',"items":[' + b",".join(items) + b"]}"
        self.http.send_bytes(200, body, cut=self.http.cut)
