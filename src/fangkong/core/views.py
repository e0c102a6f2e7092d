"""Web pages of the shared kernel: login, overview, jurisdictions, people, users, audit log."""

from __future__ import annotations

import datetime as dt
import secrets
import tempfile
import time
from typing import Annotated
from urllib.parse import urlencode, urlparse

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fangkong.core import audit, clock, jurisdictions, people, people_import, users
from fangkong.core.audit_labels import ACTION_LABELS, EVERY_OBJECT, OBJECT_LABELS
from fangkong.core.auth import LoginFailed, Principal, authenticate
from fangkong.core.deps import (
    SESSION_COOKIE,
    LoginAttemptDep,
    Require,
    RowId,
    RowIdQuery,
    SessionDep,
    SettingsDep,
    VaultDep,
    client_ip,
)
from fangkong.core.errors import DomainError, InvalidInput, NotFound, RowError
from fangkong.core.i18n import LANGUAGES, Message
from fangkong.core.models import AuditEntry, Level, Role, User
from fangkong.core.people_rules import Keys
from fangkong.core.permissions import Permission
from fangkong.core.uploads import save_upload
from fangkong.web.templating import FOCUS_COOKIE, LANG_COOKIE, focus_of, language_of, render

router = APIRouter(include_in_schema=False)
NAV: list[tuple[Permission, str, str]] = [
    (Permission.jurisdictions_read, "/", "Overview"),
    (Permission.jurisdictions_read, "/jurisdictions", "Jurisdictions"),
    (Permission.people_read, "/people", "People"),
    (Permission.people_import, "/people/import", "Import residents"),
]
# Administration pages come last in the navigation, after every capability's pages.
ADMIN_NAV: list[tuple[Permission, str, str]] = [
    (Permission.users_manage, "/users", "Users"),
    (Permission.audit_read, "/audit", "Audit log"),
]
LOGIN_CSRF_COOKIE = "fk_login_csrf"
LOGIN_WAIT = "Too many failed logins from this address. Try again in {seconds} seconds."

Reader = Annotated[Principal, Depends(Require(Permission.jurisdictions_read))]
PeopleReader = Annotated[Principal, Depends(Require(Permission.people_read))]
PeopleImporter = Annotated[Principal, Depends(Require(Permission.people_import))]
Revealer = Annotated[Principal, Depends(Require(Permission.people_reveal))]
UserAdmin = Annotated[Principal, Depends(Require(Permission.users_manage))]
AuditReader = Annotated[Principal, Depends(Require(Permission.audit_read))]


def _safe_next(target: str) -> str:
    # Only local paths: an open redirect after login would help phishing.
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", {"next": _safe_next(next), "error": "", "login_csrf": token})
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict")
    return response


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    attempt: LoginAttemptDep,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        return render(
            request,
            "login.html",
            {"next": _safe_next(next), "error": "form expired, please try again", "login_csrf": expected},
            status_code=403,
        )
    if attempt.retry_after:
        # The address is past its allowance of failures (core.throttle): say how long to wait.
        wait = Message(LOGIN_WAIT, seconds=attempt.retry_after).render(language_of(request))
        refused = render(
            request,
            "login.html",
            {"next": _safe_next(next), "error": wait, "login_csrf": expected},
            status_code=429,
        )
        refused.headers["Retry-After"] = str(attempt.retry_after)
        return refused
    throttle = request.app.state.login_throttle
    try:
        user = authenticate(session, username, password)
    except LoginFailed as exc:
        throttle.failed(attempt.address, username)
        return render(
            request,
            "login.html",
            {"next": _safe_next(next), "error": str(exc), "login_csrf": expected},
            status_code=401,
        )
    throttle.succeeded(attempt.address, username)
    cookie, _csrf = request.app.state.signer.issue(user)
    audit.record(
        session, audit.Actor(user.id, user.username, client_ip(request)), "auth.login", "user", user.id
    )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=settings.session_hours * 3600,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(principal: Reader, session: SessionDep, request: Request) -> Response:
    user = session.get(User, principal.user_id)
    if user is not None:
        user.session_version += 1  # voids every cookie issued to this user
    audit.record(
        session,
        audit.Actor(principal.user_id, principal.username, client_ip(request)),
        "auth.logout",
        "user",
        principal.user_id,
    )
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/lang/{code}")
def switch_language(code: str, request: Request, next: str = "/") -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="lax")
    return response


@router.get("/focus")
def choose_focus(
    request: Request,
    principal: Reader,
    session: SessionDep,
    jurisdiction_id: Annotated[int, Query(ge=1, le=2_147_483_647)],
    next: str = "/",
) -> Response:
    """The header's jurisdiction picker: remember which part of one's scope to look at."""
    node = jurisdictions.get_in_scope(session, jurisdiction_id, principal.jpath)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(FOCUS_COOKIE, str(node.id), httponly=True, samesite="lax")
    return response


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, principal: Reader, session: SessionDep) -> Response:
    # The command dashboard replaces the overview for those who may read it (issue 15).
    if principal.can(Permission.response_read):
        return RedirectResponse("/dashboard", status_code=303)
    node = jurisdictions.get_in_scope(session, focus_of(request, principal), principal.jpath)
    counts = jurisdictions.count_by_level(session, node.path)
    population = people.count_in_scope(session, node.path) if principal.can(Permission.people_read) else None
    return render(
        request,
        "core/overview.html",
        {"counts": counts, "population": population, "node": node, "levels": [lv.value for lv in Level]},
        principal=principal,
    )


@router.get("/jurisdictions", response_class=HTMLResponse)
def jurisdictions_page(
    request: Request, principal: Reader, session: SessionDep, id: RowIdQuery = None
) -> Response:
    node = jurisdictions.get_in_scope(session, id or principal.jurisdiction_id, principal.jpath)
    trail = [j for j in jurisdictions.ancestors(session, node) if j.path.startswith(principal.jpath)]
    kids = jurisdictions.children(session, node, principal.jpath)
    return render(
        request,
        "core/jurisdictions.html",
        {"node": node, "trail": trail, "children": kids},
        principal=principal,
    )


@router.get("/people", response_class=HTMLResponse)
def people_page(
    request: Request,
    principal: PeopleReader,
    session: SessionDep,
    vault: VaultDep,
    q: Annotated[str, Query(max_length=50)] = "",
    jurisdiction_id: RowIdQuery = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    jurisdiction_id = jurisdiction_id or focus_of(request, principal)
    result = people.search(session, vault, principal, q, jurisdiction_id=jurisdiction_id, page=page, size=50)
    template = "core/people_table.html" if request.headers.get("HX-Request") else "core/people.html"
    return render(
        request, template, {"result": result, "q": q, "jurisdiction_id": jurisdiction_id}, principal=principal
    )


@router.get("/people/import", response_class=HTMLResponse)
def people_import_page(request: Request, principal: PeopleImporter) -> Response:
    return render(request, "core/people_import.html", {"report": None, "errors": []}, principal=principal)


@router.post("/people/import", response_class=HTMLResponse)
def people_import_upload(
    request: Request,
    principal: PeopleImporter,
    session: SessionDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File()],
    dry_run: Annotated[bool, Form()] = False,
) -> Response:
    """Residents from CSV, as ``fangkong people import``: every bad row listed, or all rows written."""
    errors: list[RowError] = []
    report = None
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = save_upload(file, tmp, default_name="people.csv")
        try:
            report = people_import.import_people_csv(
                session,
                Keys(settings.encryption_key, settings.hash_key),
                audit.Actor(principal.user_id, principal.username, client_ip(request)),
                principal.jpath,
                path,
                dry_run=dry_run,
            )
        except InvalidInput as exc:
            session.rollback()
            errors = exc.errors
    context = {
        "report": report,
        "errors": errors,
        "dry_run": dry_run,
        "seconds": round(time.perf_counter() - started, 1),
    }
    return render(
        request, "core/people_import.html", context, principal=principal, status_code=422 if errors else 200
    )


@router.get("/people/{person_id}", response_class=HTMLResponse)
def person_page(request: Request, person_id: RowId, principal: PeopleReader, session: SessionDep) -> Response:
    person = people.get(session, principal, person_id)
    try:
        members = (
            people.household_members(session, principal, person.household_id) if person.household_id else []
        )
    except NotFound:  # a person read outside one's subtree with a stated reason: not their household
        members = []
    return render(request, "core/person.html", {"person": person, "members": members}, principal=principal)


@router.post("/people/{person_id}/reveal", response_class=HTMLResponse)
def person_reveal(
    request: Request, person_id: RowId, principal: Revealer, session: SessionDep, vault: VaultDep
) -> Response:
    person = people.reveal(session, vault, principal, person_id, client_ip(request))
    return render(request, "core/person_identity.html", {"person": person}, principal=principal)


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, principal: UserAdmin, session: SessionDep) -> Response:
    rows = users.list_users(session, principal.jpath)
    places = jurisdictions.in_scope_of_level(session, principal.jpath, list(Level)[:4])
    return render(
        request,
        "core/users.html",
        {"rows": rows, "roles": [r.value for r in Role], "places": places, "errors": [], "form": {}},
        principal=principal,
    )


@router.post("/users", response_class=HTMLResponse)
def users_create(
    request: Request,
    principal: UserAdmin,
    session: SessionDep,
    username: Annotated[str, Form(max_length=64)],
    display_name: Annotated[str, Form(max_length=100)],
    role: Annotated[str, Form(max_length=32)],
    jurisdiction_code: Annotated[str, Form(max_length=12)],
    password: Annotated[str, Form(max_length=200)],
) -> Response:
    form = {
        "username": username,
        "display_name": display_name,
        "role": role,
        "jurisdiction_code": jurisdiction_code,
    }
    try:
        users.create_user(
            session,
            audit.Actor(principal.user_id, principal.username, client_ip(request)),
            principal.jpath,
            password=password,
            **form,
        )
    except DomainError as exc:
        if request.headers.get("HX-Request") == "true":
            raise  # the error handler answers htmx: each message beside its field, the input kept
        errors: list[object] = list(exc.errors) if isinstance(exc, InvalidInput) else [exc]
    else:
        return RedirectResponse("/users", status_code=303)
    session.rollback()
    rows = users.list_users(session, principal.jpath)
    places = jurisdictions.in_scope_of_level(session, principal.jpath, list(Level)[:4])
    return render(
        request,
        "core/users.html",
        {"rows": rows, "roles": [r.value for r in Role], "places": places, "errors": errors, "form": form},
        principal=principal,
        status_code=422,
    )


AUDIT_PAGE_SIZE = 50
SYSTEM_ACTOR = "system"
"""the user filter's value for entries the platform wrote itself (no signed-in user)."""


def _audit_day(text: str, name: str, errors: list[RowError]) -> dt.date | None:
    if not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        errors.append(RowError(1, name, Message("{value} is not a date (YYYY-MM-DD)", value=text)))
        return None


def _audit_filter(
    user: str, action: str, object_type: str, object_id: str, start: str, end: str
) -> tuple[audit.EntryFilter, list[RowError]]:
    """The audit page's filter form as a filter, or the errors naming each bad field."""
    errors: list[RowError] = []
    actor_id: int | None = None
    if user and user != SYSTEM_ACTOR:
        if user.isdigit() and int(user) < 2**31:
            actor_id = int(user)
        else:
            errors.append(RowError(1, "user", Message("{value} is not a user of the list", value=user)))
    first = _audit_day(start, "start", errors)
    last = _audit_day(end, "end", errors)
    if first is not None and last is not None and first > last:
        errors.append(RowError(1, "start", Message("{start} is after the end {end}", start=first, end=last)))
    # Local days: an entry at 07:00 Beijing time on the 3rd is on the 3rd, not on the 2nd (UTC).
    since = clock.day_bounds(first)[0] if first is not None else None
    until = clock.day_bounds(last)[1] if last is not None else None
    where = audit.EntryFilter(
        actor_id=actor_id,
        system_only=user == SYSTEM_ACTOR,
        action=action.strip(),
        object_type=object_type.strip(),
        object_id=object_id.strip(),
        since=since,
        until=until,
    )
    return where, errors


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    principal: AuditReader,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    user: Annotated[str, Query(max_length=16)] = "",
    action: Annotated[str, Query(max_length=64)] = "",
    object_type: Annotated[str, Query(max_length=64)] = "",
    object_id: Annotated[str, Query(max_length=64)] = "",
    start: Annotated[str, Query(max_length=10)] = "",
    end: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """The audit log of the caller's subtree, filtered by user, action, object and local days, paged."""
    top = principal.jpath.count("/") == 2
    form = {
        "user": user,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "start": start,
        "end": end,
    }
    where, errors = _audit_filter(user, action, object_type, object_id, start, end)
    rows: list[AuditEntry] = []
    total = 0
    if not errors:
        rows, total = audit.list_entries(
            session, principal.jpath, include_system=top, page=page, size=AUDIT_PAGE_SIZE, where=where
        )
    people_in_scope = users.list_users(session, principal.jpath)
    names = {u.id: u.display_name for u, _ in people_in_scope}
    names.update(
        audit.actor_names(session, {r.actor_id for r in rows if r.actor_id is not None} - set(names))
    )
    query = urlencode({k: v for k, v in form.items() if v})
    return render(
        request,
        "core/audit.html",
        {
            "rows": rows,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // AUDIT_PAGE_SIZE)),
            "form": form,
            "errors": errors,
            "query": query,
            "names": names,
            "users": sorted(
                ((u.id, u.display_name, u.username) for u, _ in people_in_scope), key=lambda x: x[1]
            ),
            "system_actor": SYSTEM_ACTOR,
            "actions": ACTION_LABELS,
            "objects": OBJECT_LABELS,
            "every_object": EVERY_OBJECT,
        },
        principal=principal,
        status_code=422 if errors else 200,
    )


@router.post("/audit/verify", response_class=HTMLResponse)
def audit_verify(request: Request, principal: AuditReader, session: SessionDep) -> Response:
    report = audit.verify(session)
    return render(request, "core/audit_verify.html", {"report": report}, principal=principal)
