"""``driftwatch check``: render Git, snapshot the cluster, compare, print — once.

The command new users run first and CI pipelines call.  Exit codes: 0 all in
sync, 1 drift found, 2 something could not be compared (bad config or input,
unreachable Git or cluster, a type left unknown), whether or not drift was also
found.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from driftwatch.cli.options import resolve_config, target_options
from driftwatch.config.model import Config, parse_duration
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


@dataclass(frozen=True, slots=True)
class OutputOptions:
    """What an output format may need besides the runs."""

    config: Config
    all_objects: bool = False
    max_objects: int | None = None
    color: bool = False


def _text(runs: Sequence[TargetRun], options: OutputOptions) -> str:
    from driftwatch.sinks.text_report import DEFAULT_MAX_OBJECTS, overall, render_runs

    limit = DEFAULT_MAX_OBJECTS if options.max_objects is None else options.max_objects
    body = render_runs(
        runs, color=options.color, max_objects=limit, all_objects=options.all_objects
    )
    return body + overall(runs) + "\n"


def _json(runs: Sequence[TargetRun], options: OutputOptions) -> str:
    document = {
        "schema": "driftwatch.check/v1",
        "exit_code": exit_code(runs),
        "targets": [run_json(run, all_objects=options.all_objects) for run in runs],
    }
    return json.dumps(document, indent=2, sort_keys=False) + "\n"


def _junit(runs: Sequence[TargetRun], options: OutputOptions) -> str:
    from driftwatch.sinks.junit import to_junit

    return to_junit(runs)


def _sarif(runs: Sequence[TargetRun], options: OutputOptions) -> str:
    from driftwatch.sinks.sarif import to_sarif

    return to_sarif(runs, {t.name: t.path for t in options.config.targets})


Formatter = Callable[[Sequence[TargetRun], OutputOptions], str]

def _html(runs: Sequence[TargetRun], options: OutputOptions) -> str:
    from driftwatch.sinks.web.report_html import render_report

    return render_report(runs, options.config)


FORMATS: dict[str, Formatter] = {
    "text": _text,
    "json": _json,
    "junit": _junit,
    "sarif": _sarif,
    "html": _html,
}
"""``-o`` values and how each is written; a new format is one more entry."""

TAKES_ALL = frozenset({"text", "json"})
"""Formats where ``--all`` (list in-sync objects too) means something."""
TAKES_MAX_OBJECTS = frozenset({"text"})
"""Formats that summarize past ``--max-objects`` (the others list every object)."""


def _check_flags(output: str, all_objects: bool, max_objects: int | None) -> None:
    """Flags that would be ignored with this output format are rejected instead."""
    from driftwatch.cli.messages import reject

    if all_objects and output not in TAKES_ALL:
        reject("--all", f"-o {output} always lists every object; --all goes with -o text or json")
    if max_objects is not None and output not in TAKES_MAX_OBJECTS:
        reject("--max-objects", f"-o {output} lists every object; --max-objects goes with -o text")


def _duration(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = parse_duration(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from e
    if seconds <= 0:
        raise click.BadParameter("must be more than 0s")
    return seconds


def _use_color(no_color: bool) -> bool:
    """On a terminal, unless ``--no-color`` or ``NO_COLOR`` (https://no-color.org) says no."""
    return not no_color and not os.environ.get("NO_COLOR") and sys.stdout.isatty()


@click.command(name="check")
@target_options
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Record transitions in the audit event log here (and keep the fingerprint key here).",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Git and render cache (default: $XDG_CACHE_HOME/driftwatch, ~/.cache/driftwatch).",
)
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Choice(list(FORMATS)),
    default="text",
    show_default=True,
    help="Output format (never a file).",
)
@click.option(
    "--all", "all_objects", is_flag=True, help="List in-sync objects too (-o text or json)."
)
@click.option(
    "--max-objects",
    type=click.IntRange(min=0),
    help="-o text: past this many objects in a target, count them per kind and namespace "
    "instead of listing each (default 200; 0: no limit; -o json lists all).",
)
@click.option(
    "--deadline",
    callback=_duration,
    metavar="DURATION",
    help="Overall time for reading each cluster (e.g. 45s, 2m); what is not read by then is "
    "unknown and the exit code is 2.  Default: the cluster's deadline, 60s.",
)
@click.option("--no-color", is_flag=True, help="No colours even on a terminal (also: NO_COLOR).")
def command(
    state_dir: Path | None,
    cache_dir: Path | None,
    output: str,
    all_objects: bool,
    max_objects: int | None,
    deadline: float | None,
    no_color: bool,
    **params: Any,
) -> None:
    """Compare Git with the cluster once and print the drift.

    Exit codes: 0 in sync, 1 drift found, 2 something could not be compared;
    130/143 when stopped by SIGINT/SIGTERM.
    """
    from driftwatch.cli.interrupt import stop_on_signals
    from driftwatch.cli.messages import fail

    progress = _Progress(sys.stderr.isatty())
    stop_on_signals("check", progress.clear)
    _check_flags(output, all_objects, max_objects)
    from driftwatch.pipeline import Pipeline

    try:
        config = resolve_config(params, deadline=deadline)
        if deadline is not None and all(config.cluster_for(t).snapshot for t in config.targets):
            fail("--deadline: bounds reading a cluster; every target here reads a snapshot file")
        if state_dir is None and config.state_dir:
            state_dir = Path(config.state_dir)
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
        progress.clear()
        fail(str(e))
    options = OutputOptions(config, all_objects, max_objects, _use_color(no_color))
    click.echo(FORMATS[output](runs, options), nl=False)
    sys.exit(exit_code(runs))
