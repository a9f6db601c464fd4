"""Differences that are deliberately not drift: the user's ignore rules and the built-in one.

Ignored differences are still counted and listed (``ignored`` in the report),
so a rule that hides too much shows up.  The built-in rule covers the case
Argo CD cannot tell apart (argo-cd#3002): when a HorizontalPodAutoscaler targets
an object, ``spec.replicas`` last written through the ``scale`` subresource by a
controller is the HPA's business; the same write by a person is drift.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from driftwatch.compare.paths import Path, matches, parse
from driftwatch.config.model import IgnoreRule
from driftwatch.model import Attribution, ResourceKey, split_api_version

HPA_RULE = "hpa-managed-replicas"
ADMISSION_RULE = "mutated-at-admission"
"""A declared value the client-side applier sent as Git has it, changed by admission."""
_REPLICAS: Path = ("spec", "replicas")
HPA_KIND = "HorizontalPodAutoscaler"


def is_hpa(kind: str) -> bool:
    """Whether objects of ``kind`` are HorizontalPodAutoscalers (every version, one rule)."""
    return kind == HPA_KIND


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """An ignore rule with its paths parsed."""

    rule: IgnoreRule
    paths: tuple[Path, ...]
    name: str

    def applies_to(self, key: ResourceKey) -> bool:
        """Whether the rule's object selectors match this object."""
        rule = self.rule
        return all(
            pattern is None or fnmatchcase(value, pattern)
            for pattern, value in (
                (rule.group, key.group),
                (rule.kind, key.kind),
                (rule.namespace, key.namespace),
                (rule.name, key.name),
            )
        )

    def matches(self, path: Path, attribution: Attribution) -> bool:
        """Whether the rule ignores this field of an object it applies to."""
        if self.paths and not any(matches(p, path) for p in self.paths):
            return False
        if self.rule.managers and attribution.manager not in self.rule.managers:
            return False
        return True


def compile_rules(rules: Iterable[IgnoreRule]) -> tuple[CompiledRule, ...]:
    """Parse every rule's paths once (raises ValueError naming a bad path)."""
    compiled = []
    for index, rule in enumerate(rules):
        paths = []
        for text in rule.paths:
            try:
                paths.append(parse(text if text.startswith(("/", "[")) else "/" + text))
            except ValueError as e:
                raise ValueError(f"ignore rule {index}: {e}") from e
        compiled.append(CompiledRule(rule, tuple(paths), rule.reason or f"ignore[{index}]"))
    return tuple(compiled)


def hpa_targets(objects: Iterable[Mapping[str, Any]]) -> frozenset[ResourceKey]:
    """The objects that some HorizontalPodAutoscaler among ``objects`` scales."""
    targets = set()
    for body in objects:
        if not is_hpa(str(body.get("kind", ""))):
            continue
        ref = (body.get("spec") or {}).get("scaleTargetRef") or {}
        namespace = (body.get("metadata") or {}).get("namespace") or ""
        if ref.get("kind") and ref.get("name"):
            group, _ = split_api_version(str(ref.get("apiVersion", "")))
            targets.add(ResourceKey(group, str(ref["kind"]), namespace, str(ref["name"])))
    return frozenset(targets)


def hpa_owns(path: Path, attribution: Attribution, *, is_controller: bool) -> bool:
    """The built-in rule: replicas written by a controller through ``scale``."""
    return path == _REPLICAS and attribution.subresource == "scale" and is_controller
