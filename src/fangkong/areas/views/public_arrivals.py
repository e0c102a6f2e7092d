"""The public arrival report (报备): the form, its submission (a receipt, or the form with each field's
problem and nothing written), and the JSON API.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from fangkong.areas import service
from fangkong.areas.views.places import PLACES
from fangkong.areas.views.public import _public_html, _public_language
from fangkong.areas.views.submissions import ArrivalSubmission
from fangkong.core import clock
from fangkong.core.deps import BusDep, SessionDep, VaultDep
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message, render_text

router = APIRouter(include_in_schema=False)

# Fields the public arrival form and API take (anything else is refused, named).
PUBLIC_ARRIVAL_FIELDS = (
    "id_number",
    "name",
    "phone",
    "origin_county_code",
    "departed_on",
    "arrived_on",
    "destination_code",
    "address",
    "hotel",
    "origin_area_id",
    "origin_unit",
    "companions",
    "places_visited",
)


# The allowance was counted before the body was read (``public_arrival_submission``); the service is
# handed a limiter that lets the same submission through instead of counting it twice.
_COUNTED_ALREADY = service.arrivals.SubmissionLimiter(limit=2**62, max_tracked=1)


def _arrival_input(fields: dict[str, object]) -> service.arrivals.ArrivalInput:
    unknown = sorted(k for k in fields if k not in PUBLIC_ARRIVAL_FIELDS and k != "lang")
    if unknown:
        raise InvalidInput(
            [RowError(1, k[:30], Message("not a field of the arrival report")) for k in unknown[:10]]
        )
    return service.arrivals.ArrivalInput(**{k: v for k, v in fields.items() if k in PUBLIC_ARRIVAL_FIELDS})


def _arrival_form(
    request: Request, lang: str, form: dict[str, object], errors: list[RowError], status: int
) -> HTMLResponse:
    shown: dict[str, list[str]] = {}
    for error in errors:
        shown.setdefault(error.field, []).append(render_text(error.text, lang))
    places = PLACES.get(request.app.state.db)
    return _public_html(
        "areas/public_arrival.html",
        {
            "form": form,
            "errors": shown,
            "places": places,
            "receipt": None,
            "max_day": clock.today() + dt.timedelta(days=3),
        },
        lang,
        status,
    )


@router.get("/public/arrivals", response_class=HTMLResponse)
def public_arrival_form(request: Request) -> Response:
    """The arrival form (报备): who, from where (down to the risk-area unit), when, where staying."""
    return _arrival_form(request, _public_language(request), {}, [], 200)


@router.post("/public/arrivals", response_class=HTMLResponse)
def public_arrival_submit(
    request: Request, submission: ArrivalSubmission, session: SessionDep, vault: VaultDep, bus: BusDep
) -> Response:
    """The form's submission: the receipt (registered, category, measure), or the form with each field's
    problem beside it and nothing written."""
    lang_field = submission.fields.get("lang")
    lang = _public_language(request, lang_field if isinstance(lang_field, str) else None)
    kept: dict[str, object] = {
        k: v for k, v in submission.fields.items() if k in PUBLIC_ARRIVAL_FIELDS and isinstance(v, str)
    }
    try:
        receipt = service.arrivals.register_arrival(
            session,
            vault,
            bus,
            _arrival_input(submission.fields),
            channel="form",
            reporter="public",
            ip=submission.ip,
            limiter=_COUNTED_ALREADY,
        )
    except InvalidInput as exc:
        return _arrival_form(request, lang, kept, exc.errors, 422)
    answer = receipt.public_answer(lang)
    return _public_html(
        "areas/public_arrival.html", {"receipt": answer, "form": {}, "errors": {}, "places": None}, lang
    )


@router.post("/public/api/arrivals")
def public_arrival_api(
    request: Request, submission: ArrivalSubmission, session: SessionDep, vault: VaultDep, bus: BusDep
) -> JSONResponse:
    """The arrival report as JSON: 201 with only what this report says (registered, category,
    measure); 422 naming each field in error, nothing written; 429 past the address's allowance."""
    receipt = service.arrivals.register_arrival(
        session,
        vault,
        bus,
        _arrival_input(submission.fields),
        channel="api",
        reporter="public",
        ip=submission.ip,
        limiter=_COUNTED_ALREADY,
    )
    return JSONResponse(receipt.public_answer(_public_language(request)), status_code=201)
