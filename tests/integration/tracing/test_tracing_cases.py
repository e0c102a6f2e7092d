"""Cases, exposures and contacts through the services: classification with reasons, plans, conversion."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from tracing_support import Tracing

from conftest import HOME_COUNTY, World
from fangkong.core import clock
from fangkong.core.errors import Conflict, DomainError, InvalidInput
from fangkong.core.events import PersonPlacedUnderManagement, PersonReleasedFromManagement
from fangkong.core.i18n import render_text
from fangkong.core.models import Person
from fangkong.tracing import clusters, service
from fangkong.tracing.models import (
    Case,
    CaseHistory,
    Certainty,
    ChainLink,
    Classification,
    Contact,
    ContactCategory,
    ContactStatus,
    UnidentifiedPerson,
)
from fangkong.tracing.persons import PersonInput

pytest_plugins = ["tracing_support"]  # the `tracing` fixture

ONSET = dt.date(2022, 7, 5)
ISOLATED = dt.datetime(2022, 7, 6, 10, 0)


def _case(tracing: Tracing, world: World, index: int = 0, **extra) -> int:
    person_id = world.people[HOME_COUNTY][index]
    with tracing.as_user("home_investigator") as (session, me):
        case = service.register_case(
            session,
            tracing.vault,
            tracing.bus,
            me,
            service.CaseInput(
                classification=extra.pop("classification", Classification.confirmed),
                person=PersonInput(id_number=world.id_numbers[person_id]),
                onset_date=extra.pop("onset", ONSET),
                isolated_at=extra.pop("isolated", ISOLATED),
                **extra,
            ),
        )
        return case.id


def _exposures(tracing: Tracing, case_id: int, lines: list[service.ExposureInput]) -> dict[str, Contact]:
    with tracing.as_user("home_investigator") as (session, me):
        contacts = service.add_exposures(session, tracing.vault, tracing.bus, me, case_id, lines)
        return {c.subject_key: c for c in contacts}


def test_a_case_links_to_the_registry_person_found_by_id_number(tracing: Tracing, world: World) -> None:
    case_id = _case(tracing, world)
    with tracing.as_user("home_investigator") as (session, me):
        case = session.get(Case, case_id)
        assert case.person_id == world.people[HOME_COUNTY][0]
        assert case.case_ref.startswith(f"{HOME_COUNTY}-")
        assert session.scalar(select(func.count()).select_from(UnidentifiedPerson)) == 0
        with pytest.raises(Conflict):
            service.register_case(
                session,
                tracing.vault,
                tracing.bus,
                me,
                service.CaseInput(
                    classification=Classification.confirmed,
                    person=PersonInput(id_number=world.id_numbers[case.person_id]),
                ),
            )


def test_a_new_resident_is_registered_and_a_stranger_kept_unidentified(
    tracing: Tracing, world: World
) -> None:
    from conftest import valid_id

    fresh = valid_id("330106", "19850304", 777)
    with tracing.as_user("home_investigator") as (session, me):
        before = session.scalar(select(func.count()).select_from(Person))
        resident = service.register_case(
            session,
            tracing.vault,
            tracing.bus,
            me,
            service.CaseInput(
                classification=Classification.asymptomatic,
                sampling_date=dt.date(2022, 7, 2),
                person=PersonInput(
                    id_number=fresh, name="赵六", community_code="330106001001", address="保俶路9号"
                ),
            ),
        )
        stranger = service.register_case(
            session,
            tracing.vault,
            tracing.bus,
            me,
            service.CaseInput(
                classification=Classification.suspected, person=PersonInput(name="钱七", phone="13900000001")
            ),
        )
        assert session.scalar(select(func.count()).select_from(Person)) == before + 1
        assert resident.person_id is not None
        assert stranger.person_id is None
        record = session.get(UnidentifiedPerson, stranger.unidentified_id)
        assert record.label == "钱*"
        assert record.phone_masked == "139****0001"
        assert tracing.vault.decrypt_person(record.pii).name == "钱七"


def test_exposures_become_contacts_with_the_classifiers_reasons(tracing: Tracing, world: World) -> None:
    case_id = _case(tracing, world)
    household = world.people[HOME_COUNTY][1]
    contacts = _exposures(
        tracing,
        case_id,
        [
            service.ExposureInput(
                "household",
                dt.datetime(2022, 7, 4, 19),
                person=PersonInput(id_number=world.id_numbers[household]),
            ),
            service.ExposureInput(
                "shared_meal",
                dt.datetime(2022, 7, 3, 12),
                end=dt.datetime(2022, 7, 3, 14),
                person=PersonInput(name="孙八", phone="13900000002"),
            ),
            service.ExposureInput(
                "bus",
                dt.datetime(2022, 7, 2, 8),
                distance_m=2.5,
                person=PersonInput(name="周九", phone="13900000003"),
            ),
            service.ExposureInput(
                "household",
                dt.datetime(2022, 6, 20, 19),
                person=PersonInput(name="吴十", phone="13900000004"),
            ),
        ],
    )
    by_category = {c.category: c for c in contacts.values()}
    close = contacts[f"p:{household}"]
    assert close.category is ContactCategory.close_contact
    assert "household exposure on 2022-07-04, inside the window 2022-07-01" in render_text(close.reason, None)
    general = render_text(by_category[ContactCategory.general_contact].reason, None)
    assert general.startswith("bus exposure on 2022-07-02")
    assert "2.5 m apart" in general
    outside = by_category[ContactCategory.not_a_contact]
    assert "outside the window" in render_text(outside.reason, None)
    assert outside.status is ContactStatus.dropped
    placed = [e for e in tracing.recorder.of(PersonPlacedUnderManagement) if e.source.startswith("contact:")]
    assert [(e.person_id, e.category, e.clock_date, e.source) for e in placed] == [
        (household, "close_contact", dt.date(2022, 7, 4), f"contact:{close.id}")
    ]


def test_contacts_are_reclassified_when_the_onset_moves(tracing: Tracing, world: World) -> None:
    case_id = _case(tracing, world)
    household = world.people[HOME_COUNTY][1]
    _exposures(
        tracing,
        case_id,
        [
            service.ExposureInput(
                "household",
                dt.datetime(2022, 6, 28, 19),
                person=PersonInput(id_number=world.id_numbers[household]),
            )
        ],
    )
    with tracing.as_user("home_investigator") as (session, me):
        contact = session.scalar(select(Contact).where(Contact.case_id == case_id))
        assert contact.category is ContactCategory.not_a_contact
        service.update_case(
            session, tracing.bus, me, case_id, service.CaseUpdate(onset_date=dt.date(2022, 7, 1))
        )
        session.refresh(contact)
        assert contact.category is ContactCategory.close_contact
        assert contact.status is ContactStatus.active
    placed = [e for e in tracing.recorder.of(PersonPlacedUnderManagement) if e.source.startswith("contact:")]
    assert [e.person_id for e in placed] == [household]


def test_asymptomatic_to_confirmed_keeps_the_history(tracing: Tracing, world: World) -> None:
    case_id = _case(
        tracing,
        world,
        classification=Classification.asymptomatic,
        onset=None,
        sampling_date=dt.date(2022, 7, 4),
    )
    with tracing.as_user("home_investigator") as (session, me):
        service.reclassify_case(session, tracing.bus, me, case_id, Classification.confirmed, "fever on day 3")
        with pytest.raises(DomainError):
            service.reclassify_case(session, tracing.bus, me, case_id, Classification.asymptomatic, "back")
    with tracing.as_user("home_investigator") as (session, _me):
        history = list(
            session.scalars(
                select(CaseHistory).where(CaseHistory.case_id == case_id).order_by(CaseHistory.id)
            )
        )
        assert [(h.from_classification, h.to_classification) for h in history] == [
            (None, Classification.asymptomatic),
            (Classification.asymptomatic, Classification.confirmed),
        ]
        assert history[1].reason == "fever on day 3"


def test_converting_a_contact_keeps_the_chain_and_promotes_its_contacts(
    tracing: Tracing, world: World
) -> None:
    index_id = _case(tracing, world)
    household, second = world.people[HOME_COUNTY][1], world.people[HOME_COUNTY][2]
    contacts = _exposures(
        tracing,
        index_id,
        [
            service.ExposureInput(
                "household",
                dt.datetime(2022, 7, 4, 19),
                person=PersonInput(id_number=world.id_numbers[household]),
            )
        ],
    )
    close = contacts[f"p:{household}"]
    ring = _exposures(
        tracing,
        index_id,
        [
            service.ExposureInput(
                "office",
                dt.datetime(2022, 7, 5, 9),
                end=dt.datetime(2022, 7, 5, 17),
                via_contact_id=close.id,
                person=PersonInput(id_number=world.id_numbers[second]),
            )
        ],
    )
    assert ring[f"p:{second}"].category is ContactCategory.contact_of_contact
    assert ring[f"p:{second}"].via_contact_id == close.id
    with tracing.as_user("home_investigator") as (session, me):
        new = service.convert_contact(
            session, tracing.bus, me, close.id, Classification.confirmed, sampling_date=dt.date(2022, 7, 7)
        )
        new_id = new.id
        assert new.found_under_management is True
        assert new.source_contact_id == close.id
    with tracing.as_user("home_investigator") as (session, _me):
        link = session.scalar(select(ChainLink).where(ChainLink.infectee_case_id == new_id))
        assert (link.infector_case_id, link.certainty) == (index_id, Certainty.probable)
        converted = session.get(Contact, close.id)
        assert (converted.status, converted.converted_case_id) == (ContactStatus.converted, new_id)
        promoted = session.scalar(
            select(Contact).where(Contact.case_id == new_id, Contact.subject_key == f"p:{second}")
        )
        assert promoted.category is ContactCategory.close_contact
        old = session.get(Contact, ring[f"p:{second}"].id)
        assert old.status is ContactStatus.superseded
        assert session.get(Case, index_id).cluster_id == session.get(Case, new_id).cluster_id == index_id
    released = [e.source for e in tracing.recorder.of(PersonReleasedFromManagement)]
    assert f"contact:{close.id}" in released
    assert f"contact:{ring[f'p:{second}'].id}" in released


def test_a_positive_found_among_managed_contacts_counts_in_the_kpi(tracing: Tracing, world: World) -> None:
    index_id = _case(tracing, world)
    household = world.people[HOME_COUNTY][1]
    _exposures(
        tracing,
        index_id,
        [
            service.ExposureInput(
                "household",
                dt.datetime(2022, 7, 4, 19),
                person=PersonInput(id_number=world.id_numbers[household]),
            )
        ],
    )
    later = _case(
        tracing,
        world,
        index=1,
        onset=dt.date(2022, 7, 7),
        isolated=dt.datetime(2022, 7, 7, 12),
        sampling_date=dt.date(2022, 7, 7),
    )
    unrelated = _case(
        tracing,
        world,
        index=2,
        onset=dt.date(2022, 7, 6),
        isolated=dt.datetime(2022, 7, 6, 12),
        sampling_date=dt.date(2022, 7, 6),
    )
    with tracing.as_user("home_investigator") as (session, me):
        assert session.get(Case, later).found_under_management is True
        assert session.get(Case, unrelated).found_under_management is False
        today = clock.today()
        k = clusters.kpis(session, me, today - dt.timedelta(days=1), today)
        assert (k.new_cases, k.found_under_management, k.no_known_source) == (3, 1, 2)
        assert k.managed_share == round(1 / 3, 3)
        assert (k.clusters, k.largest_cluster) == (1, 2)


def test_removing_a_link_splits_the_cluster(tracing: Tracing, world: World) -> None:
    a, b, c = (_case(tracing, world, index=i) for i in range(3))
    with tracing.as_user("home_investigator") as (session, me):
        service.add_link(session, me, a, b, Certainty.confirmed)
        link = service.add_link(session, me, b, c, Certainty.possible)
        assert {session.get(Case, x).cluster_id for x in (a, b, c)} == {a}
        with pytest.raises(Conflict):
            service.add_link(session, me, c, b, Certainty.possible)
        service.remove_link(session, me, link.id)
        assert [session.get(Case, x).cluster_id for x in (a, b, c)] == [a, a, c]


def test_bad_lines_name_the_row_and_write_nothing(tracing: Tracing, world: World) -> None:
    case_id = _case(tracing, world)
    with tracing.as_user("home_investigator") as (session, me), pytest.raises(InvalidInput) as caught:
        service.add_exposures(
            session,
            tracing.vault,
            tracing.bus,
            me,
            case_id,
            [
                service.ExposureInput("household", dt.datetime(2022, 7, 4), person=PersonInput(name="甲")),
                service.ExposureInput("sauna", dt.datetime(2022, 7, 4), person=PersonInput(name="乙")),
                service.ExposureInput(
                    "office",
                    dt.datetime(2022, 7, 4, 18),
                    end=dt.datetime(2022, 7, 4, 9),
                    person=PersonInput(name="丙"),
                ),
            ],
        )
    assert [(e.row, e.field) for e in caught.value.errors] == [(2, "setting"), (3, "end")]
    with tracing.as_user("home_investigator") as (session, _me):
        assert session.scalar(select(func.count()).select_from(Contact)) == 0


def test_removing_the_last_exposure_drops_the_contact_and_releases_the_plan(
    tracing: Tracing, world: World
) -> None:
    case_id = _case(tracing, world)
    household = world.people[HOME_COUNTY][1]
    person = PersonInput(id_number=world.id_numbers[household])
    contacts = _exposures(
        tracing, case_id, [service.ExposureInput("household", dt.datetime(2022, 7, 4, 19), person=person)]
    )
    contact = contacts[f"p:{household}"]
    with tracing.as_user("home_investigator") as (session, me):
        (exposure,) = service.exposures_of(session, me, case_id)
        service.remove_exposure(session, tracing.bus, me, exposure.id)
    with tracing.as_user("home_investigator") as (session, _me):
        dropped = session.get(Contact, contact.id)
        assert (dropped.status, dropped.reason) == (
            ContactStatus.dropped,
            "no exposure to this case is left on record",
        )
    released = [e.source for e in tracing.recorder.of(PersonReleasedFromManagement)]
    assert released == [f"contact:{contact.id}"]
