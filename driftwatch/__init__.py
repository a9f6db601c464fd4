"""driftwatch: where Kubernetes clusters differ from what Git says they should be.

Read-only by construction: it only gets, lists and watches cluster objects and
only fetches from Git.
"""

__version__ = "0.1.0"
