"""One cluster cache for many targets: each type listed once per refresh, each target its slice.

Real Git repositories, the real pipeline and the Kubernetes API test server seeded
with the recorded shop case; the targets are slices of the recorded shop manifests.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from driftwatch.config.model import Config
from driftwatch.model import DriftState, GroupKind, ObjectDrift
from driftwatch.pipeline import Pipeline
from driftwatch.run import RunStatus, TargetRun
from tests.kubeapi import KubeApiServer, load_scenario
from tests.kubeapi.fixtures import kubeconfig_for
from tests.watch.helpers import SLICES, sliced_config, sliced_repo

if shutil.which("git") is None:  # pragma: no cover - CI installs git
    pytest.skip("git is not installed", allow_module_level=True)


def _config(repo: Path, kubeconfig: Path, names: list[str], **cluster: Any) -> Config:
    return Config.model_validate(sliced_config(repo, kubeconfig, names, **cluster))


def _lists(server: KubeApiServer) -> list[str]:
    """Collection paths listed (watches and single gets left out)."""
    return [
        r.path
        for r in server.requests
        if "limit" in r.query and "watch" not in r.query and r.method == "GET"
    ]


def _verdicts(run: TargetRun) -> list[tuple[str, str, list[str]]]:
    assert run.report is not None, run.error
    return [(o.key.display(), o.state.value, _paths(o)) for o in run.report.objects]


def _paths(obj: ObjectDrift) -> list[str]:
    return sorted(f.path for f in obj.fields)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return sliced_repo(tmp_path / "gitops")


def _pipeline(config: Config, tmp: Path, label: str) -> Pipeline:
    return Pipeline(config, state_dir=tmp / f"state-{label}", cache_dir=tmp / f"cache-{label}")


def test_many_targets_list_each_type_once_and_each_sees_what_it_would_see_alone(
    kube_api: KubeApiServer, repo: Path, tmp_path: Path
) -> None:
    kubeconfig = kubeconfig_for(kube_api, tmp_path / "kubeconfig")
    names = list(SLICES)
    shared = _pipeline(_config(repo, kubeconfig, names, listMaxAge="10m"), tmp_path, "shared")
    kube_api.clear_requests()

    runs = {name: shared.run(name) for name in names}

    lists = _lists(kube_api)
    kinds = {
        read.group_kind for run in runs.values() for read in _types(shared, run.target)
    }
    assert len(lists) == len(set(lists)) == len(kinds)  # once per type, not per target
    assert all("/namespaces/" not in path for path in lists)  # across namespaces
    assert sum(sum(run.api_requests.values()) for run in list(runs.values())[1:]) == 0
    for name in names:  # what each target sees is what it would see alone
        alone = _pipeline(_config(repo, kubeconfig, [name]), tmp_path, f"alone-{name}")
        assert _verdicts(runs[name]) == _verdicts(alone.run(name)), name
        assert runs[name].status is RunStatus.SUCCESS


def _types(pipeline: Pipeline, target: str) -> list[Any]:
    desired = pipeline.desired(target)
    from driftwatch.cluster import snapshot_request_for

    request = snapshot_request_for(desired, pipeline.config.target(target), pipeline.config)
    return list(request.types)


def test_a_type_that_failed_is_unknown_for_every_target_needing_it(
    kube_api: KubeApiServer, repo: Path, tmp_path: Path
) -> None:
    kubeconfig = kubeconfig_for(kube_api, tmp_path / "kubeconfig")
    fault = kube_api.fail(r"^/apis/apps/v1/deployments$", status=503, times=None)
    names = ["all", "api", "config"]
    shared = _pipeline(_config(repo, kubeconfig, names, listMaxAge="10m"), tmp_path, "shared")

    runs = {name: shared.run(name) for name in names}

    deployments = GroupKind("apps", "Deployment")
    for name in ("all", "api"):  # both declare Deployments: unknown, never missing
        report = runs[name].report
        assert report is not None and runs[name].status is RunStatus.PARTIAL
        assert deployments in report.read_errors
        states = {o.state for o in report.objects if o.key.group_kind == deployments}
        assert states == {DriftState.UNKNOWN}
    config_run = runs["config"]  # declares no Deployment: complete
    assert config_run.status is RunStatus.SUCCESS
    assert fault.hits == 5  # one list's retries for the refresh, not one per target


def test_shared_objects_are_held_trimmed_redacted_and_never_changed_by_a_target(
    kube_api: KubeApiServer, repo: Path, tmp_path: Path
) -> None:
    kubeconfig = kubeconfig_for(kube_api, tmp_path / "kubeconfig")
    names = list(SLICES)
    shared = _pipeline(_config(repo, kubeconfig, names, listMaxAge="10m"), tmp_path, "shared")
    cluster = shared.config.clusters[0]
    shared.run("all")  # lists every type (streamed compare reduced its own copies)
    held = shared.cluster_cache(cluster).held()
    before = copy.deepcopy({key: listed.objects for key, listed in held.items()})

    for name in names[1:]:
        shared.run(name)
    shared.run("all")

    after = {key: listed.objects for key, listed in shared.cluster_cache(cluster).held().items()}
    assert after == before
    bodies = [body for objects in after.values() for body in (objects or {}).values()]
    assert bodies and not [b for b in bodies if "status" in b]
    # whole objects, not reduced to the identity a streamed compare leaves its target
    assert all(b["metadata"].get("uid") and b["metadata"].get("resourceVersion") for b in bodies)
    secrets = [b for b in bodies if b.get("kind") == "Secret"]
    assert secrets
    text = json.dumps(secrets)
    for item in load_scenario("shop/untouched-csa"):
        if item.get("kind") == "Secret":
            for value in (item.get("data") or {}).values():
                assert value not in text  # only fingerprints are held


def test_a_list_is_reused_only_while_younger_than_the_max_age(
    kube_api: KubeApiServer, repo: Path, tmp_path: Path
) -> None:
    kubeconfig = kubeconfig_for(kube_api, tmp_path / "kubeconfig")
    names = ["api", "config"]
    fresh = _pipeline(_config(repo, kubeconfig, names, listMaxAge=0), tmp_path, "fresh")
    kube_api.clear_requests()
    fresh.run("api")
    first = len(_lists(kube_api))
    fresh.run("api")
    assert len(_lists(kube_api)) == 2 * first  # max age 0: every run lists again


def test_namespaced_rbac_is_learnt_from_the_403_and_not_asked_again(
    kube_api: KubeApiServer, repo: Path, tmp_path: Path
) -> None:
    kubeconfig = kubeconfig_for(kube_api, tmp_path / "kubeconfig")
    refused = kube_api.fail(r"^/api/v1/configmaps$", status=403, times=None)
    names = ["config", "all"]
    shared = _pipeline(_config(repo, kubeconfig, names, listMaxAge=0), tmp_path, "rbac")

    first = shared.run("config")
    second = shared.run("config")

    assert refused.hits == 1  # asked once; the answer decides for the next refreshes
    for run in (first, second):
        assert run.status is RunStatus.SUCCESS, run.error
    per_namespace = [p for p in _lists(kube_api) if p == "/api/v1/namespaces/shop/configmaps"]
    assert len(per_namespace) == 2


def test_the_page_consumer_keeps_new_identities_and_reports_its_time_as_compare() -> None:
    from driftwatch.compare.engine import Judge
    from driftwatch.compare.streaming import StreamingComparer
    from driftwatch.pipeline import PageConsumer
    from driftwatch.run import Stage
    from tests.compare.scenarios import desired_set, live_snapshot, shop_options

    live = live_snapshot("set-image")
    pages = PageConsumer(StreamingComparer(desired_set(), Judge.build(shop_options(), {})))
    untouched = copy.deepcopy(live.objects)
    kept = {key: pages(key, body) for key, body in live.objects.items()}

    streamed = [key for key in kept if kept[key] is not live.objects[key]]
    assert len(streamed) > 10  # compared as the pages came: only an identity is kept
    for key in streamed:
        assert set(kept[key]) == {"apiVersion", "kind", "metadata"}
        assert set(kept[key]["metadata"]) <= {"name", "namespace"}
    assert live.objects == untouched  # the shared bodies are never changed
    assert pages.seconds > 0

    durations = {Stage.SNAPSHOT: 100.0}
    pages.account(durations)
    assert durations[Stage.COMPARE] == pytest.approx(pages.seconds)
    assert durations[Stage.SNAPSHOT] == pytest.approx(100.0 - pages.seconds)
