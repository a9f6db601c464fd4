"""driftwatch's own exception hierarchy.

Library errors are translated where the library is called (``raise ... from e``)
so that callers handle one family, and messages are capped: a payload in an error
message may carry anything, including a secret.
"""

from __future__ import annotations

MAX_DETAIL = 256


def truncate(text: str, limit: int = MAX_DETAIL) -> str:
    """Cap free text that goes into an error message."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class DriftwatchError(Exception):
    """Base of every error driftwatch raises on purpose."""


class ConfigError(DriftwatchError):
    """The configuration file or the quick flags are invalid."""


class SourceFetchError(DriftwatchError):
    """Git could not be reached or the revision could not be resolved."""


class RenderError(DriftwatchError):
    """A renderer (plain YAML, Kustomize, Helm) failed for a whole target."""


class ClusterError(DriftwatchError):
    """The cluster could not be reached or refused the read."""


class ReadOnlyViolation(DriftwatchError):  # noqa: N818 (a violation, not an error of ours)
    """Code asked the cluster client for a verb other than get, list or watch."""


class SnapshotFileError(DriftwatchError):
    """A saved snapshot or dump could not be read."""
