"""Splitting the targets of one configuration across replicas (shards).

Every replica reads the same configuration and runs only the targets it owns:
target ``T`` belongs to shard ``sha256(T) mod N``.  The hash is the same in every
process, host and Python version (``hash()`` is salted per process), so the
replicas agree on the split without talking to each other, and each target is run
by exactly one of them.  A request for a target another replica owns is sent
there: :meth:`Shard.redirect_url` builds the owner's URL from a template such as
``http://driftwatch-{shard}.driftwatch-headless.ns.svc:8080`` (the per-pod DNS
names of a StatefulSet's headless Service).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from driftwatch.config.model import Config
from driftwatch.errors import ConfigError

SHARD_ENV = "DRIFTWATCH_SHARD"
"""``I/N``: the shard of this replica (as ``--shard``)."""
SHARDS_ENV = "DRIFTWATCH_SHARDS"
"""``N``: the number of shards; the index comes from the pod name's ordinal (as ``--shards``)."""
PEER_URL_ENV = "DRIFTWATCH_PEER_URL"
"""URL template of a shard's replica, ``{shard}`` standing for its index (as ``--peer-url``)."""
MAX_SHARDS = 1024

_ORDINAL = re.compile(r"-([0-9]+)$")


def owner_of(target: str, count: int) -> int:
    """The shard (0..count-1) that owns ``target``: a stable hash of its name, modulo count."""
    digest = hashlib.sha256(target.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") % count


@dataclass(frozen=True)
class Shard:
    """This replica's place in the split: shard ``index`` of ``count``."""

    index: int
    count: int
    peer_url: str | None = None
    """Template of a replica's base URL with ``{shard}``; None: no redirects possible."""

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, target: str) -> bool:
        """Whether this replica runs ``target``."""
        return owner_of(target, self.count) == self.index

    def url_of(self, index: int) -> str | None:
        """The base URL of shard ``index`` (no trailing slash), None without a template."""
        if self.peer_url is None:
            return None
        return self.peer_url.replace("{shard}", str(index)).rstrip("/")

    def redirect_url(self, target: str, path: str) -> str | None:
        """Where a request for ``path`` (path and query) about ``target`` should go instead.

        None when this replica owns the target, or when there is no URL template.
        """
        owner = owner_of(target, self.count)
        base = self.url_of(owner) if owner != self.index else None
        return None if base is None else base + (path if path.startswith("/") else "/" + path)

    def select(self, config: Config) -> Config:
        """``config`` with only the targets this replica owns."""
        owned = tuple(t for t in config.targets if self.owns(t.name))
        return config.model_copy(update={"targets": owned})

    def to_json(self) -> dict[str, Any]:
        """How the API and /readyz describe this shard."""
        peers = [self.url_of(i) for i in range(self.count)] if self.peer_url else None
        return {"index": self.index, "count": self.count, "peers": peers}


def parse_shard(text: str, source: str = "--shard") -> tuple[int, int]:
    """``I/N`` -> (I, N); ConfigError naming ``source`` when malformed or out of range."""
    index_text, sep, count_text = text.strip().partition("/")
    if not sep or not _digits(index_text) or not _digits(count_text):
        raise ConfigError(f"{source} {text!r}: use INDEX/COUNT, e.g. 0/3")
    index, count = int(index_text), _count(count_text, source)
    if index >= count:
        raise ConfigError(f"{source} {text!r}: the index must be below the count (0..{count - 1})")
    return index, count


def ordinal_of(pod_name: str) -> int | None:
    """The ordinal of a StatefulSet pod name (``driftwatch-2`` -> 2), None without one."""
    match = _ORDINAL.search(pod_name.strip())
    return int(match.group(1)) if match else None


def shard_from(
    *,
    shard: str | None,
    shards: str | None,
    pod_name: str | None,
    peer_url: str | None,
) -> Shard | None:
    """This replica's :class:`Shard` from ``--shard I/N``, or ``--shards N`` and the pod name.

    None when neither is given (one replica runs every target).  Every bad input is
    a one-line ConfigError.
    """
    shard, shards = (shard or "").strip() or None, (shards or "").strip() or None
    if shard is not None and shards is not None:
        raise ConfigError(
            f"give either --shard I/N ({SHARD_ENV}) or --shards N ({SHARDS_ENV}), not both"
        )
    if shard is None and shards is None:
        if peer_url:
            raise ConfigError(f"--peer-url ({PEER_URL_ENV}) needs --shard I/N or --shards N")
        return None
    if shard is not None:
        index, count = parse_shard(shard)
    else:
        assert shards is not None
        count = _count(shards, "--shards")
        index = _index_from_pod(pod_name, count)
    return Shard(index, count, _template(peer_url) if peer_url else None)


def _count(text: str, source: str) -> int:
    if not _digits(text.strip()) or not 1 <= int(text) <= MAX_SHARDS:
        raise ConfigError(
            f"{source} {text!r}: the count must be a whole number from 1 to {MAX_SHARDS}"
        )
    return int(text)


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _index_from_pod(pod_name: str | None, count: int) -> int:
    if not pod_name:
        raise ConfigError(
            f"--shards {count}: cannot tell this replica's ordinal: set POD_NAME "
            "(a StatefulSet pod name ending in -<ordinal>) or use --shard I/N"
        )
    index = ordinal_of(pod_name)
    if index is None:
        raise ConfigError(
            f"--shards {count}: pod name {pod_name!r} does not end in -<ordinal>; "
            "use --shard I/N outside a StatefulSet"
        )
    if index >= count:
        raise ConfigError(
            f"--shards {count}: pod {pod_name!r} has ordinal {index}, but there are only "
            f"{count} shard(s) (0..{count - 1}): set --shards to the StatefulSet's replicas"
        )
    return index


def _template(text: str) -> str:
    """A validated ``--peer-url`` template."""
    template = text.strip()
    if "{shard}" not in template:
        raise ConfigError(
            f"--peer-url {text!r}: the template needs {{shard}} where the replica's "
            "ordinal goes, e.g. http://driftwatch-{shard}.driftwatch-headless.ns.svc:8080"
        )
    example = template.replace("{shard}", "0")
    if not re.match(r"^https?://[^/\s?#{}]+", example) or re.search(r"[\s{}?#]", example):
        raise ConfigError(
            f"--peer-url {text!r}: use an http(s) base URL without query, e.g. "
            "http://driftwatch-{shard}.driftwatch-headless.ns.svc:8080"
        )
    return template
