"""A pytest plugin for CI: with ``--fail-on-skip`` (or ``DRIFTWATCH_NO_SKIP=1``) a skip fails.

A test may skip only when an outside binary it needs is missing (kubectl,
prometheus, chromium...), and CI installs every one of them, so in CI a skip
means a test silently did not run.  The switch turns each skipped test, and each
module skipped at collection, into a failure that still shows the skip's reason.
Expected failures (``xfail``) are not skips and are left alone.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

ENV = "DRIFTWATCH_NO_SKIP"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fail-on-skip",
        action="store_true",
        default=False,
        help=f"turn every skipped test into a failure (CI; also {ENV}=1)",
    )


def _on(config: pytest.Config) -> bool:
    return bool(config.getoption("fail_on_skip")) or os.environ.get(ENV, "") not in ("", "0")


def _reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _fail(report: pytest.TestReport | pytest.CollectReport) -> None:
    report.outcome = "failed"
    report.longrepr = f"skipped, and skips fail this run (--fail-on-skip/{ENV}): {_reason(report)}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.skipped and not hasattr(report, "wasxfail") and _on(item.config):
        _fail(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    if report.skipped and _on(collector.config):
        _fail(report)
    return report
