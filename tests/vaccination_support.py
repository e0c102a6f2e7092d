"""Helpers of the outreach and AEFI tests (no tests here): elderly people added to the seeded world,
doses written straight into the capability's table, status rows from ``service.status.evaluate`` or
typed in where a test needs one exact state, and acting as a seeded user."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import World, valid_id
from fangkong.core import people
from fangkong.core.auth import Principal, principal_for
from fangkong.core.crypto import Vault
from fangkong.core.events import EventBus
from fangkong.core.models import Person, User
from fangkong.vaccination.models import Dose, DoseKind, Platform, StatusState, VaccinationStatus

HOME_A = "330106001001"  # 保俶社区
HOME_B = "330106001002"  # 宝石社区
FOREIGN = "330203001001"  # 南门社区


@contextmanager
def as_user(app: Any, username: str) -> Iterator[tuple[Session, Principal]]:
    with app.state.db.unit_of_work() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        yield session, principal_for(session, user, "token")


def vault_of(app: Any) -> Vault:
    settings = app.state.settings
    return Vault(settings.encryption_key, settings.hash_key)


def add_person(app: Any, world: World, community: str, birth: str, name: str = "赵大爷") -> int:
    """Register one person born on ``birth`` (YYYYMMDD) in ``community``; returns their id."""
    with as_user(app, "province_admin") as (session, admin):
        id_number = valid_id(community[:6], birth, 500 + len(world.id_numbers))
        view = people.register(
            session,
            vault_of(app),
            EventBus(),
            admin,
            {
                "id_number": id_number,
                "name": name,
                "phone": f"1390013{len(world.id_numbers):04d}",
                "community_code": community,
                "address": f"{community} 长寿路1号",
            },
        )
        world.id_numbers[view.id] = id_number
        return view.id


def give_doses(
    session: Session, person_id: int, days: list[dt.date], *, product: str = "北京生物", lot: str = "L1"
) -> list[int]:
    """Doses 1..n of an inactivated vaccine on these days (primary, primary, booster, ...)."""
    person = session.get(Person, person_id)
    assert person is not None
    kinds = [DoseKind.primary, DoseKind.primary, DoseKind.booster, DoseKind.second_booster]
    ids = []
    for number, day in enumerate(days, start=1):
        dose = Dose(
            person_id=person_id,
            jpath=person.jpath,
            product=product,
            platform=Platform.inactivated,
            dose_number=number,
            kind=kinds[min(number, 4) - 1],
            given_on=day,
            site="保俶社区卫生服务站",
            lot=lot,
            source="test",
        )
        session.add(dose)
        session.flush()
        ids.append(dose.id)
    return ids


def set_status(
    session: Session,
    person_id: int,
    state: StatusState,
    *,
    due_on: dt.date | None = None,
    next_kind: DoseKind | None = None,
    contraindication: Any = None,
) -> None:
    """One status row typed in (a test that needs an exact state the rules would take doses to reach)."""
    person = session.get(Person, person_id)
    assert person is not None
    row = session.get(VaccinationStatus, person_id)
    if row is None:
        row = VaccinationStatus(person_id=person_id)
        session.add(row)
    row.jpath = person.jpath
    row.birth_date = person.birth_date
    row.state = state
    row.doses = 0 if state is StatusState.unvaccinated else 2
    row.next_kind = next_kind
    row.due_on = due_on
    row.contraindication = contraindication
    row.rules_version = "test"
    session.flush()


def seed_vaccination_foreign(app: Any, world: World) -> dict[str, str]:
    """An AEFI card in the foreign county (海曙区), for the authorization matrix's ``aefi_id``; the
    foreign person of ``person_id`` serves the outreach routes as they are."""
    from conftest import FOREIGN_COUNTY
    from fangkong.vaccination.models import AefiOutcome, Severity
    from fangkong.vaccination.service import aefi

    given = dt.date(2022, 12, 1)
    with app.state.db.unit_of_work() as session:
        (dose_id,) = give_doses(session, world.people[FOREIGN_COUNTY][0], [given], lot="NB-1")
    with as_user(app, "away_community_worker") as (session, away):
        event = aefi.report(
            session, away, EventBus(), dose_id, given, "发热", Severity.mild, AefiOutcome.recovered, False
        )
        return {"aefi_id": str(event.id)}
