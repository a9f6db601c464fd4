"""The recorded scenarios from a real kube-apiserver: zero false drift, every real change caught.

With the recorded server's OpenAPI documents, the three paths to a verdict — streamed
pages, the whole-target compare, watch mode's per-key compare — agree on every case.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from typing import Any

import pytest

from driftwatch.compare import compare_target
from driftwatch.compare.engine import Judge, KeyComparer
from driftwatch.compare.paths import from_dotted, parse
from driftwatch.compare.streaming import StreamingComparer, identity_only
from driftwatch.model import DriftState, GroupKind
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


def _report(case: Case):  # type: ignore[no-untyped-def]
    extra = (GroupKind("", "ConfigMap"), GroupKind("", "Secret"), GroupKind("apps", "Deployment"))
    return compare_target(
        desired_set(), live_snapshot(case.name, extra_kinds=extra), shop_options()
    )


@pytest.mark.parametrize("case", ALL, ids=[c.name for c in ALL])
def test_recorded_case_reports_exactly_the_expected_drift(case: Case) -> None:
    report = _report(case)
    expected = {key_from_expected(e): e for e in case.expected["drift"]}
    drifted = {o.key: o for o in report.drifted}
    assert set(drifted) == set(expected), [
        (o.key.display(), o.state.value, [f.path for f in o.fields]) for o in report.drifted
    ]
    for key, want in expected.items():
        got = drifted[key]
        assert got.state.value == want["state"]
        want_fields = {parse_path(f["path"]): f["manager"] for f in want["fields"]}
        got_fields = {parse(f.path): f.attribution.manager for f in got.fields}
        assert got_fields == want_fields
    assert not [o for o in report.objects if o.state is DriftState.UNKNOWN]


def parse_path(dotted: str):  # type: ignore[no-untyped-def]
    return from_dotted(dotted)


@pytest.mark.parametrize(
    "case",
    [c for c in ALL if "ignored" in c.expected],
    ids=[c.name for c in ALL if "ignored" in c.expected],
)
def test_recorded_case_ignores_what_a_correct_detector_ignores(case: Case) -> None:
    report = _report(case)
    by_key = {o.key: o for o in report.objects}
    for entry in case.expected["ignored"]:
        obj = by_key[key_from_expected(entry)]
        assert obj.state is DriftState.IN_SYNC
        ignored = {parse(i.path): i for i in obj.ignored}
        hit = ignored[from_dotted(entry["path"])]
        assert hit.attribution.manager == entry["manager"]
        assert hit.attribution.subresource == entry["subresource"]
    assert report.ignored_count >= len(case.expected["ignored"])


@pytest.mark.parametrize(
    "case",
    [c for c in ALL if c.expected.get("never_printed")],
    ids=[c.name for c in ALL if c.expected.get("never_printed")],
)
def test_secret_values_never_reach_the_report(case: Case) -> None:
    report = _report(case)
    text = json.dumps([repr(o) for o in report.objects])
    for secret in case.expected["never_printed"]:
        assert secret not in text
        import base64

        assert base64.b64encode(secret.encode()).decode() not in text


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
