"""Watch updates give the same verdicts as a full compare (recorded scenarios of a real cluster).

A watch update re-compares only the objects that changed and patches the previous
report; these tests hold it to the full compare for every recorded change.
"""

from __future__ import annotations

import pytest

from driftwatch.compare import compare_target
from driftwatch.compare.engine import compare_keys
from driftwatch.model import GroupKind, LiveSnapshot, ResourceKey
from driftwatch.service.watch_report import Change, apply_changes, patch_report
from tests.compare.scenarios import Case, cases, desired_set, live_snapshot, shop_options

ALL = cases()
EXTRA = (GroupKind("", "ConfigMap"), GroupKind("", "Secret"), GroupKind("apps", "Deployment"))


def _changes(before: LiveSnapshot, after: LiveSnapshot) -> dict[ResourceKey, Change]:
    """What a watch would have delivered between two snapshots (latest change per object)."""
    changes = {}
    for key in before.objects.keys() | after.objects.keys():
        old, new = before.objects.get(key), after.objects.get(key)
        if old != new:
            changes[key] = Change(new, "")
    return changes


@pytest.mark.parametrize("case", ALL, ids=[c.name for c in ALL])
def test_compare_keys_gives_every_object_the_verdict_of_the_full_compare(case: Case) -> None:
    desired, live = desired_set(), live_snapshot(case.name, extra_kinds=EXTRA)
    full = compare_target(desired, live, shop_options())
    keys = set(desired.objects) | set(live.objects)
    assert compare_keys(desired, live, shop_options(), keys) == full.objects


@pytest.mark.parametrize("case", ALL, ids=[c.name for c in ALL])
def test_a_patched_report_equals_the_full_compare_after_the_change(case: Case) -> None:
    desired = desired_set()
    base_live = live_snapshot("untouched-csa", extra_kinds=EXTRA)
    base = compare_target(desired, base_live, shop_options())
    target = live_snapshot(case.name, extra_kinds=EXTRA)
    expected = compare_target(desired, target, shop_options())

    touched = apply_changes(base_live, _changes(base_live, target))
    verdicts = compare_keys(desired, base_live, shop_options(), touched)
    patched = patch_report(base, touched, verdicts)

    if expected.objects == base.objects:
        assert patched is None  # nothing changed: nothing to emit
    else:
        assert patched is not None
        assert patched.objects == expected.objects
        assert patched.ignored_count == expected.ignored_count
        assert patched.revision == base.revision


def test_an_autoscaler_change_re_compares_the_object_it_scales() -> None:
    live = live_snapshot("untouched-csa", extra_kinds=EXTRA)
    hpa_key = next(k for k in live.objects if k.kind == "HorizontalPodAutoscaler")
    hpa = live.objects[hpa_key]
    ref = hpa["spec"]["scaleTargetRef"]
    scaled = ResourceKey("apps", ref["kind"], hpa_key.namespace, ref["name"])

    touched = apply_changes(live, {hpa_key: Change(None, "")})

    assert touched == {hpa_key, scaled}
    assert hpa_key not in live.objects


def test_a_replayed_older_event_does_not_overwrite_a_newer_object() -> None:
    live = live_snapshot("untouched-csa", extra_kinds=EXTRA)
    key = next(k for k in live.objects if k.kind == "ConfigMap")
    held = live.objects[key]
    version = int(held["metadata"]["resourceVersion"])

    touched = apply_changes(live, {key: Change(None, str(version - 1))})

    assert touched == set()
    assert live.objects[key] is held
