"""Following one district's changes by e-mail: subscribing, and stopping (asked before it stops)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from fangkong.areas import service
from fangkong.areas.views.places import PLACES
from fangkong.areas.views.public import _public_html, _public_language
from fangkong.areas.views.submissions import FormSubmission
from fangkong.core.deps import SessionDep, VaultDep
from fangkong.core.errors import InvalidInput, NotFound

router = APIRouter(include_in_schema=False)


@router.get("/public/areas/subscribe", response_class=HTMLResponse)
def subscribe_form(request: Request, county: Annotated[str, Query(max_length=12)] = "") -> Response:
    """Follow one district's changes by e-mail."""
    lang = _public_language(request)
    places = PLACES.get(request.app.state.db)
    return _public_html(
        "areas/public_subscribe.html", {"places": places, "county": county, "errors": [], "done": None}, lang
    )


@router.post("/public/areas/subscribe", response_class=HTMLResponse)
def subscribe(request: Request, submission: FormSubmission, session: SessionDep, vault: VaultDep) -> Response:
    """The confirmation (with the link that stops it, for a new subscription), or the form with its
    problems; a repeat merges without giving away the existing subscription's token."""
    fields = submission.fields
    lang_field = fields.get("lang")
    lang = _public_language(request, lang_field if isinstance(lang_field, str) else None)
    county, contact = fields.get("county_code"), fields.get("contact")
    try:
        done = service.public.subscribe(session, vault, county, contact, ip=submission.ip)
    except InvalidInput as exc:
        places = PLACES.get(request.app.state.db)
        return _public_html(
            "areas/public_subscribe.html",
            {
                "places": places,
                "county": county if isinstance(county, str) else "",
                "errors": exc.errors,
                "done": None,
            },
            lang,
            422,
        )
    return _public_html(
        "areas/public_subscribe.html", {"places": None, "county": "", "errors": [], "done": done}, lang
    )


@router.get("/public/areas/unsubscribe", response_class=HTMLResponse)
def unsubscribe_confirm(request: Request, token: Annotated[str, Query(max_length=64)] = "") -> Response:
    """Asks before stopping (a link checker or a mail scanner following the link stops nothing)."""
    return _public_html(
        "areas/public_unsubscribe.html", {"token": token, "done": None}, _public_language(request)
    )


@router.post("/public/areas/unsubscribe", response_class=HTMLResponse)
def unsubscribe(request: Request, submission: FormSubmission, session: SessionDep) -> Response:
    lang_field = submission.fields.get("lang")
    lang = _public_language(request, lang_field if isinstance(lang_field, str) else None)
    try:
        code = service.public.unsubscribe(session, submission.fields.get("token"), ip=submission.ip)
    except NotFound:
        return _public_html(
            "areas/public_unsubscribe.html", {"token": "", "done": None, "missing": True}, lang, 404
        )
    return _public_html("areas/public_unsubscribe.html", {"token": "", "done": code}, lang)
