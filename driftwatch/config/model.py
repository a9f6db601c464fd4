"""The validated shape of driftwatch's configuration file.

Keys are camelCase, as in Kubernetes manifests and Helm values, so the same
text can sit in a ConfigMap rendered by the chart.  Unknown keys are errors:
a typo such as ``intreval`` must not silently fall back to a default.
"""

from __future__ import annotations

import enum
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$")


def parse_duration(text: str | int | float) -> float:
    """``90s``, ``5m``, ``1h30m``, ``250ms`` or a number of seconds -> seconds."""
    if isinstance(text, (int, float)):
        return float(text)
    match = _DURATION.match(text.strip())
    if not text.strip() or not match or not any(match.groups()):
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 5m, 1h30m)")
    hours, minutes, seconds, millis = (int(g) if g else 0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds + millis / 1000


Duration = Annotated[float, Field(ge=0)]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True
    )


class Renderer(enum.StrEnum):
    """How a target's path turns into manifests."""

    AUTO = "auto"
    PLAIN = "plain"
    KUSTOMIZE = "kustomize"
    HELM = "helm"


class GitCredentials(_Model):
    """Where Git credentials come from; the values themselves never enter the config."""

    token_env: str | None = None
    token_file: str | None = None
    username: str = "git"
    ssh_key_file: str | None = None
    known_hosts_file: str | None = None


class HelmOptions(_Model):
    """Helm rendering options for a chart target."""

    release: str | None = None
    """Release name; default: the chart's name."""
    values: tuple[str, ...] = ()
    """Values files, relative to the chart directory, or absolute paths outside the repo."""
    set: dict[str, object] = Field(default_factory=dict)


class IgnoreRule(_Model):
    """A difference that is deliberately not drift.

    A rule matches when every selector given matches; ``paths`` are field paths
    in driftwatch's notation with ``*`` for any list item or map key.
    """

    paths: tuple[str, ...] = ()
    group: str | None = None
    kind: str | None = None
    namespace: str | None = None
    name: str | None = None
    managers: tuple[str, ...] = ()
    reason: str = ""

    @model_validator(mode="after")
    def _not_empty(self) -> IgnoreRule:
        if not (self.paths or self.managers or self.kind or self.name):
            raise ValueError("an ignore rule needs at least one of paths, managers, kind, name")
        return self


class Schedule(_Model):
    """When a target runs in ``serve``."""

    interval: Duration = 60.0
    cron: str | None = None
    jitter: Duration = 0.0

    @field_validator("interval", "jitter", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float:
        return parse_duration(value)  # type: ignore[arg-type]


class Cluster(_Model):
    """How to reach a cluster (or a saved snapshot standing in for one)."""

    name: str
    kubeconfig: str | None = None
    context: str | None = None
    in_cluster: bool = False
    snapshot: str | None = None
    """A saved snapshot or ``kubectl get -o json`` dump instead of a live cluster."""
    timeout: Duration = 30.0
    deadline: Annotated[float, Field(gt=0)] = 60.0
    """Overall time one run may spend reading this cluster; what is not read by then is unknown."""
    page_size: int = Field(default=500, ge=1, le=10000)
    list_max_age: Duration = 30.0
    """Seconds a list of a type is reused by every target of this cluster (0: never)."""

    @field_validator("timeout", "deadline", "list_max_age", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float:
        return parse_duration(value)  # type: ignore[arg-type]


class Target(_Model):
    """One Git path compared with one cluster."""

    name: Annotated[str, Field(pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$")]
    repo: str
    """Git URL or local path."""
    rev: str = "HEAD"
    path: str = "."
    renderer: Renderer = Renderer.AUTO
    namespace: str | None = None
    """Default namespace for namespaced objects that declare none; Helm release namespace."""
    helm: HelmOptions = HelmOptions()
    cluster: str = "default"
    selector: str | None = None
    """Ownership marker: label selector (``app.kubernetes.io/part-of=shop``)."""
    tracking_annotation: str | None = None
    """Alternative marker: an annotation whose presence marks ownership.

    E.g. Argo CD's ``argocd.argoproj.io/tracking-id``.
    """
    unmanaged_kinds: tuple[str, ...] = ()
    """Extra kinds scanned for unmanaged objects (``ConfigMap``, ``Deployment.apps``)."""
    namespaces: tuple[str, ...] | None = None
    """Namespaces to read; default: those the desired objects live in."""
    schedule: Schedule = Schedule()
    watch: bool = False
    ignore: tuple[IgnoreRule, ...] = ()
    credentials: GitCredentials = GitCredentials()
    kustomize_command: str | None = None


class ManagerRules(_Model):
    """How field managers are classified (names as in ``metadata.managedFields``)."""

    appliers: tuple[str, ...] = ()
    """Extra managers that apply Git (added to the built-in kubectl/helm/argocd/flux set)."""
    controllers: tuple[str, ...] = ()
    """Extra managers whose writes are a controller's business, not drift."""


class AlertmanagerSink(_Model):
    """Direct delivery of drift alerts to Alertmanager's API v2."""

    urls: tuple[str, ...] = ()
    resend_interval: Duration = 60.0
    timeout: Duration = 10.0
    external_url: str | None = None
    """driftwatch's own URL, for links in alerts and ``generatorURL``."""
    sync_lag: Duration = 3600.0
    """How long ``git`` drift (a commit not yet applied) lasts before it is sent, as the
    DriftwatchGitSyncLag rule's ``for:``; ``cluster`` drift is sent at once."""

    @field_validator("resend_interval", "timeout", "sync_lag", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float:
        return parse_duration(value)  # type: ignore[arg-type]


class EventLogOptions(_Model):
    """The audit event log under the state directory."""

    stdout: bool = False
    rotate_bytes: int = Field(default=64 * 1024 * 1024, ge=4096)
    retention_days: float = Field(default=90, gt=0)
    retention_bytes: int | None = None


class ServerOptions(_Model):
    """The HTTP endpoint of ``serve``."""

    listen: str = "0.0.0.0:8080"
    token_file: str | None = None
    """Bearer token for /api/* (file content); unset: /api/* is open."""
    max_drift_series: int = Field(default=2000, ge=0)
    external_url: str | None = None
    """driftwatch's own URL as people reach it (``https://driftwatch.example.com``): the
    base of the page links in alerts; also ``alertmanager.externalUrl``'s default."""
    grafana_url: str | None = None
    """Grafana's base URL, for the pages' links to the target dashboard."""
    git_web: dict[str, Literal["github", "gitlab", "bitbucket", "gitea"]] = Field(
        default_factory=dict
    )
    """Self-hosted Git web UIs by host name (``git.acme.corp: gitea``), for file links;
    github/gitlab/bitbucket/gitea/codeberg hosts are recognised by name."""

    @field_validator("external_url", "grafana_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL, not {value!r}")
        return value


class UnknownClusterError(ValueError):
    """A target names a cluster that ``clusters:`` does not define (``index``: the target's)."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


class Config(_Model):
    """A whole driftwatch configuration file."""

    version: Literal[1] = 1
    clusters: tuple[Cluster, ...] = ()
    targets: tuple[Target, ...]
    ignore: tuple[IgnoreRule, ...] = ()
    managers: ManagerRules = ManagerRules()
    sensitive_annotations: tuple[str, ...] = ()
    unmanaged_kinds: tuple[str, ...] = ()
    state_dir: str | None = None
    cache_dir: str | None = None
    event_log: EventLogOptions = EventLogOptions()
    alertmanager: AlertmanagerSink = AlertmanagerSink()
    server: ServerOptions = ServerOptions()
    instance: str | None = None
    """This driftwatch's name in events and alerts; default: the host name."""

    @model_validator(mode="after")
    def _consistent(self) -> Config:
        names = [t.name for t in self.targets]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"target names must be unique: {', '.join(dupes)}")
        known = {c.name for c in self.clusters} | {"default"}
        for index, target in enumerate(self.targets):
            if target.cluster not in known:
                raise UnknownClusterError(
                    f"target {target.name!r} names unknown cluster {target.cluster!r}; "
                    f"clusters: defines {', '.join(sorted(known))}",
                    index,
                )
        return self

    def cluster_for(self, target: Target) -> Cluster:
        """The cluster a target is compared with (``default``: the current kubeconfig context)."""
        return self.cluster_for_name(target.cluster)

    def cluster_for_name(self, name: str) -> Cluster:
        """A cluster by name; ``default`` is implicit (current kubeconfig context or in-cluster)."""
        for cluster in self.clusters:
            if cluster.name == name:
                return cluster
        return Cluster(name="default")

    def target(self, name: str) -> Target:
        """A target by name (KeyError names the known ones)."""
        for target in self.targets:
            if target.name == name:
                return target
        raise KeyError(f"no target {name!r}; known: {', '.join(t.name for t in self.targets)}")
