"""``driftwatch check -o html``: one self-contained HTML file with the pages' object views.

For CI artifacts and for mailing to someone: the stylesheet is inlined, there is
no script, and a Content-Security-Policy ``<meta>`` forbids every fetch, so the
file opens the same with no network.  Every value is escaped (Jinja autoescape);
Secret values are fingerprints, as in every output.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from driftwatch.config.model import Config
from driftwatch.model import DriftState
from driftwatch.run import TargetRun
from driftwatch.sinks.web.app import stylesheet, templates
from driftwatch.sinks.web.views import (
    LinkSettings,
    counts_view,
    fmt_time,
    object_view,
    report_errors,
    run_view,
)

REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def render_report(runs: Sequence[TargetRun], config: Config, *, now: float | None = None) -> str:
    """The whole report: a section per target, a diff per drifted or unknown object."""
    now = time.time() if now is None else now
    links = LinkSettings(grafana_url=config.server.grafana_url, git_web=dict(config.server.git_web))
    targets = {t.name: t for t in config.targets}
    sections = []
    for index, run in enumerate(runs):
        report = run.report
        objects = []
        if report is not None:
            for number, obj in enumerate(
                o for o in report.objects if o.state is not DriftState.IN_SYNC
            ):
                view = object_view(
                    targets.get(run.target), run.target, obj, run, since=None, now=now, links=links
                )
                view["anchor"] = f"t{index}-o{number}"
                objects.append(view)
        sections.append(
            {
                "name": run.target,
                "anchor": f"t{index}",
                "last": run_view(run, now),
                "counts": counts_view(report),
                "errors": report_errors(report),
                "objects": objects,
            }
        )
    page = templates().get_template("report.html")
    return page.render(
        title="driftwatch report",
        generated=fmt_time(now),
        sections=sections,
        css=stylesheet(),
        csp=REPORT_CSP,
        session=False,
    )
