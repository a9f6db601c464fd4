"""Web pages of ``driftwatch serve`` and the HTML report of ``driftwatch check -o html``.

``routes`` (every URL, the target a URL is about), ``app`` (the pages behind a
transport-free request/response), ``views`` (what a page shows, as data),
``links`` (Git web UI, Grafana), ``auth`` (sessions, CSRF), ``report_html``
(one self-contained file).  Templates and the stylesheet sit beside them.
"""
