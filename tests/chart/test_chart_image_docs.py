"""The documented way to get the image into the chart works: the `--set` the docs give is used.

No image is published, so the docs tell users to build, push and set
``image.repository``; the chart's NOTES warn while the placeholder is left in.
"""

from __future__ import annotations

import re

from tests.chart.chart_render import REPO, render_chart


def _notes(values: dict[str, object]) -> str:
    rendered = render_chart(values)
    return next(text for name, text in rendered.templates.items() if name.endswith("NOTES.txt"))


def test_the_documented_repository_is_the_image_the_chart_runs() -> None:
    for doc in ("README.md", "docs/image.md", "helm/driftwatch/README.md"):
        text = (REPO / doc).read_text()
        sets = re.findall(r"--set image\.repository=(\S+)", text)
        assert sets, f"{doc} does not say how to set image.repository"
        for value in sets:
            repository = value.replace('"$REGISTRY', "registry.example.com/platform").strip('"')
            rendered = render_chart({"image": {"repository": repository}})
            (deployment,) = rendered.of_kind("Deployment")
            (container,) = deployment["spec"]["template"]["spec"]["containers"]
            assert container["image"] == f"{repository}:0.1.0"
    image_doc = (REPO / "docs" / "image.md").read_text()
    assert 'docker build -t "$REGISTRY/driftwatch:0.1.0" .' in image_doc
    assert 'docker push "$REGISTRY/driftwatch:0.1.0"' in image_doc


def test_notes_warn_while_the_placeholder_repository_is_set() -> None:
    assert "image.repository is the chart's placeholder" in _notes({})
    assert "placeholder" not in _notes({"image": {"repository": "registry.example.com/x"}})
