"""Who created a live object and who changed it last, read from its recorded ``managedFields``."""

from __future__ import annotations

from driftwatch.compare import compare_target
from driftwatch.compare.managed import creator_and_last, parse_entries
from driftwatch.model import DriftState, ResourceKey
from tests.compare.scenarios import desired_set, live_snapshot, shop_options


def test_the_stray_object_was_created_by_kubectl_create_and_labelled_last() -> None:
    report = compare_target(desired_set(), live_snapshot("stray"), shop_options())
    [stray] = [o for o in report.objects if o.state is DriftState.UNMANAGED]
    assert stray.created_by is not None and stray.changed_by is not None
    assert stray.created_by.described() == "kubectl-create (Update) at 2026-11-30T04:32:50Z"
    assert stray.changed_by.described() == "kubectl-label (Update) at 2026-11-30T04:32:50Z"
    assert stray.attribution == stray.created_by


def test_a_write_without_a_time_is_the_last_change_with_time_unknown() -> None:
    # The recorded `kubectl scale` leaves an entry without a time (scale subresource).
    live = live_snapshot("scale")
    body = live.objects[ResourceKey("apps", "Deployment", "shop", "shop-api")]
    created, last = creator_and_last(parse_entries(body["metadata"]))
    assert created.described() == "kubectl-client-side-apply (Update) at 2026-11-30T04:30:52Z"
    assert last.described() == "kubectl (Update/scale), time unknown"
