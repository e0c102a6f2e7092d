"""The public risk-area page and its JSON feeds: ``async`` routes that read only the process's snapshot
(``service.public``), no database query and no worker thread per view, 304 by ETag; and the language
and page helpers the other public pages share.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from fangkong.areas import service
from fangkong.core.i18n import LANGUAGES, pick_language, translations
from fangkong.web.templating import local_time, templates

router = APIRouter(include_in_schema=False)

# Public answers: browsers and proxies may keep one this long, seconds, then ask again with its ETag.
MAX_AGE_SECONDS = 30


def _public_language(request: Request, chosen: str | None = None) -> str:
    """``?lang=`` (or a form's ``lang``) if given, else the browser's Accept-Language, else Chinese."""
    asked = chosen if chosen is not None else request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    return pick_language(None, request.headers.get("accept-language"))


def _public_context(lang: str) -> dict[str, Any]:
    gettext = translations(lang)
    return {"_": gettext.gettext, "pgettext": gettext.pgettext, "lang": lang, "languages": LANGUAGES}


def render_public_page(page: service.public.PublicPage, lang: str) -> str:
    """The public risk-area page in ``lang`` (rendered once per snapshot and language)."""
    context = _public_context(lang)
    return templates.env.get_template("areas/public.html").render(
        page=page,
        updated=local_time(page.generated_at),
        recent=translations(lang).gettext("Last {days} days").format(days=page.recent_days),
        **context,
    )


def _public_html(template: str, context: dict[str, Any], lang: str, status_code: int = 200) -> HTMLResponse:
    body = templates.env.get_template(template).render(**_public_context(lang), **context)
    return HTMLResponse(
        body, status_code=status_code, headers={"Cache-Control": "no-store", "Vary": "Accept-Language"}
    )


def _answer(request: Request, rendered: service.public.Rendered, media_type: str, vary: str = "") -> Response:
    zipped = "gzip" in request.headers.get("accept-encoding", "")
    etag = rendered.gzip_etag if zipped else rendered.etag
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={MAX_AGE_SECONDS}",
        "Vary": ", ".join(v for v in ("Accept-Encoding", vary) if v),
    }
    match = request.headers.get("if-none-match", "")
    if match and (match.strip() == "*" or etag in {t.strip() for t in match.split(",")}):
        return Response(status_code=304, headers=headers)
    if zipped:
        headers["Content-Encoding"] = "gzip"
        return Response(rendered.gzipped, media_type=media_type, headers=headers)
    return Response(rendered.body, media_type=media_type, headers=headers)


@router.get("/public/areas", response_class=HTMLResponse)
async def public_page(request: Request) -> Response:
    """The public list of high and medium areas (HTML, readable on a phone), from the snapshot."""
    lang = _public_language(request)
    snapshot = await service.public.snapshot_for_request(request.app.state.db)
    rendered = snapshot.html_for(lang, render_public_page)
    return _answer(request, rendered, "text/html; charset=utf-8", vary="Accept-Language")


@router.get("/public/areas.json")
async def public_feed(request: Request) -> Response:
    """The whole region's high and medium areas, measures and recent changes (no personal data)."""
    snapshot = await service.public.snapshot_for_request(request.app.state.db)
    return _answer(request, snapshot.feed, "application/json")


@router.get("/public/areas/{county_code}.json")
async def public_county_feed(request: Request, county_code: str) -> Response:
    """One county's areas and changes; a county with none has no feed (404: all of it is low)."""
    snapshot = await service.public.snapshot_for_request(request.app.state.db)
    rendered = snapshot.county_feed(county_code) if county_code.isascii() and county_code.isdigit() else None
    if rendered is None:
        return JSONResponse(
            {"detail": "no high or medium risk areas listed for this county"},
            status_code=404,
            headers={"Cache-Control": f"public, max-age={MAX_AGE_SECONDS}"},
        )
    return _answer(request, rendered, "application/json")
