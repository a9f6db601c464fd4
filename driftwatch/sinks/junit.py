"""JUnit XML for CI systems: one test suite per target, one test case per object.

JUnit is the report format nearly every CI system ingests natively (GitLab,
Jenkins, Azure Pipelines, CircleCI, Buildkite, GitHub via common actions), so a
drift check shows up as failed tests beside the pipeline's other results.  A
drifted object is a ``failure``; an object or target that could not be compared
is an ``error``; an object in sync passes.  Values are already redacted.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

from driftwatch.model import DriftState, ObjectDrift
from driftwatch.run import TargetRun
from driftwatch.sinks.text_report import object_diff


def _case(suite: ET.Element, target: str, obj: ObjectDrift) -> None:
    case = ET.SubElement(
        suite, "testcase", classname=f"driftwatch.{target}", name=obj.key.display()
    )
    if obj.origin is not None:
        case.set("file", obj.origin.file)
    if obj.state is DriftState.IN_SYNC:
        return
    if obj.state is DriftState.UNKNOWN:
        ET.SubElement(case, "error", message=obj.reason or "could not be compared", type="unknown")
        return
    message = obj.state.value + (f": {obj.reason}" if obj.reason else "")
    if obj.fields:
        message += ": " + ", ".join(f.path for f in obj.fields)
    failure = ET.SubElement(case, "failure", message=message, type=obj.state.value)
    failure.text = "\n".join(object_diff(obj)) if obj.fields else message


def to_junit(runs: Iterable[TargetRun]) -> str:
    """The runs as a JUnit XML document."""
    root = ET.Element("testsuites", name="driftwatch")
    for run in runs:
        suite = ET.SubElement(root, "testsuite", name=run.target, time=f"{run.duration:.3f}")
        if run.report is None:
            case = ET.SubElement(
                suite, "testcase", classname=f"driftwatch.{run.target}", name="run"
            )
            ET.SubElement(case, "error", message=run.error or "run failed", type="run_failed")
            counts = {"tests": 1, "failures": 0, "errors": 1}
        else:
            for error in run.report.source_errors:
                case = ET.SubElement(
                    suite,
                    "testcase",
                    classname=f"driftwatch.{run.target}",
                    name=f"source {error.file}",
                )
                ET.SubElement(case, "error", message=error.display(), type="source_error")
            for obj in run.report.objects:
                _case(suite, run.target, obj)
            totals = run.report.totals()
            counts = {
                "tests": len(run.report.objects) + len(run.report.source_errors),
                "failures": sum(
                    totals[s]
                    for s in (DriftState.MODIFIED, DriftState.MISSING, DriftState.UNMANAGED)
                ),
                "errors": totals[DriftState.UNKNOWN] + len(run.report.source_errors),
            }
        for name, value in counts.items():
            suite.set(name, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
