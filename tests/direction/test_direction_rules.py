"""Where the direction rules answer ``unknown``: the pure core on recorded objects.

The live side is a recorded case; the desired side is the scenario's manifests
with one value changed, as a later commit would change it.  The history handed
to the core is plain data, as ``source.history`` would read it.
"""

from __future__ import annotations

import copy

from driftwatch.compare import compare_target
from driftwatch.compare.direction import assign
from driftwatch.compare.managers import ManagerRoles
from driftwatch.model import (
    DeclarationHistory,
    DesiredObject,
    DesiredSet,
    Direction,
    DriftState,
    GitRevision,
    LiveSnapshot,
    ResourceKey,
    TargetReport,
)
from driftwatch.redact import LAST_APPLIED
from tests.compare.scenarios import desired_set, live_snapshot, shop_options

API = ResourceKey("apps", "Deployment", "shop", "shop-api")
OLD = GitRevision("a" * 40, "", author="Ana", time="2026-11-29T09:00:00+00:00", subject="add")
NEW = GitRevision("b" * 40, "", author="Bo", time="2026-12-01T09:00:00+00:00", subject="scale")


def scaled_in_git(replicas: int = 3) -> tuple[DesiredSet, DeclarationHistory]:
    desired = desired_set()
    obj = desired.objects[API]
    body = copy.deepcopy(obj.body)
    body["spec"]["replicas"] = replicas
    desired.objects[API] = DesiredObject(API, obj.api_version, body, obj.origin)
    history = DeclarationHistory(((NEW, body), (OLD, obj.body)), complete=True)
    return desired, history


def decided(
    desired: DesiredSet, live: LiveSnapshot, histories: dict[ResourceKey, DeclarationHistory]
) -> TargetReport:
    report = compare_target(desired, live, shop_options())
    return assign(report, desired, live, ManagerRoles(), histories)


def api(report: TargetReport) -> tuple[Direction, list[Direction]]:
    obj = next(o for o in report.objects if o.key == API)
    return obj.direction, [f.direction for f in obj.fields]


def test_git_history_decides_and_names_the_commit() -> None:
    desired, history = scaled_in_git()
    report = decided(desired, live_snapshot("untouched-csa"), {API: history})
    assert api(report) == (Direction.GIT, [Direction.GIT])
    assert next(o for o in report.objects if o.key == API).git_commit == NEW


def test_without_git_history_the_applied_value_cannot_be_placed_so_unknown() -> None:
    desired, _ = scaled_in_git()
    for case in ("untouched-csa", "untouched-ssa"):
        assert api(decided(desired, live_snapshot(case), {})) == (
            Direction.UNKNOWN,
            [Direction.UNKNOWN],
        )


def test_a_hand_edit_is_cluster_even_without_git_history() -> None:
    desired, _ = scaled_in_git()
    assert api(decided(desired, live_snapshot("scale"), {})) == (
        Direction.CLUSTER,
        [Direction.CLUSTER],
    )


def test_an_update_applier_without_its_applied_record_is_unknown() -> None:
    # Helm 3 and other Update appliers keep no last-applied record: the untouched
    # client-side case without its annotation is what such an applier leaves.
    desired, history = scaled_in_git()
    live = live_snapshot("untouched-csa")
    annotations = live.objects[API]["metadata"]["annotations"]
    live.objects[API]["metadata"]["annotations"] = {
        k: v for k, v in annotations.items() if k != LAST_APPLIED
    }
    assert api(decided(desired, live, {API: history})) == (Direction.UNKNOWN, [Direction.UNKNOWN])


def test_a_missing_object_whose_declaration_is_older_than_the_history_read_is_unknown() -> None:
    desired = desired_set()
    live = live_snapshot("delete-cm")
    key = ResourceKey("", "ConfigMap", "shop", "shop-config")
    body = desired.objects[key].body
    cut = DeclarationHistory(((NEW, body),), complete=False)  # bound hit after a newer commit
    report = decided(desired, live, {key: cut})
    obj = next(o for o in report.objects if o.key == key)
    assert (obj.state, obj.direction) == (DriftState.MISSING, Direction.UNKNOWN)
    whole = DeclarationHistory(((NEW, body), (OLD, body)), complete=True)
    obj = next(o for o in decided(desired, live, {key: whole}).objects if o.key == key)
    assert obj.direction is Direction.CLUSTER


def test_an_applied_value_older_than_the_history_read_is_unknown_not_cluster() -> None:
    desired, _ = scaled_in_git()
    body = desired.objects[API].body
    # the bound was hit: 2 (what the applier applied) may be declared further back
    cut = DeclarationHistory(
        ((NEW, body), (OLD, {**body, "spec": {**body["spec"], "replicas": 7}})), complete=False
    )
    report = decided(desired, live_snapshot("untouched-csa"), {API: cut})
    assert api(report) == (Direction.UNKNOWN, [Direction.UNKNOWN])
    whole = DeclarationHistory(cut.versions, complete=True)  # no commit ever declared 2
    assert api(decided(desired, live_snapshot("untouched-csa"), {API: whole})) == (
        Direction.CLUSTER,
        [Direction.CLUSTER],
    )
