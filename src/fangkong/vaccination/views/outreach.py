"""Web pages of the outreach work (应接尽接): the community worker's worklist (oldest first, a contact
attempt or a contraindication recorded inline through htmx, the Excel export), the day's reminders, and
the ranking of communities by their unvaccinated elderly for door-to-door and mobile-site planning. They
only shape what ``service.outreach`` and ``service.status`` return.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.deps import Require, RowId, SessionDep, client_ip
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.jurisdictions import in_scope_of_level
from fangkong.core.models import Level
from fangkong.core.permissions import Permission
from fangkong.vaccination.models import ContraindicationReason, OutreachMethod, OutreachOutcome
from fangkong.vaccination.rules import outreach as rules
from fangkong.vaccination.service import outreach, status
from fangkong.web.errors import is_htmx
from fangkong.web.templating import render

router = APIRouter(include_in_schema=False)
NAV: list[tuple[Permission, str, str]] = [
    (Permission.outreach_work, "/vaccination/outreach", "Outreach"),
    (Permission.vaccination_read, "/vaccination/outreach/gaps", "Vaccination gaps"),
]

Worker = Annotated[Principal, Depends(Require(Permission.outreach_work))]
Reader = Annotated[Principal, Depends(Require(Permission.vaccination_read))]
PageNo = Annotated[int, Query(ge=1, le=100_000)]
PAGE_SIZE = 50
AGES = (60, 70, 80)
# Above this many communities the filter is a code to type, not a list to scroll.
MAX_CHOICES = 200


def _choice_error(field: str, value: str) -> RowError:
    return RowError(1, field, Message("“{value}” is not one of the choices", value=value[:20]))


def _communities(session: SessionDep, principal: Principal) -> list[tuple[str, str]]:
    found = in_scope_of_level(session, principal.jpath, [Level.community])
    if len(found) > MAX_CHOICES:
        return []
    return sorted((j.code, j.name) for j in found)


@router.get("/vaccination/outreach", response_class=HTMLResponse)
def worklist_page(
    request: Request,
    principal: Worker,
    session: SessionDep,
    community: Annotated[str, Query(max_length=12)] = "",
    min_age: Annotated[int, Query(ge=60, le=80)] = rules.MIN_AGE,
    page: PageNo = 1,
) -> Response:
    """The worklist: 60+ unvaccinated or due, oldest first, each with their last contact."""
    path = outreach.scope_path(session, principal, community or None)
    found = outreach.worklist(session, principal, jpath=path, min_age=min_age, page=page, size=PAGE_SIZE)
    return render(
        request,
        "vaccination/outreach.html",
        {
            "found": found,
            "community": community,
            "min_age": min_age,
            "ages": AGES,
            "communities": _communities(session, principal),
            "methods": [m.value for m in OutreachMethod],
            "outcomes": [o.value for o in OutreachOutcome],
            "reasons": [r.value for r in ContraindicationReason],
            "today": clock.today(),
        },
        principal=principal,
    )


def _optional_day(field: str, value: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            [
                RowError(
                    1, field, Message("“{value}” is not a date (write it as 2022-07-01)", value=value[:20])
                )
            ]
        ) from None


@router.post("/vaccination/outreach/{person_id}/attempts", response_class=HTMLResponse)
def record_attempt(
    request: Request,
    person_id: RowId,
    principal: Worker,
    session: SessionDep,
    method: Annotated[str, Form(max_length=20)],
    outcome: Annotated[str, Form(max_length=20)],
    appointment_on: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """A contact attempt from the worklist's row; htmx gets the row again (or a line saying the person
    left the list), a plain form the list."""
    errors = []
    if method not in OutreachMethod.__members__:
        errors.append(_choice_error("method", method))
    if outcome not in OutreachOutcome.__members__:
        errors.append(_choice_error("outcome", outcome))
    if errors:
        raise InvalidInput(errors)
    attempt = outreach.record_attempt(
        session,
        principal,
        person_id,
        OutreachMethod(method),
        OutreachOutcome(outcome),
        _optional_day("appointment_on", appointment_on),
        note,
        ip=client_ip(request),
    )
    if not is_htmx(request):
        return RedirectResponse("/vaccination/outreach", status_code=303)
    item = outreach.item_of(session, principal, person_id)
    return render(
        request,
        "vaccination/outreach_row.html",
        {
            "item": item,
            "person_id": person_id,
            "recorded": attempt,
            "closed_until": rules.closed_until(attempt.outcome, attempt.attempted_on),
            "methods": [m.value for m in OutreachMethod],
            "outcomes": [o.value for o in OutreachOutcome],
            "reasons": [r.value for r in ContraindicationReason],
            "today": clock.today(),
        },
        principal=principal,
    )


@router.post("/vaccination/outreach/{person_id}/contraindications", response_class=HTMLResponse)
def record_contraindication(
    request: Request,
    person_id: RowId,
    principal: Worker,
    session: SessionDep,
    reason: Annotated[str, Form(max_length=30)],
    until: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """A contraindication from the worklist's row (after a doctor's assessment): the person's status is
    evaluated again, which takes them off the list while it holds; htmx gets a line saying so."""
    if reason not in ContraindicationReason.__members__:
        raise InvalidInput([_choice_error("reason", reason)])
    found = status.record_contraindication(
        session,
        principal,
        person_id,
        ContraindicationReason(reason),
        _optional_day("until", until),
        note,
        ip=client_ip(request),
    )
    if not is_htmx(request):
        return RedirectResponse("/vaccination/outreach", status_code=303)
    return render(
        request,
        "vaccination/outreach_row.html",
        {"item": None, "person_id": person_id, "withheld": found},
        principal=principal,
    )


@router.get("/vaccination/outreach/reminders", response_class=HTMLResponse)
def reminders_page(
    request: Request,
    principal: Worker,
    session: SessionDep,
    day: Annotated[str, Query(max_length=10)] = "",
    page: PageNo = 1,
) -> Response:
    """Who to remind on a day: due in a week or tomorrow, due today, overdue (weekly), appointments."""
    errors: list[RowError] = []
    chosen = clock.today()
    if day:
        try:
            chosen = dt.date.fromisoformat(day)
        except ValueError:
            errors.append(
                RowError(
                    1, "day", Message("“{value}” is not a date (write it as 2022-07-01)", value=day[:10])
                )
            )
    found = outreach.reminders(session, principal, chosen, page=page, size=PAGE_SIZE)
    return render(
        request,
        "vaccination/outreach_reminders.html",
        {"found": found, "day": day or chosen.isoformat(), "chosen": chosen, "errors": errors},
        principal=principal,
        status_code=422 if errors else 200,
    )


@router.get("/vaccination/outreach/gaps", response_class=HTMLResponse)
def gaps_page(
    request: Request,
    principal: Reader,
    session: SessionDep,
    page: PageNo = 1,
) -> Response:
    """Communities ranked by unvaccinated people aged 60+, with the plan each gap calls for."""
    found = outreach.gaps(session, principal, page=page, size=PAGE_SIZE)
    return render(
        request,
        "vaccination/outreach_gaps.html",
        {
            "found": found,
            "can_work": principal.can(Permission.outreach_work),
            "mobile_min": rules.MOBILE_SITE_MIN_UNVACCINATED,
        },
        principal=principal,
    )
