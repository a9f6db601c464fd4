"""On every recorded case, with the recorded server's OpenAPI documents, the three paths to a
verdict — streamed pages, the whole-target compare, watch mode's per-key compare — agree,
and the report is the one a correct detector gives."""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from typing import Any

import pytest

from driftwatch.compare import compare_target
from driftwatch.compare.engine import Judge, KeyComparer
from driftwatch.compare.streaming import StreamingComparer, identity_only
from driftwatch.model import GroupKind
from tests.compare.scenarios import (
    RECORDED,
    Case,
    cases,
    desired_set,
    key_from_expected,
    live_snapshot,
    shop_options,
)

ALL = cases()
EXTRA = (GroupKind("", "ConfigMap"), GroupKind("", "Secret"), GroupKind("apps", "Deployment"))


@lru_cache(maxsize=1)
def recorded_openapi() -> dict[str, Any]:
    """Every group-version document the recorded server served, by index path."""
    root = RECORDED / "server" / "openapi" / "v3"
    return {
        path.relative_to(root).with_suffix("").as_posix(): json.loads(path.read_text())
        for path in sorted(root.rglob("*.json"))
        if path.name != "index.json" and path.relative_to(root).as_posix().startswith("api")
    }


@pytest.mark.parametrize("case", ALL, ids=[c.name for c in ALL])
def test_streamed_whole_and_keyed_verdicts_agree_under_the_recorded_openapi(case: Case) -> None:
    desired = desired_set()
    judge = Judge.build(shop_options(), recorded_openapi())
    live = live_snapshot(case.name, extra_kinds=EXTRA)
    live.openapi = recorded_openapi()
    whole = compare_target(desired, live, shop_options(), judge=judge)

    streamed_live = live_snapshot(case.name, extra_kinds=EXTRA)
    streaming = StreamingComparer(desired, judge)
    for key, body in list(streamed_live.objects.items()):
        if streaming.offer(key, body):
            streamed_live.objects[key] = copy.deepcopy(body)
            identity_only(streamed_live.objects[key])
    streamed = compare_target(
        desired, streamed_live, shop_options(), precomputed=streaming.verdicts, judge=judge
    )
    keyed = KeyComparer(judge).compare(desired, live, [o.key for o in whole.objects])

    assert streamed.objects == whole.objects
    assert keyed == whole.objects
    expected = {key_from_expected(e): e["state"] for e in case.expected["drift"]}
    assert {o.key: o.state.value for o in whole.drifted} == expected
