"""JSON routes of the tracing capability: thin (parse, call the service, shape the answer)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from fangkong.core import clock
from fangkong.core.auth import Principal
from fangkong.core.clock import as_local
from fangkong.core.deps import BusDep, Require, SessionDep, SettingsDep, VaultDep, client_ip
from fangkong.core.errors import DomainError, InvalidInput, RowError
from fangkong.core.i18n import Message
from fangkong.core.people_rules import Keys
from fangkong.core.permissions import Permission
from fangkong.core.uploads import save_upload as core_save_upload
from fangkong.tracing import assist, clusters, exports, imports, persons, service, sourcing, spreadsheets
from fangkong.tracing.models import AssistStatus, Classification, ContactCategory, ContactStatus, Visit
from fangkong.tracing.rules import clamp_day
from fangkong.tracing.schemas import (
    MAX_ID,
    AssistDeclineIn,
    AssistLocateIn,
    AssistPage,
    AssistPublic,
    AssistReportIn,
    AssistSendIn,
    CandidatePublic,
    CaseCreate,
    CaseDetailPublic,
    CasePage,
    CasePublic,
    CaseUpdateIn,
    ClusterPage,
    ClusterPublic,
    ContactDetailPublic,
    ContactPage,
    ContactPublic,
    ConvertIn,
    ExposurePublic,
    ExposuresIn,
    HistoryPublic,
    ImportReportPublic,
    KpiPublic,
    LinkIn,
    LinkPublic,
    MergeIn,
    OverrideIn,
    PersonIn,
    PlannedTestPublic,
    ReclassifyIn,
    SourceReportPublic,
    VisitPublic,
    VisitsIn,
)

router = APIRouter(prefix="/api/tracing", tags=["tracing"])

Reader = Annotated[Principal, Depends(Require(Permission.cases_read))]
Writer = Annotated[Principal, Depends(Require(Permission.cases_write))]
Assistant = Annotated[Principal, Depends(Require(Permission.assist_manage))]
PageNo = Annotated[int, Query(ge=1, le=100_000)]
PageSize = Annotated[int, Query(ge=1, le=service.MAX_PAGE_SIZE)]
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]

MAX_UPLOAD_BYTES = 256 * 1024 * 1024


def local(value: dt.datetime | None) -> dt.datetime | None:
    """A request time as local wall-clock time (naive times already are)."""
    if value is None or value.tzinfo is None:
        return value
    try:
        return as_local(value)
    except OverflowError:
        raise InvalidInput(
            [RowError(1, "time", Message("{value} is out of range", value=value.isoformat()))]
        ) from None


def person_input(body: PersonIn, label: str = "") -> persons.PersonInput:
    return persons.PersonInput(**body.model_dump(), label=label)


def _case_public(session: SessionDep, principal: Principal, case_id: int) -> CasePublic:
    case = service.get_case(session, principal, case_id)
    (row,) = service.case_rows(session, principal, [case])
    return CasePublic.model_validate(row)


# ------------------------------------------------------------------------------------------ cases


@router.get("/cases", response_model=CasePage)
def list_cases(
    principal: Reader,
    session: SessionDep,
    classification: Classification | None = None,
    q: Annotated[str, Query(max_length=40)] = "",
    no_source: bool = False,
    found_under_management: bool | None = None,
    cluster_id: QueryId = None,
    reported_from: dt.date | None = None,
    reported_to: dt.date | None = None,
    jurisdiction_id: QueryId = None,
    page: PageNo = 1,
    size: PageSize = 50,
) -> CasePage:
    """Cases in your jurisdiction, newest first, filtered server-side."""
    filters = service.CaseFilter(
        classification,
        q,
        no_source,
        found_under_management,
        cluster_id,
        reported_from,
        reported_to,
        jurisdiction_id,
    )
    result = service.list_cases(session, principal, filters, page, size)
    return CasePage(
        items=[CasePublic.model_validate(r) for r in result.items],
        total=result.total,
        page=result.page,
        size=result.size,
        pages=result.pages,
    )


@router.post("/cases", response_model=CasePublic, status_code=201)
def register_case(
    body: CaseCreate, principal: Writer, session: SessionDep, vault: VaultDep, bus: BusDep, request: Request
) -> CasePublic:
    """Register a case; the person is found in (or added to) the registry, or kept as unidentified."""
    data = service.CaseInput(
        classification=body.classification,
        person=person_input(body.person, body.case_ref),
        case_ref=body.case_ref,
        onset_date=body.onset_date,
        sampling_date=body.sampling_date,
        diagnosis_date=body.diagnosis_date,
        reported_at=local(body.reported_at),
        imported=body.imported,
        origin=body.origin,
        isolated_at=local(body.isolated_at),
        outcome=body.outcome,
        outcome_date=body.outcome_date,
        notes=body.notes,
    )
    case = service.register_case(session, vault, bus, principal, data, ip=client_ip(request))
    return _case_public(session, principal, case.id)


def _visit(v: Visit) -> VisitPublic:
    return VisitPublic(
        id=v.id,
        kind=v.kind,
        place_name=v.place_name,
        address=v.address,
        transport_no=v.transport_no,
        carriage=v.carriage,
        seat=v.seat,
        start=as_local(v.start),
        end=as_local(v.end) if v.end else None,
        note=v.note,
    )


def _exposure(e: object, labels: dict[str, str]) -> ExposurePublic:
    from fangkong.tracing.models import Exposure

    assert isinstance(e, Exposure)
    return ExposurePublic(
        id=e.id,
        person=labels.get(e.subject_key, "?"),
        setting=e.setting,
        start=as_local(e.start),
        end=as_local(e.end) if e.end else None,
        protected=e.protected,
        distance_m=e.distance_m,
        duration_minutes=e.duration_minutes,
        place=e.place,
        via_contact_id=e.via_contact_id,
        exposed_case_id=e.exposed_case_id,
    )


@router.get("/cases/{case_id}", response_model=CaseDetailPublic)
def get_case(case_id: ItemId, principal: Reader, session: SessionDep) -> CaseDetailPublic:
    d = service.case_detail(session, principal, case_id)
    (row,) = service.case_rows(session, principal, [d.case])
    return CaseDetailPublic(
        case=CasePublic.model_validate(row),
        sampling_date=d.case.sampling_date,
        isolated_at=as_local(d.case.isolated_at) if d.case.isolated_at else None,
        origin=d.case.origin,
        outcome_date=d.case.outcome_date,
        notes=d.case.notes,
        history=[
            HistoryPublic(
                at=as_local(h.at),
                from_classification=h.from_classification,
                to_classification=h.to_classification,
                reason=h.reason,
            )
            for h in d.history
        ],
        visits=[_visit(v) for v in d.visits],
        exposures=[_exposure(e, d.exposure_labels) for e in d.exposures],
        contacts=[ContactPublic.model_validate(c) for c in d.contacts],
        infected_by=[LinkPublic.model_validate(lk) for lk in d.infected_by],
        infected=[LinkPublic.model_validate(lk) for lk in d.infected],
        source_contact_id=d.source_contact_id,
        cluster_size=d.cluster_size,
        no_known_source=d.no_known_source,
    )


@router.patch("/cases/{case_id}", response_model=CasePublic)
def update_case(
    case_id: ItemId, body: CaseUpdateIn, principal: Writer, session: SessionDep, bus: BusDep, request: Request
) -> CasePublic:
    """Complete or correct dates, isolation and outcome; contacts are re-classified when the window moves."""
    fields = body.model_dump()
    fields["isolated_at"] = local(body.isolated_at)
    service.update_case(session, bus, principal, case_id, service.CaseUpdate(**fields), ip=client_ip(request))
    return _case_public(session, principal, case_id)


@router.post("/cases/{case_id}/reclassify", response_model=CasePublic)
def reclassify(
    case_id: ItemId, body: ReclassifyIn, principal: Writer, session: SessionDep, bus: BusDep, request: Request
) -> CasePublic:
    """Change the classification (e.g. asymptomatic → confirmed); the history keeps the earlier one."""
    service.reclassify_case(
        session, bus, principal, case_id, body.classification, body.reason, ip=client_ip(request)
    )
    return _case_public(session, principal, case_id)


@router.post("/cases/{case_id}/visits", response_model=list[VisitPublic], status_code=201)
def add_visits(
    case_id: ItemId, body: VisitsIn, principal: Writer, session: SessionDep, bus: BusDep, request: Request
) -> list[VisitPublic]:
    visits = [
        service.VisitInput(
            kind=v.kind,
            place_name=v.place_name,
            start=local(v.start) or v.start,
            end=local(v.end),
            address=v.address,
            transport_no=v.transport_no,
            carriage=v.carriage,
            seat=v.seat,
            note=v.note,
        )
        for v in body.visits
    ]
    added = service.add_visits(session, bus, principal, case_id, visits, ip=client_ip(request))
    return [_visit(v) for v in added]


@router.post("/cases/{case_id}/exposures", response_model=list[ContactPublic], status_code=201)
def add_exposures(
    case_id: ItemId,
    body: ExposuresIn,
    principal: Writer,
    session: SessionDep,
    vault: VaultDep,
    bus: BusDep,
    request: Request,
) -> list[ContactPublic]:
    """Record exposures (a line list as the phone call goes); returns the people's contact classifications."""
    lines = [
        service.ExposureInput(
            setting=e.setting,
            start=local(e.start) or e.start,
            end=local(e.end),
            person=person_input(e.person) if e.person else None,
            contact_case_id=e.contact_case_id,
            via_contact_id=e.via_contact_id,
            protected=e.protected,
            distance_m=e.distance_m,
            duration_minutes=e.duration_minutes,
            place=e.place,
            note=e.note,
            infected=e.infected,
        )
        for e in body.exposures
    ]
    contacts = service.add_exposures(session, vault, bus, principal, case_id, lines, ip=client_ip(request))
    return [ContactPublic.model_validate(r) for r in service.contact_rows(session, principal, contacts)]


@router.delete("/exposures/{exposure_id}", status_code=204)
def remove_exposure(
    exposure_id: ItemId, principal: Writer, session: SessionDep, bus: BusDep, request: Request
) -> Response:
    service.remove_exposure(session, bus, principal, exposure_id, ip=client_ip(request))
    return Response(status_code=204)


@router.post("/cases/{case_id}/links", response_model=LinkPublic, status_code=201)
def add_link(
    case_id: ItemId, body: LinkIn, principal: Writer, session: SessionDep, request: Request
) -> LinkPublic:
    """Record that ``infector_case_id`` infected this case."""
    service.add_link(
        session,
        principal,
        body.infector_case_id,
        case_id,
        body.certainty,
        note=body.note,
        ip=client_ip(request),
    )
    infected_by, _ = service.links_of(session, principal, case_id)
    link = next(lk for lk in infected_by if lk.infector_case_id == body.infector_case_id)
    return LinkPublic.model_validate(link)


@router.delete("/links/{link_id}", status_code=204)
def remove_link(link_id: ItemId, principal: Writer, session: SessionDep, request: Request) -> Response:
    service.remove_link(session, principal, link_id, ip=client_ip(request))
    return Response(status_code=204)


@router.get("/cases/{case_id}/chain")
def case_chain(case_id: ItemId, principal: Reader, session: SessionDep) -> JSONResponse:
    """The transmission chain (cluster) this case belongs to, as an ECharts graph with a timeline."""
    cluster = clusters.cluster_of_case(session, principal, case_id)
    return JSONResponse(clusters.chain_view(session, principal, cluster))


@router.get("/cases/{case_id}/source-candidates", response_model=SourceReportPublic)
def source_candidates(case_id: ItemId, principal: Reader, session: SessionDep) -> SourceReportPublic:
    """Cases that may have infected this one, ranked by timing in the incubation window and shared places."""
    report = sourcing.source_candidates(session, principal, case_id)
    return SourceReportPublic(
        case_id=report.case_id,
        anchor=report.anchor,
        window_min_days=report.window.min_days,
        window_max_days=report.window.max_days,
        window_source=report.window.source,
        candidates=[CandidatePublic(**{**c.__dict__, "reasons": list(c.reasons)}) for c in report.candidates],
    )


# ------------------------------------------------------------------------------------------ contacts


@router.get("/contacts", response_model=ContactPage)
def list_contacts(
    principal: Reader,
    session: SessionDep,
    category: ContactCategory | None = None,
    status: ContactStatus | None = ContactStatus.active,
    case_id: QueryId = None,
    lives_elsewhere: bool | None = None,
    second_ring: bool | None = None,
    jurisdiction_id: QueryId = None,
    page: PageNo = 1,
    size: PageSize = 50,
) -> ContactPage:
    """Contacts in your jurisdiction (active ones of managed categories unless filtered otherwise)."""
    filters = service.ContactFilter(category, status, case_id, lives_elsewhere, second_ring, jurisdiction_id)
    result = service.list_contacts(session, principal, filters, page, size)
    return ContactPage(
        items=[ContactPublic.model_validate(r) for r in result.items],
        total=result.total,
        page=result.page,
        size=result.size,
        pages=result.pages,
    )


def contact_detail(session: SessionDep, principal: Principal, contact_id: int) -> ContactDetailPublic:
    d = service.contact_detail(session, principal, contact_id)
    contact, row, protocol, plan, exposures = d.contact, d.row, d.protocol, d.plan, d.exposures
    labels = persons.labels(session, principal, [contact.subject_key])
    return ContactDetailPublic(
        contact=ContactPublic.model_validate(row),
        first_exposure=as_local(contact.first_exposure),
        high_risk=contact.high_risk,
        protocol_id=contact.protocol_id,
        plan=plan.to_dict() if plan is not None and contact.category.value in protocol.categories else None,
        exposures=[_exposure(e, labels) for e in exposures],
        assist_requests=[
            AssistPublic.model_validate(v)
            for v in assist.requests_for_contact(session, principal, contact.id)
        ],
        test_schedule=[
            PlannedTestPublic(due=t.test.due, method=t.test.method, state=t.state, sampled=t.sampled)
            for t in (d.schedule.tests if d.schedule else ())
        ],
    )


@router.get("/contacts/{contact_id}", response_model=ContactDetailPublic)
def get_contact(contact_id: ItemId, principal: Reader, session: SessionDep) -> ContactDetailPublic:
    """A contact with the reason for its category and its plan under the protocol in force."""
    return contact_detail(session, principal, contact_id)


@router.post("/contacts/{contact_id}/convert", response_model=CasePublic, status_code=201)
def convert_contact(
    contact_id: ItemId, body: ConvertIn, principal: Writer, session: SessionDep, bus: BusDep, request: Request
) -> CasePublic:
    """The contact tested positive: register them as a case linked to the index case."""
    case = service.convert_contact(
        session,
        bus,
        principal,
        contact_id,
        body.classification,
        case_ref=body.case_ref,
        sampling_date=body.sampling_date,
        onset_date=body.onset_date,
        diagnosis_date=body.diagnosis_date,
        ip=client_ip(request),
    )
    return _case_public(session, principal, case.id)


@router.post("/contacts/{contact_id}/override", response_model=ContactPublic)
def override_contact(
    contact_id: ItemId,
    body: OverrideIn,
    principal: Writer,
    session: SessionDep,
    bus: BusDep,
    request: Request,
) -> ContactPublic:
    contact = service.override_contact(
        session, bus, principal, contact_id, body.category, body.reason, ip=client_ip(request)
    )
    (row,) = service.contact_rows(session, principal, [contact])
    return ContactPublic.model_validate(row)


@router.post("/contacts/{contact_id}/assist", response_model=AssistPublic, status_code=201)
def send_assist(
    contact_id: ItemId,
    body: AssistSendIn,
    principal: Assistant,
    session: SessionDep,
    vault: VaultDep,
    bus: BusDep,
    request: Request,
) -> AssistPublic:
    """Refer the contact to the jurisdiction where they live (协查)."""
    sent = assist.send(
        session, vault, bus, principal, contact_id, body.receiver_code, body.message, ip=client_ip(request)
    )
    return AssistPublic.model_validate(assist.get(session, principal, sent.id))


@router.post("/unidentified/{unidentified_id}/merge", response_model=dict[str, int])
def merge_unidentified(
    unidentified_id: ItemId, body: MergeIn, principal: Writer, session: SessionDep
) -> dict[str, int]:
    """The unidentified person is this registry person: tracing rows are re-pointed to them."""
    return {"rows": persons.merge(session, principal, unidentified_id, body.person_id)}


# ------------------------------------------------------------------------------------------ chains and KPIs


@router.get("/clusters", response_model=ClusterPage)
def list_clusters(
    principal: Reader,
    session: SessionDep,
    min_size: Annotated[int, Query(ge=2, le=100_000)] = 2,
    page: PageNo = 1,
    size: PageSize = 50,
) -> ClusterPage:
    rows, total = clusters.list_clusters(session, principal, min_size=min_size, page=page, size=size)
    return ClusterPage(
        items=[ClusterPublic.model_validate(r) for r in rows], total=total, page=page, size=size
    )


@router.get("/clusters/{cluster_id}/chain")
def cluster_chain(cluster_id: ItemId, principal: Reader, session: SessionDep) -> JSONResponse:
    return JSONResponse(clusters.chain_view(session, principal, cluster_id))


@router.get("/kpis", response_model=KpiPublic)
def tracing_kpis(
    principal: Reader, session: SessionDep, since: dt.date | None = None, until: dt.date | None = None
) -> KpiPublic:
    """Cases found under management (the key tracing KPI), cases without a known source, clusters."""
    until = clamp_day(until or clock.today())
    since = clamp_day(since or until - dt.timedelta(days=27))
    if since > until:
        raise DomainError("since is after until")
    k = clusters.kpis(session, principal, since, until)
    return KpiPublic(**{**k.__dict__, "managed_share": k.managed_share})


# ------------------------------------------------------------------------------------------ assist requests


@router.get("/assist", response_model=AssistPage)
def list_assist(
    principal: Assistant,
    session: SessionDep,
    box: Literal["sent", "received"] = "received",
    status: AssistStatus | None = None,
    page: PageNo = 1,
    size: PageSize = 50,
) -> AssistPage:
    result = assist.list_requests(session, principal, box, status=status, page=page, size=size)
    return AssistPage(
        items=[AssistPublic.model_validate(v) for v in result.items],
        total=result.total,
        page=result.page,
        size=result.size,
        pages=result.pages,
    )


@router.get("/assist/{request_id}", response_model=AssistPublic)
def get_assist(request_id: ItemId, principal: Assistant, session: SessionDep) -> AssistPublic:
    """The request as your side may see it: the receiver sees the person, the sender the outcome."""
    return AssistPublic.model_validate(assist.get(session, principal, request_id))


@router.post("/assist/{request_id}/acknowledge", response_model=AssistPublic)
def acknowledge_assist(
    request_id: ItemId, principal: Assistant, session: SessionDep, request: Request
) -> AssistPublic:
    assist.acknowledge(session, principal, request_id, ip=client_ip(request))
    return AssistPublic.model_validate(assist.get(session, principal, request_id))


@router.post("/assist/{request_id}/decline", response_model=AssistPublic)
def decline_assist(
    request_id: ItemId, body: AssistDeclineIn, principal: Assistant, session: SessionDep, request: Request
) -> AssistPublic:
    assist.decline(session, principal, request_id, body.reason, ip=client_ip(request))
    return AssistPublic.model_validate(assist.get(session, principal, request_id))


@router.post("/assist/{request_id}/locate", response_model=AssistPublic)
def locate_assist(
    request_id: ItemId,
    body: AssistLocateIn,
    principal: Assistant,
    session: SessionDep,
    vault: VaultDep,
    bus: BusDep,
    request: Request,
) -> AssistPublic:
    assist.locate(
        session,
        vault,
        bus,
        principal,
        request_id,
        person_id=body.person_id,
        community_code=body.community_code,
        address=body.address,
        ip=client_ip(request),
    )
    return AssistPublic.model_validate(assist.get(session, principal, request_id))


@router.post("/assist/{request_id}/apply-plan", response_model=AssistPublic)
def apply_assist_plan(
    request_id: ItemId, principal: Assistant, session: SessionDep, bus: BusDep, request: Request
) -> AssistPublic:
    assist.apply_plan(session, bus, principal, request_id, ip=client_ip(request))
    return AssistPublic.model_validate(assist.get(session, principal, request_id))


@router.post("/assist/{request_id}/report", response_model=AssistPublic)
def report_assist(
    request_id: ItemId, body: AssistReportIn, principal: Assistant, session: SessionDep, request: Request
) -> AssistPublic:
    assist.report(session, principal, request_id, body.outcome, body.note, ip=client_ip(request))
    return AssistPublic.model_validate(assist.get(session, principal, request_id))


@router.post("/assist/{request_id}/reveal", response_model=AssistPublic)
def reveal_assist(
    request_id: ItemId, principal: Assistant, session: SessionDep, vault: VaultDep, request: Request
) -> AssistPublic:
    """The referred person's full data, for the receiver (recorded in the audit log)."""
    return AssistPublic.model_validate(
        assist.reveal(session, vault, principal, request_id, ip=client_ip(request))
    )


# ------------------------------------------------------------------------------------------ files


@router.get("/templates")
def download_template(
    principal: Reader,
    kind: spreadsheets.Kind = "contacts",
    format: Literal["csv", "xlsx"] = "xlsx",
    lang: Literal["zh", "en"] = "zh",
) -> Response:
    """A blank import template (Chinese or English headers, CSV or Excel)."""
    content, media, name = spreadsheets.template(kind, format, lang)
    return Response(
        content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/export")
def export(
    principal: Reader,
    session: SessionDep,
    request: Request,
    kind: exports.ExportKind = "cases",
    lang: Literal["zh", "en"] = "zh",
) -> Response:
    """The line list, contact list or exposures of your jurisdiction as Excel (personal data masked)."""
    content = exports.export_xlsx(session, principal, kind, lang, ip=client_ip(request))
    return Response(
        content,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{kind}.xlsx"'},
    )


def save_upload(file: UploadFile, directory: str) -> FilePath:
    return core_save_upload(file, directory, limit=MAX_UPLOAD_BYTES)


@router.post("/import", response_model=ImportReportPublic)
def import_file(
    principal: Writer,
    session: SessionDep,
    vault: VaultDep,
    bus: BusDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File()],
    kind: spreadsheets.Kind = "contacts",
    dry_run: bool = False,
) -> ImportReportPublic:
    """Import cases, exposures or a contact list (CSV or Excel); a bad row is reported, nothing written."""
    with tempfile.TemporaryDirectory() as tmp:
        path = save_upload(file, tmp)
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
    return ImportReportPublic.model_validate(report)
