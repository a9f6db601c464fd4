"""A one-target configuration from command-line flags, for use without a config file.

Every command that takes a target accepts the same quick flags
(``--repo --rev --path --namespace --values --release --selector`` plus
``--kubeconfig/--context`` or ``--snapshot``); they build the same ``Config``
a file would, so nothing downstream knows the difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from driftwatch.config.model import Cluster, Config, HelmOptions, Target
from driftwatch.errors import ConfigError


@dataclass(frozen=True, slots=True)
class QuickFlags:
    """The quick target flags as given on the command line."""

    repo: str
    rev: str = "HEAD"
    path: str = "."
    namespace: str | None = None
    values: tuple[str, ...] = ()
    release: str | None = None
    selector: str | None = None
    kubeconfig: str | None = None
    context: str | None = None
    snapshot: str | None = None
    name: str | None = None
    interval: float | None = None


def config_from_flags(flags: QuickFlags) -> Config:
    """Build a one-target ``Config``; the target is named after the repo and path."""
    name = flags.name or _target_name(flags.repo, flags.path)
    values = tuple(str(Path(v).resolve()) for v in flags.values)
    try:
        cluster = Cluster(
            name="default",
            kubeconfig=flags.kubeconfig,
            context=flags.context,
            snapshot=flags.snapshot,
        )
        target_args: dict[str, object] = {
            "name": name,
            "repo": flags.repo,
            "rev": flags.rev,
            "path": flags.path,
            "namespace": flags.namespace,
            "helm": HelmOptions(release=flags.release, values=values),
            "selector": flags.selector,
        }
        if flags.interval is not None:
            target_args["schedule"] = {"interval": flags.interval}
        return Config(clusters=(cluster,), targets=(Target.model_validate(target_args),))
    except ValidationError as e:
        problems = "; ".join(
            f"--{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()
        )
        raise ConfigError(f"invalid flags: {problems}") from e


def _target_name(repo: str, path: str) -> str:
    stem = Path(repo.rstrip("/")).name.removesuffix(".git") or "target"
    if path not in (".", "", "/"):
        stem = f"{stem}-{Path(path).name}"
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in stem).strip("-._")
    return (cleaned or "target")[:63]
