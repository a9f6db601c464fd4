"""Which refs a target's ``rev`` may name, in order: one rule for the checkout and the Git poll.

``HEAD`` is the remote's HEAD; a name starting with ``refs/`` is that ref; any
other name is the branch ``refs/heads/<rev>``, else the tag ``refs/tags/<rev>``.
A hex string may also be a commit, and a full SHA is one: the Git poll has
nothing to ask the remote about it.  The checkout looks the remote names up
under the names its fetch stores them as; the poll asks ``git ls-remote``.
"""

from __future__ import annotations

import re

_HEX = re.compile(r"^[0-9a-fA-F]{4,64}$")


def may_be_commit(rev: str) -> bool:
    """Whether ``rev`` could be an abbreviated or full commit SHA."""
    return bool(_HEX.match(rev))


def is_full_sha(rev: str) -> bool:
    """Whether ``rev`` is a full SHA-1 or SHA-256 commit id."""
    return len(rev) in (40, 64) and may_be_commit(rev)


def remote_refs(rev: str) -> list[str]:
    """The remote's ref names ``rev`` may mean, preferred first (a commit id aside)."""
    rev = rev.strip() or "HEAD"
    if rev == "HEAD" or rev.startswith("refs/"):
        return [rev]
    return [f"refs/heads/{rev}", f"refs/tags/{rev}"]
