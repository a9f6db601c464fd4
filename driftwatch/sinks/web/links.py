"""Links out of a drift page: the declaring file in the Git web UI, Grafana, the raw JSON.

Only URLs driftwatch builds itself from configuration and known URL forms are
links; a local repository path or an unknown host gives no link (the file name
is shown as text).  Every link is ``http(s)``, never ``javascript:`` or alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote, urlencode, urlsplit

from driftwatch.model import ResourceKey, SourceLocation
from driftwatch.sinks.alertmanager_payload import drift_url

FLAVOURS = ("github", "gitlab", "bitbucket", "gitea")
"""Git web UIs whose file-at-commit URL form driftwatch knows."""
TARGET_DASHBOARD = "d/driftwatch-target/driftwatch-target"
"""The target dashboard's path under Grafana's base URL (uid from dashboards/)."""

_SCP = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>[^/].*)$")


def repo_web_base(repo: str, flavours: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """(``https://host/owner/repo``, flavour) for a clone URL, or None (local or unknown host).

    ``flavours`` maps host names to a flavour for self-hosted servers whose
    name does not say which one they run (``git.acme.corp: gitea``).
    """
    repo = repo.strip()
    parts = urlsplit(repo)
    if parts.scheme in ("http", "https", "ssh", "git") and parts.hostname:
        host, path = parts.hostname, parts.path
        scheme = parts.scheme if parts.scheme in ("http", "https") else "https"
        port = f":{parts.port}" if parts.port and scheme == parts.scheme else ""
    else:
        scp = _SCP.match(repo) if not parts.scheme or len(parts.scheme) > 1 else None
        if scp is None or "://" in repo:
            return None
        host, path, scheme, port = scp["host"], "/" + scp["path"], "https", ""
    path = path.rstrip("/").removesuffix(".git")
    if not path.strip("/"):
        return None
    flavour = (flavours or {}).get(host) or next((f for f in FLAVOURS if f in host.lower()), None)
    if flavour is None and "codeberg" in host.lower():
        flavour = "gitea"
    if flavour is None:
        return None
    return f"{scheme}://{host}{port}{path}", flavour


def git_file_url(
    repo: str,
    sha: str,
    origin: SourceLocation,
    flavours: Mapping[str, str] | None = None,
) -> str | None:
    """The declaring file at commit ``sha`` (and line) in the Git web UI, or None."""
    base = repo_web_base(repo, flavours)
    if base is None or not sha or not origin.file:
        return None
    root, flavour = base
    file = quote(origin.file.lstrip("/"))
    line = origin.line
    if flavour == "github":
        url = f"{root}/blob/{sha}/{file}" + (f"#L{line}" if line else "")
    elif flavour == "gitlab":
        url = f"{root}/-/blob/{sha}/{file}" + (f"#L{line}" if line else "")
    elif flavour == "bitbucket":
        url = f"{root}/src/{sha}/{file}" + (f"#lines-{line}" if line else "")
    else:
        url = f"{root}/src/commit/{sha}/{file}" + (f"#L{line}" if line else "")
    return url


def grafana_target_url(grafana: str | None, target: str) -> str | None:
    """The Grafana target dashboard for ``target``, or None without a Grafana URL."""
    if not grafana or urlsplit(grafana).scheme not in ("http", "https"):
        return None
    return f"{grafana.rstrip('/')}/{TARGET_DASHBOARD}?{urlencode({'var-target': target})}"


def api_json_url(target: str, key: ResourceKey) -> str:
    """This object's entry in ``/api/v1/drift`` (a path on the same server)."""
    return drift_url("", target, key)


def api_events_url(target: str, key: ResourceKey) -> str:
    """This object's audit events in ``/api/v1/events`` (a path on the same server)."""
    query = urlencode({"target": target, "resource": key.display(), "limit": "1000"})
    return f"/api/v1/events?{query}"
