"""Which side moved, on the recorded cases: the real pipeline, a real Git history.

Every live object is what the real kube-apiserver returned; Git's side is the
scenario's manifests, first committed before the recordings were made (the
applier applied them), plus the commits each test adds after them (not applied).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftwatch.compare.paths import from_dotted, render
from driftwatch.model import Direction, DriftState, ObjectDrift, ResourceKey, TargetReport
from tests.direction.repo import AFTER, BEFORE, SHOP, ShopRepo, check

API = ResourceKey("apps", "Deployment", "shop", "shop-api")
CONFIG = ResourceKey("", "ConfigMap", "shop", "shop-config")
CASES = {c["name"]: c for c in json.loads((SHOP / "cases.json").read_text())}


@pytest.fixture
def repo(tmp_path: Path) -> ShopRepo:
    return ShopRepo(tmp_path / "repo")


def drifted(report: TargetReport) -> dict[ResourceKey, ObjectDrift]:
    return {o.key: o for o in report.drifted}


def field_directions(obj: ObjectDrift) -> dict[str, Direction]:
    return {f.path: f.direction for f in obj.fields}


PERSON_CASES = sorted(
    name
    for name, case in CASES.items()
    if case["expected"]["drift"] and name != "delete-widget"  # a foreign dump: unknown, not missing
)


@pytest.mark.parametrize("case", PERSON_CASES)
def test_every_recorded_change_by_a_person_is_cluster(
    case: str, repo: ShopRepo, tmp_path: Path
) -> None:
    report = check(repo, case, tmp_path)
    found = drifted(report)
    for expected in CASES[case]["expected"]["drift"]:
        key = ResourceKey(
            expected["group"], expected["kind"], expected["namespace"], expected["name"]
        )
        obj = found[key]
        assert obj.direction is Direction.CLUSTER, (case, obj)
        assert obj.git_commit is None
        for field in expected.get("fields", ()):
            path = render(from_dotted(field["path"]))
            assert field_directions(obj)[path] is Direction.CLUSTER, (case, path)


@pytest.mark.parametrize("case", ["untouched-csa", "untouched-ssa"])
def test_a_commit_not_yet_applied_is_git_and_names_the_commit(
    case: str, repo: ShopRepo, tmp_path: Path
) -> None:
    repo.edit("20-api.yaml", "replicas: 2", "replicas: 3")
    sha = repo.commit("scale api to 3", AFTER, author="Ana Lima")
    obj = drifted(check(repo, case, tmp_path))[API]
    assert obj.direction is Direction.GIT
    assert field_directions(obj) == {"/spec/replicas": Direction.GIT}
    assert obj.git_commit is not None
    assert (obj.git_commit.sha, obj.git_commit.author, obj.git_commit.subject) == (
        sha,
        "Ana Lima",
        "scale api to 3",
    )
    assert obj.git_commit.time.startswith("2026-12-01T09:00:00")


def test_the_newest_commit_changing_the_path_is_named_not_a_later_unrelated_one(
    repo: ShopRepo, tmp_path: Path
) -> None:
    repo.edit(
        "20-api.yaml",
        "image: ghcr.io/example/shop-api:1.2.0",
        "image: ghcr.io/example/shop-api:1.4.0",
    )
    bump = repo.commit("bump api to 1.4", AFTER)
    repo.edit("20-api.yaml", "cpu: 250m", "cpu: 300m")
    repo.commit("more cpu for api", "2026-12-01T10:00:00+00:00")
    repo.edit(
        "10-config.yaml", "LOG_FORMAT: json", "LOG_FORMAT: logfmt"
    )  # same commit range, other object
    repo.commit("logfmt", "2026-12-01T11:00:00+00:00")
    obj = drifted(check(repo, "untouched-ssa", tmp_path))[API]
    image = next(f for f in obj.fields if f.path.endswith("/image"))
    assert image.direction is Direction.GIT
    assert image.git_commit is not None and image.git_commit.sha == bump
    assert obj.git_commit is not None and obj.git_commit.subject == "more cpu for api"


def test_a_canonicalised_quantity_the_applier_set_is_still_git(
    repo: ShopRepo, tmp_path: Path
) -> None:
    # Git said 1000m, the server stores "1": the applier's value was Git's all the same.
    repo.edit("20-api.yaml", "cpu: 1000m", "cpu: 1500m")
    repo.commit("raise the api cpu limit", AFTER)
    obj = drifted(check(repo, "untouched-ssa", tmp_path))[API]
    assert field_directions(obj) == {
        "/spec/template/spec/containers[name=api]/resources/limits/cpu": Direction.GIT
    }


@pytest.mark.parametrize("case", ["untouched-csa", "untouched-ssa"])
def test_fields_git_added_and_removed_since_the_apply_are_git(
    case: str, repo: ShopRepo, tmp_path: Path
) -> None:
    repo.edit("10-config.yaml", '  CACHE_TTL: "300"\n', "  CACHE_MODE: lru\n")
    repo.commit("swap cache settings", AFTER)
    obj = drifted(check(repo, case, tmp_path))[CONFIG]
    assert field_directions(obj) == {
        "/data/CACHE_TTL": Direction.GIT,
        "/data/CACHE_MODE": Direction.GIT,
    }
    assert obj.direction is Direction.GIT


@pytest.mark.parametrize(("case", "replicas"), [("scale", "cluster"), ("ssa-scale", "cluster")])
def test_a_hand_edit_plus_another_field_changed_in_git_is_both(
    case: str, replicas: str, repo: ShopRepo, tmp_path: Path
) -> None:
    repo.edit(
        "20-api.yaml",
        "image: ghcr.io/example/shop-api:1.2.0",
        "image: ghcr.io/example/shop-api:1.4.0",
    )
    repo.commit("bump api to 1.4", AFTER)
    obj = drifted(check(repo, case, tmp_path))[API]
    assert obj.direction is Direction.BOTH
    assert field_directions(obj) == {
        "/spec/replicas": Direction(replicas),
        "/spec/template/spec/containers[name=api]/image": Direction.GIT,
    }
    assert obj.git_commit is not None and obj.git_commit.subject == "bump api to 1.4"


@pytest.mark.parametrize("case", ["scale", "ssa-scale"])
def test_git_and_the_cluster_moving_the_same_field_is_both(
    case: str, repo: ShopRepo, tmp_path: Path
) -> None:
    repo.edit("20-api.yaml", "replicas: 2", "replicas: 3")
    repo.commit("scale api to 3", AFTER)
    obj = drifted(check(repo, case, tmp_path))[API]
    assert field_directions(obj) == {"/spec/replicas": Direction.BOTH}


def test_a_copy_edited_outside_git_and_applied_is_cluster_even_after_a_git_commit(
    repo: ShopRepo, tmp_path: Path
) -> None:
    # csa-reapply-modified applied replicas: 5, a value no commit ever declared.
    repo.edit("20-api.yaml", "replicas: 2", "replicas: 3")
    repo.commit("scale api to 3", AFTER)
    obj = drifted(check(repo, "csa-reapply-modified", tmp_path))[API]
    assert field_directions(obj) == {"/spec/replicas": Direction.CLUSTER}


def test_an_object_removed_from_git_is_a_pending_prune_named_by_its_commit(
    repo: ShopRepo, tmp_path: Path
) -> None:
    token = ResourceKey("", "Secret", "shop", "shop-api-token")
    text = (repo.shop / "10-config.yaml").read_text()
    (repo.shop / "10-config.yaml").write_text(text[: text.rindex("---")])
    sha = repo.commit("drop the api token", AFTER)
    for case in ("untouched-csa", "untouched-ssa"):
        obj = drifted(check(repo, case, tmp_path / case))[token]
        assert obj.state is DriftState.UNMANAGED
        assert obj.direction is Direction.GIT, case
        assert obj.git_commit is not None and obj.git_commit.sha == sha


def test_an_object_made_by_hand_is_cluster_without_reading_a_removal(
    repo: ShopRepo, tmp_path: Path
) -> None:
    obj = drifted(check(repo, "stray", tmp_path))[
        ResourceKey("", "ConfigMap", "shop", "shop-stray")
    ]
    assert (obj.state, obj.direction) == (DriftState.UNMANAGED, Direction.CLUSTER)


NEW_CM = """---
apiVersion: v1
kind: ConfigMap
metadata:
  name: shop-flags
  namespace: shop
  labels:
    app.kubernetes.io/part-of: shop
data:
  checkout: "on"
"""


def test_an_object_declared_after_the_last_apply_is_git_missing(
    repo: ShopRepo, tmp_path: Path
) -> None:
    (repo.shop / "10-config.yaml").write_text((repo.shop / "10-config.yaml").read_text() + NEW_CM)
    sha = repo.commit("add shop-flags", AFTER)
    obj = drifted(check(repo, "untouched-csa", tmp_path))[
        ResourceKey("", "ConfigMap", "shop", "shop-flags")
    ]
    assert (obj.state, obj.direction) == (DriftState.MISSING, Direction.GIT)
    assert obj.git_commit is not None and obj.git_commit.sha == sha


def test_an_object_declared_before_the_last_apply_and_gone_is_cluster_missing(
    repo: ShopRepo, tmp_path: Path
) -> None:
    (repo.shop / "15-flags.yaml").write_text(NEW_CM)
    repo.commit("add shop-flags", BEFORE.replace("09:00", "10:00"))
    found = drifted(check(repo, "delete-cm", tmp_path))
    for key in (CONFIG, ResourceKey("", "ConfigMap", "shop", "shop-flags")):
        assert (found[key].state, found[key].direction) == (DriftState.MISSING, Direction.CLUSTER)


def test_a_clean_run_reads_no_git_history(
    repo: ShopRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import driftwatch.render.object_history

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("Git history read for a clean run")

    monkeypatch.setattr(driftwatch.render.object_history, "read_histories", refuse)
    assert not check(repo, "untouched-ssa", tmp_path).drifted


def test_a_lasting_drift_reads_git_history_once_per_revision(
    repo: ShopRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import driftwatch.render.object_history as object_history
    from driftwatch.pipeline import Pipeline
    from tests.direction.repo import config

    repo.edit("20-api.yaml", "replicas: 2", "replicas: 3")
    repo.commit("scale api to 3", AFTER)
    reads: list[object] = []
    real = object_history.read_histories

    def counting(*args: object, **kwargs: object) -> object:
        reads.append(args[3])
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(object_history, "read_histories", counting)
    pipeline = Pipeline(
        config(repo.path, "untouched-csa"), state_dir=tmp_path / "s", cache_dir=tmp_path / "c"
    )
    for _ in range(3):
        run = pipeline.run("shop")
        assert run.report is not None
        assert drifted(run.report)[API].direction is Direction.GIT
    assert len(reads) == 1
    repo.edit("20-api.yaml", "replicas: 3", "replicas: 4")
    repo.commit("scale api to 4", AFTER.replace("09:00", "10:00"))
    run = pipeline.run("shop")
    assert run.report is not None and drifted(run.report)[API].git_commit is not None
    assert drifted(run.report)[API].git_commit.subject == "scale api to 4"
    assert len(reads) == 2  # a new revision reads again


@pytest.mark.parametrize("case", ["untouched-csa", "untouched-ssa"])
def test_a_secret_rotated_in_git_is_git_compared_by_fingerprint_only(
    case: str, repo: ShopRepo, tmp_path: Path
) -> None:
    repo.edit("10-config.yaml", "password: s3cr3t-Shop-Pa55", "password: r0tated-Shop-Pa55")
    repo.commit("rotate the db password", AFTER)
    obj = drifted(check(repo, case, tmp_path))[ResourceKey("", "Secret", "shop", "shop-db")]
    assert field_directions(obj) == {"/data/password": Direction.GIT}
    assert obj.git_commit is not None and obj.git_commit.subject == "rotate the db password"
    shown = repr(obj)
    assert "s3cr3t-Shop-Pa55" not in shown and "r0tated-Shop-Pa55" not in shown
