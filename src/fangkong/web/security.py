"""Security headers on every answer: Content-Security-Policy, no framing, no sniffing, a referrer policy.

The policy lets a page run only scripts served by fangkong itself (``/static``: htmx, ECharts, the
page scripts) and the inline ``<script>`` blocks the page was rendered with, which carry this answer's
nonce (``nonce="{{ request.state.csp_nonce }}"`` in a template). Anything injected into a page, an
``onclick=`` attribute, a ``javascript:`` link, htmx's ``hx-on`` (it evaluates strings), a script
or style from elsewhere, is refused by the browser. ``<style>`` blocks carry the nonce too; ``style=``
attributes are allowed (``style-src-attr``), because pages and ECharts' tooltips set colours and
widths that way and an attribute cannot run script. No page may be shown inside a frame
(clickjacking): ``frame-ancestors 'none'`` and, for older browsers, ``X-Frame-Options: DENY``.
HSTS is sent only in production, where fangkong is served over HTTPS behind a proxy; sending it from
a development server on plain HTTP would make browsers refuse that host until it expires.

FastAPI's interactive API documentation (``/api/docs``, ``/redoc``) is the one exception to the
policy: it is FastAPI's own page, with an inline script and its viewer from a CDN, and shows no data.
It gets every other header.
"""

from __future__ import annotations

import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

NONCE_KEY = "csp_nonce"
HSTS = "max-age=31536000"


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            f"style-src 'self' 'nonce-{nonce}'",
            "style-src-attr 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


class SecurityHeaders:
    """Plain ASGI middleware: a fresh nonce per request (``request.state.csp_nonce``) and the headers.

    A header the route set itself is kept. Plain ASGI rather than ``BaseHTTPMiddleware``, so that
    answers are neither buffered nor moved to another task.
    """

    def __init__(
        self, app: ASGIApp, *, production: bool = False, policy_exempt: frozenset[str] = frozenset()
    ) -> None:
        self.app = app
        self.production = production
        self.policy_exempt = policy_exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})[NONCE_KEY] = nonce
        extra = [
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]
        if scope.get("path") not in self.policy_exempt:
            extra.append((b"content-security-policy", content_security_policy(nonce).encode("ascii")))
        if self.production:
            extra.append((b"strict-transport-security", HSTS.encode("ascii")))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _value in headers}
                headers.extend((name, value) for name, value in extra if name not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
