"""SARIF 2.1.0 for CI systems that annotate source files (GitHub code scanning, GitLab, Azure).

One result per object that is not in sync, placed where a person would fix it:
at the file and line that declares the object, or — for an unmanaged object,
which no file declares — at the target's path in the repository.  Paths are
relative to the repository root (``uriBaseId`` ``SRCROOT``), as SARIF consumers
expect.  Messages name the drifted field paths and who changed them; values are
left out (they are in the JSON output, already redacted).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from driftwatch import __version__
from driftwatch.model import DriftState, ObjectDrift
from driftwatch.run import TargetRun

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"

_RULES: dict[DriftState, tuple[str, str, str]] = {
    DriftState.MODIFIED: (
        "error",
        "A live object differs from what Git declares.",
        "A field declared in Git has another value live, or a person or unknown tool added one.",
    ),
    DriftState.MISSING: (
        "error",
        "An object declared in Git is absent from the cluster.",
        "The object is declared in Git, its type was read completely, and it is not there.",
    ),
    DriftState.UNMANAGED: (
        "error",
        "A live object carries the target's ownership marker but no file declares it.",
        "Created by hand or by a tool outside Git; declare it in Git or delete it.",
    ),
    DriftState.UNKNOWN: (
        "note",
        "An object could not be compared (its type could not be read).",
        "Unknown is never reported as drift: the cluster read failed for this type.",
    ),
}


def _rule_id(state: DriftState) -> str:
    return f"drift/{state.value}"


def _message(obj: ObjectDrift) -> str:
    text = f"{obj.key.display()} is {obj.state.value}"
    if obj.reason:
        text += f" ({obj.reason})"
    if obj.fields:
        shown = [f"{f.path} ({f.attribution.display()})" for f in obj.fields[:5]]
        more = f" and {len(obj.fields) - 5} more" if len(obj.fields) > 5 else ""
        text += ": " + ", ".join(shown) + more
    elif obj.attribution.known:
        text += f", last changed by {obj.attribution.display()}"
    return text + "."


def _location(obj: ObjectDrift, target_path: str) -> dict[str, Any]:
    if obj.origin is not None:
        physical: dict[str, Any] = {
            "artifactLocation": {"uri": obj.origin.file, "uriBaseId": "SRCROOT"}
        }
        if obj.origin.line is not None:
            physical["region"] = {"startLine": max(1, obj.origin.line)}
    else:
        where = target_path.strip("/") or "."
        uri = where if where == "." else where + "/"
        physical = {"artifactLocation": {"uri": uri, "uriBaseId": "SRCROOT"}}
    return {
        "physicalLocation": physical,
        "logicalLocations": [{"name": obj.key.display(), "kind": "resource"}],
    }


def _result(target: str, target_path: str, obj: ObjectDrift) -> dict[str, Any]:
    level = _RULES[obj.state][0]
    return {
        "ruleId": _rule_id(obj.state),
        "level": level,
        "message": {"text": _message(obj)},
        "locations": [_location(obj, target_path)],
        "partialFingerprints": {"driftwatchResource/v1": f"{target}/{obj.key.display()}"},
        "properties": {
            "target": target,
            "state": obj.state.value,
            "fields": [f.path for f in obj.fields],
        },
    }


def to_sarif(runs: Iterable[TargetRun], target_paths: Mapping[str, str]) -> str:
    """The runs as one SARIF 2.1.0 log (``target_paths``: target name -> path in its repo)."""
    results: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    for run in runs:
        if run.report is None:
            notifications.append(
                {
                    "level": "error",
                    "message": {"text": f"target {run.target}: {run.error or 'run failed'}"},
                }
            )
            continue
        for error in run.report.source_errors:
            notifications.append(
                {"level": "error", "message": {"text": f"target {run.target}: {error.display()}"}}
            )
        path = target_paths.get(run.target, ".")
        for obj in run.report.objects:
            if obj.state is not DriftState.IN_SYNC:
                results.append(_result(run.target, path, obj))
    rules = [
        {
            "id": _rule_id(state),
            "name": state.value.replace("_", " ").title().replace(" ", ""),
            "shortDescription": {"text": short},
            "fullDescription": {"text": full},
            "defaultConfiguration": {"level": level},
        }
        for state, (level, short, full) in _RULES.items()
    ]
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "driftwatch",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": not notifications,
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"
