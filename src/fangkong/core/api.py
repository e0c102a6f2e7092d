"""JSON routes of the shared kernel: tokens, me, jurisdictions, people, households, users, audit."""

from __future__ import annotations

import csv
import io
import tempfile
from typing import Annotated

from fastapi import APIRouter, Depends, File, HTTPException, Query, Request, UploadFile
from fastapi.responses import StreamingResponse

from fangkong.core import audit, jurisdictions, people, people_import, users
from fangkong.core.auth import LoginFailed, Principal, authenticate
from fangkong.core.deps import (
    BusDep,
    LoginAttemptDep,
    Require,
    RowId,
    RowIdQuery,
    SessionDep,
    SettingsDep,
    TooManyAttempts,
    VaultDep,
    client_ip,
)
from fangkong.core.errors import DomainError, NotFound
from fangkong.core.people_rules import Keys
from fangkong.core.permissions import Permission
from fangkong.core.schemas import (
    AuditPublic,
    AuditVerifyPublic,
    ImportResult,
    JurisdictionPublic,
    MePublic,
    PersonCreate,
    PersonPage,
    PersonPublic,
    TokenPublic,
    TokenRequest,
    UserCreate,
    UserPublic,
)
from fangkong.core.uploads import save_upload

router = APIRouter(prefix="/api", tags=["core"])

Reader = Annotated[Principal, Depends(Require(Permission.jurisdictions_read))]
PeopleReader = Annotated[Principal, Depends(Require(Permission.people_read))]
PeopleWriter = Annotated[Principal, Depends(Require(Permission.people_write))]
PeopleImporter = Annotated[Principal, Depends(Require(Permission.people_import))]
PeopleExporter = Annotated[Principal, Depends(Require(Permission.people_export))]
Revealer = Annotated[Principal, Depends(Require(Permission.people_reveal))]
UserAdmin = Annotated[Principal, Depends(Require(Permission.users_manage))]
AuditReader = Annotated[Principal, Depends(Require(Permission.audit_read))]
TreeAdmin = Annotated[Principal, Depends(Require(Permission.jurisdictions_manage))]


def actor_of(principal: Principal, request: Request) -> audit.Actor:
    return audit.Actor(principal.user_id, principal.username, client_ip(request))


@router.post(
    "/auth/token",
    response_model=TokenPublic,
    responses={401: {"description": "wrong username or password"}, 429: {"description": "wait"}},
)
def issue_token(
    body: TokenRequest, attempt: LoginAttemptDep, session: SessionDep, request: Request
) -> TokenPublic:
    """Exchange a username and password for a bearer token.

    A wrong one is answered 401. Repeated failures slow down (``core.throttle``): an address past its
    allowance gets 429 with Retry-After, and attempts on a much-guessed account are held back a little;
    no account is locked.
    """
    if attempt.retry_after:
        raise TooManyAttempts(attempt.retry_after)
    throttle = request.app.state.login_throttle
    try:
        user = authenticate(session, body.username, body.password)
    except LoginFailed as exc:
        throttle.failed(attempt.address, body.username)
        raise HTTPException(status_code=401, detail=str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc
    throttle.succeeded(attempt.address, body.username)
    token = users.issue_token(
        session, audit.Actor(user.id, user.username, client_ip(request)), user, body.name
    )
    return TokenPublic(token=token)


@router.get("/me", response_model=MePublic)
def me(principal: Reader) -> MePublic:
    return MePublic(
        id=principal.user_id,
        username=principal.username,
        display_name=principal.display_name,
        role=principal.role.value,
        jurisdiction_id=principal.jurisdiction_id,
        jurisdiction_name=principal.jurisdiction_name,
        permissions=sorted(p.value for p in principal.permissions),
    )


@router.get("/jurisdictions", response_model=list[JurisdictionPublic])
def list_jurisdictions(
    principal: Reader, session: SessionDep, parent_id: RowIdQuery = None
) -> list[JurisdictionPublic]:
    """Children of ``parent_id``, or the caller's own jurisdiction when it is not given."""
    parent = jurisdictions.get_in_scope(session, parent_id, principal.jpath) if parent_id else None
    return [
        JurisdictionPublic.model_validate(j) for j in jurisdictions.children(session, parent, principal.jpath)
    ]


@router.get("/jurisdictions/{jurisdiction_id}", response_model=JurisdictionPublic)
def get_jurisdiction(jurisdiction_id: RowId, principal: Reader, session: SessionDep) -> JurisdictionPublic:
    return JurisdictionPublic.model_validate(
        jurisdictions.get_in_scope(session, jurisdiction_id, principal.jpath)
    )


@router.post("/jurisdictions/import", response_model=dict[str, int])
def import_jurisdictions(
    principal: TreeAdmin, session: SessionDep, request: Request, file: Annotated[UploadFile, File()]
) -> dict[str, int]:
    """Import townships and communities from CSV (code, name, level, parent_code) under the caller's tree."""
    from fangkong.core.jurisdiction_csv import parse_jurisdiction_csv

    rows = parse_jurisdiction_csv(file.file.read().decode("utf-8-sig"))
    for row in rows:
        parent = jurisdictions.by_code(session, row.parent_code) if row.parent_code else None
        if parent is not None and not parent.path.startswith(principal.jpath):
            raise NotFound(f"parent {row.parent_code} not found")
    created = jurisdictions.import_tree(session, actor_of(principal, request), rows)
    return {"created": created}


@router.get("/people", response_model=PersonPage)
def search_people(
    principal: PeopleReader,
    session: SessionDep,
    vault: VaultDep,
    q: Annotated[str, Query(max_length=50)] = "",
    jurisdiction_id: RowIdQuery = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=people.MAX_PAGE_SIZE)] = 50,
) -> PersonPage:
    """People in scope; ``q`` is a full ID number, a mobile number or an exact name."""
    result = people.search(
        session, vault, principal, q, jurisdiction_id=jurisdiction_id, page=page, size=size
    )
    return PersonPage(
        items=[PersonPublic.model_validate(v, from_attributes=True) for v in result.items],
        total=result.total,
        page=result.page,
        size=result.size,
        pages=result.pages,
    )


@router.post("/people", response_model=PersonPublic, status_code=201)
def register_person(
    body: PersonCreate, principal: PeopleWriter, session: SessionDep, vault: VaultDep, bus: BusDep
) -> PersonPublic:
    view = people.register(session, vault, bus, principal, body.model_dump())
    return PersonPublic.model_validate(view, from_attributes=True)


@router.get("/people/export")
def export_people(
    principal: PeopleExporter,
    session: SessionDep,
    vault: VaultDep,
    request: Request,
    jurisdiction_id: RowIdQuery = None,
) -> StreamingResponse:
    """CSV of the people in scope, masked (exports never carry full personal data)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "name", "id_number", "phone", "sex", "birth_date", "jurisdiction", "address"])
    page = 1
    while True:
        chunk = people.search(
            session, vault, principal, "", jurisdiction_id=jurisdiction_id, page=page, size=200
        )
        for v in chunk.items:
            writer.writerow(
                [
                    v.id,
                    v.name,
                    v.id_number,
                    v.phone or "",
                    v.sex,
                    v.birth_date,
                    v.jurisdiction_name,
                    v.address or "",
                ]
            )
        if page >= chunk.pages:
            break
        page += 1
    audit.record(
        session,
        actor_of(principal, request),
        "people.export",
        "person",
        "*",
        jpath=principal.jpath,
        detail={"jurisdiction_id": jurisdiction_id, "rows": chunk.total},
    )
    return StreamingResponse(
        iter([buffer.getvalue()]),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="people.csv"'},
    )


@router.post("/people/import", response_model=ImportResult)
def import_people(
    principal: PeopleImporter,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    file: Annotated[UploadFile, File()],
    dry_run: bool = False,
) -> ImportResult:
    """Import residents from CSV; every bad row is reported (422) and then nothing is written."""
    with tempfile.TemporaryDirectory() as tmp:
        path = save_upload(file, tmp, default_name="people.csv")
        report = people_import.import_people_csv(
            session,
            Keys(settings.encryption_key, settings.hash_key),
            actor_of(principal, request),
            principal.jpath,
            path,
            dry_run=dry_run,
        )
    return ImportResult(
        rows=report.rows,
        created=report.created,
        households_created=report.households_created,
        dry_run=dry_run,
    )


@router.get("/people/{person_id}", response_model=PersonPublic)
def get_person(person_id: RowId, principal: PeopleReader, session: SessionDep) -> PersonPublic:
    return PersonPublic.model_validate(people.get(session, principal, person_id), from_attributes=True)


@router.post("/people/{person_id}/reveal", response_model=PersonPublic)
def reveal_person(
    person_id: RowId, principal: Revealer, session: SessionDep, vault: VaultDep, request: Request
) -> PersonPublic:
    """The full personal data; the read is written to the audit log."""
    view = people.reveal(session, vault, principal, person_id, client_ip(request))
    return PersonPublic.model_validate(view, from_attributes=True)


@router.get("/households/{household_id}", response_model=list[PersonPublic])
def household(household_id: RowId, principal: PeopleReader, session: SessionDep) -> list[PersonPublic]:
    return [
        PersonPublic.model_validate(v, from_attributes=True)
        for v in people.household_members(session, principal, household_id)
    ]


def _user_public(u: object, j: object) -> UserPublic:
    from fangkong.core.clock import utcnow
    from fangkong.core.models import Jurisdiction, User

    assert isinstance(u, User)
    assert isinstance(j, Jurisdiction)
    locked = u.locked_until is not None and u.locked_until.replace(tzinfo=utcnow().tzinfo) > utcnow()
    return UserPublic(
        id=u.id,
        username=u.username,
        display_name=u.display_name,
        role=u.role.value,
        jurisdiction_code=j.code,
        jurisdiction_name=j.name,
        is_active=u.is_active,
        locked=locked,
    )


@router.get("/users", response_model=list[UserPublic])
def list_users(principal: UserAdmin, session: SessionDep) -> list[UserPublic]:
    return [_user_public(u, j) for u, j in users.list_users(session, principal.jpath)]


@router.post("/users", response_model=UserPublic, status_code=201)
def create_user(body: UserCreate, principal: UserAdmin, session: SessionDep, request: Request) -> UserPublic:
    user = users.create_user(session, actor_of(principal, request), principal.jpath, **body.model_dump())
    place = jurisdictions.get_in_scope(session, user.jurisdiction_id, principal.jpath)
    return _user_public(user, place)


@router.post("/users/{user_id}/active", response_model=UserPublic)
def set_user_active(
    user_id: RowId, principal: UserAdmin, session: SessionDep, request: Request, active: bool = True
) -> UserPublic:
    if user_id == principal.user_id and not active:
        raise DomainError("you cannot deactivate your own account")
    user = users.set_active(session, actor_of(principal, request), principal.jpath, user_id, active)
    return _user_public(user, jurisdictions.get_in_scope(session, user.jurisdiction_id, principal.jpath))


@router.get("/audit", response_model=list[AuditPublic])
def list_audit(
    principal: AuditReader,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[AuditPublic]:
    top = principal.jpath.count("/") == 2  # a province-level user also sees system entries
    rows, _total = audit.list_entries(session, principal.jpath, include_system=top, page=page, size=size)
    return [AuditPublic.model_validate(r) for r in rows]


@router.get("/audit/verify", response_model=AuditVerifyPublic)
def verify_audit(principal: AuditReader, session: SessionDep) -> AuditVerifyPublic:
    report = audit.verify(session)
    return AuditVerifyPublic(
        ok=report.ok, checked=report.checked, first_broken_id=report.first_broken_id, reason=report.reason
    )
