"""``driftwatch serve``: run every target on its schedule and serve metrics and the API.

Exits 0 after SIGTERM/SIGINT once running checks finished (or the grace period
ran out); exits 2 with one line on stderr when the configuration is unusable.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from typing import Any

import click

from driftwatch.cli.messages import fail
from driftwatch.cli.options import resolve_config, target_options
from driftwatch.config.model import Config, parse_duration
from driftwatch.errors import DriftwatchError

log = logging.getLogger("driftwatch.serve")


def _duration(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from e


@click.command("serve")
@target_options
@click.option(
    "--interval",
    callback=_duration,
    help="Quick target (--repo): time between runs [default: 60s]; with --config, "
    "set schedule.interval per target.",
)
@click.option(
    "--watch",
    is_flag=True,
    help="Watch mode for every target (as `watch: true`): Kubernetes watches and a Git poll "
    "between runs, drift known in seconds.",
)
@click.option(
    "--listen",
    help="HOST:PORT for /metrics, /healthz, /readyz and /api (default: "
    "server.listen of the config, 0.0.0.0:8080).",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False),
    help="State directory: audit log, drift history, fingerprint key.",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    help="Git and render cache (default: $XDG_CACHE_HOME/driftwatch, ~/.cache/driftwatch).",
)
@click.option(
    "--grace-period",
    default="30s",
    show_default=True,
    callback=_duration,
    help="How long running checks may finish after SIGTERM.",
)
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False),
    help="Bearer token required on /api/* (overrides server.tokenFile).",
)
@click.option(
    "--shard",
    envvar="DRIFTWATCH_SHARD",
    metavar="I/N",
    help="Run only shard I of N: the targets whose name hashes (sha256) to I modulo N "
    "[env DRIFTWATCH_SHARD].",
)
@click.option(
    "--shards",
    envvar="DRIFTWATCH_SHARDS",
    metavar="N",
    help="As --shard, with I the ordinal of the pod name (POD_NAME or the host name, "
    "e.g. driftwatch-2) [env DRIFTWATCH_SHARDS].",
)
@click.option(
    "--peer-url",
    envvar="DRIFTWATCH_PEER_URL",
    metavar="TEMPLATE",
    help="Base URL of the replica running shard {shard}, to redirect requests for its "
    "targets, e.g. http://driftwatch-{shard}.driftwatch-headless.NS.svc:8080 "
    "[env DRIFTWATCH_PEER_URL].",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
)
@click.option(
    "--log-format",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "json", "text"]),
    help="auto: text on a terminal, JSON lines otherwise.",
)
def command(**params: Any) -> None:
    """Run targets on their schedules; serve /metrics, /healthz, /readyz and /api/v1."""
    from driftwatch.logs import set_trace_id_source, setup_logging
    from driftwatch.sinks.tracing import tracer_from_env

    setup_logging(params["log_level"], params["log_format"])
    tracer = tracer_from_env()
    set_trace_id_source(tracer.current_trace_id)
    try:
        service = _build(params, tracer)
    except DriftwatchError as e:
        fail(str(e))
    clean = service.run_forever()
    shutdown = getattr(tracer, "shutdown", None)
    if callable(shutdown):
        shutdown()
    log.info("stopped")
    if not clean:
        # Checks still running hold non-daemon worker threads: leave without joining them.
        logging.shutdown()
        os._exit(0)


def _build(params: dict[str, Any], tracer: Any) -> Any:
    from driftwatch.config.sharding import shard_from
    from driftwatch.errors import ConfigError
    from driftwatch.history.counts import DriftCountSeries
    from driftwatch.service import Service, ServiceOptions, open_audit, pipeline_factory

    interval = params["interval"]
    shard = shard_from(
        shard=params.get("shard"),
        shards=params.get("shards"),
        pod_name=os.environ.get("POD_NAME") or socket.gethostname(),
        peer_url=params.get("peer_url"),
    )
    config = _watching(resolve_config(params, interval=interval), params.get("watch", False))
    state_dir = _dir(params.get("state_dir"), config.state_dir)
    cache_dir = _dir(params.get("cache_dir"), config.cache_dir)
    config_path = params.get("config_path")

    def reload() -> Config:
        return _watching(resolve_config(params, interval=interval), params.get("watch", False))

    factory = pipeline_factory(state_dir=state_dir, cache_dir=cache_dir, tracer=tracer)
    options = ServiceOptions(
        listen=params.get("listen"),
        token_file=params.get("token_file"),
        grace_period=params["grace_period"],
        config_path=Path(config_path) if config_path else None,
        shard=shard,
    )
    try:
        return Service(
            config,
            runner_factory=factory,
            options=options,
            config_loader=reload if config_path else None,
            audit=open_audit(config, state_dir),
            series=DriftCountSeries(state_dir),
        )
    except ImportError as e:
        if e.name != "driftwatch.pipeline":
            raise
        raise ConfigError("the run pipeline is not available in this build") from e


def _watching(config: Config, watch: bool) -> Config:
    """``--watch``: every target in watch mode."""
    if not watch:
        return config
    targets = tuple(t.model_copy(update={"watch": True}) for t in config.targets)
    return config.model_copy(update={"targets": targets})


def _dir(flag: str | None, configured: str | None) -> Path | None:
    value = flag or configured
    return Path(value) if value else None
