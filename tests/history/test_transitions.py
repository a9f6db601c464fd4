"""Which events a run raises given earlier runs (pure: no files)."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from driftwatch.history import TargetHistory, Transition, TransitionType, transitions
from driftwatch.model import DriftState, GroupKind, SourceError
from driftwatch.run import RunStatus, TargetRun
from tests.history.builders import API, CONFIG, REV_B, STRAY, TARGET, image, obj, replicas, run

M, S, U = DriftState.MODIFIED, DriftState.IN_SYNC, DriftState.UNKNOWN


def replay(runs: Iterable[TargetRun]) -> tuple[TargetHistory, list[list[Transition]]]:
    history = TargetHistory(TARGET)
    per_run = []
    for r in runs:
        history, found = transitions(history, r, now=r.finished_at)
        per_run.append(found)
    return history, per_run


def types(found: list[Transition]) -> list[str]:
    return [t.type.value for t in found]


def test_drift_appearing_changing_and_resolving_raises_one_event_per_transition() -> None:
    history, per_run = replay(
        [
            run(obj(API, S), at=0),
            run(obj(API, M, replicas(3)), at=60),
            run(obj(API, M, replicas(3)), at=120),
            run(obj(API, M, replicas(5)), at=180),
            run(obj(API, M, replicas(5), image("evil:1")), at=240),
            run(obj(API, M, replicas(5), image("evil:1")), at=300),
            run(obj(API, S), at=360),
            run(obj(API, S), at=420),
        ]
    )
    assert [types(f) for f in per_run] == [
        [],
        ["drift.detected"],
        [],
        ["drift.changed"],
        ["drift.changed"],
        [],
        ["drift.resolved"],
        [],
    ]
    resolved = per_run[6][0]
    assert resolved.first_seen == 61.0
    assert resolved.duration == pytest.approx(360 + 1 - 61)
    assert resolved.previous_paths == (
        "spec.replicas",
        "spec.template.spec.containers[name=api].image",
    )
    entry = history.objects[API]
    assert entry.state is S and entry.resolved_at == 361.0 and history.first_seen(API) is None


def test_drift_age_runs_from_the_first_detection_not_from_the_last_change() -> None:
    history, per_run = replay(
        [
            run(obj(API, M, replicas(3)), at=100),
            run(obj(API, M, replicas(4)), at=400),
        ]
    )
    changed = per_run[1][0]
    assert changed.type is TransitionType.DRIFT_CHANGED
    assert changed.first_seen == 101.0 and changed.duration == pytest.approx(300)
    assert history.first_seen(API) == 101.0
    assert history.objects[API].last_change == 401.0


def test_a_new_manager_rewriting_the_same_value_is_not_a_change() -> None:
    _, per_run = replay(
        [
            run(obj(API, M, replicas(3, manager="kubectl")), at=0),
            run(obj(API, M, replicas(3, manager="kube-controller-manager")), at=60),
        ]
    )
    assert types(per_run[1]) == []


def test_missing_and_unmanaged_objects_are_announced_and_restored() -> None:
    _, per_run = replay(
        [
            run(obj(CONFIG, DriftState.MISSING), obj(STRAY, DriftState.UNMANAGED), at=0),
            run(obj(CONFIG, DriftState.MISSING), obj(STRAY, DriftState.UNMANAGED), at=60),
            # the ConfigMap was created again; the stray one was deleted (gone from the report)
            run(obj(CONFIG, S), at=120),
        ]
    )
    assert types(per_run[0]) == ["resource.missing", "resource.unmanaged"]
    assert types(per_run[1]) == []
    assert types(per_run[2]) == ["resource.restored", "resource.restored"]
    assert {t.previous_state for t in per_run[2]} == {DriftState.MISSING, DriftState.UNMANAGED}


def test_a_drifted_object_that_changes_kind_of_drift_keeps_its_drift_start() -> None:
    _, per_run = replay(
        [
            run(obj(API, M, replicas(3)), at=0),
            run(obj(API, DriftState.MISSING), at=60),
        ]
    )
    missing = per_run[1][0]
    assert missing.type is TransitionType.RESOURCE_MISSING
    assert missing.previous_state is M and missing.first_seen == 1.0


def test_unknown_objects_are_neither_raised_nor_resolved() -> None:
    history, per_run = replay(
        [
            run(obj(API, M, replicas(3)), at=0),
            run(obj(API, U), obj(CONFIG, U), at=60),
            run(obj(API, U), at=120),
            run(obj(API, M, replicas(3)), at=180),
        ]
    )
    assert [types(f) for f in per_run] == [["drift.detected"], [], [], []]
    assert history.first_seen(API) == 1.0
    assert CONFIG not in history.objects


def test_objects_of_a_type_that_could_not_be_read_keep_their_state() -> None:
    unreadable = {GroupKind("apps", "Deployment"): "403 forbidden"}
    history, per_run = replay(
        [
            run(obj(API, M, replicas(3)), obj(STRAY, DriftState.UNMANAGED), at=0),
            run(read_errors=unreadable, at=60),  # Deployments unread; the stray ConfigMap is gone
        ]
    )
    assert types(per_run[1]) == ["resource.restored"]
    assert per_run[1][0].key == STRAY
    assert history.objects[API].state is M


def test_objects_leaving_the_report_are_not_resolved_while_a_source_file_is_unreadable() -> None:
    broken = (SourceError("deploy.yaml", "mapping values are not allowed here", line=3),)
    history, per_run = replay(
        [
            run(obj(API, M, replicas(3)), at=0),
            run(source_errors=broken, at=60),
            run(at=120),
        ]
    )
    assert types(per_run[1]) == ["source.error"]
    assert types(per_run[2]) == ["source.recovered", "drift.resolved"]
    assert history.objects[API].state is S


def test_a_failed_run_changes_no_object_state_and_is_announced_once_until_recovery() -> None:
    failed = RunStatus.FAILED
    history, per_run = replay(
        [
            run(obj(API, M, replicas(3)), at=0),
            run(status=failed, at=60),
            run(status=failed, at=120),
            run(status=failed, at=180),
            run(obj(API, M, replicas(3)), at=240),
            run(obj(API, M, replicas(3)), at=300),
        ]
    )
    assert [types(f) for f in per_run] == [
        ["drift.detected"],
        ["run.failed"],
        [],
        [],
        ["run.recovered"],
        [],
    ]
    assert per_run[1][0].errors == ("cluster unreachable",)
    assert per_run[4][0].duration == pytest.approx(180)
    assert history.first_seen(API) == 1.0 and history.failing_since is None


def test_the_first_run_failing_is_announced() -> None:
    _, per_run = replay([run(status=RunStatus.FAILED, at=0)])
    assert types(per_run[0]) == ["run.failed"]


def test_a_new_git_revision_is_announced_once_and_the_first_one_is_not() -> None:
    _, per_run = replay(
        [
            run(at=0),
            run(at=60),
            run(at=120, revision=REV_B),
            run(at=180, revision=REV_B),
            run(at=240, revision=None),  # unknown revision: no change either way
            run(at=300, revision=REV_B),
        ]
    )
    assert [types(f) for f in per_run] == [[], [], ["git.revision_changed"], [], [], []]
    change = per_run[2][0]
    assert change.revision == REV_B and change.previous_revision is not None
    assert change.previous_revision.sha == "a" * 40


def test_source_errors_are_announced_when_new_or_changed_only() -> None:
    one = (SourceError("a.yaml", "bad indent", line=1),)
    two = (*one, SourceError("b.yaml", "unknown kind"))
    _, per_run = replay(
        [
            run(source_errors=one, at=0),
            run(source_errors=one, at=60),
            run(source_errors=two, at=120),
            run(at=180),
            run(at=240),
        ]
    )
    assert [types(f) for f in per_run] == [
        ["source.error"],
        [],
        ["source.error"],
        ["source.recovered"],
        [],
    ]
    assert per_run[2][0].errors == ("a.yaml:1: bad indent", "b.yaml: unknown kind")


def test_cluster_unreachable_is_announced_once_and_reachable_again_after() -> None:
    failed = RunStatus.FAILED
    _, per_run = replay(
        [
            run(at=0),
            run(status=failed, cluster_unreachable=True, at=60),
            run(status=failed, cluster_unreachable=True, at=120),
            run(at=180),
        ]
    )
    assert [types(f) for f in per_run] == [
        [],
        ["cluster.unreachable", "run.failed"],
        [],
        ["run.recovered", "cluster.reachable"],
    ]


def test_transitions_leaves_the_previous_history_untouched() -> None:
    history, _ = replay([run(obj(API, M, replicas(3)), at=0)])
    before = history.to_json()
    transitions(history, run(obj(API, S), at=60), now=61)
    assert history.to_json() == before


def test_resolved_objects_are_forgotten_after_the_keep_period() -> None:
    history, _ = replay([run(obj(API, M, replicas(3)), at=0), run(obj(API, S), at=60)])
    kept, _ = transitions(history, run(at=100), now=100, keep_resolved=1000)
    assert API in kept.objects
    gone, _ = transitions(history, run(at=5000), now=5000, keep_resolved=1000)
    assert API not in gone.objects


def test_a_history_of_another_target_is_refused() -> None:
    with pytest.raises(ValueError, match="shop"):
        transitions(TargetHistory("other"), run(at=0), now=0)
