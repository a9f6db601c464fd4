"""``driftwatch check``: render Git, snapshot the cluster, compare, print — once.

The command new users run first and CI pipelines call.  Exit codes: 0 all in
sync, 1 drift found, 2 something could not be compared (bad config or input,
unreachable Git or cluster, a type left unknown), whether or not drift was also
found.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from driftwatch.cli.options import resolve_config, target_options
from driftwatch.config.model import Config
from driftwatch.errors import DriftwatchError
from driftwatch.run import RunStatus, Sink, Stage, TargetRun

EXIT_IN_SYNC, EXIT_DRIFT, EXIT_INCOMPLETE = 0, 1, 2


def exit_code(runs: Sequence[TargetRun]) -> int:
    """2 if anything could not be compared, else 1 if anything drifted, else 0."""
    if any(run.status is not RunStatus.SUCCESS for run in runs):
        return EXIT_INCOMPLETE
    if any(run.report is not None and run.report.drifted for run in runs):
        return EXIT_DRIFT
    return EXIT_IN_SYNC


def run_json(run: TargetRun, *, all_objects: bool = False) -> dict[str, Any]:
    """One target's run in ``--output json`` (schema ``driftwatch.check/v1``)."""
    from driftwatch.sinks.report_json import report_to_json, revision_to_json

    return {
        "target": run.target,
        "status": run.status.value,
        "error": run.error,
        "failed_stage": run.failed_stage.value if run.failed_stage else None,
        "git_stale": run.git_stale,
        "render_skipped": run.render_skipped,
        "revision": revision_to_json(run.revision),
        "durations_seconds": {stage.value: round(t, 6) for stage, t in run.durations.items()},
        "report": report_to_json(run.report, all_objects=all_objects) if run.report else None,
    }


class _Progress:
    """Which target and stage is running, on a TTY only (stderr, overwritten in place)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._width = 0

    def __call__(self, target: str, stage: Stage) -> None:
        if not self.enabled:
            return
        text = f"driftwatch: {target}: {stage.value}…"
        sys.stderr.write("\r" + text.ljust(self._width))
        sys.stderr.flush()
        self._width = len(text)

    def clear(self) -> None:
        if self.enabled and self._width:
            sys.stderr.write("\r" + " " * self._width + "\r")
            sys.stderr.flush()


def _sinks(config: Config, state_dir: Path | None) -> list[Sink]:
    if state_dir is None:
        return []
    from driftwatch.sinks.eventlog import AuditRecorder

    instance = config.instance or "driftwatch-check"
    return [AuditRecorder(state_dir, config.event_log, instance)]


@click.command(name="check")
@target_options
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Record transitions in the audit event log (and keep the fingerprint key) here.",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Git clones and rendered sets (default: ~/.cache/driftwatch).",
)
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Choice(["text", "json", "junit", "html"]),
    default="text",
    show_default=True,
    help="Output format (never a file).",
)
@click.option("--all", "all_objects", is_flag=True, help="With -o json: include in-sync objects.")
@click.option("--no-color", is_flag=True, help="No colours even on a terminal.")
def command(
    state_dir: Path | None,
    cache_dir: Path | None,
    output: str,
    all_objects: bool,
    no_color: bool,
    **params: Any,
) -> None:
    """Compare Git with the cluster once and print the drift.

    Exit codes: 0 in sync, 1 drift found, 2 something could not be compared.
    """
    from driftwatch.pipeline import Pipeline

    try:
        config = resolve_config(params)
        if state_dir is None and config.state_dir:
            state_dir = Path(config.state_dir)
        progress = _Progress(sys.stderr.isatty())
        pipeline = Pipeline(
            config,
            state_dir=state_dir,
            cache_dir=cache_dir,
            sinks=_sinks(config, state_dir),
            progress=progress,
        )
        runs = [pipeline.run(target.name) for target in config.targets]
        progress.clear()
    except DriftwatchError as e:
        click.echo(f"driftwatch: {e}", err=True)
        sys.exit(EXIT_INCOMPLETE)
    if output == "json":
        document = {
            "schema": "driftwatch.check/v1",
            "exit_code": exit_code(runs),
            "targets": [run_json(run, all_objects=all_objects) for run in runs],
        }
        click.echo(json.dumps(document, indent=2, sort_keys=False))
    elif output == "junit":
        from driftwatch.sinks.junit import to_junit

        click.echo(to_junit(runs), nl=False)
    elif output == "html":
        from driftwatch.sinks.web.report_html import render_report

        click.echo(render_report(runs, config), nl=False)
    else:
        from driftwatch.sinks.text_report import overall, render_runs

        color = not no_color and sys.stdout.isatty()
        click.echo(render_runs(runs, color=color), nl=False)
        click.echo(overall(runs))
    sys.exit(exit_code(runs))
