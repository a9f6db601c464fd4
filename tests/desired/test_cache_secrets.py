"""No Secret value is ever written to driftwatch's cache directory (issue 15, item 7).

A Helm values file outside the repository can hold a password the repository
never does; the render cache and the parse cache must store only fingerprints.
"""

from __future__ import annotations

import base64
from pathlib import Path

from driftwatch.config.quick import QuickFlags, config_from_flags
from driftwatch.model import DesiredSet, ResourceKey
from driftwatch.pipeline import Pipeline
from driftwatch.redact import is_fingerprint
from driftwatch.render import ParseCache, RenderCache, render_target
from driftwatch.source import GitSource
from tests.desired.conftest import Remote, make_target

OUTSIDE_VALUE = "outside-repo-pa55word-7f3c9a"
IN_REPO_VALUE = "in-repo-token-b81e04d2"

CHART = {
    "chart/Chart.yaml": "apiVersion: v2\nname: shop\nversion: 0.1.0\n",
    "chart/values.yaml": "password: default-not-secret\n",
    "chart/templates/secret.yaml": (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n"
        "  annotations: {kubectl.kubernetes.io/last-applied-configuration: "
        '{{ dict "stringData" (dict "password" .Values.password) "kind" "Secret" '
        '"apiVersion" "v1" | toJson | quote }}}\n'
        "stringData:\n  password: {{ .Values.password | quote }}\n"
        "data:\n  encoded: {{ .Values.password | b64enc | quote }}\n"
    ),
    "plain/secret.yaml": (
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: v1\n  kind: Secret\n  metadata: {name: token}\n"
        f"  stringData: {{token: {IN_REPO_VALUE}}}\n"
    ),
    "plain/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: v}\n",
}


def _cached_bytes(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in directory.rglob("*") if p.is_file())


def _forms(value: str) -> list[bytes]:
    raw = value.encode()
    return [raw, base64.b64encode(raw), base64.b64encode(raw).rstrip(b"=")]


def _pipeline(repo: Path, path: str, values: tuple[str, ...], tmp: Path) -> Pipeline:
    flags = QuickFlags(repo=str(repo), rev="main", path=path, values=values, kubeconfig="-")
    return Pipeline(config_from_flags(flags), state_dir=tmp / "state", cache_dir=tmp / "cache")


def _secret(desired: DesiredSet, name: str, namespace: str = "default") -> dict[str, object]:
    body = desired.objects[ResourceKey("", "Secret", namespace, name)].body
    data = body["data"]
    assert isinstance(data, dict)
    return data


def test_no_secret_value_from_an_outside_values_file_reaches_the_cache(
    remote: Remote, tmp_path: Path
) -> None:
    remote.commit(CHART)
    remote.push("main")
    values = tmp_path / "ops" / "values-prod.yaml"
    values.parent.mkdir()
    values.write_text(f"password: {OUTSIDE_VALUE}\n")

    helm = _pipeline(remote.bare, "chart", (str(values),), tmp_path)
    first = helm.desired(helm.config.targets[0].name)
    plain = _pipeline(remote.bare, "plain", (), tmp_path)
    plain.desired(plain.config.targets[0].name)

    assert list((tmp_path / "cache" / "render").iterdir()), "the Helm render was cached"
    assert list((tmp_path / "cache" / "parse").iterdir()), "the plain files were cached"
    everything = _cached_bytes(tmp_path / "cache")
    for form in _forms(OUTSIDE_VALUE):
        assert form not in everything, f"{form!r} found in the cache directory"
    # The Git cache holds what the repository holds; what driftwatch derives holds none.
    derived = _cached_bytes(tmp_path / "cache" / "render") + _cached_bytes(
        tmp_path / "cache" / "parse"
    )
    for form in _forms(IN_REPO_VALUE):
        assert form not in derived, f"{form!r} found in the render or parse cache"

    # A new process (new pipeline, same key) is served from disk: fingerprints, equal.
    again = _pipeline(remote.bare, "chart", (str(values),), tmp_path)
    second = again.desired(again.config.targets[0].name)
    assert second.from_cache
    assert _secret(second, "db") == _secret(first, "db")
    assert all(is_fingerprint(v) for v in _secret(second, "db").values())


def test_unredacted_renders_are_never_written(remote: Remote, tmp_path: Path) -> None:
    """``driftwatch render --show-secrets`` renders without a redactor: memory only."""
    remote.commit(CHART)
    remote.push("main")
    source = GitSource(tmp_path / "git")
    for path in ("chart", "plain"):
        target = make_target(remote.bare, rev="main", path=path)
        desired = render_target(
            target,
            source.checkout(target),
            cache=RenderCache(tmp_path / "render"),
            parse_cache=ParseCache(tmp_path / "parse"),
        )
        assert desired.objects
    assert not (tmp_path / "render").exists()
    assert not (tmp_path / "parse").exists()
