"""JSON routes of the daily closure (日清日结): thin (parse, call ``response.service.closure``, shape).

Reading needs ``response.read``; publishing, correcting and signing off ``closure.publish`` (the command
centre). ``/{code}/{day}`` is the newest version of the day; ``/{code}/{day}/v{n}`` one exact version,
which never changes once published (only its sign-off is added). Every route touches the database and is
a plain ``def``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from fangkong.core.auth import Principal
from fangkong.core.deps import Require, SessionDep, client_ip
from fangkong.core.permissions import Permission
from fangkong.response.schemas_closure import (
    ChangePublic,
    ClosurePublic,
    CorrectionCreate,
    DayPublic,
    DiffPublic,
    PublishCreate,
    RoleActivityPublic,
    SignOffCreate,
)
from fangkong.response.service import closure as service

router = APIRouter(prefix="/api/response/closures", tags=["response"])
# Routes are matched in order: ``/versions`` comes before ``/v{version}``, which would take it otherwise.

Reader = Annotated[Principal, Depends(Require(Permission.response_read))]
Publisher = Annotated[Principal, Depends(Require(Permission.closure_publish))]
Code = Annotated[str, Path(min_length=2, max_length=12, pattern=r"^[0-9]+$")]
Version = Annotated[int, Path(ge=1, le=10_000)]
VersionQuery = Annotated[int, Query(ge=1, le=10_000)]


def _public(view: service.ClosureView) -> ClosurePublic:
    return ClosurePublic.model_validate(view)


@router.get("/{code}", response_model=list[DayPublic])
def closed_days(code: Code, principal: Reader, session: SessionDep) -> list[DayPublic]:
    """The jurisdiction's published days, newest first, each with its newest version."""
    place = service.place_by_code(session, principal, code)
    return [DayPublic.model_validate(d) for d in service.closed_days(session, principal, place.id)]


@router.get("/{code}/{day}", response_model=ClosurePublic)
def latest(code: Code, day: dt.date, principal: Reader, session: SessionDep) -> ClosurePublic:
    """The newest version of the day (a correction replaces the first one here, not at ``/v1``)."""
    place = service.place_by_code(session, principal, code)
    return _public(service.get_closure(session, principal, place.id, day))


@router.get("/{code}/{day}/versions", response_model=list[ClosurePublic])
def all_versions(code: Code, day: dt.date, principal: Reader, session: SessionDep) -> list[ClosurePublic]:
    """Every version of the day, oldest first."""
    place = service.place_by_code(session, principal, code)
    return [_public(v) for v in service.versions(session, principal, place.id, day)]


@router.get("/{code}/{day}/v{version}", response_model=ClosurePublic)
def exact(
    code: Code, day: dt.date, version: Version, principal: Reader, session: SessionDep
) -> ClosurePublic:
    """One version exactly as it was published."""
    place = service.place_by_code(session, principal, code)
    return _public(service.get_closure(session, principal, place.id, day, version))


@router.get("/{code}/{day}/diff", response_model=DiffPublic)
def version_diff(
    code: Code, day: dt.date, principal: Reader, session: SessionDep, a: VersionQuery = 1, b: VersionQuery = 2
) -> DiffPublic:
    """The figures that differ from version ``a`` to version ``b``, figure by figure."""
    place = service.place_by_code(session, principal, code)
    found = service.diff(session, principal, place.id, day, a, b)
    return DiffPublic(
        code=place.code,
        day=day,
        a=a,
        b=b,
        reason=found.b.reason,
        changes=[ChangePublic.model_validate(c) for c in found.changes],
    )


@router.get("/{code}/{day}/activity", response_model=list[RoleActivityPublic])
def activity(code: Code, day: dt.date, principal: Reader, session: SessionDep) -> list[RoleActivityPublic]:
    """The day's activity log from the audit trail, by role (ICS 214)."""
    place = service.place_by_code(session, principal, code)
    return [
        RoleActivityPublic.model_validate(g)
        for g in service.activity_log(session, principal, place.path, day)
    ]


@router.post("/{code}/{day}", response_model=ClosurePublic, status_code=201)
def publish(
    code: Code,
    day: dt.date,
    request: Request,
    principal: Publisher,
    session: SessionDep,
    body: PublishCreate | None = None,
) -> ClosurePublic:
    """Publish the day: version 1 when it has none; afterwards a correction, which needs a reason."""
    place = service.place_by_code(session, principal, code)
    reason = body.reason if body is not None else None
    return _public(service.publish(session, principal, place.id, day, reason=reason, ip=client_ip(request)))


@router.post("/{code}/{day}/corrections", response_model=ClosurePublic, status_code=201)
def correct(
    code: Code,
    day: dt.date,
    body: CorrectionCreate,
    request: Request,
    principal: Publisher,
    session: SessionDep,
) -> ClosurePublic:
    """A correction of a published day: a new version with the reason; the older ones stay as they were."""
    place = service.place_by_code(session, principal, code)
    service.get_closure(session, principal, place.id, day)  # a correction needs a published day
    return _public(
        service.publish(session, principal, place.id, day, reason=body.reason, ip=client_ip(request))
    )


@router.post("/{code}/{day}/v{version}/sign-off", response_model=ClosurePublic)
def sign_off(
    code: Code,
    day: dt.date,
    version: Version,
    body: SignOffCreate,
    request: Request,
    principal: Publisher,
    session: SessionDep,
) -> ClosurePublic:
    """The command centre's sign-off of one version with the next operational period's objectives."""
    place = service.place_by_code(session, principal, code)
    view = service.get_closure(session, principal, place.id, day, version)
    return _public(service.sign_off(session, principal, view.id, body.objectives, ip=client_ip(request)))
