"""Helpers of the protocol switch tests (integration and browser): a case with contacts in and out of
the people registry, made through tracing's services as an investigator of the seeded world."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import HOME_COUNTY, World
from fangkong.core.auth import Principal, principal_for
from fangkong.core.crypto import Vault
from fangkong.core.models import User
from fangkong.tracing import service
from fangkong.tracing.models import Classification
from fangkong.tracing.persons import PersonInput
from fangkong.wiring import build_bus


@contextmanager
def _as(app, username: str) -> Iterator[tuple[Session, Principal]]:  # type: ignore[no-untyped-def]
    with app.state.db.unit_of_work() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        yield session, principal_for(session, user, "token")


def seed_contacts(app, world: World, settings) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """A case in 西湖区 with a close contact known by name and phone only (no registry person) and,
    through them, a contact of a contact who is a registry person; the exposures two days ago."""
    vault = Vault(settings.encryption_key, settings.hash_key)
    bus = build_bus()
    people = world.people[HOME_COUNTY]
    with _as(app, "home_investigator") as (session, me):
        case = service.register_case(
            session,
            vault,
            bus,
            me,
            service.CaseInput(
                classification=Classification.confirmed,
                person=PersonInput(id_number=world.id_numbers[people[0]]),
                onset_date=dt.date(2026, 12, 5),
                isolated_at=dt.datetime(2026, 12, 6, 10),
            ),
        )
        case_id = case.id
    with _as(app, "home_investigator") as (session, me):
        (close,) = service.add_exposures(
            session,
            vault,
            bus,
            me,
            case_id,
            [
                service.ExposureInput(
                    "household",
                    dt.datetime(2026, 12, 5, 19),
                    person=PersonInput(name="张三", phone="13900000002"),
                )
            ],
        )
        assert close.person_id is None and close.category.value == "close_contact"
        close_id = close.id
    with _as(app, "home_investigator") as (session, me):
        (second,) = service.add_exposures(
            session,
            vault,
            bus,
            me,
            case_id,
            [
                service.ExposureInput(
                    "office",
                    dt.datetime(2026, 12, 6, 9),
                    end=dt.datetime(2026, 12, 6, 17),
                    via_contact_id=close_id,
                    person=PersonInput(id_number=world.id_numbers[people[2]]),
                )
            ],
        )
        assert second.person_id == people[2] and second.category.value == "contact_of_contact"
        return {"close": close_id, "second": second.id, "second_person": people[2]}
