"""``driftwatch snapshot``: save what a cluster holds to a file, Secret values fingerprinted.

The file (gzip JSON, ``kubectl get -o json`` shape) can stand in for the cluster
later (``--snapshot FILE``), on a machine without cluster access.  Given
``--snapshot DUMP`` instead of a cluster, it converts a ``kubectl get -A -o json``
dump into a driftwatch snapshot (hashing its Secrets).  Exit code 0 when every
type was read, 2 when one could not be (or nothing could be done).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from driftwatch.cli.messages import fail
from driftwatch.cli.options import resolve_config, target_options
from driftwatch.config.model import Cluster, Config
from driftwatch.errors import ConfigError, DriftwatchError
from driftwatch.model import LiveSnapshot, ReadState

if TYPE_CHECKING:
    from driftwatch.cluster import SnapshotRequest


def build_request(
    kinds: tuple[str, ...], namespace: str | None, cluster: Cluster, config: Config | None
) -> SnapshotRequest:
    """The ``SnapshotRequest`` for this invocation.

    With ``--kind``: those kinds (in ``--namespace`` or all namespaces).  Without:
    what the targets need, from their desired sets rendered from Git.
    """
    from driftwatch.cluster import SnapshotRequest, TypeRequest, parse_kind, snapshot_request_for

    if kinds:
        namespaces = (namespace,) if namespace else None
        types = tuple(TypeRequest(parse_kind(kind), None, namespaces) for kind in kinds)
        return SnapshotRequest(types=types, page_size=cluster.page_size)
    if config is None:
        raise ConfigError("give --kind, or a target (--config or --repo) whose kinds to read")
    from driftwatch.pipeline import Pipeline

    pipeline = Pipeline(config, state_dir=None)
    merged: list[TypeRequest] = []
    for target in config.targets:
        desired = pipeline.desired(target.name)
        merged.extend(snapshot_request_for(desired, target, config).types)
    return SnapshotRequest(types=tuple(merged), page_size=cluster.page_size)


def _cluster_and_config(params: dict[str, Any]) -> tuple[Cluster, Config | None]:
    if params.get("config_path") or params.get("repo"):
        config = resolve_config(params)
        clusters = {target.cluster for target in config.targets}
        if len(clusters) > 1:
            raise ConfigError(
                f"the targets use {len(clusters)} clusters ({', '.join(sorted(clusters))}); "
                "a snapshot reads one: pick a target with --target"
            )
        return config.cluster_for(config.targets[0]), config
    cluster = Cluster(
        name="default",
        kubeconfig=params.get("kubeconfig"),
        context=params.get("context"),
        snapshot=params.get("snapshot_path"),
    )
    return cluster, None


def _summary(snapshot: LiveSnapshot, file: Path) -> dict[str, Any]:
    return {
        "file": str(file),
        "objects": len(snapshot.objects),
        "serverVersion": snapshot.server_version,
        "takenAt": snapshot.taken_at,
        "types": [
            {
                "kind": gk.display(),
                "state": read.state.value,
                "error": read.error,
                "namespaces": list(read.namespaces) if read.namespaces is not None else None,
                "resourceVersion": read.resource_version,
            }
            for gk, read in sorted(snapshot.types.items())
        ],
    }


def _print_text(summary: dict[str, Any]) -> None:
    count = summary["objects"]
    click.echo(f"wrote {count} object{'' if count == 1 else 's'} to {summary['file']}")
    for entry in summary["types"]:
        line = f"  {entry['kind']}: {entry['state']}"
        if entry["error"]:
            line += f" - {entry['error']}"
        click.echo(line)


def _run(params: dict[str, Any]) -> int:
    from driftwatch.cluster import connect, load_snapshot, save_snapshot, take_snapshot
    from driftwatch.cluster.deadline import Deadline
    from driftwatch.keys import load_or_create_key
    from driftwatch.redact import SecretHasher

    cluster, config = _cluster_and_config(params)
    kinds = tuple(params.get("kinds") or ())
    if cluster.snapshot and kinds:
        raise ConfigError(
            "--kind reads those kinds from a cluster; a dump given with --snapshot is "
            "converted whole (filter it with kubectl first)"
        )
    state_dir = params.get("state_dir") or (config.state_dir if config else None)
    hasher = SecretHasher(
        load_or_create_key(state_dir), config.sensitive_annotations if config else ()
    )
    if cluster.snapshot:
        snapshot = load_snapshot(cluster.snapshot, hasher)
    else:
        request = build_request(kinds, params.get("namespace"), cluster, config)
        with connect(cluster, deadline=Deadline(cluster.deadline)) as client:
            snapshot = take_snapshot(client, request)
    # A kind asked for by name that the cluster does not serve is a typo or a missing CRD.
    unserved = [
        gk.display() for gk, read in snapshot.types.items() if read.state is ReadState.NOT_SERVED
    ]
    if kinds and unserved:
        fail(f"--kind: the cluster serves no kind {', '.join(sorted(unserved))}; nothing written")
    file = Path(params["file_path"])
    save_snapshot(snapshot, file, hasher)
    summary = _summary(snapshot, file)
    if params.get("output") == "json":
        click.echo(json.dumps(summary, indent=2))
    else:
        _print_text(summary)
    failed = any(read.state is ReadState.FAILED for read in snapshot.types.values())
    return 2 if failed else 0


@click.command("snapshot")
@target_options
@click.option(
    "--file",
    "-f",
    "file_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Where to write the snapshot (gzip JSON).",
)
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    help="Kind to read, as Kind or Kind.group (e.g. Deployment.apps); repeatable.",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False),
    help="Keep the Secret fingerprint key here (default: $DRIFTWATCH_FINGERPRINT_KEY, "
    "$DRIFTWATCH_FINGERPRINT_KEY_FILE, else $XDG_STATE_HOME/driftwatch, "
    "~/.local/state/driftwatch; the same key check uses).",
)
@click.option(
    "--output",
    "-o",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Format of the summary (never a file).",
)
def command(**params: Any) -> None:
    """Save what the cluster holds to a snapshot file (Secret values fingerprinted).

    --namespace limits the read to one namespace (cluster-scoped kinds are read whole).
    """
    try:
        code = _run(params)
    except DriftwatchError as e:
        fail(str(e))
    sys.exit(code)
