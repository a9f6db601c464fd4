"""A Kubernetes API test server that the real ``kubernetes`` client talks to over HTTP.

It serves the recorded discovery, OpenAPI and version documents of a real
kube-apiserver, and objects seeded from a recorded scenario, with list
pagination, selectors, watch streams, real ``Status`` errors and per-request
fault injection.  It records every request so tests can prove driftwatch never
sent a write.  Run it standalone with ``python -m tests.kubeapi``.
"""

from .faults import Fault
from .seed import load_scenario, store_for_scenario, synthetic_config_maps
from .server import KubeApiServer, RecordedRequest
from .store import Store

__all__ = [
    "Fault",
    "KubeApiServer",
    "RecordedRequest",
    "Store",
    "load_scenario",
    "store_for_scenario",
    "synthetic_config_maps",
]
