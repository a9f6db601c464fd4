"""The render cache: reuse on unchanged inputs, re-render when any input changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftwatch.config.model import Target
from driftwatch.model import DesiredSet, ResourceKey
from driftwatch.redact import SecretHasher
from driftwatch.render import ParseCache, RenderCache, render_target
from driftwatch.source import GitSource
from tests.desired.conftest import Remote, local_checkout, make_target
from tests.desired.test_kustomize_helm_render import CHART
from tests.desired.test_plain_render import cm, write


def test_unchanged_commit_is_served_from_cache_across_restarts(
    shop_remote: Remote, source: GitSource, tmp_path: Path
) -> None:
    target = make_target(shop_remote.bare, rev="main")
    hasher = SecretHasher(b"k" * 32)

    def render(parse: ParseCache) -> DesiredSet:
        return render_target(
            target,
            source.checkout(target),
            cache=RenderCache(tmp_path / "r"),
            parse_cache=parse,
            redactor=hasher,
        )

    first = render(ParseCache(tmp_path / "p"))
    assert not first.from_cache

    restarted = ParseCache(tmp_path / "p")
    again = render(restarted)
    assert again.from_cache and restarted.parsed == 0, "nothing parsed after a restart"
    assert again.objects == first.objects
    assert again.revision == first.revision

    shop_remote.commit({"extra.yaml": cm("added", "shop")})
    shop_remote.push("main")
    changed = render(restarted)
    assert not changed.from_cache
    assert restarted.parsed == 1, "a new commit parses only the file it changed"
    assert ResourceKey("", "ConfigMap", "shop", "added") in changed.objects


def test_cache_entry_is_not_shared_mutable_state(checkout_dir: Path, tmp_path: Path) -> None:
    write(checkout_dir, {"a.yaml": cm("a")})
    target = Target(name="t", repo="x")
    cache = RenderCache(tmp_path / "r")
    render_target(target, local_checkout(checkout_dir), cache=cache)
    hit = render_target(target, local_checkout(checkout_dir), cache=cache)
    hit.objects.clear()
    assert render_target(target, local_checkout(checkout_dir), cache=cache).objects


def test_values_file_outside_the_repo_changing_is_a_miss(
    checkout_dir: Path, tmp_path: Path
) -> None:
    write(checkout_dir, CHART)
    outside = tmp_path / "ops" / "values-live.yaml"
    outside.parent.mkdir()
    outside.write_text("replicas: 4\n")
    target = Target.model_validate(
        {
            "name": "t",
            "repo": "x",
            "path": "chart",
            "helm": {"values": [str(outside)]},
        }
    )
    key = ResourceKey("apps", "Deployment", "default", "shop-api")
    cache = RenderCache(tmp_path / "r")
    first = render_target(target, local_checkout(checkout_dir), cache=cache)
    assert first.objects[key].body["spec"]["replicas"] == 4
    assert render_target(target, local_checkout(checkout_dir), cache=cache).from_cache

    outside.write_text("replicas: 7\n")
    changed = render_target(target, local_checkout(checkout_dir), cache=cache)
    assert not changed.from_cache
    assert changed.objects[key].body["spec"]["replicas"] == 7


@pytest.mark.parametrize(
    "change", [{"namespace": "other"}, {"helm": {"release": "r2"}}, {"helm": {"set": {"x": 1}}}]
)
def test_target_options_are_part_of_the_key(
    checkout_dir: Path, tmp_path: Path, change: dict[str, object]
) -> None:
    write(checkout_dir, CHART)
    base = {"name": "t", "repo": "x", "path": "chart"}
    cache = RenderCache(tmp_path / "r")
    render_target(Target.model_validate(base), local_checkout(checkout_dir), cache=cache)
    other = render_target(
        Target.model_validate({**base, **change}), local_checkout(checkout_dir), cache=cache
    )
    assert not other.from_cache


def test_corrupt_cache_entry_is_a_miss_not_a_failure(checkout_dir: Path, tmp_path: Path) -> None:
    write(checkout_dir, {"a.yaml": cm("a")})
    target = Target(name="t", repo="x")
    hasher = SecretHasher(b"k" * 32)
    render_target(
        target, local_checkout(checkout_dir), cache=RenderCache(tmp_path / "r"), redactor=hasher
    )
    for entry in (tmp_path / "r").iterdir():
        entry.write_bytes(b"not a pickle")
    again = render_target(
        target, local_checkout(checkout_dir), cache=RenderCache(tmp_path / "r"), redactor=hasher
    )
    assert not again.from_cache and again.objects
