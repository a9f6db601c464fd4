"""Running PromQL on a real Prometheus through its HTTP API (/api/v1/query)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


def query(prom_url: str, expr: str) -> dict[str, Any]:
    """The JSON answer of an instant query, errors included (never raises on HTTP 4xx)."""
    url = f"{prom_url}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            answer: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as e:
        answer = json.loads(e.read() or b"{}")
        answer.setdefault("status", "error")
        answer.setdefault("error", f"HTTP {e.code}")
    return answer


def query_errors(prom_url: str, expressions: list[tuple[str, str]]) -> list[str]:
    """``where: error`` for each expression Prometheus refuses (or warns about)."""
    problems = []
    for where, expr in expressions:
        answer = query(prom_url, expr)
        if answer.get("status") != "success":
            problems.append(f"{where}: {answer.get('error')} in {expr!r}")
        for warning in answer.get("warnings", []):
            problems.append(f"{where}: warning {warning} in {expr!r}")
    return problems


def alerts(prom_url: str) -> list[dict[str, Any]]:
    """Prometheus's active alerts (pending and firing)."""
    with urllib.request.urlopen(f"{prom_url}/api/v1/alerts", timeout=10) as response:
        found: list[dict[str, Any]] = json.loads(response.read())["data"]["alerts"]
        return found


def rule_health(prom_url: str) -> dict[str, str]:
    """``rule name -> health`` (``ok``, ``err: ...``, ``unknown``) of every loaded rule."""
    with urllib.request.urlopen(f"{prom_url}/api/v1/rules", timeout=10) as response:
        groups = json.loads(response.read())["data"]["groups"]
    out = {}
    for group in groups:
        for rule in group["rules"]:
            health = rule.get("health", "unknown")
            if rule.get("lastError"):
                health = f"{health}: {rule['lastError']}"
            out[rule["name"]] = health
    return out
