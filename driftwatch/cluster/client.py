"""The one door to the cluster: a client that can only get, list and watch.

Every byte driftwatch reads from Kubernetes goes through ``ReadOnlyClient``.  It
offers no write method, refuses the usual write names with ``ReadOnlyViolation``,
and also guards the ``kubernetes`` ApiClient underneath it (``call_api``, the REST
client and the urllib3 pool), so even code that reaches past the wrapper cannot
send anything but GET.  Bodies are read raw (no model deserialization) and parsed
with ``json.loads`` on bytes, the fastest path the client library allows.

Each request is counted by (verb, HTTP status code) for
``driftwatch_kubernetes_api_requests_total``; a request that got no HTTP answer
counts with code ``error``.  A client given a ``Deadline`` (one cluster read of a
run) caps every request's timeouts at the time left and stops reading a body
that is still arriving when it passes.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

import urllib3
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from driftwatch.cluster.api_errors import ApiRequestError, describe, is_unreachable, status_error
from driftwatch.cluster.deadline import Deadline
from driftwatch.errors import ReadOnlyViolation, truncate

Query = Mapping[str, str | int | bool]

WRITE_NAMES = frozenset(
    {
        "create",
        "update",
        "replace",
        "patch",
        "apply",
        "delete",
        "delete_collection",
        "post",
        "put",
        "request",
        "call_api",
    }
)


def _refuse(method: object, where: str) -> ReadOnlyViolation:
    return ReadOnlyViolation(
        f"refused to send {str(method).upper()} {truncate(where, 120)}: driftwatch only reads "
        "(get, list, watch) from clusters"
    )


def guard_api_client(api: ApiClient) -> None:
    """Make ``api`` raise ``ReadOnlyViolation`` for any method but GET, at every layer."""
    if getattr(api, "_driftwatch_guarded", False):
        return

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            if str(method).upper() != "GET":
                raise _refuse(method, str(url).split("?", 1)[0])
            return original(method, url, *args, **kwargs)

        return guarded

    rest = api.rest_client
    pool = rest.pool_manager
    for owner, name in ((api, "call_api"), (rest, "request"), (pool, "request"), (pool, "urlopen")):
        setattr(owner, name, wrap(getattr(owner, name)))
    setattr(api, "_driftwatch_guarded", True)  # noqa: B010


class ReadOnlyClient:
    """get / list / watch against one cluster, nothing else."""

    def __init__(
        self, api: ApiClient, *, timeout: float = 30.0, deadline: Deadline | None = None
    ) -> None:
        guard_api_client(api)
        self._api = api
        self.timeout = timeout
        self.deadline = deadline
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- plumbing

    @property
    def api_client(self) -> ApiClient:
        """The guarded ``kubernetes`` ApiClient (for code that needs the library's models)."""
        return self._api

    @property
    def host(self) -> str:
        """The API server URL (never carries credentials)."""
        return str(self._api.configuration.host)

    def __getattr__(self, name: str) -> Any:
        if name in WRITE_NAMES or name.startswith(("create_", "delete_", "patch_", "replace_")):
            raise _refuse(name, "via ReadOnlyClient")
        raise AttributeError(name)

    def request_counts(self) -> Counter[tuple[str, str]]:
        """Requests made so far by (verb, code) — a copy."""
        with self._lock:
            return Counter(self._counts)

    def _count(self, verb: str, code: str) -> None:
        with self._lock:
            self._counts[(verb, code)] += 1

    def close(self) -> None:
        """Release connections."""
        cast(Any, self._api).close()

    def __enter__(self) -> ReadOnlyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(
        self, verb: str, path: str, query: Query | None, timeout: float | tuple[float, float | None]
    ) -> urllib3.BaseHTTPResponse:
        deadline = self.deadline
        if deadline is not None:
            if deadline.expired:
                raise deadline.exceeded(f"GET {path}")
            if isinstance(timeout, tuple):
                connect, read = timeout
                timeout = (deadline.cap(connect), deadline.cap(read if read else self.timeout))
            else:
                timeout = deadline.cap(timeout)
        params = [
            (k, str(v).lower() if isinstance(v, bool) else str(v)) for k, v in (query or {}).items()
        ]
        method, url, headers, body, post = self._api.param_serialize(
            "GET",
            path,
            query_params=params,
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
        )
        try:
            response = self._api.call_api(
                method,
                url,
                header_params=headers,
                body=body,
                post_params=post,
                _request_timeout=timeout,
            )
        except ReadOnlyViolation:
            raise
        except (urllib3.exceptions.HTTPError, OSError, ApiException) as e:
            self._count(verb, "error")
            if deadline is not None and deadline.expired:
                raise deadline.exceeded(f"GET {path}", describe(e)) from e
            error = ApiRequestError(f"GET {path}: no answer from {self.host}: {describe(e)}")
            error.final = is_unreachable(e)
            raise self._timed(error) from e
        raw: urllib3.BaseHTTPResponse = response.response
        self._count(verb, str(raw.status))
        if 200 <= raw.status < 300:
            return raw
        data = self._read(raw, path)
        raise self._timed(status_error(path, raw.status, data, raw.headers))

    def _timed(self, error: ApiRequestError) -> ApiRequestError:
        """``error`` with the time left before the deadline (the retry policy waits no longer)."""
        if self.deadline is not None:
            error.time_left = self.deadline.remaining()
        return error

    def _read(self, raw: urllib3.BaseHTTPResponse, path: str) -> bytes:
        try:
            if self.deadline is None:
                return raw.read()
            return self._read_until(raw, path, self.deadline)
        except (urllib3.exceptions.HTTPError, OSError) as e:
            if self.deadline is not None and self.deadline.expired:
                raise self.deadline.exceeded(f"GET {path}", describe(e)) from e
            raise self._timed(
                ApiRequestError(f"GET {path}: connection broken while reading: {describe(e)}")
            ) from e
        finally:
            raw.release_conn()

    @staticmethod
    def _read_until(raw: urllib3.BaseHTTPResponse, path: str, deadline: Deadline) -> bytes:
        """The body, read as it arrives, given up when the deadline passes (a trickle included)."""
        chunks: list[bytes] = []
        while True:
            if deadline.expired:
                raw.close()
                raise deadline.exceeded(f"GET {path}", "the answer was still arriving")
            chunk = raw.read1(1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)

    # ---------------------------------------------------------------- verbs

    def get_bytes(self, path: str, query: Query | None = None, *, verb: str = "get") -> bytes:
        """The raw body of a GET (an object, a discovery or OpenAPI document)."""
        raw = self._send(verb, path, query, (self.timeout, self.timeout))
        return self._read(raw, path)

    def get(self, path: str, query: Query | None = None) -> dict[str, Any]:
        """GET a JSON document."""
        return _parse(self.get_bytes(path, query), path)

    def list(self, path: str, query: Query | None = None) -> dict[str, Any]:
        """One page of a collection (``limit``/``continue``/selectors in ``query``)."""
        return _parse(self.get_bytes(path, query, verb="list"), path)

    def watch(
        self, path: str, query: Query | None = None, *, timeout_seconds: int = 300
    ) -> Iterator[dict[str, Any]]:
        """Stream watch events (``{"type", "object"}`` dicts) until the server ends the watch."""
        params: dict[str, str | int | bool] = dict(query or {})
        params.update(watch="true", timeoutSeconds=int(timeout_seconds))
        raw = self._send("watch", path, params, (self.timeout, timeout_seconds + self.timeout))
        buffer = b""
        try:
            for chunk in raw.stream(amt=None, decode_content=True):
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if line.strip():
                        yield _parse(line, path)
            if buffer.strip():
                yield _parse(buffer, path)
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise ApiRequestError(f"watch {path}: stream broken: {describe(e)}") from e
        finally:
            raw.release_conn()
            raw.close()


def _parse(data: bytes, path: str) -> dict[str, Any]:
    try:
        parsed = json.loads(data)
    except ValueError as e:
        raise ApiRequestError(f"GET {path}: the answer is not JSON ({truncate(str(e), 80)})") from e
    if not isinstance(parsed, dict):
        raise ApiRequestError(f"GET {path}: the answer is not a JSON object")
    return parsed
