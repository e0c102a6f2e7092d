"""The end of an emergency: a province-level administrator closes it; after the confirmation period
everything collected for it is deleted or anonymised by the retention rules' actions, and a deletion
report says who, when and how many of each record class (never whom).

"Collected for it" means the rows of every record class under the emergency's jurisdiction created up
to its closing, and the people those rows refer to. The people are selected once into a temporary table
before anything is written (deleting one class's rows must not change who goes), then each statement
selects by that table: a million people cost a few statements per table.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    func,
    select,
    union,
)
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.errors import Conflict, Forbidden, InvalidInput, NotFound, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction, Level
from fangkong.core.scope import path_in_scope, under
from fangkong.privacy.models import Emergency
from fangkong.privacy.rules import retention as rr
from fangkong.privacy.service import linkage
from fangkong.privacy.service.retention import rules_in_force

_NAME_MAX = 120


@dataclass
class PurgeReport:
    emergency_id: int
    name: str
    jpath: str
    closed_at: str
    closed_by: str
    purged_at: str
    purged_by: str
    people_action: str
    people: int = 0
    # Rows whose typed free text was blanked by the jurisdiction sweep (counted, never shown).
    free_text_rows: int = 0
    classes: dict[str, dict[str, object]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def _province_admin(principal: Principal) -> None:
    if principal.jpath.count("/") != 2:
        raise Forbidden(Message("Only an administrator at province level may do this."))


def open_emergency(
    session: Session, principal: Principal, actor: audit.Actor, name: str, opened_on: dt.date
) -> Emergency:
    _province_admin(principal)
    name = name.strip()
    errors = []
    if not name or len(name) > _NAME_MAX:
        errors.append(
            RowError(1, "name", Message("Give the emergency a name (at most {n} characters).", n=_NAME_MAX))
        )
    if opened_on > clock.today():
        errors.append(RowError(1, "opened_on", Message("{value} is in the future", value=opened_on)))
    if errors:
        raise InvalidInput(errors)
    place = session.get(Jurisdiction, principal.jurisdiction_id)
    assert place is not None
    assert place.level == Level.province
    row = Emergency(name=name, jurisdiction_id=place.id, jpath=place.path, opened_on=opened_on)
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "privacy.emergency_opened",
        "emergency",
        row.id,
        jpath=row.jpath,
        detail={"name": name},
    )
    return row


def get(session: Session, scope_path: str, emergency_id: int) -> Emergency:
    row = session.get(Emergency, emergency_id)
    if row is None or not path_in_scope(row.jpath, scope_path):
        raise NotFound(f"emergency {emergency_id} not found")
    return row


def list_emergencies(session: Session, scope_path: str) -> list[Emergency]:
    return list(
        session.scalars(
            select(Emergency).where(under(Emergency.jpath, scope_path)).order_by(Emergency.id.desc())
        )
    )


def close(session: Session, principal: Principal, actor: audit.Actor, emergency_id: int) -> Emergency:
    _province_admin(principal)
    row = get(session, principal.jpath, emergency_id)
    if row.closed_at is not None:
        raise Conflict(Message("This emergency is already closed."))
    row.closed_at, row.closed_by = clock.utcnow(), actor.username
    row.purge_after = clock.today() + dt.timedelta(days=rr.CONFIRMATION_DAYS)
    audit.record(
        session,
        actor,
        "privacy.emergency_closed",
        "emergency",
        row.id,
        jpath=row.jpath,
        detail={"purge_after": row.purge_after},
    )
    return row


def _collected(t: Table, row: Emergency) -> ColumnElement[bool]:
    """The rows of a record class's table collected for the emergency."""
    conditions: list[ColumnElement[bool]] = []
    if "jpath" in t.c:
        conditions.append(under(t.c.jpath, row.jpath))
    if "created_at" in t.c and row.closed_at is not None:
        conditions.append(t.c.created_at <= row.closed_at)
    return and_(*conditions)


def _classes(session: Session) -> list[tuple[rr.RecordClass, rr.Rule, Table]]:
    out = []
    for rule in rules_in_force(session):
        cls = rr.BY_CODE[rule.record_class]
        t = linkage.table(cls.table)
        if not rule.active or t is None or not cls.person_column or cls.person_column not in t.c:
            continue
        out.append((cls, rule, t))
    return out


def purge(
    session: Session,
    principal: Principal | None,
    actor: audit.Actor,
    emergency_id: int,
    *,
    force: bool = False,
) -> PurgeReport:
    """Delete or anonymise everything collected for a closed emergency, once the confirmation period
    has passed (``force`` skips that wait: the command line's ``--now`` for an operator)."""
    if principal is not None:
        _province_admin(principal)
    row = get(session, principal.jpath if principal else "/", emergency_id)
    if row.closed_at is None or row.purge_after is None:
        raise Conflict(Message("Close the emergency before purging it."))
    if row.purged_at is not None:
        raise Conflict(Message("This emergency has already been purged."))
    if not force and clock.today() < row.purge_after:
        raise Conflict(Message("The confirmation period runs until {day}.", day=row.purge_after))
    classes = _classes(session)
    people_rule = next((r for c, r, _t in classes if c.code == "managed_people"), None)
    people_action = people_rule.action if people_rule else rr.ANONYMISE
    report = PurgeReport(
        emergency_id=row.id,
        name=row.name,
        jpath=row.jpath,
        closed_at=clock.as_utc(row.closed_at).isoformat(),
        closed_by=row.closed_by or "",
        purged_at=clock.utcnow().isoformat(),
        purged_by=actor.username,
        people_action=people_action,
    )
    if classes:
        # Straight from the records (their person columns are foreign keys: every id is a person).
        linked = union(
            *[
                select(t.c[c.person_column]).where(_collected(t, row), t.c[c.person_column].isnot(None))
                for c, _r, t in classes
            ]
        )
        pinned = linkage.pin(session, linked, "privacy_pinned_people")
        chosen = select(pinned.c.id)
        for cls, rule, t in classes:
            n = session.scalar(select(func.count()).select_from(t).where(_collected(t, row))) or 0
            report.classes[cls.code] = {"action": rule.action, "records": int(n)}
        report.people = int(session.scalar(select(func.count()).select_from(pinned)) or 0)
        if people_action == rr.DELETE:
            linkage.delete_people(session, chosen)
        else:
            linkage.anonymise_people(session, pinned)
        for _cls, rule, t in classes:
            if rule.action == rr.DELETE:
                linkage.delete_rows(session, t, _collected(t, row))
            else:
                linkage.anonymise_rows(session, t, _collected(t, row))
        pinned.drop(session.connection())
    # Free text typed during the emergency in its jurisdiction (a task's note, a room's event) may name
    # people even where no person is linked: it goes too, the rows stay.
    for t in linkage.tables().values():
        if "jpath" in t.c and linkage.personal_text_columns(t):
            report.free_text_rows += linkage.blank_text(session, t, _collected(t, row))
    row.purged_at = clock.utcnow()
    row.report = json.dumps(report.as_dict(), ensure_ascii=False)
    audit.record(
        session,
        actor,
        "privacy.emergency_purged",
        "emergency",
        row.id,
        jpath=row.jpath,
        detail={
            "people": report.people,
            "people_action": people_action,
            "classes": report.classes,
            "free_text_rows": report.free_text_rows,
        },
    )
    return report


def purge_due(session: Session, actor: audit.Actor) -> list[PurgeReport]:
    """Purge every closed emergency whose confirmation period has passed (the nightly job)."""
    due = session.scalars(
        select(Emergency.id).where(
            Emergency.closed_at.isnot(None),
            Emergency.purged_at.is_(None),
            Emergency.purge_after <= clock.today(),
        )
    )
    return [purge(session, None, actor, int(i)) for i in list(due)]


def deletion_report(row: Emergency) -> dict[str, object] | None:
    return json.loads(row.report) if row.report else None
