"""Each registry person's vaccination status, derived from their doses and contraindications by the
rules (``rules.schedule``), and the contraindications a community worker records.

``vaccination_status`` holds one row per registry person aged 3 or over, the unvaccinated included, so
that coverage counts and outreach lists read one narrow table with the registry as their denominator.
Rows are never typed in: :func:`evaluate` rewrites them set-based, a chunk of people at a time (their
doses and contraindications in two queries, the rules in Python, the old rows deleted and the new ones
written through ``core.bulk`` in one COPY or executemany). Drill sandboxes are evaluated like any other
place: their rows carry sandbox paths, which no real scope reaches.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, String, Table, delete, exists, or_, select, type_coerce
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.bulk import write_rows
from fangkong.core.errors import InvalidInput, NotFound, RowError
from fangkong.core.events import DomainEvent, PersonRegistered
from fangkong.core.i18n import Message
from fangkong.core.models import Person
from fangkong.core.scope import under
from fangkong.vaccination.events import DosesRecorded
from fangkong.vaccination.models import Contraindication, ContraindicationReason, Dose, VaccinationStatus
from fangkong.vaccination.rules import schedule
from fangkong.vaccination.rules.bands import MIN_AGE, born_on_or_before

# People evaluated per round trip: large enough that a million people is 200 chunks, small enough to
# stay under every driver's limit on bound parameters.
CHUNK = 5_000
# Longest postponement a worker may record (a fever or a flare; longer is a permanent reason).
MAX_POSTPONE_DAYS = 366
_COLUMNS = (
    "person_id",
    "jpath",
    "birth_date",
    "state",
    "doses",
    "first_dose_on",
    "primary_complete_on",
    "booster_on",
    "second_booster_on",
    "next_kind",
    "due_on",
    "contraindication",
    "rules_version",
    "evaluated_at",
)

Person3 = tuple[int, str, dt.date]  # (person id, jpath, birth date)


def _chunks_of_all(session: Session) -> Iterator[list[Person3]]:
    last = 0
    while True:
        rows = [
            (pid, jpath, birth)
            for pid, jpath, birth in session.execute(
                select(Person.id, Person.jpath, Person.birth_date)
                .where(Person.id > last)
                .order_by(Person.id)
                .limit(CHUNK)
            )
        ]
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _write_chunk(
    session: Session,
    people: Sequence[Person3],
    ids: Sequence[int],
    today: dt.date,
    *,
    span: tuple[int, int] | None = None,
) -> int:
    """Evaluate and rewrite these people's rows. ``span``: every registry id in that closed range is in
    ``ids`` (a chunk of the whole registry), so the reads and the delete take a range, not a list of
    thousands of parameters to compile."""

    def of(column: Any) -> ColumnElement[bool]:
        condition: ColumnElement[bool] = column.between(*span) if span is not None else column.in_(ids)
        return condition

    doses: dict[int, list[schedule.DoseRecord]] = defaultdict(list)
    for pid, given_on, kind, number, platform in session.execute(
        # Kind and platform as their stored words: the rules compare them with the (string) enums, and
        # half a million enum conversions were a tenth of a whole-registry evaluation.
        select(
            Dose.person_id,
            Dose.given_on,
            type_coerce(Dose.kind, String),
            Dose.dose_number,
            type_coerce(Dose.platform, String),
        ).where(of(Dose.person_id))
    ):
        doses[pid].append(schedule.DoseRecord(given_on, kind, number, platform))
    withheld: dict[int, list[schedule.ContraindicationRecord]] = defaultdict(list)
    for pid, reason, recorded_on, until in session.execute(
        select(
            Contraindication.person_id,
            Contraindication.reason,
            Contraindication.recorded_on,
            Contraindication.until,
        ).where(of(Contraindication.person_id))
    ):
        withheld[pid].append(schedule.ContraindicationRecord(reason, recorded_on, until))

    youngest = born_on_or_before(today, MIN_AGE)
    now = clock.utcnow()
    rows: list[tuple[object, ...]] = []
    for pid, jpath, birth in people:
        if birth > youngest:
            continue  # under 3: not offered a dose, in no denominator
        e = schedule.evaluate(birth, doses.get(pid, ()), withheld.get(pid, ()), today)
        rows.append(
            (
                pid,
                jpath,
                birth,
                e.state.value,
                e.doses,
                e.first_dose_on,
                e.primary_complete_on,
                e.booster_on,
                e.second_booster_on,
                e.next_kind.value if e.next_kind else None,
                e.due_on,
                e.contraindication.value if e.contraindication else None,
                schedule.RULES_VERSION,
                now,
            )
        )
    session.execute(
        delete(VaccinationStatus).where(of(VaccinationStatus.person_id)),
        execution_options={"synchronize_session": False},
    )
    write_rows(session, cast(Table, VaccinationStatus.__table__), _COLUMNS, rows)
    return len(rows)


def evaluate(
    session: Session, person_ids: Iterable[int] | None = None, *, today: dt.date | None = None
) -> int:
    """Rewrite the status rows of these people (everyone in the registry when None) from their doses
    and contraindications; people under 3 get none. Returns the rows written."""
    day = today or clock.today()
    written = 0
    if person_ids is None:
        first = 0
        for people in _chunks_of_all(session):
            # The chunk holds every registry id after the previous chunk's last, up to its own last.
            written += _write_chunk(session, people, [p[0] for p in people], day, span=(first, people[-1][0]))
            first = people[-1][0] + 1
        session.expire_all()
        return written
    ids = sorted(set(person_ids))
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        people = [
            (pid, jpath, birth)
            for pid, jpath, birth in session.execute(
                select(Person.id, Person.jpath, Person.birth_date).where(Person.id.in_(part))
            )
        ]
        # Ids no longer in the registry lose their row too.
        written += _write_chunk(session, people, part, day)
    session.expire_all()
    return written


def stale_people(session: Session, *, today: dt.date | None = None) -> list[int]:
    """Registry people aged 3 or over whose status is missing (new, or just turned 3) or was evaluated
    under other rules."""
    day = today or clock.today()
    return list(
        session.scalars(
            select(Person.id).where(
                Person.birth_date <= born_on_or_before(day, MIN_AGE),
                or_(
                    ~exists().where(VaccinationStatus.person_id == Person.id),
                    exists().where(
                        VaccinationStatus.person_id == Person.id,
                        VaccinationStatus.rules_version != schedule.RULES_VERSION,
                    ),
                ),
            )
        )
    )


def evaluate_stale(session: Session, *, today: dt.date | None = None) -> int:
    """:func:`evaluate` for :func:`stale_people` only (what a coverage refresh needs first)."""
    ids = stale_people(session, today=today)
    return evaluate(session, ids, today=today) if ids else 0


def _evaluate_counted(session: Session, person_ids: Sequence[int]) -> None:
    """Evaluate these people and move the stored coverage counts by the change (see
    ``service.coverage.adjusted``)."""
    from fangkong.vaccination.service import coverage

    with coverage.adjusted(session, person_ids):
        evaluate(session, person_ids)


def on_doses_recorded(session: Session, event: DomainEvent) -> None:
    """Handler of :class:`DosesRecorded`: the people's status, and the coverage counts, in the same
    transaction as their doses."""
    assert isinstance(event, DosesRecorded)
    _evaluate_counted(session, event.person_ids)


def on_person_registered(session: Session, event: DomainEvent) -> None:
    """Handler of ``PersonRegistered``: a new resident enters the denominators at once."""
    assert isinstance(event, PersonRegistered)
    _evaluate_counted(session, (event.person_id,))


def record_contraindication(
    session: Session,
    principal: Principal,
    person_id: int,
    reason: ContraindicationReason,
    until: dt.date | None,
    note: str = "",
    *,
    ip: str = "",
) -> Contraindication:
    """Record why a person may not be vaccinated now (outreach workers, after a doctor's assessment),
    and evaluate their status again. A severe allergy or an end-stage disease is permanent and takes
    no end date; a fever or a flare postpones the dose until a day that must be given."""
    person = session.scalar(
        select(Person).where(Person.id == person_id, under(Person.jpath, principal.jpath))
    )
    if person is None:
        raise NotFound(f"person {person_id} not found")
    today = clock.today()
    if person.birth_date > born_on_or_before(today, MIN_AGE):
        raise InvalidInput([RowError(1, "person_id", Message("under 3: not offered a dose"))])
    if reason in schedule.PERMANENT and until is not None:
        raise InvalidInput([RowError(1, "until", Message("a permanent contraindication has no end date"))])
    if reason not in schedule.PERMANENT:
        if until is None:
            raise InvalidInput([RowError(1, "until", Message("give the day the postponement ends"))])
        if until < today:
            raise InvalidInput([RowError(1, "until", Message("must be today or later"))])
        if (until - today).days > MAX_POSTPONE_DAYS:
            raise InvalidInput(
                [RowError(1, "until", Message("must be within {days} days of today", days=MAX_POSTPONE_DAYS))]
            )
    found = Contraindication(
        person_id=person.id,
        jpath=person.jpath,
        reason=reason,
        recorded_on=today,
        until=until,
        note=note.strip()[:200],
        recorded_by=principal.username,
    )
    session.add(found)
    session.flush()
    audit.record(
        session,
        audit.Actor(principal.user_id, principal.username, ip),
        "vaccination.contraindication",
        "person",
        person.id,
        jpath=person.jpath,
        detail={"reason": reason.value, "until": until.isoformat() if until else None},
    )
    evaluate(session, [person.id], today=today)
    return found


def status_of(session: Session, principal: Principal, person_id: int) -> VaccinationStatus:
    """A person's evaluated status (in scope), for the pages and the API."""
    row = session.scalar(
        select(VaccinationStatus).where(
            VaccinationStatus.person_id == person_id, under(VaccinationStatus.jpath, principal.jpath)
        )
    )
    if row is None:
        raise NotFound(f"person {person_id} has no vaccination status")
    return row
