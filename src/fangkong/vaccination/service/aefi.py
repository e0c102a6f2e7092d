"""Adverse events following immunization (AEFI): the report card, its deadline to the county CDC (48 h;
2 h for a death or a cluster), sending it, the WHO causality review, the list, rates per 100,000 doses
by product and by lot, lot signals, and the cards past due.

A card belongs to a dose of a person in the caller's scope; its lot and product are copied from the dose
so that the rates need no join. Doses are counted from ``vaccination_doses`` (this capability's own
table). The rules (deadlines, causality groups, the signal test) are in ``rules.aefi``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.crypto import Vault
from fangkong.core.errors import Conflict, InvalidInput, NotFound, RowError
from fangkong.core.events import EventBus
from fangkong.core.i18n import Message
from fangkong.core.models import Person
from fangkong.core.scope import path_in_scope, under
from fangkong.vaccination.events import AdverseEventReported, AdverseEventSentToCounty
from fangkong.vaccination.models import AdverseEvent, AefiOutcome, Causality, Dose, Severity
from fangkong.vaccination.rules import aefi as rules

MAX_PAGE_SIZE = 200
SYMPTOMS_MAX = 2000
# A card may say the event was found up to this long before it is typed in (C: a weekend's paper card).
FOUND_BACK = dt.timedelta(days=7)
FILTERS = ("unsent", "overdue", "sent", "unreviewed", "reviewed")


@dataclass(frozen=True)
class EventPage:
    items: list[AdverseEvent]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


@dataclass(frozen=True)
class RateRow:
    product: str
    lot: str | None  # None: the product's row
    doses: int
    events: int
    serious: int
    rate: float | None  # events per 100,000 doses
    serious_rate: float | None


@dataclass(frozen=True)
class Rates:
    products: list[RateRow]
    lots: list[RateRow]


def _actor(principal: Principal, ip: str) -> audit.Actor:
    return audit.Actor(principal.user_id, principal.username, ip or "web")


def get_event(session: Session, principal: Principal, event_id: int) -> AdverseEvent:
    event = session.get(AdverseEvent, event_id)
    if event is None or not path_in_scope(event.jpath, principal.jpath):
        raise NotFound(Message("adverse event {id} not found", id=event_id))
    return event


def find_dose(session: Session, vault: Vault, principal: Principal, id_number: str, dose_number: int) -> Dose:
    """A dose in scope by the person's ID number and the dose's number (what a card is filled from)."""
    wanted = "".join(id_number.split()).upper()
    dose = session.scalar(
        select(Dose)
        .join(Person, Person.id == Dose.person_id)
        .where(
            Person.id_hash == vault.keyed_hash(wanted),
            Dose.dose_number == dose_number,
            under(Dose.jpath, principal.jpath),
        )
    )
    if dose is None:
        raise InvalidInput(
            [RowError(1, "dose_number", Message("no such dose of this person is recorded in your area"))]
        )
    return dose


def report(
    session: Session,
    principal: Principal,
    bus: EventBus,
    dose_id: int,
    onset_on: dt.date,
    symptoms: str,
    severity: Severity,
    outcome: AefiOutcome,
    cluster: bool,
    *,
    found_at: dt.datetime | None = None,
    ip: str = "",
) -> AdverseEvent:
    """Fill in an AEFI card for a dose; its deadline runs from when the event was found."""
    dose = session.get(Dose, dose_id)
    if dose is None or not path_in_scope(dose.jpath, principal.jpath):
        raise NotFound(Message("dose {id} not found", id=dose_id))
    now = clock.utcnow()
    found = clock.as_utc(found_at) if found_at is not None else now
    today = clock.today()
    errors: list[RowError] = []
    if onset_on < dose.given_on:
        errors.append(RowError(1, "onset_on", Message("the onset cannot be before the dose")))
    elif onset_on > today:
        errors.append(RowError(1, "onset_on", Message("the day cannot be in the future")))
    if found > now:
        errors.append(RowError(1, "found_at", Message("the time cannot be in the future")))
    elif found < now - FOUND_BACK:
        errors.append(RowError(1, "found_at", Message("at most {days} days back", days=FOUND_BACK.days)))
    elif clock.local_day(found) < onset_on:
        errors.append(RowError(1, "found_at", Message("the event cannot be found before its onset")))
    text = symptoms.strip()
    if not text:
        errors.append(RowError(1, "symptoms", Message("say what happened")))
    elif len(text) > SYMPTOMS_MAX:
        errors.append(RowError(1, "symptoms", Message("at most {count} characters", count=SYMPTOMS_MAX)))
    errors += [RowError(1, field, message) for field, message in rules.consistency_errors(severity, outcome)]
    if errors:
        raise InvalidInput(errors)
    event = AdverseEvent(
        person_id=dose.person_id,
        jpath=dose.jpath,
        dose_id=dose.id,
        lot=dose.lot,
        product=dose.product,
        onset_on=onset_on,
        symptoms=text,
        severity=severity,
        outcome=outcome,
        cluster=cluster,
        found_at=found,
        report_due_at=rules.report_due(found, severity, outcome, cluster),
        reported_by=principal.username,
    )
    session.add(event)
    session.flush()
    audit.record(
        session,
        _actor(principal, ip),
        "aefi.report",
        "adverse_event",
        event.id,
        jpath=event.jpath,
        detail={"dose": dose.id, "severity": severity.value, "cluster": cluster},
    )
    bus.publish(
        session,
        AdverseEventReported(
            event_id=event.id,
            jpath=event.jpath,
            severity=severity.value,
            cluster=cluster,
            due_at=event.report_due_at,
            found_at=event.found_at,
        ),
    )
    return event


def send_to_county(
    session: Session, principal: Principal, bus: EventBus, event_id: int, *, ip: str = ""
) -> AdverseEvent:
    """Mark the card as received by the county CDC (once); late cards are sent all the same."""
    event = get_event(session, principal, event_id)
    if event.reported_to_county_at is not None:
        raise Conflict(Message("this card was already sent to the county CDC"))
    event.reported_to_county_at = clock.utcnow()
    late = event.reported_to_county_at > event.report_due_at
    audit.record(
        session,
        _actor(principal, ip),
        "aefi.send",
        "adverse_event",
        event.id,
        jpath=event.jpath,
        detail={"late": late},
    )
    bus.publish(session, AdverseEventSentToCounty(event_id=event.id, jpath=event.jpath))
    return event


def review(
    session: Session, principal: Principal, event_id: int, causality: Causality, *, ip: str = ""
) -> AdverseEvent:
    """Record the WHO causality category once the card is at the county CDC (a later review replaces
    an earlier one; the audit log keeps both)."""
    event = get_event(session, principal, event_id)
    if event.reported_to_county_at is None:
        raise Conflict(Message("send the card to the county CDC before the causality review"))
    previous = event.causality.value if event.causality is not None else None
    event.causality = causality
    event.reviewed_on = clock.today()
    event.reviewed_by = principal.username
    audit.record(
        session,
        _actor(principal, ip),
        "aefi.review",
        "adverse_event",
        event.id,
        jpath=event.jpath,
        detail={"causality": causality.value, "previous": previous},
    )
    return event


def _filtered(
    stmt: Select[AdverseEvent],
    state: str | None,
    product: str | None,
    lot: str | None,
    severity: Severity | None,
    now: dt.datetime,
) -> Select[AdverseEvent]:
    unsent = AdverseEvent.reported_to_county_at.is_(None)
    if state == "unsent":
        stmt = stmt.where(unsent)
    elif state == "overdue":
        stmt = stmt.where(unsent, AdverseEvent.report_due_at < now)
    elif state == "sent":
        stmt = stmt.where(AdverseEvent.reported_to_county_at.is_not(None))
    elif state == "unreviewed":
        stmt = stmt.where(AdverseEvent.causality.is_(None))
    elif state == "reviewed":
        stmt = stmt.where(AdverseEvent.causality.is_not(None))
    if product:
        stmt = stmt.where(AdverseEvent.product == product)
    if lot:
        stmt = stmt.where(AdverseEvent.lot == lot)
    if severity is not None:
        stmt = stmt.where(AdverseEvent.severity == severity)
    return stmt


def list_events(
    session: Session,
    principal: Principal,
    *,
    state: str | None = None,
    product: str | None = None,
    lot: str | None = None,
    severity: Severity | None = None,
    page: int = 1,
    size: int = 50,
) -> EventPage:
    """Cards in scope: unsent first by deadline, then the newest."""
    if state is not None and state not in FILTERS:
        raise InvalidInput(
            [RowError(1, "state", Message("“{value}” is not one of the choices", value=state))]
        )
    page, size = max(1, page), max(1, min(size, MAX_PAGE_SIZE))
    stmt = _filtered(
        select(AdverseEvent).where(under(AdverseEvent.jpath, principal.jpath)),
        state,
        product,
        lot,
        severity,
        clock.utcnow(),
    )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    unsent_first = case((AdverseEvent.reported_to_county_at.is_(None), 0), else_=1)
    rows = session.scalars(
        stmt.order_by(
            unsent_first,
            case((AdverseEvent.reported_to_county_at.is_(None), AdverseEvent.report_due_at)),
            AdverseEvent.found_at.desc(),
            AdverseEvent.id.desc(),
        )
        .offset((page - 1) * size)
        .limit(size)
    )
    return EventPage(list(rows), total, page, size)


def _lot_counts(
    session: Session, path: str
) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], tuple[int, int]]]:
    doses = {
        (product, lot): int(n)
        for product, lot, n in session.execute(
            select(Dose.product, Dose.lot, func.count())
            .where(under(Dose.jpath, path))
            .group_by(Dose.product, Dose.lot)
        )
    }
    serious = case((AdverseEvent.severity.in_(list(rules.SERIOUS)), 1), else_=0)
    events = {
        (product, lot): (int(n), int(s or 0))
        for product, lot, n, s in session.execute(
            select(AdverseEvent.product, AdverseEvent.lot, func.count(), func.sum(serious))
            .where(under(AdverseEvent.jpath, path))
            .group_by(AdverseEvent.product, AdverseEvent.lot)
        )
    }
    return doses, events


def _path(principal: Principal, jpath: str | None) -> str:
    return jpath if jpath is not None and path_in_scope(jpath, principal.jpath) else principal.jpath


def rates(session: Session, principal: Principal, jpath: str | None = None) -> Rates:
    """Reported events (all, and serious: severe or death) per 100,000 doses given in the subtree, by
    product and by lot; an event whose lot has no recorded dose here has no rate."""
    doses, events = _lot_counts(session, _path(principal, jpath))
    lots: list[RateRow] = []
    per_product: dict[str, list[int]] = {}
    for product, lot in sorted(set(doses) | set(events)):
        n_doses = doses.get((product, lot), 0)
        n_events, n_serious = events.get((product, lot), (0, 0))
        lots.append(
            RateRow(
                product,
                lot,
                n_doses,
                n_events,
                n_serious,
                rules.rate(n_events, n_doses),
                rules.rate(n_serious, n_doses),
            )
        )
        totals = per_product.setdefault(product, [0, 0, 0])
        totals[0] += n_doses
        totals[1] += n_events
        totals[2] += n_serious
    products = [
        RateRow(p, None, d, e, s, rules.rate(e, d), rules.rate(s, d))
        for p, (d, e, s) in sorted(per_product.items())
    ]
    return Rates(products, lots)


def lot_signals(session: Session, principal: Principal, jpath: str | None = None) -> list[rules.LotSignal]:
    """Each lot with events tested against its product's other lots (``rules.aefi.lot_signals``);
    signals first."""
    doses, events = _lot_counts(session, _path(principal, jpath))
    counts = [
        rules.LotCount(product, lot, doses.get((product, lot), 0), events.get((product, lot), (0, 0))[0])
        for product, lot in sorted(set(doses) | set(events))
    ]
    return rules.lot_signals(counts)


def overdue(session: Session, day: dt.date | None = None, *, jpath: str = "/") -> list[AdverseEvent]:
    """Cards not sent whose deadline has passed: now if ``day`` is today (or not given), else by the
    end of that local day. For the sweeper, the dashboard and the daily report (no user's scope)."""
    now = clock.utcnow()
    at = now if day is None or day >= clock.today() else clock.day_bounds(day)[1]
    return list(
        session.scalars(
            select(AdverseEvent)
            .where(
                under(AdverseEvent.jpath, jpath),
                AdverseEvent.reported_to_county_at.is_(None),
                AdverseEvent.report_due_at < at,
            )
            .order_by(AdverseEvent.report_due_at, AdverseEvent.id)
        )
    )


def deadline_of(event: AdverseEvent, now: dt.datetime | None = None) -> rules.Deadline:
    return rules.deadline_state(
        event.found_at, event.report_due_at, event.reported_to_county_at, now or clock.utcnow()
    )


def products_and_lots(session: Session, principal: Principal) -> tuple[list[str], list[str]]:
    """The products and lots of the cards in scope (the list's filter choices)."""
    rows = session.execute(
        select(AdverseEvent.product, AdverseEvent.lot)
        .where(under(AdverseEvent.jpath, principal.jpath))
        .distinct()
    ).all()
    return sorted({p for p, _ in rows}), sorted({lot for _, lot in rows})
