"""The one place where Secret values are taken out of driftwatch's data.

Both sides of a comparison pass through here before anything else sees them:
every value of a Secret's ``data``/``stringData`` (and of annotations configured
as sensitive, and inside the ``last-applied-configuration`` annotation of a
Secret) becomes a keyed, non-reversible fingerprint ``hmac-sha256:<hex>``.  Two
equal values give equal fingerprints under the same key, which is all a
comparison needs; no log, event, metric, trace, diff, HTTP reply or saved
snapshot downstream can hold a value it never received.

The key lives in the state directory (see ``driftwatch.keys``), never in a
saved snapshot.  Pure functions: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

FINGERPRINT_PREFIX = "hmac-sha256:"
_FINGERPRINT_HEX = 32
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
MASK = "<redacted>"


SECRET_VALUE_FIELDS = ("data", "stringData")
"""The fields of a core Secret that hold its values."""


def is_core_secret(kind: str, group: str) -> bool:
    """Whether objects of this kind and API group are core v1 Secrets, whose values never show.

    The one answer to "is this a Secret" for every layer: redaction here, the
    compare core, reports, alerts and the event log's own masking.
    """
    return kind == "Secret" and group == ""


def is_secret_body(body: Mapping[str, Any]) -> bool:
    """Whether a manifest or live object is a core v1 Secret."""
    api_version = str(body.get("apiVersion", "v1"))
    group = api_version.rpartition("/")[0]
    return is_core_secret(str(body.get("kind", "")), group) and api_version == "v1"


def holds_secret_value(path: Sequence[object]) -> bool:
    """Whether a field path of a core Secret is, or is under, one of its values.

    ``path`` is a sequence of segments (``("data", "password")``); see
    ``pointer_segments`` for a rendered path.  The whole object (the empty path)
    holds its values too.
    """
    if not path:
        return True
    return path[0] in SECRET_VALUE_FIELDS or tuple(path[:3]) == (
        "metadata",
        "annotations",
        LAST_APPLIED,
    )


def pointer_segments(path: str) -> tuple[str, ...]:
    """The leading segments of a rendered field path, as ``holds_secret_value`` needs them.

    Reports write JSON-pointer style (``/data/password``; ``~1`` is ``/`` and ``~0``
    is ``~`` inside a segment); the dotted form of the recorded expectations
    (``data.password``) is read too, an annotation key after
    ``metadata.annotations.`` taken whole.  A list item selector (``[name=x]``)
    stays attached to its segment, which is all a prefix test needs.
    """
    if path.startswith("/"):
        parts = path[1:].split("/")
        return tuple(p.replace("~1", "/").replace("~0", "~") for p in parts if p != "")
    annotations = "metadata.annotations."
    if path.startswith(annotations):
        return ("metadata", "annotations", path[len(annotations) :])
    head = path.split(".", 1)[0].split("[", 1)[0]
    return (head,) if head else ()


class SecretHasher:
    """Turns secret values into fingerprints under one key."""

    def __init__(self, key: bytes, sensitive_annotations: Iterable[str] = ()) -> None:
        if len(key) < 16:
            raise ValueError("the fingerprint key must be at least 16 bytes")
        self._key = key
        self.sensitive_annotations = frozenset(sensitive_annotations)

    @property
    def key_id(self) -> str:
        """A public name for the key, so a snapshot can say which key hashed it."""
        return hashlib.sha256(b"driftwatch-key-id:" + self._key).hexdigest()[:16]

    def fingerprint(self, value: bytes) -> str:
        """``hmac-sha256:<32 hex>`` of ``value``."""
        digest = hmac.new(self._key, value, hashlib.sha256).hexdigest()[:_FINGERPRINT_HEX]
        return FINGERPRINT_PREFIX + digest

    def redact(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of ``body`` whose secret values are fingerprints (others shared, not copied).

        Idempotent: a fingerprint is never hashed again.
        """
        out = dict(body)
        if is_secret_body(body):
            merged = _secret_values(body)
            if merged is not None:
                out["data"] = {k: self._fp_value(v) for k, v in merged.items()}
                out.pop("stringData", None)
        meta = body.get("metadata")
        if isinstance(meta, Mapping):
            annotations = meta.get("annotations")
            if isinstance(annotations, Mapping) and annotations:
                new_ann = self._redact_annotations(body, annotations)
                if new_ann is not annotations:
                    out["metadata"] = {**meta, "annotations": new_ann}
        return out

    def _fp_value(self, value: bytes | str) -> str:
        if isinstance(value, str):
            return value if is_fingerprint(value) else self.fingerprint(value.encode())
        return self.fingerprint(value)

    def _redact_annotations(
        self, body: Mapping[str, Any], annotations: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        changed: dict[str, Any] = {}
        for name in self.sensitive_annotations.intersection(annotations):
            value = annotations[name]
            if isinstance(value, str) and not is_fingerprint(value):
                changed[name] = self.fingerprint(value.encode())
        last = annotations.get(LAST_APPLIED)
        if isinstance(last, str) and (is_secret_body(body) or self.sensitive_annotations):
            changed[LAST_APPLIED] = self._redact_last_applied(last)
        if not changed:
            return annotations
        return {**annotations, **changed}

    def _redact_last_applied(self, text: str) -> str:
        try:
            applied = json.loads(text)
        except ValueError:
            return self.fingerprint(text.encode())
        if not isinstance(applied, dict):
            return self.fingerprint(text.encode())
        return json.dumps(self.redact(applied), sort_keys=True, separators=(",", ":"))


def _secret_values(body: Mapping[str, Any]) -> dict[str, bytes | str] | None:
    """Secret data as the API server stores it: ``stringData`` merged over decoded ``data``.

    A ``data`` value that is not valid base64 (or already a fingerprint) is kept
    as text so it still fingerprints deterministically.
    """
    data = body.get("data")
    string_data = body.get("stringData")
    if not isinstance(data, Mapping) and not isinstance(string_data, Mapping):
        return None
    merged: dict[str, bytes | str] = {}
    if isinstance(data, Mapping):
        for key, value in data.items():
            merged[str(key)] = _decode(value)
    if isinstance(string_data, Mapping):
        for key, value in string_data.items():
            merged[str(key)] = str(value).encode() if value is not None else b""
    return merged


def _decode(value: Any) -> bytes | str:
    if value is None:
        return b""
    text = str(value)
    if is_fingerprint(text):
        return text
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return "invalid-base64:" + text


def is_fingerprint(value: object) -> bool:
    """Whether ``value`` is a fingerprint made by ``SecretHasher``."""
    return isinstance(value, str) and value.startswith(FINGERPRINT_PREFIX)


def short_fingerprint(value: object) -> str:
    """The displayed form of a fingerprint: ``hmac-sha256:1a2b3c4d5e6f``."""
    text = str(value)
    return text[: len(FINGERPRINT_PREFIX) + 12] if is_fingerprint(text) else MASK


def mask_manifest(
    body: Mapping[str, Any], sensitive_annotations: Iterable[str] = ()
) -> dict[str, Any]:
    """A copy of a manifest for display with Secret values replaced by ``<redacted>``.

    For ``driftwatch render`` without ``--show-secrets``: keeps the keys, hides the values.
    """
    out = dict(body)
    if is_secret_body(body):
        for field in SECRET_VALUE_FIELDS:
            values = body.get(field)
            if isinstance(values, Mapping):
                out[field] = dict.fromkeys(values, MASK)
    sensitive = set(sensitive_annotations)
    meta = body.get("metadata")
    if isinstance(meta, Mapping) and isinstance(meta.get("annotations"), Mapping):
        annotations = meta["annotations"]
        hidden = {k for k in annotations if k in sensitive}
        if is_secret_body(body) and LAST_APPLIED in annotations:
            hidden.add(LAST_APPLIED)
        if hidden:
            out["metadata"] = {
                **meta,
                "annotations": {k: (MASK if k in hidden else v) for k, v in annotations.items()},
            }
    return out


def scrub_text(text: str, secrets: Iterable[str]) -> str:
    """Remove known secret strings (tokens, passwords from URLs) from free text."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    return text
