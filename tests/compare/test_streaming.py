"""Verdicts reached while the snapshot streams equal those of the whole comparison."""

from __future__ import annotations

import copy

import pytest

from driftwatch.compare import compare_target
from driftwatch.compare.engine import Judge
from driftwatch.compare.streaming import StreamingComparer, identity_only
from driftwatch.model import GroupKind, ReadState, TypeRead
from tests.compare.scenarios import Case, cases, desired_set, live_snapshot, shop_options

ALL = cases()
EXTRA = (GroupKind("", "ConfigMap"), GroupKind("", "Secret"), GroupKind("apps", "Deployment"))


@pytest.mark.parametrize("case", ALL, ids=[c.name for c in ALL])
def test_streamed_verdicts_give_the_same_report(case: Case) -> None:
    desired = desired_set()
    whole = compare_target(desired, live_snapshot(case.name, extra_kinds=EXTRA), shop_options())

    live = live_snapshot(case.name, extra_kinds=EXTRA)
    streaming = StreamingComparer(desired, Judge.build(shop_options(), {}))
    stubbed = 0
    for key, body in list(live.objects.items()):
        if streaming.offer(key, body):
            live.objects[key] = copy.deepcopy(body)
            identity_only(live.objects[key])
            stubbed += 1
    streamed = compare_target(desired, live, shop_options(), precomputed=streaming.verdicts)

    assert stubbed > 10  # most declared objects were compared as they streamed
    assert streamed.objects == whole.objects
    assert streamed.ignored_count == whole.ignored_count


def test_hpa_scaled_replicas_wait_for_every_hpa() -> None:
    streaming = StreamingComparer(desired_set(), Judge.build(shop_options(), {}))
    live = live_snapshot("hpa-scaled", extra_kinds=EXTRA)
    deployment = next(k for k in live.objects if k.kind == "Deployment" and k.name == "shop-api")
    assert not streaming.offer(deployment, live.objects[deployment])


def test_a_streamed_verdict_is_dropped_when_its_type_read_then_failed() -> None:
    desired = desired_set()
    live = live_snapshot("set-image", extra_kinds=EXTRA)
    streaming = StreamingComparer(desired, Judge.build(shop_options(), {}))
    for key, body in live.objects.items():
        streaming.offer(key, body)
    deploy = GroupKind("apps", "Deployment")
    live.types[deploy] = TypeRead(deploy, ReadState.FAILED, error="HTTP 500 on page 2")
    live.objects = {k: v for k, v in live.objects.items() if k.group_kind != deploy}
    report = compare_target(desired, live, shop_options(), precomputed=streaming.verdicts)
    states = {o.key.kind: o.state.value for o in report.objects if o.key.name == "shop-api"}
    assert states["Deployment"] == "unknown"
