"""The laboratory's page: the results upload with its validation report, and the templates."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from typing import Annotated, Any

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.auth import Principal
from fangkong.core.deps import BusDep, SessionDep
from fangkong.core.errors import InvalidInput
from fangkong.core.scope import path_in_scope
from fangkong.core.uploads import save_upload
from fangkong.testing import fhir_results
from fangkong.testing.models import Laboratory
from fangkong.testing.service import results
from fangkong.testing.views.common import MAX_RESULTS_FILE_BYTES, Lab, Reader, router
from fangkong.web.errors import is_htmx
from fangkong.web.forms import whole_number
from fangkong.web.templating import language_of, render


def _laboratories(session: Session, principal: Principal) -> list[Laboratory]:
    """Laboratories serving the caller's area: in it, or above it."""
    return [
        lab
        for lab in session.scalars(select(Laboratory).order_by(Laboratory.name).limit(500))
        if path_in_scope(lab.jpath, principal.jpath) or path_in_scope(principal.jpath, lab.jpath)
    ]


def _lab_context(session: Session, principal: Principal) -> dict[str, Any]:
    return {
        "laboratories": _laboratories(session, principal),
        "laboratory_id": None,
        "report": None,
        "unknown": [],
        "errors": [],
        "max_mb": MAX_RESULTS_FILE_BYTES // (1024 * 1024),
    }


@router.get("/testing/lab", response_class=HTMLResponse)
def lab_page(request: Request, principal: Lab, session: SessionDep) -> Response:
    return render(request, "testing/lab.html", _lab_context(session, principal), principal=principal)


@router.post("/testing/lab", response_class=HTMLResponse)
def upload_results(
    request: Request,
    principal: Lab,
    session: SessionDep,
    bus: BusDep,
    file: Annotated[UploadFile, File()],
    laboratory_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """A results file: CSV or Excel by its name, a FHIR bundle (.json); the report or every bad row."""
    context = _lab_context(session, principal)
    lab = None
    if laboratory_id.strip():
        lab = whole_number(laboratory_id, "laboratory_id", low=1, high=2_147_483_647)
    context["laboratory_id"] = lab
    with tempfile.TemporaryDirectory() as tmp:
        path = save_upload(file, tmp, default_name="results.csv", limit=MAX_RESULTS_FILE_BYTES)
        try:
            if path.suffix.lower() in (".json", ".fhir"):
                report = results.load_fhir(
                    session, principal, path.read_bytes(), laboratory_id=lab, origin=path.name, bus=bus
                )
            else:
                report = results.load_results(session, principal, path, laboratory_id=lab, bus=bus)
        except InvalidInput as exc:
            if is_htmx(request):
                raise  # the error handler answers htmx: the file's bad rows beside the file field
            session.rollback()
            context["errors"] = exc.errors
            return render(request, "testing/lab.html", context, principal=principal, status_code=422)
    context["report"] = report
    # Each unknown barcode on its own (data), beside the platform's words for the problem.
    context["unknown"] = [
        (e.row, e.field, str(dict(e.text.params).get("barcode", ""))) for e in report.unknown
    ]
    # htmx gets the report alone (a whole page swapped in would bring styles the page's policy refuses).
    template = "testing/_lab_report.html" if is_htmx(request) else "testing/lab.html"
    return render(request, template, context, principal=principal)


TEMPLATE_ROWS = (
    ("TUBE-20261206-0001", "阳性", "28.4", "26.9", "2026-12-06 14:05"),
    ("TUBE-20261206-0002", "阴性", "", "", "2026-12-06 14:05"),
)


@router.get("/testing/lab/template.csv")
def csv_template(request: Request, principal: Reader) -> Response:
    """The results file's columns with two example rows (UTF-8 with a BOM, as Excel opens it)."""
    zh = language_of(request) != "en"
    header = ("条码", "结果", "Ct ORF1ab", "Ct N", "检测时间") if zh else (
        "barcode", "result", "Ct ORF1ab", "Ct N", "tested_at"
    )  # fmt: skip
    words = {"阳性": "positive", "阴性": "negative"}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for barcode, result, orf, n, at in TEMPLATE_ROWS:
        writer.writerow((barcode, result if zh else words[result], orf, n, at))
    return Response(
        "\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename*=UTF-8''lab-results-template.csv"},
    )


@router.get("/testing/lab/template.fhir.json")
def fhir_template(principal: Reader) -> Response:
    """An HL7 FHIR R4 bundle as the platform reads it: the tube barcode in Specimen.container.identifier."""
    return Response(
        json.dumps(fhir_results.template_bundle(), ensure_ascii=False, indent=2),
        media_type="application/fhir+json",
        headers={"Content-Disposition": "attachment; filename*=UTF-8''lab-results-template.fhir.json"},
    )
