"""Seeding the test server from the recorded scenarios (and bulk objects derived from them)."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterator
from typing import Any

from .recordings import RECORDED
from .store import Store


@functools.cache
def _scenario_bytes(scenario: str) -> bytes:
    name, _, case = scenario.partition("/")
    if not case:
        raise ValueError(
            f"scenario must be '<scenario>/<case>', e.g. shop/untouched-csa: {scenario!r}"
        )
    path = RECORDED / "scenarios" / name / "cases" / case / "live.json"
    if not path.is_file():
        raise ValueError(f"no recorded scenario case {scenario!r} ({path})")
    return path.read_bytes()


def load_scenario(scenario: str) -> list[dict[str, Any]]:
    """The recorded live objects of ``<scenario>/<case>`` (fresh copies)."""
    items: list[dict[str, Any]] = json.loads(_scenario_bytes(scenario))["items"]
    return items


def store_for_scenario(scenario: str | None = "shop/untouched-csa") -> Store:
    """A store holding a recorded case's live objects (None: an empty store)."""
    store = Store()
    if scenario:
        store.seed(load_scenario(scenario))
    return store


def synthetic_config_maps(
    count: int,
    namespaces: tuple[str, ...] = ("bench",),
    template_scenario: str = "shop/untouched-csa",
    labels: dict[str, str] | None = None,
) -> Iterator[dict[str, Any]]:
    """``count`` ConfigMaps cloned from a recorded one (names, uids, resourceVersions changed).

    For benchmarks: every field is as the real server returned it for the
    template; only identity differs.
    """
    template = next(
        i
        for i in load_scenario(template_scenario)
        if i["kind"] == "ConfigMap"
        and i["metadata"].get("namespace") == "shop"
        and "kube-root-ca" not in i["metadata"]["name"]
    )
    base_meta = {k: v for k, v in template["metadata"].items() if k != "annotations"}
    if labels is not None:
        base_meta["labels"] = dict(labels)
    for index in range(count):
        # shallow copies: the store never mutates what it is given, only re-serializes it
        meta = {
            **base_meta,
            "name": f"{base_meta['name']}-{index:06d}",
            "namespace": namespaces[index % len(namespaces)],
            "uid": str(uuid.UUID(int=index + 1)),
            "resourceVersion": str(100000 + index),
        }
        yield {**template, "metadata": meta}
