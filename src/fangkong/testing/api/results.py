"""Lab results: files, FHIR bundles and the templates."""

from __future__ import annotations

import json
import tempfile
from typing import Annotated, Literal

from fastapi import Depends, File, Request, UploadFile
from fastapi.responses import Response
from starlette.datastructures import UploadFile as StarletteUpload

from fangkong.core.deps import BusDep, SessionDep
from fangkong.core.errors import DomainError, InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.uploads import save_upload
from fangkong.testing import fhir_results, service
from fangkong.testing.api.common import FHIR_JSON, MAX_RESULTS_BYTES, Lab, QueryId, Reader, router
from fangkong.testing.schemas import LoadReportPublic, RowErrorPublic


def _load_report(report: service.results.LoadReport) -> LoadReportPublic:
    return LoadReportPublic(
        origin=report.origin,
        rows=report.rows,
        loaded=report.loaded,
        corrections=report.corrections,
        unchanged=report.unchanged,
        unknown=[RowErrorPublic(row=e.row, field=e.field, message=e.message) for e in report.unknown],
        tubes_resulted=report.tubes_resulted,
        positive_people=report.positive_people,
        positive_pools=report.positive_pools,
        recalled=report.recalled,
        chunks=report.chunks,
        seconds=round(report.seconds, 3),
    )


@router.post("/results", response_model=LoadReportPublic)
def load_results(
    principal: Lab,
    session: SessionDep,
    bus: BusDep,
    file: Annotated[UploadFile, File(description="the lab's results, CSV or Excel (.xlsx)")],
    laboratory_id: QueryId = None,
) -> LoadReportPublic:
    """Results by tube barcode from a CSV or Excel file. A bad row refuses the whole file (422, every
    problem named by row and column); a barcode no tube has is reported and the rest loads; the same
    file loaded twice changes nothing; a changed result is a correction (a new version)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = save_upload(file, tmp, default_name="results.csv", limit=MAX_RESULTS_BYTES)
        report = service.results.load_results(
            session, principal, path, laboratory_id=laboratory_id, origin=path.name, bus=bus
        )
    return _load_report(report)


async def fhir_payload(request: Request) -> bytes:
    """The FHIR bundle sent: the body itself (application/fhir+json), or a file field of a form.

    Async because it only awaits the request body (no database, see ``core.deps``).
    """
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, StarletteUpload):
            raise InvalidInput([RowError(1, "file", Message("send the bundle as the form's file field"))])
        data = await upload.read(MAX_RESULTS_BYTES + 1)
    else:
        data = await request.body()
    if len(data) > MAX_RESULTS_BYTES:
        raise DomainError(
            Message("file too large: more than {size} MB", size=MAX_RESULTS_BYTES // (1024 * 1024))
        )
    if not data.strip():
        raise InvalidInput([RowError(1, "Bundle", Message("the bundle is empty"))], file=True)
    return data


FHIR_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            FHIR_JSON: {"schema": {"type": "object", "description": "a FHIR R4 Bundle of results"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}


@router.post("/results/fhir", response_model=LoadReportPublic, openapi_extra=FHIR_BODY)
def load_fhir(
    data: Annotated[bytes, Depends(fhir_payload)],
    principal: Lab,
    session: SessionDep,
    bus: BusDep,
    laboratory_id: QueryId = None,
) -> LoadReportPublic:
    """Results as an HL7 FHIR R4 Bundle (Specimen, Observation, DiagnosticReport; the tube barcode in
    ``Specimen.container.identifier``). A malformed bundle is refused naming the element."""
    report = service.results.load_fhir(session, principal, data, laboratory_id=laboratory_id, bus=bus)
    return _load_report(report)


@router.get("/results/template")
def results_template(principal: Reader, format: Literal["fhir", "csv"] = "fhir") -> Response:
    """A filled-in example for labs: a FHIR R4 Bundle (two tubes), or the CSV header and one row."""
    if format == "csv":
        content = "条码,结果,Ct ORF1ab,Ct N,检测时间\nT0000001,阴性,,,2026-12-06 14:05\n".encode("utf-8-sig")
        return Response(
            content,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="results-template.csv"'},
        )
    content = json.dumps(fhir_results.template_bundle(), ensure_ascii=False, indent=2).encode()
    return Response(
        content,
        media_type=FHIR_JSON,
        headers={"Content-Disposition": 'attachment; filename="results-template.fhir.json"'},
    )
