"""Building a read-only client for a configured cluster (kubeconfig or in-cluster account).

Failures become ``ClusterError`` naming the kubeconfig file and context, never
the credentials in it: YAML errors are reported by position only, since a
parser's excerpt of the offending line could be a token.
"""

from __future__ import annotations

import os
from typing import Any

import yaml
from kubernetes import config as _kube_config
from kubernetes.client import ApiClient, Configuration
from kubernetes.config.config_exception import ConfigException

from driftwatch.cluster.client import ReadOnlyClient
from driftwatch.cluster.deadline import Deadline
from driftwatch.config.model import Cluster
from driftwatch.errors import ClusterError, truncate

kube_config: Any = _kube_config


def _where(cluster: Cluster) -> str:
    if cluster.in_cluster:
        return "the in-cluster service account"
    path = cluster.kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
    context = cluster.context or "current context"
    return f"kubeconfig {path} ({context})"


def _require_kubeconfig(cluster: Cluster) -> None:
    """A kubeconfig that is not there is named as such (the library says "no configuration")."""
    if cluster.kubeconfig:
        paths = [os.path.expanduser(cluster.kubeconfig)]
        how = ""
    elif os.environ.get("KUBECONFIG"):
        paths = [p for p in os.environ["KUBECONFIG"].split(os.pathsep) if p]
        how = " (from $KUBECONFIG)"
    else:
        paths = [os.path.expanduser("~/.kube/config")]
        how = " (the default: no --kubeconfig or $KUBECONFIG given)"
    if paths and not any(os.path.exists(p) for p in paths):
        raise ClusterError(
            f"kubeconfig file {', '.join(paths)}{how} does not exist; give --kubeconfig, "
            "set KUBECONFIG, or compare with a saved snapshot (--snapshot)"
        )


def api_client_for(cluster: Cluster) -> ApiClient:
    """A plain ``kubernetes`` ApiClient for ``cluster`` (urllib3 retries off: ours count)."""
    configuration = type.__call__(Configuration)
    if not cluster.in_cluster:
        _require_kubeconfig(cluster)
    try:
        if cluster.in_cluster:
            kube_config.load_incluster_config(client_configuration=configuration)
        else:
            kube_config.load_kube_config(
                config_file=os.path.expanduser(cluster.kubeconfig) if cluster.kubeconfig else None,
                context=cluster.context,
                client_configuration=configuration,
                persist_config=False,
            )
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise ClusterError(f"cannot use {_where(cluster)}: not valid YAML{at}") from e
    except (ConfigException, OSError, ValueError, TypeError, KeyError) as e:
        reason = truncate(str(e), 160) or type(e).__name__
        raise ClusterError(f"cannot use {_where(cluster)}: {reason}") from e
    configuration.retries = False
    return ApiClient(configuration)


def connect(cluster: Cluster, *, deadline: Deadline | None = None) -> ReadOnlyClient:
    """The read-only client for ``cluster``, with its timeout (``Cluster.timeout``).

    ``deadline``: one bounded read (a run's snapshot); watches run without one.
    """
    if cluster.snapshot:
        raise ClusterError(
            f"cluster {cluster.name!r} is a saved snapshot ({cluster.snapshot}); load it instead"
        )
    return ReadOnlyClient(api_client_for(cluster), timeout=cluster.timeout, deadline=deadline)
