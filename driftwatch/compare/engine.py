"""Compare a desired set with a live snapshot: the verdict for every object of a target.

Pure: plain data in, a ``TargetReport`` out.  Objects pair by (group, kind,
namespace, name).  An object is MISSING only when its type was read completely
(or the cluster does not serve its kind at all); a type that could not be read
makes its objects UNKNOWN, never missing — unknown is not absent.  UNMANAGED is
reserved for live objects that carry the target's ownership marker, are not in
Git, and are not made by a controller — and only while Git was read completely:
when a source file could not be read, such an object may be one it declares, so
it is UNKNOWN with the unreadable file named.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from driftwatch.compare.applied import last_applied
from driftwatch.compare.classify import Classifier, ObjectContext
from driftwatch.compare.ignore import CompiledRule, compile_rules, hpa_targets, is_hpa
from driftwatch.compare.managed import Ownership, creator_and_last, parse_entries
from driftwatch.compare.managers import ManagerRoles, Role
from driftwatch.compare.marker import Marker
from driftwatch.compare.schema import SchemaIndex, index_for
from driftwatch.compare.walk import diff
from driftwatch.config.model import IgnoreRule
from driftwatch.model import (
    DesiredSet,
    DriftState,
    GroupKind,
    LiveSnapshot,
    Manifest,
    ObjectDrift,
    ReadState,
    ResourceKey,
    TargetReport,
    split_api_version,
)
from driftwatch.redact import LAST_APPLIED, is_core_secret, is_fingerprint

_TOP_SKIP = frozenset({"apiVersion", "kind", "status", "metadata"})
_META_SKIP = frozenset(
    {
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "managedFields",
        "selfLink",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    }
)


@dataclass(frozen=True, slots=True)
class CompareOptions:
    """How one target is compared."""

    marker: str | None = None
    """Label selector marking live objects as this target's (for UNMANAGED)."""
    tracking_annotation: str | None = None
    """Annotation whose presence marks ownership (e.g. Argo CD's tracking id)."""
    unmanaged_kinds: frozenset[GroupKind] = frozenset()
    """Kinds scanned for unmanaged objects besides those the target declares."""
    ignore: tuple[IgnoreRule, ...] = ()
    appliers: tuple[str, ...] = ()
    controllers: tuple[str, ...] = ()
    sensitive_annotations: frozenset[str] = frozenset()

    def ownership_marker(self) -> Marker:
        """The selector / tracking annotation that marks a live object as this target's."""
        return Marker(self.marker, self.tracking_annotation)


@dataclass(frozen=True, slots=True)
class Judge:
    """What every verdict of one comparison shares: schema, rules, roles, HPA targets.

    Built once per run, from the server's OpenAPI documents when there are any
    (the built-in index otherwise), and used by every path that reaches a verdict:
    the pages compared as they stream, the whole-target compare and watch mode's
    re-compares — so the same inputs get the same verdict on each.
    """

    options: CompareOptions
    schema: SchemaIndex
    rules: tuple[CompiledRule, ...]
    roles: ManagerRoles
    classifier: Classifier
    scaled: frozenset[ResourceKey] = frozenset()

    @classmethod
    def build(
        cls,
        options: CompareOptions,
        openapi: Mapping[str, Any],
        hpas: Iterable[Mapping[str, Any]] = (),
    ) -> Judge:
        """A judge over the given OpenAPI documents (empty: the built-in index)."""
        roles = ManagerRoles(options.appliers, options.controllers)
        return cls(
            options,
            index_for(openapi),
            compile_rules(options.ignore),
            roles,
            Classifier(roles),
            hpa_targets(hpas),
        )

    def with_hpas(self, hpas: Iterable[Mapping[str, Any]]) -> Judge:
        """The same judge, for another set of HorizontalPodAutoscalers."""
        return Judge(
            self.options, self.schema, self.rules, self.roles, self.classifier, hpa_targets(hpas)
        )


def compare_target(
    desired: DesiredSet,
    live: LiveSnapshot,
    options: CompareOptions,
    *,
    precomputed: Mapping[ResourceKey, ObjectDrift] | None = None,
    judge: Judge | None = None,
) -> TargetReport:
    """The drift of one target: every declared object, plus unmanaged live ones.

    ``precomputed`` holds verdicts already reached while the snapshot streamed
    (``compare.streaming``); those objects' live bodies may be stubs.  ``judge``
    is the run's one judge (the one the streamed verdicts used); without it one
    is built from the snapshot's OpenAPI documents.
    """
    precomputed = precomputed or {}
    judge = (judge or Judge.build(options, live.openapi)).with_hpas(_hpa_sources(desired, live))
    report = TargetReport(
        target=desired.target,
        revision=desired.revision,
        snapshot_time=live.taken_at,
        source_errors=list(desired.errors),
    )
    for gk, read in live.types.items():
        if read.state is ReadState.FAILED:
            report.read_errors[gk] = read.error or "read failed"
    declared = _scoped_keys(desired, live)
    for key, obj in sorted(declared.items()):
        verdict = _streamed(precomputed, key, live) or _verdict(judge, key, obj.body, live)
        report.objects.append(_with_origin(verdict, obj.origin, obj.api_version))
        report.ignored_count += len(verdict.ignored)
    report.objects.extend(_unmanaged(declared, desired, live, options))
    report.objects.sort(key=lambda o: o.key)
    return report


def _streamed(
    precomputed: Mapping[ResourceKey, ObjectDrift], key: ResourceKey, live: LiveSnapshot
) -> ObjectDrift | None:
    """A verdict reached while streaming, if its type's read then completed."""
    verdict = precomputed.get(key)
    if verdict is None or key not in live.objects:
        return None
    read = live.types.get(key.group_kind)
    return verdict if read is not None and read.state is ReadState.COMPLETE else None


class KeyComparer:
    """Verdicts for chosen keys, by the judge of the full run they follow.

    Watch mode re-compares one object at a time, with the judge the full run built
    (same schema, rules and roles), so a watched verdict is the verdict that run
    would have given.
    """

    def __init__(self, judge: Judge) -> None:
        self.options = options = judge.options
        self._judge = judge
        self._marker = options.ownership_marker()

    def compare(
        self, desired: DesiredSet, live: LiveSnapshot, keys: Iterable[ResourceKey]
    ) -> list[ObjectDrift]:
        """The verdicts of ``keys`` exactly as ``compare_target`` gives them, sorted by key.

        A key that is neither declared nor an unmanaged live object gets no verdict
        (it is not part of the report).
        """
        options = self.options
        judge = self._judge.with_hpas(_hpa_sources(desired, live))
        declared = _scoped_keys(desired, live)
        kinds = {key.group_kind for key in declared} | set(options.unmanaged_kinds)
        out: list[ObjectDrift] = []
        for key in sorted(set(keys)):
            obj = declared.get(key)
            if obj is not None:
                verdict = _verdict(judge, key, obj.body, live)
                out.append(_with_origin(verdict, obj.origin, obj.api_version))
                continue
            body = live.objects.get(key)
            if body is not None and _is_unmanaged(key, body, declared, live, kinds, self._marker):
                out.append(_unmanaged_drift(key, body, desired))
        return out


def compare_keys(
    desired: DesiredSet,
    live: LiveSnapshot,
    options: CompareOptions,
    keys: Iterable[ResourceKey],
) -> list[ObjectDrift]:
    """The verdicts of just ``keys`` (declared or unmanaged), as ``compare_target`` would give.

    Pure, like ``compare_target``; for many calls on one snapshot use ``KeyComparer``.
    """
    return KeyComparer(Judge.build(options, live.openapi)).compare(desired, live, keys)


def _with_origin(verdict: ObjectDrift, origin: Any, api_version: str) -> ObjectDrift:
    return replace(verdict, origin=origin, api_version=api_version)


def _hpa_sources(desired: DesiredSet, live: LiveSnapshot) -> Iterable[Mapping[str, Any]]:
    for obj in desired.objects.values():
        if is_hpa(obj.key.kind):
            yield obj.body
    for key, body in live.objects.items():
        if is_hpa(key.kind):
            yield body


def _scoped_keys(desired: DesiredSet, live: LiveSnapshot) -> dict[ResourceKey, Any]:
    """Desired objects keyed as the cluster scopes them (cluster-scoped kinds lose a namespace)."""
    scoped = {}
    for key, obj in desired.objects.items():
        read = live.types.get(key.group_kind)
        scoped[read.key_for(key) if read is not None else key] = obj
    return scoped


def _verdict(judge: Judge, key: ResourceKey, body: Manifest, live: LiveSnapshot) -> ObjectDrift:
    read = live.types.get(key.group_kind)
    if read is None:
        return ObjectDrift(key, DriftState.UNKNOWN, reason="type was not read")
    if read.state is ReadState.FAILED:
        return ObjectDrift(
            key,
            DriftState.UNKNOWN,
            reason=f"could not read {key.group_kind.display()}: {read.error}",
        )
    if read.state is ReadState.NOT_SERVED:
        return ObjectDrift(
            key,
            DriftState.MISSING,
            reason=f"kind {key.group_kind.display()} is not served by the cluster",
        )
    current = live.objects.get(key)
    if current is None:
        if not read.covers(key.namespace):
            note = read.scope_note or "namespace {namespace} was not read"
            reason = note.format(kind=key.group_kind.display(), namespace=key.namespace)
            return ObjectDrift(key, DriftState.UNKNOWN, reason=reason)
        if read.label_selector:
            reason = f"only objects matching {read.label_selector} were read"
            return ObjectDrift(key, DriftState.UNKNOWN, reason=reason)
        return ObjectDrift(key, DriftState.MISSING)
    return compare_bodies(
        judge, key, body, current, managed_fields_present=live.managed_fields_present
    )


def compare_bodies(
    judge: Judge,
    key: ResourceKey,
    body: Manifest,
    current: Manifest,
    *,
    managed_fields_present: bool = True,
) -> ObjectDrift:
    """The verdict for one declared body against its live body (both present)."""
    options, roles = judge.options, judge.roles
    group, version = split_api_version(str(current.get("apiVersion", "")))
    root = judge.schema.root(group, version, key.kind)
    metadata = current.get("metadata") or {}
    entries = parse_entries(metadata)
    suspects, update_appliers = [], []
    for entry in entries:
        role = roles.role(entry)
        if role is Role.APPLIER and entry.operation != "Apply":
            update_appliers.append(entry)
        elif role is not Role.CONTROLLER:
            suspects.append((entry, role))
    is_secret = is_core_secret(key.kind, key.group)
    desired_view = _comparable(body, secret=is_secret)
    applied = last_applied(current)
    ctx = ObjectContext(
        key=key,
        ownership=Ownership(entries),
        applied=applied,
        managed_fields_present=managed_fields_present and "managedFields" in metadata,
        hpa_targeted=key in judge.scaled,
        rules=[r for r in judge.rules if r.applies_to(key)],
        sensitive_annotations=options.sensitive_annotations,
        suspects=suspects,
        update_appliers=update_appliers,
        applied_extra=applied is not None
        and bool(update_appliers or not entries)
        and _pruned(_comparable(applied, secret=is_secret)) != _pruned(desired_view),
    )
    # A live-only field can be drift only if a person or a server-side applier owns
    # part of the object, or the client-side applier's record holds more than Git.
    added_fields = bool(suspects) or ctx.applied_extra
    differences = diff(desired_view, _comparable(current), root, added_fields=added_fields)
    fields, ignored = judge.classifier.classify(ctx, differences)
    state = DriftState.MODIFIED if fields else DriftState.IN_SYNC
    return ObjectDrift(key, state, tuple(fields), tuple(ignored))


def _pruned(view: dict[str, Any]) -> dict[str, Any]:
    """A view without empty metadata maps (kubectl records ``annotations: {}``)."""
    metadata = view.get("metadata")
    if isinstance(metadata, dict) and any(v in ({}, None) for v in metadata.values()):
        view = {**view, "metadata": {k: v for k, v in metadata.items() if v not in ({}, None)}}
    return view


def _comparable(body: Mapping[str, Any], *, secret: bool = False) -> dict[str, Any]:
    """A shallow view without server-populated fields (no deep copy)."""
    view = {k: v for k, v in body.items() if k not in _TOP_SKIP}
    metadata = body.get("metadata")
    if isinstance(metadata, dict):
        meta = {k: v for k, v in metadata.items() if k not in _META_SKIP}
        annotations = meta.get("annotations")
        if isinstance(annotations, dict) and LAST_APPLIED in annotations:
            meta["annotations"] = {k: v for k, v in annotations.items() if k != LAST_APPLIED}
        view["metadata"] = meta
    if secret and isinstance(body.get("stringData"), Mapping):
        view["data"] = _merge_string_data(body.get("data"), body["stringData"])
        view.pop("stringData", None)
    return view


def _merge_string_data(data: Any, string_data: Mapping[str, Any]) -> dict[str, Any]:
    """``stringData`` as the server stores it: base64 in ``data`` (fingerprints kept)."""
    merged = dict(data) if isinstance(data, dict) else {}
    for name, value in string_data.items():
        text = "" if value is None else str(value)
        merged[name] = text if is_fingerprint(text) else base64.b64encode(text.encode()).decode()
    return merged


def _controlled(body: Mapping[str, Any]) -> bool:
    refs = (body.get("metadata") or {}).get("ownerReferences") or ()
    return any(isinstance(ref, dict) and ref.get("controller") is True for ref in refs)


def _is_unmanaged(
    key: ResourceKey,
    body: Mapping[str, Any],
    declared: Mapping[ResourceKey, Any],
    live: LiveSnapshot,
    kinds: set[GroupKind],
    marker: Marker,
) -> bool:
    if not marker.defined or key in declared or key.group_kind not in kinds:
        return False
    read = live.types.get(key.group_kind)
    if read is None or read.state is not ReadState.COMPLETE:
        return False
    return marker.marks(body) and not _controlled(body)


def _unmanaged_drift(key: ResourceKey, body: Mapping[str, Any], desired: DesiredSet) -> ObjectDrift:
    """UNMANAGED — or UNKNOWN while a Git file that might declare the object was unreadable."""
    api_version = str(body.get("apiVersion", ""))
    if desired.errors:
        return ObjectDrift(
            key, DriftState.UNKNOWN, reason=unreadable_reason(desired), api_version=api_version
        )
    created, changed = creator_and_last(parse_entries(body.get("metadata") or {}))
    return ObjectDrift(
        key,
        DriftState.UNMANAGED,
        api_version=api_version,
        created_by=created,
        changed_by=changed,
    )


def unreadable_reason(desired: DesiredSet) -> str:
    """Why a live object missing from an incomplete desired set is not called unmanaged."""
    files = sorted({e.file for e in desired.errors})
    named = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
    return f"not in Git as read, but {named} could not be read and may declare it"


def _unmanaged(
    declared: Mapping[ResourceKey, Any],
    desired: DesiredSet,
    live: LiveSnapshot,
    options: CompareOptions,
) -> list[ObjectDrift]:
    marker = options.ownership_marker()
    kinds = {key.group_kind for key in declared} | set(options.unmanaged_kinds)
    return [
        _unmanaged_drift(key, body, desired)
        for key, body in live.objects.items()
        if _is_unmanaged(key, body, declared, live, kinds, marker)
    ]
