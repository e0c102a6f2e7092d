"""Web pages of the personal-data lifecycle: the retention rules with their dry run, emergencies with
their close, purge and deletion report, likely duplicates with the side-by-side comparison, merge and
undo (of two registry entries, or of a tracing record and the person it turned out to be), access
outside one's jurisdiction with a stated reason, and the supervisor's review of it. They only shape
what ``privacy.service`` returns; people are shown masked through the registry's own read.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fangkong.core import audit, clock, people
from fangkong.core.auth import Principal
from fangkong.core.deps import Require, RowId, SessionDep, client_ip
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.permissions import Permission
from fangkong.privacy.rules import access as access_rules
from fangkong.privacy.rules import retention as retention_rules
from fangkong.privacy.service import access, emergency, merge, records, retention
from fangkong.web.forms import whole_number
from fangkong.web.templating import render

router = APIRouter(include_in_schema=False)
NAV: list[tuple[Permission, str, str]] = [
    (Permission.privacy_manage, "/privacy", "Data retention"),
    (Permission.privacy_manage, "/privacy/emergencies", "Emergencies"),
    (Permission.people_merge, "/privacy/merge", "Duplicates"),
    (Permission.access_outside, "/privacy/access", "Access with a reason"),
    (Permission.access_review, "/privacy/access/review", "Access review"),
]

Manager = Annotated[Principal, Depends(Require(Permission.privacy_manage))]
Merger = Annotated[Principal, Depends(Require(Permission.people_merge))]
GlassBreaker = Annotated[Principal, Depends(Require(Permission.access_outside))]
Reviewer = Annotated[Principal, Depends(Require(Permission.access_review))]
Id = Annotated[int, Query(ge=1, le=2_147_483_647)]


def _actor(principal: Principal, request: Request) -> audit.Actor:
    return audit.Actor(principal.user_id, principal.username, client_ip(request))


# -------------------------------------------------------------------------------- retention rules


@router.get("/privacy", response_class=HTMLResponse)
def rules_page(request: Request, principal: Manager, session: SessionDep) -> Response:
    """Every record class's rule, the minimum period, the latest runs of the nightly job."""
    return render(
        request,
        "privacy/rules.html",
        {
            "rules": retention.rules_in_force(session),
            "classes": retention_rules.BY_CODE,
            "minimum": retention_rules.MINIMUM_PERIOD_DAYS,
            "runs": retention.recent_runs(session),
            "report": None,
        },
        principal=principal,
    )


@router.post("/privacy/rules")
def set_rule(
    request: Request,
    principal: Manager,
    session: SessionDep,
    record_class: Annotated[str, Form(max_length=40)],
    period_days: Annotated[str, Form(max_length=10)],
    action: Annotated[str, Form(max_length=16)],
    active: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    period = whole_number(period_days, "period_days", low=1, high=100_000)
    retention.set_rule(session, _actor(principal, request), record_class, period, action, active == "yes")
    return RedirectResponse("/privacy", status_code=303)


@router.post("/privacy/dry-run", response_class=HTMLResponse)
def dry_run(request: Request, principal: Manager, session: SessionDep) -> Response:
    """What the nightly job would take today, listed on the rules page; nothing is deleted."""
    report = retention.run(session, _actor(principal, request), dry_run=True)
    return render(
        request,
        "privacy/rules.html",
        {
            "rules": retention.rules_in_force(session),
            "classes": retention_rules.BY_CODE,
            "minimum": retention_rules.MINIMUM_PERIOD_DAYS,
            "runs": retention.recent_runs(session),
            "report": report,
        },
        principal=principal,
    )


# -------------------------------------------------------------------------------- emergencies


@router.get("/privacy/emergencies", response_class=HTMLResponse)
def emergencies_page(request: Request, principal: Manager, session: SessionDep) -> Response:
    return render(
        request,
        "privacy/emergencies.html",
        {
            "rows": emergency.list_emergencies(session, principal.jpath),
            "province_level": principal.jpath.count("/") == 2,
            "today": clock.today(),
            "confirmation_days": retention_rules.CONFIRMATION_DAYS,
        },
        principal=principal,
    )


@router.post("/privacy/emergencies")
def open_emergency(
    request: Request,
    principal: Manager,
    session: SessionDep,
    name: Annotated[str, Form(max_length=200)],
    opened_on: Annotated[str, Form(max_length=10)],
) -> Response:
    try:
        day = dt.date.fromisoformat(opened_on)
    except ValueError:
        raise InvalidInput(
            [
                RowError(
                    1,
                    "opened_on",
                    Message("“{value}” is not a date (write it as 2022-07-01)", value=opened_on[:20]),
                )
            ]
        ) from None
    row = emergency.open_emergency(session, principal, _actor(principal, request), name, day)
    return RedirectResponse(f"/privacy/emergencies/{row.id}", status_code=303)


@router.get("/privacy/emergencies/{emergency_id}", response_class=HTMLResponse)
def emergency_page(
    request: Request, emergency_id: RowId, principal: Manager, session: SessionDep
) -> Response:
    """One emergency: its state, and once purged the deletion report (counts per class, never names)."""
    row = emergency.get(session, principal.jpath, emergency_id)
    return render(
        request,
        "privacy/emergency.html",
        {
            "row": row,
            "report": emergency.deletion_report(row),
            "province_level": principal.jpath.count("/") == 2,
            "due": row.purge_after is not None and clock.today() >= row.purge_after,
        },
        principal=principal,
    )


@router.post("/privacy/emergencies/{emergency_id}/close")
def close_emergency(
    request: Request, emergency_id: RowId, principal: Manager, session: SessionDep
) -> Response:
    emergency.close(session, principal, _actor(principal, request), emergency_id)
    return RedirectResponse(f"/privacy/emergencies/{emergency_id}", status_code=303)


@router.post("/privacy/emergencies/{emergency_id}/purge")
def purge_emergency(
    request: Request, emergency_id: RowId, principal: Manager, session: SessionDep
) -> Response:
    emergency.purge(session, principal, _actor(principal, request), emergency_id)
    return RedirectResponse(f"/privacy/emergencies/{emergency_id}", status_code=303)


# -------------------------------------------------------------------------------- duplicates and merges


@router.get("/privacy/merge", response_class=HTMLResponse)
def duplicates_page(request: Request, principal: Merger, session: SessionDep) -> Response:
    """Likely duplicates in your area, and the merges that can still be undone."""
    return render(
        request,
        "privacy/merge.html",
        {
            "candidates": merge.likely_duplicates(session, principal.jpath),
            "merges": merge.list_merges(session, principal.jpath),
            "now": clock.utcnow(),
        },
        principal=principal,
    )


@router.get("/privacy/merge/compare", response_class=HTMLResponse)
def compare_page(request: Request, principal: Merger, session: SessionDep, first: Id, second: Id) -> Response:
    """Two registry entries side by side (masked), with how many records each has, table by table."""
    left = people.get(session, principal, first)
    right = people.get(session, principal, second)
    return render(
        request,
        "privacy/compare.html",
        {
            "left": left,
            "right": right,
            "left_counts": merge.linked_counts(session, first),
            "right_counts": merge.linked_counts(session, second),
        },
        principal=principal,
    )


@router.post("/privacy/merge")
def merge_people(
    request: Request,
    principal: Merger,
    session: SessionDep,
    survivor_id: Annotated[int, Form(ge=1, le=2_147_483_647)],
    merged_id: Annotated[int, Form(ge=1, le=2_147_483_647)],
) -> Response:
    merge.merge(session, _actor(principal, request), principal.jpath, survivor_id, merged_id)
    return RedirectResponse("/privacy/merge", status_code=303)


@router.get("/privacy/merge/record", response_class=HTMLResponse)
def record_compare_page(
    request: Request, principal: Merger, session: SessionDep, person: Id, record: Id
) -> Response:
    """A registry person beside the unidentified tracing record that is probably them (both masked),
    with the records each names, table by table."""
    left = people.get(session, principal, person)
    right = records.view(session, principal.jpath, record)
    return render(
        request,
        "privacy/record_compare.html",
        {
            "left": left,
            "right": right,
            "left_counts": merge.linked_counts(session, person),
            "right_counts": records.linked_counts(session, record),
        },
        principal=principal,
    )


@router.post("/privacy/merge/record")
def link_record(
    request: Request,
    principal: Merger,
    session: SessionDep,
    person_id: Annotated[int, Form(ge=1, le=2_147_483_647)],
    record_id: Annotated[int, Form(ge=1, le=2_147_483_647)],
) -> Response:
    """Move every case, contact and exposure naming the tracing record to the person (undoable)."""
    records.link(session, _actor(principal, request), principal.jpath, person_id, record_id)
    return RedirectResponse("/privacy/merge", status_code=303)


@router.post("/privacy/merges/{merge_id}/undo")
def undo_merge(request: Request, merge_id: RowId, principal: Merger, session: SessionDep) -> Response:
    merge.undo(session, _actor(principal, request), principal.jpath, merge_id)
    return RedirectResponse("/privacy/merge", status_code=303)


# -------------------------------------------------------------------------------- access with a reason


@router.get("/privacy/access", response_class=HTMLResponse)
def access_page(request: Request, principal: GlassBreaker, session: SessionDep) -> Response:
    return render(
        request,
        "privacy/access.html",
        {
            "reasons": access_rules.REASONS,
            "hours": access_rules.GRANT_HOURS,
            "grants": access.mine(session, principal),
            "now": clock.utcnow(),
        },
        principal=principal,
    )


@router.post("/privacy/access")
def break_the_glass(
    request: Request,
    principal: GlassBreaker,
    session: SessionDep,
    person_id: Annotated[str, Form(max_length=12)],
    reason: Annotated[str, Form(max_length=32)],
    reason_text: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Open one person outside your jurisdiction for a shift, for the reason given; then show them."""
    person = whole_number(person_id, "person_id", low=1, high=2_147_483_647)
    access.request_access(session, principal, person, reason, reason_text, client_ip(request))
    return RedirectResponse(f"/people/{person}", status_code=303)


@router.get("/privacy/access/review", response_class=HTMLResponse)
def review_page(
    request: Request, principal: Reviewer, session: SessionDep, show: Annotated[str, Query(max_length=8)] = ""
) -> Response:
    """Access outside their jurisdiction by the users under you, newest first, to review."""
    return render(
        request,
        "privacy/review.html",
        {"grants": access.for_review(session, principal.jpath, pending_only=show != "all"), "show": show},
        principal=principal,
    )


@router.post("/privacy/access/{grant_id}/review")
def review_grant(
    request: Request,
    grant_id: RowId,
    principal: Reviewer,
    session: SessionDep,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    if not note.strip():
        raise InvalidInput([RowError(1, "note", Message("Write what you found."))])
    access.review(session, principal, grant_id, note, client_ip(request))
    return RedirectResponse("/privacy/access/review", status_code=303)
