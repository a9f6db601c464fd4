"""Options shared by every subcommand that takes a target."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from driftwatch.config.model import Config
from driftwatch.config.quick import QuickFlags, config_from_flags
from driftwatch.errors import ConfigError

F = TypeVar("F", bound=Callable[..., Any])

_TARGET_OPTIONS: list[Callable[[Any], Any]] = [
    click.option(
        "--config",
        "-c",
        "config_path",
        type=click.Path(dir_okay=False),
        help="driftwatch configuration file.",
    ),
    click.option(
        "--target", "-t", "target_names", multiple=True, help="Only this target (repeatable)."
    ),
    click.option("--repo", help="Quick target: Git repository URL or local path."),
    click.option(
        "--rev",
        default="HEAD",
        show_default=True,
        help="Quick target: branch, tag or commit; WORKTREE: a local repo's files as they are.",
    ),
    click.option(
        "--path",
        "repo_path",
        default=".",
        show_default=True,
        help="Quick target: path inside the repository.",
    ),
    click.option(
        "--namespace",
        "-n",
        help="Default namespace for objects that declare none; Helm release namespace.",
    ),
    click.option(
        "--values",
        "values_files",
        multiple=True,
        type=click.Path(dir_okay=False),
        help="Helm values file (repeatable).",
    ),
    click.option("--release", help="Helm release name (default: the chart's name)."),
    click.option(
        "--selector", "-l", help="Ownership marker label selector, for unmanaged detection."
    ),
    click.option("--kubeconfig", type=click.Path(dir_okay=False), help="kubeconfig file."),
    click.option("--context", help="kubeconfig context."),
    click.option(
        "--snapshot",
        "snapshot_path",
        type=click.Path(dir_okay=False),
        help="Compare with a saved snapshot or `kubectl get -A -o json` dump instead of a cluster.",
    ),
]


def target_options(func: F) -> F:
    """Decorate a command with --config/--target and the quick target flags."""
    for option in reversed(_TARGET_OPTIONS):
        func = option(func)
    return func


def resolve_config(
    params: dict[str, Any], *, interval: float | None = None, deadline: float | None = None
) -> Config:
    """The ``Config`` the options describe: a file, or one target from quick flags.

    ``deadline`` (``--deadline``) replaces every cluster's read deadline.

    Raises ``ConfigError`` when neither or both are given, or either is invalid.
    """
    from driftwatch.config.load import load_config

    config_path = params.get("config_path")
    repo = params.get("repo")
    if config_path and repo:
        raise ConfigError("give either --config or --repo (quick target flags), not both")
    if config_path:
        _reject_quick_flags(params, interval)
        config = load_config(config_path)
        connection = {k: params[k] for k in ("kubeconfig", "context") if params.get(k)}
        if connection:
            config = _every_cluster(config, **connection)
        if params.get("snapshot_path"):
            config = _with_snapshot(config, str(Path(params["snapshot_path"]).resolve()))
    elif repo:
        config = config_from_flags(
            QuickFlags(
                repo=repo,
                rev=params.get("rev") or "HEAD",
                path=params.get("repo_path") or ".",
                namespace=params.get("namespace"),
                values=tuple(params.get("values_files") or ()),
                release=params.get("release"),
                selector=params.get("selector"),
                kubeconfig=params.get("kubeconfig"),
                context=params.get("context"),
                snapshot=params.get("snapshot_path"),
                interval=interval,
            )
        )
    else:
        raise ConfigError("no target: give --config FILE, or --repo with the quick target flags")
    if deadline is not None:
        config = _every_cluster(config, deadline=deadline)
    names = params.get("target_names") or ()
    if names:
        known = {t.name for t in config.targets}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ConfigError(
                f"unknown target(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        config = config.model_copy(
            update={"targets": tuple(t for t in config.targets if t.name in names)}
        )
    return config


_QUICK_ONLY: tuple[tuple[str, str, object], ...] = (
    ("--rev", "rev", "HEAD"),
    ("--path", "repo_path", "."),
    ("--namespace", "namespace", None),
    ("--values", "values_files", ()),
    ("--release", "release", None),
    ("--selector", "selector", None),
)


def _reject_quick_flags(params: dict[str, Any], interval: float | None) -> None:
    """Quick-target flags given with ``--config`` would be ignored: say so instead."""
    given = [
        flag for flag, key, default in _QUICK_ONLY if params.get(key) not in (None, (), default)
    ]
    if interval is not None:
        given.append("--interval")
    if given:
        raise ConfigError(
            f"{', '.join(given)} describe the quick target (--repo); with --config, set "
            "them per target in the file"
        )


def _with_snapshot(config: Config, snapshot: str) -> Config:
    """Every cluster of ``config`` (the implicit ``default`` one too) read from ``snapshot``."""
    return _every_cluster(config, snapshot=snapshot)


def _every_cluster(config: Config, **update: Any) -> Config:
    """``config`` with ``update`` applied to every cluster (the implicit ``default`` one too)."""
    names = {c.name for c in config.clusters} | {t.cluster for t in config.targets}
    clusters = tuple(
        config.cluster_for_name(name).model_copy(update=update) for name in sorted(names)
    )
    return config.model_copy(update={"clusters": clusters})
