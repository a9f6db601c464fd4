"""The Git source stage: a target's repository at its revision, as a local directory.

Only ever fetches; never pushes or writes to a remote.  See ``driftwatch.source.git``.
"""

from driftwatch.source.git import Checkout, GitSource
from driftwatch.source.urls import safe_url

__all__ = ["Checkout", "GitSource", "safe_url"]
