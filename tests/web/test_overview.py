"""The overview tells a failed run, its stage and reason, and the errors of the last report."""

from __future__ import annotations

from driftwatch.model import SourceError
from driftwatch.run import RunStatus, Stage
from driftwatch.sinks.web.app import TargetStatus, WebApp
from driftwatch.sinks.web.http import WebRequest
from tests.service.helpers import config, drift, run_of
from tests.web.fake_source import StaticSource

NOW = 2_000_000_000.0


class FailingSource(StaticSource):
    """The last run failed; the last report is an older, partial one."""

    def statuses(self) -> list[TargetStatus]:
        (target,) = self.config().targets
        good = run_of("shop", [drift("api")], status=RunStatus.PARTIAL, finished_at=NOW - 600)
        assert good.report is not None
        good.report.source_errors.append(SourceError("apps/<b>bad</b>.yaml", "not YAML", 3))
        failed = run_of("shop", status=RunStatus.FAILED, finished_at=NOW - 5)
        return [TargetStatus(target, failed, good)]


def test_failed_run_shows_stage_reason_and_the_previous_reports_errors() -> None:
    app = WebApp(FailingSource(config("shop"), {}), clock=lambda: NOW)
    response = app.handle(WebRequest("GET", "/"))
    assert response is not None and response.status == 200
    html = response.body.decode()
    assert "failed at snapshot: cluster unreachable" in html
    assert f"{Stage.SNAPSHOT.value}" in html and "showing the report of" in html
    assert "apps/&lt;b&gt;bad&lt;/b&gt;.yaml:3: not YAML" in html
    assert "1 modified" in html  # the counts of the last report still show
