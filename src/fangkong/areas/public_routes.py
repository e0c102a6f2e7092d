"""The public risk-area page and its JSON feed: no login, no personal data, served from the cached snapshot.

Every route here is ``async`` and reads only the process's snapshot (``service.public``): the bytes are
ready, so an answer costs no database query and no worker thread, and a client that already has them
gets 304 by its ETag. The page is Chinese unless ``?lang=en`` or the browser's Accept-Language asks
for English (a public page has no language cookie to go by).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from jinja2 import Environment, select_autoescape

from fangkong.areas.service import public
from fangkong.core.i18n import LANGUAGES, pick_language, translations
from fangkong.web.templating import local_time

router = APIRouter(tags=["areas public"])

# Browsers and proxies may keep an answer this long, seconds, then ask again with its ETag.
MAX_AGE_SECONDS = 30

_env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_env.filters["msg"] = lambda message, lang: message.render(lang)
_env.filters["local"] = local_time
_PAGE = _env.from_string(
    """<!doctype html>
<html lang="{{ 'zh-CN' if lang == 'zh' else 'en' }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ _("Public risk area list") }}</title>
<style>
body{font-family:system-ui,"PingFang SC","Noto Sans CJK SC",sans-serif;margin:0 auto;max-width:46rem;
padding:1rem;line-height:1.5;color:#222}h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:1.5rem}
h3{font-size:1rem;margin:1rem 0 .3rem}
.high{color:#b00020}.medium{color:#b36b00}ul{padding-left:1.2rem}small,.note{color:#555}li{margin:.15rem 0}
.lang a{margin-right:.6rem}
</style></head><body>
<p class="lang">{% for code, name in languages.items() %}<a href="?lang={{ code }}">{{ name }}</a>
{% endfor %}</p>
<h1>{{ _("Public risk area list") }}</h1>
<p class="note">{{ page.low_note | msg(lang) }} <small>{{ _("Updated at") }} {{ updated }}</small></p>
{% if not page.cities %}<p>{{ _("No high or medium risk areas at present.") }}</p>{% endif %}
{% for city in page.cities %}<h2>{{ city.name }}</h2>
{% for county in city.counties %}<h3>{{ county.name }}</h3>
{% for level, areas in (("high", county.high), ("medium", county.medium)) if areas %}
<p class="{{ level }}"><strong>{{ _("High risk areas") if level == "high" else _("Medium risk areas") }}
({{ areas | length }})</strong> — {{ _("Measures") }}: {{ county.measures.get(level, "") }}</p>
<ul>{% for a in areas %}<li>{{ a.place }} {{ a.name }}
<small>{{ _("Designated on") }} {{ a.designated_on or "" }}</small></li>
{% endfor %}</ul>{% endfor %}
<p class="note"><small><a href="/public/areas/{{ county.code }}.json">{{ _("JSON feed") }}</a></small></p>
{% endfor %}{% endfor %}
<h2>{{ _("Recent changes") }} <small>({{ recent }})</small></h2>
<ul>{% for c in page.changes[:500] %}<li><small>{{ c.at | local }}</small>
{{ c.county_name }} {{ c.area_name }}:
{{ c.wording | msg(lang) }}</li>{% endfor %}</ul>
<p><a href="/public/areas.json">{{ _("JSON feed") }}</a></p>
</body></html>
"""
)


def _render(page: public.PublicPage, lang: str) -> str:
    return _PAGE.render(
        page=page,
        lang=lang,
        languages=LANGUAGES,
        _=translations(lang).gettext,
        updated=local_time(page.generated_at),
        recent=translations(lang).gettext("Last {days} days").format(days=page.recent_days),
    )


def _answer(request: Request, rendered: public.Rendered, media_type: str, vary: str = "") -> Response:
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


@router.get("/public/areas", include_in_schema=False)
async def public_page(request: Request) -> Response:
    """The public list of high and medium areas (HTML, readable on a phone)."""
    asked = request.query_params.get("lang")
    lang = asked if asked in LANGUAGES else pick_language(None, request.headers.get("accept-language"))
    snapshot = await public.snapshot_for_request(request.app.state.db)
    rendered = snapshot.html_for(lang, _render)
    return _answer(request, rendered, "text/html; charset=utf-8", vary="Accept-Language")


@router.get("/public/areas.json")
async def public_feed(request: Request) -> Response:
    """The whole region's high and medium areas, measures and recent changes (no personal data)."""
    snapshot = await public.snapshot_for_request(request.app.state.db)
    return _answer(request, snapshot.feed, "application/json")


@router.get("/public/areas/{county_code}.json")
async def public_county_feed(request: Request, county_code: str) -> Response:
    """One county's areas and changes; a county with none has no feed (404: all of it is low)."""
    snapshot = await public.snapshot_for_request(request.app.state.db)
    rendered = snapshot.county_feed(county_code) if county_code.isdigit() else None
    if rendered is None:
        return Response(
            b'{"detail":"no high or medium risk areas listed for this county"}',
            status_code=404,
            media_type="application/json",
            headers={"Cache-Control": f"public, max-age={MAX_AGE_SECONDS}"},
        )
    return _answer(request, rendered, "application/json")
