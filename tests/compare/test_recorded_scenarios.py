"""The recorded scenarios from a real kube-apiserver: zero false drift, every real change caught."""

from __future__ import annotations

import json

import pytest

from driftwatch.compare import compare_target
from driftwatch.compare.paths import from_dotted, parse
from driftwatch.model import DriftState, GroupKind
from tests.compare.scenarios import (
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
