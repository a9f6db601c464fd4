"""From raw differences to drift: who owns each live value, and does that make it drift.

A declared value that differs is drift, attributed to the manager that owns the
live value.  A field only the live object has is drift only when someone other
than the server asked for it:

- owned by nobody: a server default or a mutating webhook's injection — not drift;
- owned by a known controller — not drift;
- owned by the Git applier — drift only if the applier's own record of what it
  applied holds the field (server-side apply: its ``Apply`` entry; client-side
  apply: the last-applied annotation), i.e. a manifest that is not Git's was applied;
- owned by anyone else (``kubectl-edit``, ``kubectl scale``, a script) — drift.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from driftwatch.compare import applied as applied_record
from driftwatch.compare.ignore import ADMISSION_RULE, HPA_RULE, CompiledRule, hpa_owns
from driftwatch.compare.managed import ManagerEntry, Ownership, value_at
from driftwatch.compare.managers import ManagerRoles, Role, is_bookkeeping
from driftwatch.compare.paths import Path, render
from driftwatch.compare.walk import Difference
from driftwatch.compare.walk import diff as walk_diff
from driftwatch.model import (
    UNATTRIBUTED,
    Attribution,
    ChangeKind,
    FieldDrift,
    IgnoredDrift,
    ResourceKey,
)
from driftwatch.redact import (
    MASK,
    holds_secret_value,
    is_core_secret,
    is_fingerprint,
    short_fingerprint,
)


@dataclass(slots=True)
class ObjectContext:
    """Everything known about one live object that classification needs."""

    key: ResourceKey
    ownership: Ownership
    applied: Mapping[str, Any] | None
    managed_fields_present: bool
    hpa_targeted: bool
    rules: Sequence[CompiledRule]
    sensitive_annotations: frozenset[str] = field(default_factory=frozenset)
    suspects: Sequence[tuple[ManagerEntry, Role]] = ()
    """People and server-side appliers: whose ownership can make an added field drift."""
    update_appliers: Sequence[ManagerEntry] = ()
    """Client-side appliers (Update): they own defaults too, so only their record counts."""
    applied_extra: bool = False
    """The client-side applier's record holds something Git does not declare."""

    @property
    def is_secret(self) -> bool:
        """Core v1 Secret: its data values are never shown."""
        return is_core_secret(self.key.kind, self.key.group)


def _latest(entries: Iterable[ManagerEntry]) -> Attribution:
    best: ManagerEntry | None = None
    for entry in entries:
        if best is None or (entry.time or "") > (best.time or ""):
            best = entry
    return best.attribution if best is not None else UNATTRIBUTED


class Classifier:
    """Turns one object's differences into drifted and ignored fields."""

    def __init__(self, roles: ManagerRoles) -> None:
        self._roles = roles

    def classify(
        self, ctx: ObjectContext, differences: Iterable[Difference]
    ) -> tuple[list[FieldDrift], list[IgnoredDrift]]:
        """Drifted fields and ignored differences, values redacted."""
        drifted: list[FieldDrift] = []
        ignored: list[IgnoredDrift] = []
        for diff in differences:
            if diff.change is ChangeKind.ADDED:
                for part, live, owner, owner_role in self._added_parts(ctx, diff):
                    rule = self._ignored_by(ctx, part, owner, owner_role)
                    if rule is not None:
                        ignored.append(IgnoredDrift(render(part), rule, owner))
                    else:
                        shown = self._shown(ctx, part, live)
                        drifted.append(FieldDrift(render(part), diff.change, None, shown, owner))
                continue
            if diff.change is ChangeKind.CHANGED:
                owners = ctx.ownership.owners(diff.path)
                attribution = _latest(entry for entry, _ in owners)
                role = self._role_of(ctx, attribution, owners)
                if self._mutated_at_admission(ctx, diff, owners):
                    ignored.append(IgnoredDrift(render(diff.path), ADMISSION_RULE, attribution))
                    continue
            else:
                attribution, role = UNATTRIBUTED, None
            rule = self._ignored_by(ctx, diff.path, attribution, role)
            path = render(diff.path)
            if rule is not None:
                ignored.append(IgnoredDrift(path, rule, attribution))
                continue
            drifted.append(
                FieldDrift(
                    path,
                    diff.change,
                    self._shown(ctx, diff.path, diff.desired),
                    self._shown(ctx, diff.path, diff.live),
                    attribution,
                )
            )
        return drifted, ignored

    def _role_of(
        self, ctx: ObjectContext, attribution: Attribution, owners: list[tuple[ManagerEntry, bool]]
    ) -> Role | None:
        for entry, _ in owners:
            if entry.attribution == attribution:
                return self._roles.role(entry)
        return None

    def _added_parts(
        self, ctx: ObjectContext, diff: Difference
    ) -> list[tuple[Path, Any, Attribution, Role | None]]:
        """The drifted parts of a live-only value, each under its own owner.

        A live-only list item can hold parts written by different hands: a person
        may set one field of a container a webhook injected, or a webhook inject a
        field into a container a person added.  ``fieldsV1`` says which nodes each
        manager created (``.``) and which leaves it set, so the item is reported
        whole only under the manager that created it, reduced to what that
        manager wrote; every other culprit's part is reported at its own path;
        parts nobody owns (defaults, injections) or controllers own are left out.
        """
        path, live = diff.path, diff.live
        if not ctx.managed_fields_present or not isinstance(live, dict):
            owner = self._added_owner(ctx, path)
            return [] if owner is None else [(path, live, *owner)]
        culprits = self._culprits(ctx, path)
        if not culprits:
            return []
        ownership = ctx.ownership
        parts: dict[Path, tuple[Any, ManagerEntry, Role]] = {}
        # Later entries win a shared part, as the latest write does elsewhere.
        for entry, role in sorted(culprits, key=lambda c: c[0].time or ""):
            trie = ownership.trie_at(entry, path)
            if trie is None:  # owns an atomic ancestor: the whole value is its
                parts[path] = (live, entry, role)
                continue
            for part, part_trie in ownership.owned_parts(trie, path):
                present, value = value_at(live, part[len(path) :])
                if present:
                    parts[part] = (ownership.restrict(value, part_trie), entry, role)
        whole = parts.get(path)
        out: list[tuple[Path, Any, Attribution, Role | None]] = []
        for part, (value, entry, role) in sorted(parts.items(), key=lambda p: render(p[0])):
            if whole is not None and part != path and whole[1] is entry:
                continue  # inside the item its creator reports whole
            out.append((part, value, entry.attribution, role))
        return out

    def _added_owner(
        self, ctx: ObjectContext, path: Path
    ) -> tuple[Attribution, Role | None] | None:
        """Who made a live-only field drift, or None when it is not drift.

        Controllers never make an added field drift, so only people, server-side
        appliers and (when their record holds more than Git) client-side appliers
        are asked; an untouched object costs no lookup at all.
        """
        if not ctx.managed_fields_present:
            if applied_record.holds(ctx.applied, path, secret=ctx.is_secret):
                return UNATTRIBUTED, None
            return None
        culprits = self._culprits(ctx, path)
        if not culprits:
            return None
        attribution = _latest(entry for entry, _ in culprits)
        role = next(r for e, r in culprits if e.attribution == attribution)
        return attribution, role

    def _culprits(self, ctx: ObjectContext, path: Path) -> list[tuple[ManagerEntry, Role]]:
        """The managers whose ownership at or under ``path`` makes a live-only value drift."""
        culprits: list[tuple[ManagerEntry, Role]] = []
        for entry, role in ctx.suspects:
            found = ctx.ownership.locate(entry, path)
            if found is None:
                continue
            if role is Role.PERSON or (found == "exact" and self._applied_by(ctx, entry, path)):
                culprits.append((entry, role))
        if ctx.applied_extra and applied_record.holds(ctx.applied, path, secret=ctx.is_secret):
            for entry in ctx.update_appliers:
                if ctx.ownership.locate(entry, path) is not None:
                    culprits.append((entry, Role.APPLIER))
        if is_bookkeeping(path):
            culprits = [(e, r) for e, r in culprits if r is not Role.APPLIER]
        return culprits

    def _mutated_at_admission(
        self, ctx: ObjectContext, diff: Difference, owners: list[tuple[ManagerEntry, bool]]
    ) -> bool:
        """The client-side applier sent Git's value and owns the field, yet live differs.

        Only admission (a mutating webhook) changes a value between the applier's
        request and storage without taking ownership: a person's edit, patch or
        scale makes its own manager the owner, and an apply of another manifest
        changes the applier's record.  So this difference is the cluster's
        add-on at work, not drift.
        """
        if ctx.applied is None or not owners:
            return False
        if not all(
            self._roles.role(entry) is Role.APPLIER and entry.operation == "Update"
            for entry, _ in owners
        ):
            return False
        found, sent = applied_record.value_at(ctx.applied, diff.path)
        return found and next(walk_diff(diff.desired, sent, None), None) is None

    @staticmethod
    def _applied_by(ctx: ObjectContext, entry: ManagerEntry, path: Path) -> bool:
        if ctx.ownership.holds(entry, path):
            return True
        if ctx.is_secret and path and path[0] == "data":
            return ctx.ownership.holds(entry, ("stringData", *path[1:]))
        return False

    @staticmethod
    def _ignored_by(
        ctx: ObjectContext, path: Path, attribution: Attribution, role: Role | None
    ) -> str | None:
        if ctx.hpa_targeted and hpa_owns(path, attribution, is_controller=role is Role.CONTROLLER):
            return HPA_RULE
        for rule in ctx.rules:
            if rule.matches(path, attribution):
                return rule.name
        return None

    @staticmethod
    def _shown(ctx: ObjectContext, path: Path, value: Any) -> Any:
        """The value as it may appear in a report: Secret data only as fingerprints."""
        if value is None:
            return None
        secret_field = ctx.is_secret and holds_secret_value(path)
        sensitive = (
            len(path) >= 3
            and path[0] == "metadata"
            and path[1] == "annotations"
            and path[2] in ctx.sensitive_annotations
        )
        return _masked(value) if secret_field or sensitive else value


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if is_fingerprint(value):
        return short_fingerprint(value)
    return MASK
