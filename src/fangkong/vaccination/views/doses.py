"""Web pages for doses: the list (filtered by person or lot, paged), a form for a site to record one
dose, and the import of a vaccination system's export with its dry run, error table and template."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fangkong.core.auth import Principal
from fangkong.core.deps import BusDep, Require, SessionDep, VaultDep, client_ip
from fangkong.core.errors import DomainError, InvalidInput, NotFound, RowError
from fangkong.core.i18n import Message
from fangkong.core.permissions import Permission
from fangkong.vaccination.models import DoseKind, Platform
from fangkong.vaccination.service import doses, doses_import
from fangkong.vaccination.service.doses_batch import (
    MAX_DOSE_NUMBER,
    MAX_LOT,
    MAX_PRODUCT,
    MAX_SITE,
)
from fangkong.vaccination.service.doses_files import template_csv
from fangkong.web.templating import language_of, render

router = APIRouter(include_in_schema=False)
NAV: list[tuple[Permission, str, str]] = [(Permission.vaccination_read, "/vaccination/doses", "Doses")]

Reader = Annotated[Principal, Depends(Require(Permission.vaccination_read))]
Recorder = Annotated[Principal, Depends(Require(Permission.doses_record))]
Importer = Annotated[Principal, Depends(Require(Permission.doses_import))]

PAGE_SIZE = 50
MAX_UPLOAD_BYTES = 512 * 1024 * 1024


@router.get("/vaccination/doses", response_class=HTMLResponse)
def doses_page(
    request: Request,
    principal: Reader,
    session: SessionDep,
    vault: VaultDep,
    id_number: Annotated[str, Query(max_length=24)] = "",
    person: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    lot: Annotated[str, Query(max_length=MAX_LOT)] = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    problem: Message | None = None
    person_id = person
    if id_number.strip():
        try:
            person_id = doses.person_by_id_number(session, vault, principal, id_number)
        except NotFound as exc:
            problem = exc.text
    found = (
        doses.DosePage([], 0, 1, PAGE_SIZE)
        if problem is not None
        else doses.list_doses(
            session, principal, person_id=person_id, lot=lot or None, page=page, size=PAGE_SIZE
        )
    )
    context: dict[str, Any] = {
        "found": found,
        "id_number": id_number,
        "person": person_id if problem is None and not id_number.strip() else None,
        "lot": lot,
        "problem": problem,
        "can_record": principal.can(Permission.doses_record),
        "can_import": principal.can(Permission.doses_import),
        "platforms": [p.value for p in Platform],
        "kinds": [k.value for k in DoseKind],
        "max_dose_number": MAX_DOSE_NUMBER,
        "limits": {"product": MAX_PRODUCT, "site": MAX_SITE, "lot": MAX_LOT},
    }
    return render(
        request, "vaccination/doses.html", context, principal=principal, status_code=422 if problem else 200
    )


@router.post("/vaccination/doses", response_class=HTMLResponse)
def record_dose(
    request: Request,
    principal: Recorder,
    session: SessionDep,
    vault: VaultDep,
    bus: BusDep,
    id_number: Annotated[str, Form(max_length=24)],
    product: Annotated[str, Form(max_length=MAX_PRODUCT)],
    dose_number: Annotated[int, Form(ge=1, le=MAX_DOSE_NUMBER)],
    kind: Annotated[DoseKind, Form()],
    given_on: Annotated[dt.date, Form()],
    site: Annotated[str, Form(max_length=MAX_SITE)],
    lot: Annotated[str, Form(max_length=MAX_LOT)],
    platform: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """One dose from the page's form; errors go beside the fields, success shows the person's doses."""
    try:
        chosen = Platform(platform) if platform else None
    except ValueError:
        raise InvalidInput([RowError(1, "platform", "is not one of the choices")]) from None
    try:
        person_id = doses.person_by_id_number(session, vault, principal, id_number)
    except NotFound as exc:
        raise InvalidInput([RowError(1, "id_number", exc.text)]) from None
    doses.record_dose(
        session, principal, bus, person_id, product, chosen, dose_number, kind, given_on, site, lot,
        ip=client_ip(request),
    )  # fmt: skip
    return RedirectResponse(f"/vaccination/doses?person={person_id}", status_code=303)


@router.get("/vaccination/doses/template.csv")
def doses_template(request: Request, principal: Importer) -> Response:
    language: Literal["zh", "en"] = "zh" if language_of(request) == "zh" else "en"
    return Response(
        template_csv(language),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''doses_template_{language}.csv"},
    )


@router.get("/vaccination/doses/import", response_class=HTMLResponse)
def import_page(request: Request, principal: Importer) -> Response:
    return render(
        request,
        "vaccination/doses_import.html",
        {"report": None, "errors": [], "dry_run": True},
        principal=principal,
    )


@router.post("/vaccination/doses/import", response_class=HTMLResponse)
def import_upload(
    request: Request,
    principal: Importer,
    session: SessionDep,
    vault: VaultDep,
    bus: BusDep,
    file: Annotated[UploadFile, File()],
    dry_run: Annotated[bool, Form()] = False,
) -> Response:
    """The export checked (dry run) or written; every bad row listed with its column as the file names it."""
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise DomainError(
            Message("file too large: more than {size} MB", size=MAX_UPLOAD_BYTES // (1024 * 1024))
        )
    errors: list[RowError] = []
    report = None
    try:
        report = doses_import.import_doses(
            session, principal, bus, vault, data, file.filename or "doses.csv", dry_run=dry_run,
            ip=client_ip(request),
        )  # fmt: skip
    except InvalidInput as exc:
        session.rollback()
        errors = exc.errors
    return render(
        request,
        "vaccination/doses_import.html",
        {"report": report, "errors": errors, "dry_run": dry_run},
        principal=principal,
        status_code=422 if errors else 200,
    )
