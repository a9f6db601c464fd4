"""Helpers for the Helm chart tests: render the chart, parse its objects, list its variants."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "driftwatch"
CI_VALUES = CHART / "ci"
RELEASE = "driftwatch"
NAMESPACE = "driftwatch"

# A stand-in dashboard, used only while the repository has no dashboards/ yet, so the
# template that packs dashboards into a ConfigMap is still exercised.
SAMPLE_DASHBOARD = b'{\n  "title": "sample {{ not a template }}",\n  "panels": []\n}\n'
SAMPLE_RULES = b"""groups:
  - name: sample
    rules:
      - alert: SampleAlert
        expr: vector(1) > 0
        annotations:
          summary: "{{ $labels.target }} sample"
"""


@dataclass(frozen=True)
class Rendered:
    """One rendering of the chart: the manifests by template, and the parsed objects."""

    templates: dict[str, str]
    objects: list[dict[str, Any]]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        """Every rendered object of this kind."""
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind: str, name: str | None = None) -> dict[str, Any]:
        """The single rendered object of this kind (and name)."""
        found = [o for o in self.of_kind(kind) if name is None or o["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} {name or ''}, got {len(found)}"
        return found[0]

    def workload(self) -> dict[str, Any]:
        """The pods' controller: the Deployment, or the StatefulSet of a sharded release."""
        found = self.of_kind("Deployment") + self.of_kind("StatefulSet")
        assert len(found) == 1, f"expected one Deployment or StatefulSet, got {len(found)}"
        return found[0]


def render_chart(
    values: dict[str, Any] | None = None,
    *,
    chart: Path = CHART,
    name: str = RELEASE,
    namespace: str = NAMESPACE,
) -> Rendered:
    """Render the chart offline as `helm template` would; NOTES.txt is not an object."""
    with helm_python.Chart.load(chart) as loaded:
        templates = loaded.render(values or {}, name=name, namespace=namespace)
    objects: list[dict[str, Any]] = []
    for template, text in sorted(templates.items()):
        if template.endswith("NOTES.txt"):
            continue
        for doc in yaml.safe_load_all(text):
            if doc is not None:
                objects.append(doc)
    return Rendered(templates, objects)


def ci_values() -> dict[str, dict[str, Any]]:
    """The chart's ci/*-values.yaml variants by file stem, plus the defaults."""
    variants: dict[str, dict[str, Any]] = {"defaults": {}}
    for path in sorted(CI_VALUES.glob("*-values.yaml")):
        variants[path.name.removesuffix("-values.yaml")] = yaml.safe_load(path.read_text()) or {}
    return variants


def has_assets(chart: Path, kind: str, pattern: str) -> bool:
    """Whether the chart holds at least one synced asset of this kind."""
    return any((chart / "files" / kind).glob(pattern))


VARIANTS = sorted(ci_values())
