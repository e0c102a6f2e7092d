"""The command dashboard page (``/dashboard``, the home page of users with ``response.read``) and the
timeliness accountability page (``/accountability``). They only shape what ``response.service.dashboard``
and ``.accountability`` return; the charts are drawn by ``/static/js/response_dashboard.js`` from a JSON
data block (no inline script, under the pages' Content-Security-Policy).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from fangkong.core.auth import Principal
from fangkong.core.deps import Require, SessionDep
from fangkong.core.errors import RowError
from fangkong.core.i18n import Message, translations
from fangkong.core.permissions import Permission
from fangkong.response.rules import metrics as m
from fangkong.response.service.accountability import DEFAULT_WEEKS, accountability
from fangkong.response.service.dashboard import TIMELINESS_STEPS, dashboard
from fangkong.web.templating import focus_of, language_of, render

router = APIRouter(include_in_schema=False)
# The longest look back the accountability page offers, as the API's own limit.
MAX_WEEKS = 104
NAV = [
    (Permission.response_read, "/dashboard", "Dashboard"),
    (Permission.response_read, "/accountability", "Accountability"),
]

Reader = Annotated[Principal, Depends(Require(Permission.response_read))]
CodeQuery = Annotated[str | None, Query(min_length=2, max_length=12, pattern=r"^[0-9]+$")]

# Message ids of the timeliness steps and the flows, in the order the page shows them.
STEP_LABELS = {
    "on_site": "Report → team on site",
    "core_facts": "Report → core facts",
    "contacts_placed": "Report → all close contacts placed",
}
FLOW_LABELS = {
    m.CASES_REPORTED: "Cases reported",
    m.PEOPLE_PLACED: "Placed under management",
    m.PEOPLE_RELEASED: "Released from management",
    m.QUARANTINE_CHECKED_IN: "Checked into quarantine",
    m.TESTS_DONE: "Tests done",
    m.TESTS_POSITIVE: "Positive tests",
    m.ALERTS_RAISED: "Alerts raised",
}
assert [k for k, _ in TIMELINESS_STEPS] == list(STEP_LABELS)


def _bins(edges: tuple[float, ...]) -> list[str]:
    """Histogram bin labels in hours: "0–1", "1–2", ..., "48+"."""

    def h(x: float) -> str:
        return f"{x:g}"

    return [f"{h(a)}–{h(b)}" for a, b in itertools.pairwise(edges)] + [f"{h(edges[-1])}+"]


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    principal: Reader,
    session: SessionDep,
    jurisdiction: CodeQuery = None,
    on: dt.date | None = None,
) -> Response:
    view = dashboard(
        session, principal, None if jurisdiction else focus_of(request, principal), code=jurisdiction, on=on
    )
    gettext = translations(language_of(request)).gettext
    steps = [(key, STEP_LABELS[key], view.timeliness[key]) for key in STEP_LABELS]
    chart = {
        "days": [d.isoformat() for d in view.days],
        "report": view.by_report,
        "onset": view.by_onset,
        "rt": view.rt_mean,
        "rtLow": view.rt_low,
        "rtHigh": view.rt_high,
        "nowcast": view.nowcast,
        "nowcastLow": view.nowcast_low,
        "nowcastHigh": view.nowcast_high,
        "labels": {
            "report": gettext("By report date"),
            "onset": gettext("By onset date (provisional)"),
            "rt": "Rt",
            "band": gettext("95% band"),
            "nowcast": gettext("Nowcast by onset date"),
            "nowcastBand": gettext("Nowcast interval"),
            "cases": gettext("Cases"),
            "hours": gettext("hours"),
        },
        "histograms": [
            {"id": f"hist-{key}", "bins": _bins(dist.edges), "counts": list(dist.counts)}
            for key, _, dist in steps
        ],
    }
    return render(
        request,
        "response/dashboard.html",
        {
            "view": view,
            "steps": steps,
            "flows": [(FLOW_LABELS[k], view.flows_window.get(k, 0)) for k in FLOW_LABELS],
            # "<" escaped: the JSON sits in a <script> data block, which a "</script>" would end.
            "chart_json": json.dumps(chart, ensure_ascii=False).replace("<", "\\u003c"),
        },
        principal=principal,
    )


@router.get("/accountability", response_class=HTMLResponse)
def accountability_page(
    request: Request,
    principal: Reader,
    session: SessionDep,
    jurisdiction: CodeQuery = None,
    weeks: Annotated[str, Query(max_length=12)] = str(DEFAULT_WEEKS),
) -> Response:
    # A bad number of weeks is said in the form, which keeps what was typed; the table stays the default's.
    errors: list[RowError] = []
    count = int(weeks) if weeks.strip().isdigit() else None
    if count is None:
        errors.append(RowError(1, "weeks", Message("“{value}” is not a whole number", value=weeks)))
    elif not 1 <= count <= MAX_WEEKS:
        words = "must be at least {limit}" if count < 1 else "must be at most {limit}"
        errors.append(RowError(1, "weeks", Message(words, limit=1 if count < 1 else MAX_WEEKS)))
    view = accountability(
        session,
        principal,
        None if jurisdiction else focus_of(request, principal),
        code=jurisdiction,
        weeks=DEFAULT_WEEKS if errors or count is None else count,
    )
    context: dict[str, Any] = {"view": view, "weeks": weeks, "errors": errors}
    return render(
        request,
        "response/accountability.html",
        context,
        principal=principal,
        status_code=422 if errors else 200,
    )
