"""Builders shared by the testing capability's tests (a module beside conftest, imported by the tests).

Each helper appends its builders at the end of this file.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import HOME_COUNTY, World
from fangkong.core.auth import Principal, principal_for
from fangkong.core.config import Settings
from fangkong.core.db import Database
from fangkong.core.events import EventBus, PersonPlacedUnderManagement
from fangkong.core.models import Person, User
from fangkong.testing.models import Tube, TubeKind
from fangkong.testing.rules.codes import ScanCodes
from fangkong.testing.service.scanning import Scan
from fangkong.wiring import build_bus

# The order handlers, the tube builder and the state snapshot (TEST-ORDERS) are in a module the crash
# test's subprocess imports without pytest's conftest.
from testing_orders_support import insert_tube, state_snapshot, with_order_handlers  # noqa: F401

# --- regional rounds, scanning and coverage (TEST-ROUNDS) -------------------------------------------------

HOME_COMMUNITIES = ("330106001001", "330106001002")


@contextmanager
def acting_as(db: Database, username: str) -> Iterator[tuple[Session, Principal]]:
    """A unit of work and the principal of a seeded user (``home_testing_coordinator`` ...)."""
    with db.unit_of_work() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None, username
        yield session, principal_for(session, user, "token")


def scan_codes(settings: Settings) -> ScanCodes:
    return ScanCodes(settings.hash_key)


def home_round(
    db: Database, world: World, *, sealed: tuple[str, ...] = (), pool_size: int = 5
) -> tuple[int, int]:
    """A campaign over the home county's two communities (three residents each) and its first round:
    (campaign id, round id), opened by the home testing coordinator."""
    from fangkong.testing.service import rounds

    with acting_as(db, "home_testing_coordinator") as (session, me):
        campaign = rounds.create_campaign(
            session,
            me,
            name="西湖区全员核酸",
            areas=[world.jurisdictions[c] for c in HOME_COMMUNITIES],
            sealed=[world.jurisdictions[c] for c in sealed],
            pool_size=pool_size,
        )
        opened = rounds.open_round(session, me, campaign.id)
        return campaign.id, opened.id


def home_people(world: World) -> list[int]:
    """The home county's residents: three in each home community, in community order; within each the
    first and third share a household (幸福路1号) and the second lives alone (幸福路2号)."""
    return list(world.people[HOME_COUNTY])


def make_scan(
    codes: ScanCodes,
    person: int,
    barcode: str,
    seq: int,
    *,
    round_id: int,
    device: str = "pda-01",
    at: dt.datetime | None = None,
    **extra: object,
) -> Scan:
    from fangkong.core.clock import utcnow

    return Scan(
        device_id=device,
        device_seq=seq,
        round_id=round_id,
        barcode=barcode,
        person_code=codes.code_for(person),
        scanned_at=at or utcnow(),
        **extra,  # type: ignore[arg-type]
    )


# --- test orders, lab results and recalls (TEST-ORDERS) ---------------------------------------------------

# The results file's header, as the lab template writes it.
RESULT_HEADER = ("条码", "结果", "Ct ORF1ab", "Ct N", "检测时间")


def bus_with_orders() -> EventBus:
    """The wired bus, with testing's order handlers subscribed if ``wiring`` does not list them yet."""
    return with_order_handlers(build_bus())


def jpath_of(session: Session, person_id: int) -> str:
    person = session.get(Person, person_id)
    assert person is not None
    return person.jpath


def place(
    session: Session,
    bus: EventBus,
    person_id: int,
    category: str,
    clock_date: dt.date,
    source: str,
    clock_event: str = "last_exposure",
) -> None:
    """Put a person under a plan, as tracing or arrivals would (the protocol handler makes the plan)."""
    bus.publish(
        session,
        PersonPlacedUnderManagement(
            person_id=person_id,
            jpath=jpath_of(session, person_id),
            category=category,
            clock_date=clock_date,
            source=source,
            clock_event=clock_event,
        ),
    )


def pooled_tube(
    session: Session,
    barcode: str,
    person_ids: Sequence[int],
    *,
    scanned_at: dt.datetime,
    pool_size: int = 10,
    kind: TubeKind = TubeKind.pooled,
    device: str = "handheld-1",
    first_seq: int = 1,
) -> Tube:
    """A tube with these people's samples, inserted directly (as the scanner would bind them)."""
    return insert_tube(session, barcode, person_ids, scanned_at, pool_size, kind, device, first_seq)


def write_results(
    path: Path, rows: Sequence[Sequence[object]], header: Sequence[str] = RESULT_HEADER
) -> Path:
    """A lab's results file (CSV, UTF-8 with BOM as Excel saves it)."""
    with path.open("w", newline="", encoding="utf-8-sig") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# --- foreign objects for the authorization matrix (TEST-API) ----------------------------------------------


def seed_testing_foreign(app: object, world: World) -> dict[str, str]:
    """A campaign, its open round and sampling site over 南门社区 (foreign), a test order, a pooled tube and
    the recall of one of its members there, so that every testing route with one of these path parameters
    can be tried from the home county (the authorization matrix)."""
    from conftest import FOREIGN_COUNTY
    from fangkong.core.clock import today, utcnow
    from fangkong.testing.models import Recall, TestOrder, TestPlace
    from fangkong.testing.service import rounds

    db: Database = app.state.db  # type: ignore[attr-defined]
    person = world.people[FOREIGN_COUNTY][0]
    with acting_as(db, "away_testing_coordinator") as (session, me):
        campaign = rounds.create_campaign(
            session, me, name="海曙区全员核酸", areas=[world.jurisdictions["330203001001"]], pool_size=10
        )
        opened = rounds.open_round(session, me, campaign.id)
        (site, *_others) = rounds.set_up_sites(session, me, opened.id)
        jpath = jpath_of(session, person)
        order = TestOrder(
            person_id=person,
            jpath=jpath,
            source="contact:9001",
            plan_day=1,
            due_date=today(),
            place=TestPlace.home,
        )
        session.add(order)
        tube = pooled_tube(session, "AWAY-P-1", [person], scanned_at=utcnow(), device="away-pda")
        recall = Recall(
            tube_id=tube.id, person_id=person, jpath=jpath, flagged_at=utcnow(), deadline_at=utcnow()
        )
        session.add(recall)
        session.flush()
        return {
            "campaign_id": str(campaign.id),
            "round_id": str(opened.id),
            "site_id": str(site.id),
            "order_id": str(order.id),
            "tube_id": str(tube.id),
            "recall_id": str(recall.id),
        }
