"""JSON routes for doses: a vaccination site records one dose (``doses_record``), readers list them
(``vaccination_read``), administrators import a vaccination system's export (``doses_import``)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile

from fangkong.core.auth import Principal
from fangkong.core.deps import BusDep, Require, RowIdQuery, SessionDep, VaultDep, client_ip
from fangkong.core.errors import DomainError
from fangkong.core.i18n import Message
from fangkong.core.permissions import Permission
from fangkong.vaccination.schemas.doses import (
    DoseCreate,
    DoseImportReport,
    DoseListItem,
    DosePage,
    DosePublic,
)
from fangkong.vaccination.service import doses, doses_import

router = APIRouter(prefix="/api/vaccination", tags=["vaccination"])

Reader = Annotated[Principal, Depends(Require(Permission.vaccination_read))]
Recorder = Annotated[Principal, Depends(Require(Permission.doses_record))]
Importer = Annotated[Principal, Depends(Require(Permission.doses_import))]

# A province's year of doses as CSV is some hundreds of MB; the upload is read whole.
MAX_IMPORT_BYTES = 512 * 1024 * 1024


@router.post("/doses", response_model=DosePublic, status_code=201)
def record_dose(
    request: Request, body: DoseCreate, principal: Recorder, session: SessionDep, vault: VaultDep, bus: BusDep
) -> DosePublic:
    """Record one dose given at a site; the person's status is evaluated again at once."""
    person_id = body.person_id or doses.person_by_id_number(session, vault, principal, body.id_number or "")
    dose = doses.record_dose(
        session,
        principal,
        bus,
        person_id,
        body.product,
        body.platform,
        body.dose_number,
        body.kind,
        body.given_on,
        body.site,
        body.lot,
        ip=client_ip(request),
    )
    return DosePublic.model_validate(dose)


@router.get("/doses", response_model=DosePage)
def list_doses(
    principal: Reader,
    session: SessionDep,
    person_id: RowIdQuery = None,
    lot: Annotated[str | None, Query(max_length=40)] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    size: Annotated[int, Query(ge=1, le=doses.MAX_PAGE_SIZE)] = 50,
) -> DosePage:
    """Doses in your jurisdiction, newest first (people masked)."""
    found = doses.list_doses(session, principal, person_id=person_id, lot=lot, page=page, size=size)
    return DosePage(
        items=[DoseListItem.model_validate(asdict(d)) for d in found.items],
        total=found.total,
        page=found.page,
        size=found.size,
        pages=found.pages,
    )


@router.post("/doses/import", response_model=DoseImportReport)
def import_doses(
    request: Request,
    principal: Importer,
    session: SessionDep,
    vault: VaultDep,
    bus: BusDep,
    file: Annotated[UploadFile, File()],
    dry_run: bool = False,
) -> DoseImportReport:
    """Import doses from a CSV or Excel export; a bad row is reported and nothing is written."""
    data = file.file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise DomainError(
            Message("file too large: more than {size} MB", size=MAX_IMPORT_BYTES // (1024 * 1024))
        )
    report = doses_import.import_doses(
        session,
        principal,
        bus,
        vault,
        data,
        file.filename or "doses.csv",
        dry_run=dry_run,
        ip=client_ip(request),
    )
    return DoseImportReport.model_validate(report)
