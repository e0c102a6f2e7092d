"""Protocol use cases: the protocol in force per jurisdiction, switching it (re-planning everyone under
management), uploading a protocol file, and keeping each person's management plan.

Plans are owned here. Other capabilities ask for one by publishing ``PersonPlacedUnderManagement``
(see ``fangkong.wiring``); this module answers by computing the plan under the protocol in force where
the person is managed.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, not_, or_, select, update
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.bulk import write_rows
from fangkong.core.clock import utcnow
from fangkong.core.errors import InvalidInput, NotFound, RowError
from fangkong.core.events import (
    DomainEvent,
    PeoplePlacedUnderManagement,
    PersonPlacedUnderManagement,
    PersonReleasedFromManagement,
)
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction, Person
from fangkong.core.scope import ancestor_paths, path_in_scope, under
from fangkong.protocol.change_words import count_described
from fangkong.protocol.daily import people_under_measure as people_under_measure
from fangkong.protocol.loader import (
    DEFAULT_PROTOCOL_ID,
    ProtocolError,
    builtin_ids,
    load_builtin,
    parse_protocol,
)
from fangkong.protocol.models import ManagementPlanRecord, PlanState, ProtocolAssignment, UploadedProtocol
from fangkong.protocol.plan import (
    ManagementPlan,
    PlanChange,
    PlanError,
    PlanFacts,
    PlanTemplate,
    compute_plan,
    count_changes,
    plan_templates,
    replan_many,
)
from fangkong.protocol.schema import Protocol

# Re-planning writes in batches of this many rows.
UPDATE_BATCH = 5_000


@lru_cache(maxsize=64)
def _parsed_upload(protocol_id: str, text: str) -> Protocol:
    return parse_protocol(text, f"uploaded:{protocol_id}")


def get_protocol(session: Session, protocol_id: str) -> Protocol:
    """A shipped protocol or one an administrator uploaded; NotFound otherwise."""
    if protocol_id in builtin_ids():
        return load_builtin(protocol_id)
    upload = session.scalar(select(UploadedProtocol).where(UploadedProtocol.protocol_id == protocol_id))
    if upload is None:
        raise NotFound(f"protocol {protocol_id!r} not found")
    return _parsed_upload(upload.protocol_id, upload.yaml_text)


def available_protocols(session: Session) -> list[Protocol]:
    uploaded = session.scalars(select(UploadedProtocol).order_by(UploadedProtocol.protocol_id))
    return [load_builtin(pid) for pid in builtin_ids()] + [
        _parsed_upload(u.protocol_id, u.yaml_text) for u in uploaded
    ]


def protocol_id_in_force(session: Session, jpath: str) -> str:
    """The id of the protocol in force at ``jpath``: the deepest assignment above it, else the default."""
    return protocol_ids_in_force(session, [jpath])[jpath]


def protocol_ids_in_force(session: Session, jpaths: Iterable[str]) -> dict[str, str]:
    """:func:`protocol_id_in_force` for many paths at once (one query per 1,000 ancestors, not per path)."""
    paths = set(jpaths)
    ancestors = sorted({a for path in paths for a in ancestor_paths(path)})
    assigned: dict[str, str] = {}
    for start in range(0, len(ancestors), 1000):
        assigned.update(
            session.execute(
                select(ProtocolAssignment.jpath, ProtocolAssignment.protocol_id).where(
                    ProtocolAssignment.jpath.in_(ancestors[start : start + 1000])
                )
            ).all()
        )
    found = {}
    for path in paths:
        deepest = [a for a in ancestor_paths(path) if a in assigned]
        found[path] = assigned[deepest[-1]] if deepest else DEFAULT_PROTOCOL_ID
    return found


def protocol_in_force(session: Session, jpath: str) -> Protocol:
    return get_protocol(session, protocol_id_in_force(session, jpath))


def upload_protocol(
    session: Session, actor: audit.Actor, text: str, filename: str = "upload.yaml"
) -> Protocol:
    """Validate and store a protocol file; every problem is returned with its key path and line."""
    try:
        protocol = parse_protocol(text, filename)
    except ProtocolError as exc:
        raise InvalidInput(
            [RowError(issue.line or 0, issue.path or "<document>", issue.message) for issue in exc.errors],
            message=f"protocol refused: {len(exc.errors)} problem(s)",
        ) from None
    if protocol.id in builtin_ids():
        raise InvalidInput(
            [
                RowError(
                    1,
                    "id",
                    Message("{protocol} is a shipped protocol; give yours another id", protocol=protocol.id),
                )
            ]
        )
    existing = session.scalar(select(UploadedProtocol).where(UploadedProtocol.protocol_id == protocol.id))
    if existing is None:
        session.add(UploadedProtocol(protocol_id=protocol.id, yaml_text=text, uploaded_by=actor.username))
    else:
        existing.yaml_text = text
        existing.uploaded_by = actor.username
    audit.record(session, actor, "protocol.upload", "protocol", protocol.id, detail={"file": filename})
    return protocol


# --- switching --------------------------------------------------------------------------------------


@dataclass
class SwitchReport:
    """What a switch changes (a preview) or changed: people re-planned, plans changed, and how.

    ``summary`` words each change in English (the JSON API, the CLI); ``lines`` holds the same rows as
    messages for a page in the reader's language. ``changes`` are registry people (person id, change);
    ``contact_changes`` the contacts outside the registry whose plans tracing computes (contact id, change).
    """

    jurisdiction: str
    old_protocol: str
    new_protocol: str
    replanned: int = 0
    changed: int = 0
    summary: list[tuple[str, str, int]] = field(default_factory=list)
    changes: list[tuple[int, str]] = field(default_factory=list)
    lines: list[tuple[str, tuple[Message, ...], int]] = field(default_factory=list)
    contact_changes: list[tuple[int, str]] = field(default_factory=list)
    applied: bool = False


def _facts(row: Sequence[object]) -> PlanFacts:
    return PlanFacts(last_exposure=row[4], arrival=row[5], area_departure=row[6], diagnosis=row[7])  # type: ignore[arg-type]


def _held_elsewhere(session: Session, path: str, excluded: Sequence[str]) -> list[Any]:
    """Contacts under management whose plans tracing computes itself (not registry people, so no stored
    plan): ``fangkong.tracing.plans.managed_without_stored_plan``, looked up by name so that the rules
    engine does not depend on tracing. A switch re-plans and counts them with the stored plans; without
    them a county whose contacts were entered by name and phone re-planned "0 people"."""
    try:
        module = importlib.import_module("fangkong.tracing.plans")
    except ImportError:
        return []
    reader: Any = getattr(module, "managed_without_stored_plan", None)
    return list(reader(session, path, excluded)) if callable(reader) else []


def _replan_switch(
    session: Session, jurisdiction: Jurisdiction, new_protocol: Protocol
) -> tuple[SwitchReport, list[dict[str, object]]]:
    """Every plan under ``jurisdiction`` (but in subtrees with their own protocol) re-planned under
    ``new_protocol``: the report and the stored plans' new values. Writes nothing."""
    old_id = protocol_id_in_force(session, jurisdiction.path)
    report = SwitchReport(jurisdiction.name, old_id, new_protocol.id)
    deeper = session.scalars(
        select(ProtocolAssignment.jpath).where(
            under(ProtocolAssignment.jpath, jurisdiction.path), ProtocolAssignment.jpath != jurisdiction.path
        )
    ).all()
    condition = and_(
        under(ManagementPlanRecord.jpath, jurisdiction.path), ManagementPlanRecord.state == PlanState.active
    )
    if deeper:
        condition = and_(condition, not_(or_(*(under(ManagementPlanRecord.jpath, p) for p in deeper))))
    rows = session.execute(
        select(
            ManagementPlanRecord.id,
            ManagementPlanRecord.person_id,
            ManagementPlanRecord.category,
            ManagementPlanRecord.protocol_id,
            ManagementPlanRecord.last_exposure,
            ManagementPlanRecord.arrival,
            ManagementPlanRecord.area_departure,
            ManagementPlanRecord.diagnosis,
            ManagementPlanRecord.clock_date,
        )
        .where(condition)
        .order_by(ManagementPlanRecord.id)
    ).all()
    templates: dict[str, Mapping[str, PlanTemplate]] = {}

    def book_of(protocol_id: str) -> Mapping[str, PlanTemplate]:
        book = templates.get(protocol_id)
        if book is None:
            book = templates[protocol_id] = plan_templates(get_protocol(session, protocol_id))
        return book

    olds: list[tuple[PlanFacts, ManagementPlan]] = [
        (_facts(row), ManagementPlan(book_of(row[3])[row[2]], row[8])) for row in rows
    ]
    # The contacts tracing plans itself were planned under the protocol in force here until now.
    held = [h for h in _held_elsewhere(session, jurisdiction.path, deeper) if h.category in book_of(old_id)]
    olds.extend(
        (
            PlanFacts(last_exposure=h.last_exposure),
            ManagementPlan(book_of(old_id)[h.category], h.last_exposure),
        )
        for h in held
    )
    results = replan_many(olds, new_protocol)
    updates: list[dict[str, object]] = []
    changes: list[PlanChange] = []
    for index, (new_plan, change) in enumerate(results):
        changes.append(change)
        if index < len(rows):
            row = rows[index]
            if change.changed:
                report.changes.append((row[1], change.summary))
            updates.append(
                {
                    "id": row[0],
                    "protocol_id": new_protocol.id,
                    "clock_date": new_plan.clock_date,
                    "start_date": new_plan.start_date,
                    "end_date": new_plan.end_date,
                    "state": PlanState.active if new_plan.managed else PlanState.ended,
                }
            )
        elif change.changed:
            report.contact_changes.append((held[index - len(rows)].contact_id, change.summary))
    report.replanned = len(results)
    report.changed = len(report.changes) + len(report.contact_changes)
    report.summary = count_changes(changes)
    report.lines = count_described(changes)
    return report, updates


def preview_switch(session: Session, jurisdiction: Jurisdiction, protocol_id: str) -> SwitchReport:
    """What :func:`switch_protocol` would change, without changing anything (the page's confirmation)."""
    report, _ = _replan_switch(session, jurisdiction, get_protocol(session, protocol_id))
    return report


def switch_protocol(
    session: Session, actor: audit.Actor, jurisdiction: Jurisdiction, protocol_id: str
) -> SwitchReport:
    """Put ``protocol_id`` in force in ``jurisdiction`` and re-plan everyone under management there.

    Subtrees that have their own assignment keep it. The new protocol is loaded first: if it cannot be
    loaded, nothing changes. Stored plans are rewritten; the plans tracing computes for contacts outside
    the registry follow the protocol in force by themselves, and are counted here with the others.
    """
    new_protocol = get_protocol(session, protocol_id)
    report, updates = _replan_switch(session, jurisdiction, new_protocol)
    assignment = session.scalar(
        select(ProtocolAssignment).where(ProtocolAssignment.jurisdiction_id == jurisdiction.id)
    )
    if assignment is None:
        session.add(
            ProtocolAssignment(
                jurisdiction_id=jurisdiction.id,
                jpath=jurisdiction.path,
                protocol_id=new_protocol.id,
                assigned_by=actor.username,
            )
        )
    else:
        assignment.protocol_id = new_protocol.id
        assignment.assigned_by = actor.username
    _bulk_update(session, updates)
    report.applied = True
    audit.record(
        session,
        actor,
        "protocol.switch",
        "jurisdiction",
        jurisdiction.id,
        jpath=jurisdiction.path,
        detail={
            "from": report.old_protocol,
            "to": new_protocol.id,
            "replanned": report.replanned,
            "changed": report.changed,
        },
    )
    return report


def _bulk_update(session: Session, updates: list[dict[str, object]]) -> None:
    # ORM bulk UPDATE by primary key: one executemany per batch, no objects loaded.
    for start in range(0, len(updates), UPDATE_BATCH):
        session.execute(update(ManagementPlanRecord), updates[start : start + UPDATE_BATCH])


# --- plans -------------------------------------------------------------------------------------------


def place_under_management(session: Session, event: DomainEvent) -> None:
    """Handler of ``PersonPlacedUnderManagement``: compute or update the plan from that source."""
    assert isinstance(event, PersonPlacedUnderManagement)
    place_many(session, (event,))


def place_many_under_management(session: Session, event: DomainEvent) -> None:
    """Handler of ``PeoplePlacedUnderManagement`` (an import's worth of placements)."""
    assert isinstance(event, PeoplePlacedUnderManagement)
    place_many(session, event.placements)


PLAN_FACTS = ("last_exposure", "arrival", "area_departure", "diagnosis")


def place_many(session: Session, placements: Sequence[PersonPlacedUnderManagement]) -> None:
    """Compute each person's plan under the protocol in force where they are managed, set-based.

    A placement from a source that already placed the person updates that plan: a later clock date
    restarts it, an earlier one changes nothing (re-planning never shortens a plan); a different
    category replaces it (an upgrade).

    The work is per batch, not per person: one query for the protocols in force, one per 1,000 people
    for their plans, plans computed once per (protocol, category, fact, date), new plans written with
    :func:`fangkong.core.bulk.write_rows` and changed ones with one executemany.
    """
    if not placements:
        return
    protocol_ids = protocol_ids_in_force(session, {p.jpath for p in placements})
    protocols = {pid: get_protocol(session, pid) for pid in set(protocol_ids.values())}
    existing = _plans_of(session, placements)
    planned: dict[tuple[str, str, str, dt.date], ManagementPlan | str] = {}
    states: dict[tuple[int, str], dict[str, Any]] = {}
    errors: list[RowError] = []
    stamp = utcnow()
    for index, event in enumerate(placements, start=1):
        if event.clock_event not in PLAN_FACTS:
            errors.append(RowError(index, "clock_event", f"unknown plan fact {event.clock_event!r}"))
            continue
        protocol = protocols[protocol_ids[event.jpath]]
        key = (event.person_id, event.source)
        record = states.get(key) or existing.get(key)
        clock_date = event.clock_date
        if (
            record is not None
            and record["category"] == event.category
            and record["protocol_id"] == protocol.id
        ):
            stored = record[event.clock_event]
            if stored is not None and stored > clock_date:
                clock_date = stored
            previous = ManagementPlan(plan_templates(protocol)[record["category"]], record["clock_date"])
            try:
                plan: ManagementPlan | str = compute_plan(
                    protocol, event.category, PlanFacts(**{event.clock_event: clock_date}), previous
                )
            except PlanError as exc:
                plan = str(exc)
        else:
            # Everyone of a category placed on the same day gets the same plan: computed once.
            memo = (protocol.id, event.category, event.clock_event, clock_date)
            if memo not in planned:
                planned[memo] = _plan_or_error(protocol, event.category, event.clock_event, clock_date)
            plan = planned[memo]
        if isinstance(plan, str):
            errors.append(RowError(index, "category", plan))
            continue
        values: dict[str, Any] = {
            "id": record["id"] if record is not None else None,
            "person_id": event.person_id, "source": event.source, "jpath": event.jpath,
            "category": event.category, "protocol_id": protocol.id,
            "linked_person_id": event.linked_person_id,
            "last_exposure": None, "arrival": None, "area_departure": None, "diagnosis": None,
            "clock_date": plan.clock_date, "start_date": plan.start_date, "end_date": plan.end_date,
            "state": (PlanState.active if plan.managed else PlanState.ended).value, "updated_at": stamp,
            "created_at": stamp,
        }  # fmt: skip
        values[event.clock_event] = clock_date
        # A second placement from the same source later in this batch updates this one.
        states[key] = values
    if errors:
        raise InvalidInput(errors)
    inserts = [v for v in states.values() if v["id"] is None]
    updates = [v for v in states.values() if v["id"] is not None]
    write_rows(
        session,
        _PLANS,
        PLAN_COLUMNS,
        [tuple(v[c] for c in PLAN_COLUMNS) for v in inserts],
    )
    if updates:
        session.execute(
            update(_PLANS).where(_PLANS.c.id == bindparam("plan_id")),
            [{"plan_id": v["id"], **{c: v[c] for c in PLAN_COLUMNS if c != "created_at"}} for v in updates],
        )
        # Plans this session had loaded would otherwise still show what they said before.
        changed = {v["id"] for v in updates}
        for obj in list(session.identity_map.values()):
            if isinstance(obj, ManagementPlanRecord) and obj.id in changed:
                session.expire(obj)


_PLANS = cast(Table, ManagementPlanRecord.__table__)
# The columns a plan row is written with (the id comes from the table's sequence).
PLAN_COLUMNS = (
    "person_id", "jpath", "source", "category", "protocol_id", "linked_person_id", "last_exposure",
    "arrival", "area_departure", "diagnosis", "clock_date", "start_date", "end_date", "state",
    "updated_at", "created_at",
)  # fmt: skip


def _plan_or_error(
    protocol: Protocol, category: str, clock_event: str, clock_date: dt.date
) -> ManagementPlan | str:
    try:
        return compute_plan(protocol, category, PlanFacts(**{clock_event: clock_date}))
    except PlanError as exc:
        return str(exc)


def _plans_of(
    session: Session, placements: Sequence[PersonPlacedUnderManagement]
) -> dict[tuple[int, str], dict[str, Any]]:
    """The stored plans from the placements' sources, by (person, source), as plain values."""
    wanted = {(p.person_id, p.source) for p in placements}
    person_ids = sorted({p.person_id for p in placements})
    columns = (
        ManagementPlanRecord.id, ManagementPlanRecord.person_id, ManagementPlanRecord.source,
        ManagementPlanRecord.category, ManagementPlanRecord.protocol_id, ManagementPlanRecord.clock_date,
        *(getattr(ManagementPlanRecord, fact) for fact in PLAN_FACTS),
    )  # fmt: skip
    found: dict[tuple[int, str], dict[str, Any]] = {}
    for start in range(0, len(person_ids), 1000):
        rows = session.execute(
            select(*columns).where(ManagementPlanRecord.person_id.in_(person_ids[start : start + 1000]))
        ).mappings()
        for row in rows:
            if (row["person_id"], row["source"]) in wanted:
                found[(row["person_id"], row["source"])] = dict(row)
    return found


def release_from_management(session: Session, event: DomainEvent) -> None:
    """Handler of ``PersonReleasedFromManagement``: the plan from that source ends."""
    assert isinstance(event, PersonReleasedFromManagement)
    session.execute(
        update(ManagementPlanRecord)
        .where(ManagementPlanRecord.person_id == event.person_id, ManagementPlanRecord.source == event.source)
        .values(state=PlanState.ended)
    )


@dataclass(frozen=True)
class PlanView:
    record_id: int
    source: str
    state: str
    plan: ManagementPlan


def plans_for_person(session: Session, scope_path: str, person_id: int) -> list[PlanView]:
    person = session.get(Person, person_id)
    if person is None or not path_in_scope(person.jpath, scope_path):
        raise NotFound(f"person {person_id} not found")
    records = session.scalars(
        select(ManagementPlanRecord)
        .where(ManagementPlanRecord.person_id == person_id)
        .order_by(ManagementPlanRecord.id)
    )
    views = []
    for record in records:
        template = plan_templates(get_protocol(session, record.protocol_id))[record.category]
        views.append(
            PlanView(
                record.id, record.source, record.state.value, ManagementPlan(template, record.clock_date)
            )
        )
    return views


# --- reads for other capabilities --------------------------------------------------------------------

# Transfer deadline by category when the protocol names none for it, hours (cn-9 close contacts: 8 h,
# protocols.md §7 epi.local_list, S22).
DEFAULT_TRANSFER_HOURS = 8


@dataclass(frozen=True)
class CentralizedStage:
    """An active plan's centralized-quarantine stage: what quarantine places people from.

    ``identified_at`` is when the plan's source first asked for it; the transfer deadline counts from
    it. ``stage_start``/``stage_end`` are the stage's first and last days and ``release`` the day the
    person leaves the site (the day after the stage's last day); all move with every re-plan.
    """

    plan_id: int
    person_id: int
    jpath: str
    source: str
    category: str
    protocol_id: str
    linked_person_id: int | None
    identified_at: dt.datetime
    transfer_hours: int
    stage_start: dt.date
    stage_end: dt.date
    plan_end: dt.date | None
    test_days: tuple[dt.date, ...]

    @property
    def release(self) -> dt.date:
        return self.stage_end + dt.timedelta(days=1)

    @property
    def deadline_at(self) -> dt.datetime:
        return self.identified_at + dt.timedelta(hours=self.transfer_hours)


def transfer_hours(protocol: Protocol, category: str) -> int:
    """Hours from identification to arrival in quarantine the protocol gives a category."""
    deadlines = protocol.deadlines
    hours = (
        deadlines.contact_of_contact_transfer_hours
        if category == "contact_of_contact"
        else deadlines.close_contact_transfer_hours
    )
    return hours or DEFAULT_TRANSFER_HOURS


def centralized_stages(
    session: Session,
    scope_path: str,
    *,
    person_ids: Iterable[int] | None = None,
    on: dt.date | None = None,
) -> list[CentralizedStage]:
    """Active plans in scope with a centralized-quarantine stage not yet over on ``on`` (default: all).

    One query for the plans; templates are compiled once per protocol. ``person_ids`` narrows the read
    to those people (a room board, a release check) in batches of 1,000.
    """
    query = select(
        ManagementPlanRecord.id,
        ManagementPlanRecord.person_id,
        ManagementPlanRecord.jpath,
        ManagementPlanRecord.source,
        ManagementPlanRecord.category,
        ManagementPlanRecord.protocol_id,
        ManagementPlanRecord.linked_person_id,
        ManagementPlanRecord.created_at,
        ManagementPlanRecord.clock_date,
        ManagementPlanRecord.end_date,
    ).where(under(ManagementPlanRecord.jpath, scope_path), ManagementPlanRecord.state == PlanState.active)
    if person_ids is None:
        rows = list(session.execute(query.order_by(ManagementPlanRecord.id)))
    else:
        wanted = sorted(set(person_ids))
        rows = []
        for start in range(0, len(wanted), 1000):
            batch = wanted[start : start + 1000]
            rows.extend(session.execute(query.where(ManagementPlanRecord.person_id.in_(batch))))
    found: list[CentralizedStage] = []
    protocols: dict[str, Protocol] = {}
    for row in rows:
        if row.protocol_id not in protocols:
            protocols[row.protocol_id] = get_protocol(session, row.protocol_id)
        protocol = protocols[row.protocol_id]
        template = plan_templates(protocol).get(row.category)
        if template is None or row.clock_date is None:
            continue
        plan = ManagementPlan(template, row.clock_date)
        stage = next((s for s in plan.stages if s.type == "centralized_quarantine"), None)
        if stage is None or (on is not None and stage.end < on):
            continue
        found.append(
            CentralizedStage(
                plan_id=row.id,
                person_id=row.person_id,
                jpath=row.jpath,
                source=row.source,
                category=row.category,
                protocol_id=row.protocol_id,
                linked_person_id=row.linked_person_id,
                identified_at=row.created_at,
                transfer_hours=transfer_hours(protocol, row.category),
                stage_start=stage.start,
                stage_end=stage.end,
                plan_end=row.end_date,
                test_days=tuple(t.due for t in plan.tests if t.stage_number == stage.number),
            )
        )
    return found


@dataclass(frozen=True)
class PlannedTestRow:
    """One test an active plan schedules (a test order is made from each)."""

    person_id: int
    jpath: str
    source: str
    category: str
    plan_day: int
    due: dt.date
    method: str
    specimen: str | None
    # Where the person is on that day: the place of the stage the test falls in.
    place: str
    last_test: bool


def planned_tests(
    session: Session, scope_path: str, *, person_ids: Iterable[int] | None = None
) -> list[PlannedTestRow]:
    """Every test of every active plan in scope (or of those people), dates as the plan stands now."""
    query = select(
        ManagementPlanRecord.person_id,
        ManagementPlanRecord.jpath,
        ManagementPlanRecord.source,
        ManagementPlanRecord.category,
        ManagementPlanRecord.protocol_id,
        ManagementPlanRecord.clock_date,
    ).where(under(ManagementPlanRecord.jpath, scope_path), ManagementPlanRecord.state == PlanState.active)
    if person_ids is None:
        rows = list(session.execute(query.order_by(ManagementPlanRecord.id)))
    else:
        wanted = sorted(set(person_ids))
        rows = []
        for start in range(0, len(wanted), 1000):
            rows.extend(
                session.execute(query.where(ManagementPlanRecord.person_id.in_(wanted[start : start + 1000])))
            )
    protocols: dict[str, Protocol] = {}
    found: list[PlannedTestRow] = []
    for row in rows:
        if row.protocol_id not in protocols:
            protocols[row.protocol_id] = get_protocol(session, row.protocol_id)
        template = plan_templates(protocols[row.protocol_id]).get(row.category)
        if template is None or row.clock_date is None:
            continue
        plan = ManagementPlan(template, row.clock_date)
        places = {stage.number: stage.place for stage in plan.stages}
        tests = plan.tests
        for index, test in enumerate(tests):
            found.append(
                PlannedTestRow(
                    person_id=row.person_id,
                    jpath=row.jpath,
                    source=row.source,
                    category=row.category,
                    plan_day=test.plan_day,
                    due=test.due,
                    method=test.method,
                    specimen=test.specimen,
                    place=places.get(test.stage_number, "home"),
                    last_test=index == len(tests) - 1,
                )
            )
    return found
