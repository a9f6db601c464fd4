"""Plain targets read from Git blobs: the same desired set as the written tree, parsed once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from driftwatch.config.model import Target
from driftwatch.errors import RenderError
from driftwatch.model import DesiredSet, ResourceKey
from driftwatch.redact import SecretHasher
from driftwatch.render import ParseCache, render_target
from driftwatch.source import GitSource
from tests.desired.conftest import SHOP, Remote, local_checkout, make_target
from tests.desired.test_plain_render import cm

HASHER = SecretHasher(b"blob-render-test-key-0123456789")

# Every rule the plain renderer has about which files count and in which order.
TRICKY = {
    "apps/b.yaml": cm("dup", "ns") + "---\n" + cm("b", "ns"),
    "apps/a/z.yaml": cm("dup", "ns"),  # later in walk order than apps/b.yaml: reported twice
    "apps/a/nested/deep.yml": cm("deep"),
    "apps/A.YAML": cm("upper", "ns"),
    "apps/list.yaml": (
        "apiVersion: v1\nkind: List\nitems:\n"
        "- {apiVersion: v1, kind: ConfigMap, metadata: {name: in-list}}\n"
        "- {apiVersion: v1, kind: Secret, metadata: {name: s}, stringData: {k: hunter2}}\n"
    ),
    "apps/obj.json": '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"}}',
    "apps/bad.json": '{"apiVersion": "v1",}',
    "apps/dupkey.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: k}\ndata: {a: 1, a: 2}",
    "apps/broken.yaml": "a: [unclosed\n",
    "apps/kustomization.yml.yaml": cm("not-a-kustomization"),
    "apps/notes.txt": "not a manifest",
    "apps/.hidden.yaml": cm("hidden"),
    "apps/.github/wf.yaml": cm("hidden-dir"),
    "apps/sub/kustomization.yaml": "resources: []\n",  # only the top decides the renderer
    "apps/sub/c.yaml": cm("c"),
    "other/o.yaml": cm("elsewhere"),
}


def _commit(remote: Remote, files: dict[str, str | None]) -> None:
    remote.commit(files)
    remote.push("main")


def _both(source: GitSource, target: Target) -> tuple[DesiredSet, DesiredSet]:
    """The set rendered from blobs, and from the same commit's written tree."""
    checkout = source.checkout(target)
    assert checkout.tree is not None
    from_blobs = render_target(target, checkout)
    written = render_target(target, local_checkout(checkout.root, checkout.revision.sha))
    return from_blobs, written


@pytest.mark.parametrize("path", ["apps", ".", "apps/b.yaml", "apps/./a/../"])
def test_blobs_give_exactly_the_written_trees_set(
    remote: Remote, source: GitSource, path: str
) -> None:
    _commit(remote, TRICKY)
    target = make_target(remote.bare, rev="main", path=path)
    from_blobs, written = _both(source, target)
    assert from_blobs.objects == written.objects
    assert list(from_blobs.objects) == list(written.objects), "same order, same first-wins"
    assert from_blobs.errors == written.errors
    assert from_blobs.objects, "something was rendered"


def test_plain_render_does_not_write_the_tree(remote: Remote, tmp_path: Path) -> None:
    remote.copy_tree(SHOP)
    _commit(remote, {})
    source = GitSource(tmp_path / "git")
    target = remote_target(remote)
    desired = render_target(target, source.checkout(target))
    assert ResourceKey("apps", "Deployment", "shop", "shop-api") in desired.objects
    trees = tmp_path / "git" / "trees"
    assert not trees.exists() or not any(trees.iterdir()), "no file was written"


def remote_target(remote: Remote, **fields: object) -> Target:
    return make_target(remote.bare, rev="main", **fields)


def test_symbolic_links_fall_back_to_the_written_tree(remote: Remote, source: GitSource) -> None:
    _commit(remote, {"apps/real.yaml": cm("real", "ns")})
    os.symlink("real.yaml", remote.work / "apps" / "link.yaml")
    os.symlink("/etc/passwd", remote.work / "apps" / "outside.yaml")
    _commit(remote, {})
    target = remote_target(remote, path="apps")
    desired = render_target(target, source.checkout(target))
    messages = [e.message for e in desired.errors]
    assert "symbolic link points outside the repository" in messages, "never read"
    assert any("declared twice" in m and "apps/link.yaml" in m for m in messages), "link followed"
    assert ResourceKey("", "ConfigMap", "ns", "real") in desired.objects


def test_missing_path_is_the_same_render_error(remote: Remote, source: GitSource) -> None:
    _commit(remote, {"apps/a.yaml": cm("a")})
    for path, message in [("nope", "does not exist"), ("../up", "outside the repository")]:
        target = remote_target(remote, path=path)
        with pytest.raises(RenderError, match=message):
            render_target(target, source.checkout(target))


def test_a_new_commit_parses_only_the_files_it_changed(
    remote: Remote, source: GitSource, tmp_path: Path
) -> None:
    files = {f"apps/f{i}.yaml": cm(f"c{i}", "ns") for i in range(20)}
    _commit(remote, files)
    target = remote_target(remote, path="apps")
    first_cache = ParseCache(tmp_path / "parse")
    render_target(target, source.checkout(target), parse_cache=first_cache, redactor=HASHER)
    assert first_cache.parsed == 20

    _commit(remote, {"apps/f3.yaml": cm("changed", "ns"), "apps/f4.yaml": None})
    new_process = ParseCache(tmp_path / "parse")  # what a new `check` process sees
    desired = render_target(
        target, source.checkout(target), parse_cache=new_process, redactor=HASHER
    )
    assert new_process.parsed == 1
    names = {k.name for k in desired.objects}
    assert "changed" in names and "c3" not in names and "c4" not in names and "c5" in names

    serve = ParseCache(None)  # serve: memory only, across runs of one process
    render_target(target, source.checkout(target), parse_cache=serve, redactor=HASHER)
    render_target(target, source.checkout(target), parse_cache=serve, redactor=HASHER)
    assert serve.parsed == 19


def test_memory_is_bounded_by_source_bytes(remote: Remote, source: GitSource) -> None:
    files = {f"apps/f{i}.yaml": cm(f"c{i}", "ns") for i in range(10)}
    _commit(remote, files)
    size = len(cm("c0", "ns").encode())
    cache = ParseCache(None, max_memory_bytes=size * 4)
    target = remote_target(remote, path="apps")
    desired = render_target(target, source.checkout(target), parse_cache=cache)
    assert len(desired.objects) == 10, "a bound never drops what the run needs"
    assert cache.memory_bytes <= size * 4
    render_target(target, source.checkout(target), parse_cache=cache)
    assert cache.parsed > 10, "evicted entries are parsed again"


def test_corrupt_pack_is_a_miss_not_a_failure(
    remote: Remote, source: GitSource, tmp_path: Path
) -> None:
    _commit(remote, {"apps/a.yaml": cm("a", "ns")})
    target = remote_target(remote, path="apps")
    first = ParseCache(tmp_path / "p")
    render_target(target, source.checkout(target), parse_cache=first, redactor=HASHER)
    for pack in (tmp_path / "p").iterdir():
        pack.write_bytes(b"\x00garbage")
    cache = ParseCache(tmp_path / "p")
    desired = render_target(target, source.checkout(target), parse_cache=cache, redactor=HASHER)
    assert cache.parsed == 1 and ResourceKey("", "ConfigMap", "ns", "a") in desired.objects


def test_a_pack_made_under_another_key_is_replaced_not_served(
    remote: Remote, source: GitSource, tmp_path: Path
) -> None:
    _commit(
        remote,
        {
            "apps/s.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
            "stringData: {k: hunter2}\n"
        },
    )
    target = remote_target(remote, path="apps")
    other = SecretHasher(b"another-key-another-key-0123456")
    bodies = []
    for hasher in (HASHER, other):
        cache = ParseCache(tmp_path / "p")
        desired = render_target(target, source.checkout(target), parse_cache=cache, redactor=hasher)
        assert cache.parsed == 1, "fingerprints made under another key are never served"
        bodies.append(desired.objects[ResourceKey("", "Secret", "default", "s")].body["data"])
    assert bodies[0] != bodies[1]
    assert len(list((tmp_path / "p").iterdir())) == 1, "one pack per source, replaced"


def test_a_tree_that_cannot_be_written_is_a_render_error(remote: Remote, tmp_path: Path) -> None:
    from tests.desired.test_kustomize_helm_render import CHART

    _commit(remote, dict(CHART))
    source = GitSource(tmp_path / "git")
    target = remote_target(remote, path="chart")
    checkout = source.checkout(target)
    (tmp_path / "git" / "trees").write_text("a file where the trees directory would go")
    with pytest.raises(RenderError, match="cannot write the files of commit"):
        render_target(target, checkout)
