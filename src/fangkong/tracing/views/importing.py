"""The spreadsheet import page of the tracing capability."""

from __future__ import annotations

import tempfile
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from fangkong.core.deps import BusDep, SessionDep, SettingsDep, VaultDep
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.people_rules import Keys
from fangkong.tracing import imports, spreadsheets
from fangkong.tracing.views.common import (
    Writer,
)
from fangkong.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/tracing/import", response_class=HTMLResponse)
def import_page(request: Request, principal: Writer) -> Response:
    return render(
        request,
        "tracing/import.html",
        {"kinds": spreadsheets.KINDS, "report": None, "errors": []},
        principal=principal,
    )


@router.post("/tracing/import", response_class=HTMLResponse)
def import_upload(
    request: Request,
    principal: Writer,
    session: SessionDep,
    vault: VaultDep,
    bus: BusDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File()],
    kind: Annotated[spreadsheets.Kind, Form()],
    dry_run: Annotated[bool, Form()] = False,
) -> Response:
    from fangkong.tracing.api import save_upload

    errors: list[RowError] = []
    report = None
    with tempfile.TemporaryDirectory() as tmp:
        path = save_upload(file, tmp)
        try:
            report = imports.import_file(
                session,
                vault,
                bus,
                principal,
                Keys(settings.encryption_key, settings.hash_key),
                kind,
                path,
                dry_run=dry_run,
            )
        except InvalidInput as exc:
            session.rollback()
            errors = exc.errors
    context = {
        "kinds": spreadsheets.KINDS,
        "report": report,
        "errors": errors,
        "kind": kind,
        "dry_run": dry_run,
    }
    return render(
        request, "tracing/import.html", context, principal=principal, status_code=422 if errors else 200
    )
