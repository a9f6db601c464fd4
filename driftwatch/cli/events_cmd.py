"""``driftwatch events``: read and verify the audit event log of a state directory.

``driftwatch events --state-dir DIR [filters]`` prints matching events oldest
first: a table on a terminal, JSON Lines (one CloudEvent per line, as stored)
otherwise; ``-o json|table`` chooses explicitly.  ``driftwatch events verify``
checks the hash chain: exit 0 when intact, 1 naming the first broken record,
2 when the log cannot be read.  Reading never modifies the log.
"""

from __future__ import annotations

import json
import re
import sys
import time
from typing import Any

import click

from driftwatch.cli.messages import fail
from driftwatch.config.model import parse_duration

TIME_FORMATS = (
    "a duration back from now (30m, 2h, 7d, 1d12h) or an RFC 3339 time (2026-01-02T15:04:05Z)"
)
_DAYS = re.compile(r"^(\d+)d(.*)$")


def _ago(text: str) -> float | None:
    """Seconds in a duration that may start with days (``7d``, ``1d12h``); None if not one."""
    text = text.strip()
    days = 0
    match = _DAYS.match(text)
    if match:
        days, text = int(match.group(1)), match.group(2)
    try:
        return days * 86400 + (parse_duration(text) if text else 0.0)
    except ValueError:
        return None


def time_bound(flag: str, text: str | None, *, durations: bool) -> float | None:
    """Unix time of ``--since``/``--from``/``--to``; a UsageError saying what is accepted."""
    from driftwatch.sinks.eventlog.query import to_epoch

    if text is None:
        return None
    if durations:
        seconds = _ago(text)
        if seconds is not None:
            return time.time() - seconds
    try:
        return to_epoch(text)
    except ValueError:
        accepted = TIME_FORMATS if durations else "an RFC 3339 time (2026-01-02T15:04:05Z)"
        raise click.UsageError(f"{flag} {text!r}: not {accepted}") from None


def known_types() -> frozenset[str]:
    """Every short event type the log can hold."""
    from driftwatch.history.transitions import TransitionType
    from driftwatch.sinks.eventlog.envelope import EVENTLOG_RECOVERED, EVENTLOG_RETENTION

    return frozenset({*(t.value for t in TransitionType), EVENTLOG_RECOVERED, EVENTLOG_RETENTION})


def _check_types(types: tuple[str, ...]) -> None:
    from driftwatch.sinks.eventlog.envelope import short_type

    known = known_types()
    unknown = [t for t in types if short_type(t) not in known]
    if unknown:
        raise click.UsageError(
            f"--type: unknown event type {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(sorted(known))}"
        )


_STATE_DIR = click.option(
    "--state-dir",
    envvar="DRIFTWATCH_STATE_DIR",
    type=click.Path(file_okay=False),
    help="driftwatch state directory (holds events/). Env: DRIFTWATCH_STATE_DIR.",
)


@click.group(name="events", invoke_without_command=True)
@_STATE_DIR
@click.option(
    "--since",
    metavar="WHEN",
    help="Only events since WHEN: a duration back from now (30m, 2h, 7d) or an RFC 3339 time.",
)
@click.option("--from", "from_", metavar="TIME", help="Only events at or after TIME (RFC 3339).")
@click.option("--to", "to", metavar="TIME", help="Only events at or before TIME (RFC 3339).")
@click.option(
    "--type",
    "types",
    multiple=True,
    metavar="TYPE",
    help="Only this event type, short (drift.detected) or full (repeatable).",
)
@click.option("--target", help="Only events of this target.")
@click.option(
    "--resource",
    metavar="KIND/NS/NAME",
    help="Only events of this object: kind/namespace/name or kind/name (Kind.group ok).",
)
@click.option("--limit", type=click.IntRange(min=1), help="Only the newest N matching events.")
@click.option(
    "-o",
    "--output",
    type=click.Choice(["json", "table"]),
    help="Output format (default: table on a terminal, JSON Lines otherwise).",
)
@click.pass_context
def command(
    ctx: click.Context,
    state_dir: str | None,
    since: str | None,
    from_: str | None,
    to: str | None,
    types: tuple[str, ...],
    target: str | None,
    resource: str | None,
    limit: int | None,
    output: str | None,
) -> None:
    """List audit events (oldest first), or `verify` the log's hash chain."""
    if ctx.invoked_subcommand is not None:
        return
    from driftwatch.sinks.eventlog import EventLog, parse_resource

    if since and from_:
        raise click.UsageError("give --since or --from, not both")
    if since:
        start = time_bound("--since", since, durations=True)
    else:
        start = time_bound("--from", from_, durations=False)
    end = time_bound("--to", to, durations=False)
    _check_types(types)
    try:
        if resource:
            parse_resource(resource)
    except ValueError as e:
        raise click.UsageError(f"--resource: {e}") from e
    directory = _require_state_dir(state_dir)
    records = EventLog(directory).query(
        since=start, until=end, types=types, target=target, resource=resource, limit=limit
    )
    fmt = output or ("table" if sys.stdout.isatty() else "json")
    if fmt == "json":
        for record in records:
            click.echo(json.dumps(record, separators=(",", ":")))
    else:
        _table(records)


@command.command(name="verify")
@_STATE_DIR
def verify_command(state_dir: str | None) -> None:
    """Check the event log's hash chain: exit 0 intact, 1 broken (names the first bad record)."""
    from driftwatch.sinks.eventlog import EventLog

    directory = _require_state_dir(state_dir)
    try:
        result = EventLog(directory).verify()
    except OSError as e:
        fail(f"cannot read the event log under {directory}: {e}")
    click.echo(result.display())
    sys.exit(0 if result.ok else 1)


def _require_state_dir(state_dir: str | None) -> str:
    from pathlib import Path

    if not state_dir:
        raise click.UsageError("--state-dir is required (or set DRIFTWATCH_STATE_DIR)")
    if not (Path(state_dir) / "events").is_dir():
        fail(f"no event log under {state_dir} (expected {state_dir}/events/)")
    return state_dir


def _resource(data: dict[str, Any]) -> str:
    res = data.get("resource")
    if not isinstance(res, dict):
        return "-"
    kind = f"{res.get('kind')}.{res.get('group')}" if res.get("group") else str(res.get("kind"))
    ns = res.get("namespace")
    return f"{kind}/{ns}/{res.get('name')}" if ns else f"{kind}/{res.get('name')}"


def _who(data: dict[str, Any]) -> str:
    """The field manager behind an object event: its latest attributed change, else its fields'."""
    attribution = data.get("attribution")
    if isinstance(attribution, dict) and attribution.get("manager"):
        return str(attribution["manager"])
    managers: list[str] = []
    for item in data.get("fields") or ():
        att = item.get("attribution") if isinstance(item, dict) else None
        manager = att.get("manager") if isinstance(att, dict) else None
        if manager and manager not in managers:
            managers.append(str(manager))
    return ",".join(managers) or "-"


def _seconds(value: Any) -> str:
    total = int(float(value))
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


def _detail(short: str, data: dict[str, Any]) -> str:
    parts: list[str] = []
    if data.get("state") and data.get("resource"):
        prev = data.get("previousState")
        parts.append(f"{prev} -> {data['state']}" if prev else str(data["state"]))
    paths = [f.get("path", "?") for f in data.get("fields") or () if isinstance(f, dict)]
    if paths:
        parts.append(", ".join(paths[:3]) + (f" (+{len(paths) - 3})" if len(paths) > 3 else ""))
    for key, label in (
        ("timeToResolveSeconds", "resolved after"),
        ("failedForSeconds", "failing for"),
    ):
        if key in data:
            parts.append(f"{label} {_seconds(data[key])}")
    if short == "git.revision_changed":
        old = (data.get("previousRevision") or {}).get("sha", "")[:12]
        new = (data.get("revision") or {}).get("sha", "")[:12]
        parts.append(f"{old} -> {new}")
    errors = data.get("errors") or ()
    if errors:
        more = f" (+{len(errors) - 1})" if len(errors) > 1 else ""
        parts.append(str(errors[0])[:80] + more)
    if short.startswith("eventlog."):
        parts.append(", ".join(data.get("removedFiles") or ()) or str(data.get("quarantine", "")))
    return "; ".join(p for p in parts if p)


def _table(records: list[dict[str, Any]]) -> None:
    rows = [("TIME", "TYPE", "TARGET", "RESOURCE", "WHO", "DETAIL")]
    for record in records:
        data = record.get("data") if isinstance(record.get("data"), dict) else {}
        assert isinstance(data, dict)
        short = str(record.get("shorttype") or record.get("type", ""))
        when = str(record.get("time", ""))[:19].replace("T", " ")
        rows.append(
            (
                when,
                short,
                str(data.get("target", "-")),
                _resource(data),
                _who(data) if data.get("resource") else "-",
                _detail(short, data),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for row in rows:
        click.echo(
            "  ".join(c.ljust(w) for c, w in zip(row[:5], widths, strict=True)) + "  " + row[5]
        )
    if len(rows) == 1:
        click.echo("(no events)", err=True)
