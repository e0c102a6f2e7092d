"""Test orders from management plans: made, moved and cancelled as plans change; worklists; overdue tests;
single-tube samples; a person's test history; and what holds a release.

Plans are the protocol capability's: :func:`fangkong.protocol.service.planned_tests` is the only source of
what tests they want. :func:`sync_orders` makes the orders agree with it, set-based: an order per planned
test (unique by person, plan source and plan day), the due date of an open order moved when its plan
moved, an open order cancelled (with its reason) when its plan no longer has that test. An order already
sampled or resulted is history and is never moved or cancelled.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.bulk import write_rows
from fangkong.core.clock import as_utc, today, utcnow
from fangkong.core.errors import Conflict, InvalidInput, NotFound, RowError
from fangkong.core.events import (
    DomainEvent,
    PeoplePlacedUnderManagement,
    PersonPlacedUnderManagement,
    PersonReleasedFromManagement,
)
from fangkong.core.i18n import Message, stored
from fangkong.core.models import Jurisdiction, Person
from fangkong.core.scope import path_in_scope, under
from fangkong.protocol.service import PlannedTestRow, planned_tests
from fangkong.testing.models import OrderState, TestOrder, TestPlace, TestResult, Tube, TubeKind, TubeMember

MAX_PAGE_SIZE = 200
# Orders are read and written in batches of this many people or rows.
BATCH = 1_000

# A sample recorded against an order is a member of a single tube, "scanned" by the order itself: device
# ``order:<id>``, sequence the sample's number (an invalid result reopens the order for another sample).
ORDER_DEVICE = "order:{id}"
# The scope that holds every row, drills' sandboxes included (``/`` holds the real tree only): for
# handlers and for reads other capabilities make on behalf of the system.
WHOLE_TREE = ""

_ORDERS = cast(Table, TestOrder.__table__)
ORDER_COLUMNS = (
    "person_id", "jpath", "source", "plan_day", "due_date", "method", "specimen", "place", "state",
    "last_test", "cancelled_reason", "created_at", "updated_at",
)  # fmt: skip

# Where a plan's stage is held, as the place a sample is taken. People in medical isolation (makeshift or
# designated hospital) are sampled where they are held, like a quarantine site: nobody travels to be tested.
_PLACE: dict[str, TestPlace] = {
    "quarantine_site": TestPlace.quarantine_site,
    "makeshift_hospital": TestPlace.quarantine_site,
    "designated_hospital": TestPlace.quarantine_site,
    "home": TestPlace.home,
    "community": TestPlace.community_site,
}

NO_LONGER_PLANNED = Message("the plan no longer has this test")


def _actor(principal: Principal) -> audit.Actor:
    return audit.Actor(principal.user_id, principal.username, "web")


# ------------------------------------------------------------------------------------------ syncing


@dataclass
class SyncReport:
    """What one sync changed: orders made, moved to a new due date, cancelled, reopened, left alone."""

    created: int = 0
    moved: int = 0
    cancelled: int = 0
    reopened: int = 0
    unchanged: int = 0


def _existing_orders(
    session: Session, scope_path: str, person_ids: Sequence[int] | None
) -> list[dict[str, Any]]:
    query = select(
        TestOrder.id,
        TestOrder.person_id,
        TestOrder.source,
        TestOrder.plan_day,
        TestOrder.due_date,
        TestOrder.method,
        TestOrder.specimen,
        TestOrder.place,
        TestOrder.state,
        TestOrder.last_test,
        TestOrder.jpath,
    ).where(under(TestOrder.jpath, scope_path))
    if person_ids is None:
        return [dict(row) for row in session.execute(query).mappings()]
    found: list[dict[str, Any]] = []
    for start in range(0, len(person_ids), BATCH):
        batch = person_ids[start : start + BATCH]
        found.extend(dict(r) for r in session.execute(query.where(TestOrder.person_id.in_(batch))).mappings())
    return found


def _planned_values(test: PlannedTestRow) -> dict[str, Any]:
    return {
        "jpath": test.jpath,
        "due_date": test.due,
        "method": test.method,
        "specimen": test.specimen,
        "place": _PLACE.get(test.place, TestPlace.home),
        "last_test": test.last_test,
    }


def sync_orders(session: Session, scope_path: str, *, person_ids: Iterable[int] | None = None) -> SyncReport:
    """Make the open orders in scope (or of those people) agree with their plans as they stand now."""
    wanted_people = sorted(set(person_ids)) if person_ids is not None else None
    planned = {
        (t.person_id, t.source, t.plan_day): t
        for t in planned_tests(session, scope_path, person_ids=wanted_people)
    }
    existing = {
        (o["person_id"], o["source"], o["plan_day"]): o
        for o in _existing_orders(session, scope_path, wanted_people)
    }
    report = SyncReport()
    stamp = utcnow()
    inserts: list[tuple[object, ...]] = []
    updates: list[dict[str, Any]] = []
    for key, test in planned.items():
        values = _planned_values(test)
        order = existing.get(key)
        if order is None:
            row = {
                "person_id": test.person_id, "source": test.source, "plan_day": test.plan_day,
                "state": OrderState.open.value, "cancelled_reason": "",
                "created_at": stamp, "updated_at": stamp,
                **values, "place": values["place"].value,
            }  # fmt: skip
            inserts.append(tuple(row[c] for c in ORDER_COLUMNS))
            report.created += 1
            continue
        state = OrderState(order["state"])
        if state not in (OrderState.open, OrderState.cancelled):
            report.unchanged += 1  # sampled or resulted: what happened stays as it happened
            continue
        changed = any(order[name] != value for name, value in values.items())
        if state is OrderState.cancelled:
            # The plan wants the test again (a re-plan back): the same order comes back to life.
            report.reopened += 1
        elif changed:
            report.moved += 1
        else:
            report.unchanged += 1
            continue
        updates.append(
            {
                "order_id": order["id"],
                **values,
                "place": values["place"],
                "state": OrderState.open,
                "cancelled_reason": "",
                "updated_at": stamp,
            }
        )
    for key, order in existing.items():
        if key not in planned and OrderState(order["state"]) is OrderState.open:
            updates.append(
                {
                    "order_id": order["id"],
                    **{
                        k: order[k] for k in ("jpath", "due_date", "method", "specimen", "place", "last_test")
                    },
                    "state": OrderState.cancelled,
                    "cancelled_reason": stored(NO_LONGER_PLANNED),
                    "updated_at": stamp,
                }
            )
            report.cancelled += 1
    write_rows(session, _ORDERS, ORDER_COLUMNS, inserts)
    if updates:
        # The SET clause comes from the rows' keys (the columns), one executemany per batch.
        statement = update(_ORDERS).where(_ORDERS.c.id == bindparam("order_id"))
        for start in range(0, len(updates), BATCH):
            session.execute(statement, updates[start : start + BATCH])
        changed_ids = {u["order_id"] for u in updates}
        for obj in list(session.identity_map.values()):
            if isinstance(obj, TestOrder) and obj.id in changed_ids:
                session.expire(obj)
    return report


def _common_scope(paths: Iterable[str]) -> str:
    """The deepest jurisdiction path holding all of ``paths`` (a drill's sandbox stays inside itself)."""
    parts = [path.split("/") for path in set(paths)]
    common: list[str] = []
    for names in zip(*parts, strict=False):
        if len(set(names)) != 1:
            break
        common.append(names[0])
    scope = "/".join(common)
    scope = scope if scope.endswith("/") else scope + "/"
    return WHOLE_TREE if scope == "/" else scope


def orders_for_placements(session: Session, event: DomainEvent) -> None:
    """Handler of ``PersonPlacedUnderManagement`` and ``PeoplePlacedUnderManagement``.

    Runs after the protocol's handler has (re)computed the plans: the people placed get their orders.
    """
    if isinstance(event, PersonPlacedUnderManagement):
        placements: Sequence[PersonPlacedUnderManagement] = (event,)
    else:
        assert isinstance(event, PeoplePlacedUnderManagement)
        placements = event.placements
    if not placements:
        return
    sync_orders(
        session, _common_scope(p.jpath for p in placements), person_ids={p.person_id for p in placements}
    )


def orders_for_release(session: Session, event: DomainEvent) -> None:
    """Handler of ``PersonReleasedFromManagement`` (after the protocol's): the ended plan's open orders go."""
    assert isinstance(event, PersonReleasedFromManagement)
    person = session.get(Person, event.person_id)
    if person is not None:
        sync_orders(session, _common_scope([person.jpath]), person_ids=[event.person_id])


# ------------------------------------------------------------------------------------------ reading


@dataclass(frozen=True)
class OrderView:
    id: int
    person_id: int
    person_name: str
    jpath: str
    source: str
    plan_day: int
    due_date: dt.date
    method: str
    specimen: str | None
    place: TestPlace
    state: OrderState
    last_test: bool
    tube_barcode: str | None
    sampled_at: dt.datetime | None
    result: TestResult | None
    resulted_at: dt.datetime | None
    cancelled_reason: str


@dataclass(frozen=True)
class OrderPage:
    items: list[OrderView]
    total: int
    page: int
    size: int


def _view(order: TestOrder, name: str) -> OrderView:
    return OrderView(
        id=order.id,
        person_id=order.person_id,
        person_name=name,
        jpath=order.jpath,
        source=order.source,
        plan_day=order.plan_day,
        due_date=order.due_date,
        method=order.method,
        specimen=order.specimen,
        place=order.place,
        state=order.state,
        last_test=order.last_test,
        tube_barcode=order.tube_barcode,
        sampled_at=order.sampled_at,
        result=order.result,
        resulted_at=order.resulted_at,
        cancelled_reason=order.cancelled_reason,
    )


def _community_path(session: Session, principal: Principal, community_id: int | None) -> str:
    if community_id is None:
        return principal.jpath
    place = session.get(Jurisdiction, community_id)
    if place is None or not path_in_scope(place.path, principal.jpath):
        raise NotFound(Message("jurisdiction {id} not found", id=community_id))
    return place.path


def _page(session: Session, query: Any, page: int, size: int) -> OrderPage:
    if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidInput(
            [RowError(0, "page", Message("page from 1, size from 1 to {most}", most=MAX_PAGE_SIZE))]
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.add_columns(Person.name_masked)
        .join(Person, Person.id == TestOrder.person_id)
        .order_by(TestOrder.due_date, TestOrder.jpath, TestOrder.id)
        .limit(size)
        .offset((page - 1) * size)
    ).all()
    return OrderPage([_view(order, name) for order, name in rows], total, page, size)


def worklist(
    session: Session,
    principal: Principal,
    day: dt.date,
    *,
    place: TestPlace | None = None,
    community_id: int | None = None,
    page: int = 1,
    size: int = 50,
) -> OrderPage:
    """The tests due on ``day`` still to be sampled or sampled that day, in a community or at a place."""
    path = _community_path(session, principal, community_id)
    query = select(TestOrder).where(
        under(TestOrder.jpath, path),
        TestOrder.due_date == day,
        TestOrder.state.in_((OrderState.open, OrderState.sampled)),
    )
    if place is not None:
        query = query.where(TestOrder.place == place)
    return _page(session, query, page, size)


def overdue(
    session: Session,
    principal: Principal,
    *,
    on: dt.date | None = None,
    community_id: int | None = None,
    page: int = 1,
    size: int = 50,
) -> OrderPage:
    """Open orders due before ``on`` (default today) that nobody sampled: tests missed, holding releases."""
    path = _community_path(session, principal, community_id)
    query = select(TestOrder).where(
        under(TestOrder.jpath, path),
        TestOrder.due_date < (on or today()),
        TestOrder.state == OrderState.open,
    )
    return _page(session, query, page, size)


def overdue_by_community(session: Session, on: dt.date) -> list[tuple[str, int]]:
    """(community path, open orders due before ``on``) for every community with any, path order.

    A system read (no principal: the response sweeper opens a task per community), over the whole tree
    drills' sandboxes included; an order's ``jpath`` is its person's community.
    """
    rows = session.execute(
        select(TestOrder.jpath, func.count(TestOrder.id))
        .where(TestOrder.due_date < on, TestOrder.state == OrderState.open)
        .group_by(TestOrder.jpath)
        .order_by(TestOrder.jpath)
    ).all()
    return [(str(path), int(count)) for path, count in rows]


# ------------------------------------------------------------------------------------------ sampling


def _order_in_scope(session: Session, principal: Principal, order_id: int) -> TestOrder:
    order = session.get(TestOrder, order_id)
    if order is None or not path_in_scope(order.jpath, principal.jpath):
        raise NotFound(Message("test order {id} not found", id=order_id))
    return order


def barcode_of(barcode: str) -> str:
    """A tube barcode as typed or scanned, checked."""
    value = barcode.strip()
    if not value or len(value) > 40:
        raise InvalidInput(
            [RowError(0, "barcode", Message("a tube barcode of 1 to 40 characters is required"))]
        )
    return value


def single_tube(session: Session, barcode: str, jpath: str, at: dt.datetime) -> Tube:
    """The single tube with ``barcode`` (made if new); a barcode already on another tube is refused."""
    tube = session.scalar(select(Tube).where(Tube.barcode == barcode))
    if tube is None:
        tube = Tube(barcode=barcode, jpath=jpath, kind=TubeKind.single, pool_size=1, members=0, opened_at=at)
        session.add(tube)
        session.flush()
    elif tube.kind is not TubeKind.single or tube.members >= tube.pool_size:
        raise Conflict(Message("tube {barcode} is already used", barcode=barcode))
    return tube


def record_sample(
    session: Session, principal: Principal, order_id: int, barcode: str, *, at: dt.datetime | None = None
) -> OrderView:
    """A sampler took the ordered test in a single tube: the order is sampled, the tube holds the person."""
    order = _order_in_scope(session, principal, order_id)
    code = barcode_of(barcode)
    if order.state is OrderState.sampled and order.tube_barcode == code:
        return _view(order, "")  # the same sample sent again (a retried request) changes nothing
    if order.state is not OrderState.open:
        raise Conflict(
            Message(
                "test order {id} is {state}: it cannot be sampled",
                id=order_id,
                state=Message(order.state.value),
            )
        )
    when = at or utcnow()
    tube = single_tube(session, code, order.jpath, when)
    session.add(
        TubeMember(
            tube_id=tube.id,
            person_id=order.person_id,
            jpath=order.jpath,
            order_id=order.id,
            device_id=ORDER_DEVICE.format(id=order.id),
            device_seq=_samples_of(session, order.id) + 1,
            scanned_at=when,
        )
    )
    tube.members += 1
    order.state = OrderState.sampled
    order.tube_barcode = code
    order.sampled_at = when
    order.result = None
    order.resulted_at = None
    session.flush()
    audit.record(
        session,
        _actor(principal),
        "testing.order.sampled",
        "testing_order",
        order.id,
        detail={"barcode": code},
        jpath=order.jpath,
    )
    return _view(order, "")


def _samples_of(session: Session, order_id: int) -> int:
    return session.scalar(select(func.count()).where(TubeMember.order_id == order_id)) or 0


# ------------------------------------------------------------------------------------------ history


@dataclass(frozen=True)
class HistoryItem:
    """One test of a person: an ordered test, a round's pooled sample, or a recall retest."""

    kind: str  # "order" (a plan's test), "tube" (a round or a retest)
    due_date: dt.date | None
    source: str
    barcode: str | None
    tube_kind: TubeKind | None
    sampled_at: dt.datetime | None
    state: str
    result: TestResult | None
    resulted_at: dt.datetime | None
    order_id: int | None


def history_of(session: Session, principal: Principal, person_id: int) -> list[HistoryItem]:
    """Every test of a person, ordered or sampled, newest last."""
    person = session.get(Person, person_id)
    if person is None or not path_in_scope(person.jpath, principal.jpath):
        raise NotFound(Message("person {id} not found", id=person_id))
    items: list[HistoryItem] = []
    orders = session.scalars(select(TestOrder).where(TestOrder.person_id == person_id)).all()
    for order in orders:
        tube = (
            session.scalar(select(Tube).where(Tube.barcode == order.tube_barcode))
            if order.tube_barcode
            else None
        )
        items.append(
            HistoryItem(
                kind="order",
                due_date=order.due_date,
                source=order.source,
                barcode=order.tube_barcode,
                tube_kind=tube.kind if tube is not None else None,
                sampled_at=order.sampled_at,
                state=order.state.value,
                result=order.result,
                resulted_at=order.resulted_at,
                order_id=order.id,
            )
        )
    samples = session.execute(
        select(TubeMember, Tube)
        .join(Tube, Tube.id == TubeMember.tube_id)
        .where(TubeMember.person_id == person_id, TubeMember.order_id.is_(None))
    ).all()
    for member, tube in samples:
        items.append(
            HistoryItem(
                kind="tube",
                due_date=None,
                source=f"round:{member.round_id}" if member.round_id is not None else member.device_id,
                barcode=tube.barcode,
                tube_kind=tube.kind,
                sampled_at=member.scanned_at,
                state="resulted" if tube.result is not None else "sampled",
                result=tube.result,
                resulted_at=tube.resulted_at,
                order_id=None,
            )
        )
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    items.sort(key=lambda i: (i.sampled_at or far, i.due_date or dt.date.max))
    return items


# ------------------------------------------------------------------------------------------ release


def release_holds(session: Session, keys: Iterable[tuple[int, str]], on: dt.date) -> set[tuple[int, str]]:
    """The (person, plan source) pairs whose plan's last test, due by ``on``, has no negative result.

    A missing test holds release as surely as a positive one: the order may never have been sampled, its
    result may not be back, or the order may not exist at all (the plan is read, not the orders).
    """
    wanted = set(keys)
    if not wanted:
        return set()
    last_tests = {
        (t.person_id, t.source): t
        for t in planned_tests(session, WHOLE_TREE, person_ids={p for p, _ in wanted})
        if t.last_test and (t.person_id, t.source) in wanted and t.due <= on
    }
    if not last_tests:
        return set()
    negatives: set[tuple[int, str, int]] = set()
    people = sorted({p for p, _ in last_tests})
    for start in range(0, len(people), BATCH):
        rows = session.execute(
            select(TestOrder.person_id, TestOrder.source, TestOrder.plan_day).where(
                TestOrder.person_id.in_(people[start : start + BATCH]),
                TestOrder.result == TestResult.negative,
                TestOrder.state == OrderState.resulted,
            )
        )
        negatives.update((r.person_id, r.source, r.plan_day) for r in rows)
    return {key for key, test in last_tests.items() if (key[0], key[1], test.plan_day) not in negatives}


def test_outcomes(
    session: Session, keys: Iterable[tuple[int, str, dt.date]]
) -> dict[tuple[int, str, dt.date], str]:
    """What became of the ordered tests of (person, plan source, due day): ``negative``, ``positive``,
    ``invalid``, or ``pending`` (ordered, not resulted yet). A test never ordered (or cancelled) is absent,
    so a caller can tell "no result yet" (holds a release) from "not tested by this platform"."""
    wanted = set(keys)
    found: dict[tuple[int, str, dt.date], str] = {}
    people = sorted({person for person, _, _ in wanted})
    for start in range(0, len(people), BATCH):
        rows = session.execute(
            select(
                TestOrder.person_id, TestOrder.source, TestOrder.due_date, TestOrder.state, TestOrder.result
            ).where(
                TestOrder.person_id.in_(people[start : start + BATCH]),
                TestOrder.state != OrderState.cancelled,
            )
        )
        for row in rows:
            key = (row.person_id, row.source, row.due_date)
            if key in wanted:
                resulted = row.state == OrderState.resulted and row.result is not None
                found[key] = row.result.value if resulted else "pending"
    return found


@dataclass(frozen=True)
class Turnaround:
    """One sampled test: when it was sampled and when its result came (None: not yet)."""

    order_id: int
    person_id: int
    tube_barcode: str | None
    sampled_at: dt.datetime
    resulted_at: dt.datetime | None


def turnarounds(session: Session, scope_path: str) -> list[Turnaround]:
    """Every sampled test of the orders in scope, for turnaround measures (the drill's score)."""
    rows = session.execute(
        select(
            TestOrder.id,
            TestOrder.person_id,
            TestOrder.tube_barcode,
            TestOrder.sampled_at,
            TestOrder.resulted_at,
        )
        .where(under(TestOrder.jpath, scope_path), TestOrder.sampled_at.is_not(None))
        .order_by(TestOrder.id)
    )
    return [
        Turnaround(
            r.id,
            r.person_id,
            r.tube_barcode,
            as_utc(r.sampled_at),
            as_utc(r.resulted_at) if r.resulted_at else None,
        )
        for r in rows
    ]
