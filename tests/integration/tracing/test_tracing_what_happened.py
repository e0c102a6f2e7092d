"""What already happened stays true: a contact isolated in quarantine who turns positive was isolated
from then on, impossible case facts are refused with the field named, a case's person is found in the
registry by full ID number, a mistyped assist receiver is refused, and an epidemic curve has every day."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select
from tracing_support import Tracing

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World, valid_id
from fangkong.core import clock, people
from fangkong.core.errors import InvalidInput
from fangkong.tracing import assist, clusters, service
from fangkong.tracing.models import AssistRequest, Case, Classification, ContactCategory, ContactStatus
from fangkong.tracing.persons import PersonInput

pytest_plugins = ["tracing_support"]  # the `tracing` fixture


def _at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """A local wall-clock moment as the aware UTC instant the clock is set to."""
    return clock.from_local(dt.datetime(year, month, day, hour, minute))


def _index_case(tracing: Tracing, world: World) -> int:
    with tracing.as_user("home_investigator") as (session, me):
        return service.register_case(
            session,
            tracing.vault,
            tracing.bus,
            me,
            service.CaseInput(
                classification=Classification.confirmed,
                person=PersonInput(id_number=world.id_numbers[world.people[HOME_COUNTY][0]]),
                onset_date=dt.date(2026, 12, 4),
                isolated_at=dt.datetime(2026, 12, 5, 10, 0),
            ),
        ).id


def _household_contact(tracing: Tracing, world: World, case_id: int) -> int:
    """The index case's husband, exposed at home until her isolation: a close contact from 12-05."""
    with tracing.as_user("home_investigator") as (session, me):
        (contact,) = service.add_exposures(
            session,
            tracing.vault,
            tracing.bus,
            me,
            case_id,
            [
                service.ExposureInput(
                    "household",
                    dt.datetime(2026, 12, 5, 8, 0),
                    person=PersonInput(id_number=world.id_numbers[world.people[HOME_COUNTY][1]]),
                )
            ],
        )
        assert contact.category is ContactCategory.close_contact
        return contact.id


def _exposures_to(tracing: Tracing, case_id: int) -> dict[str, ContactCategory]:
    """Two people exposed to the new case: one the evening before her quarantine, one in it."""
    with tracing.as_user("home_investigator") as (session, me):
        contacts = service.add_exposures(
            session,
            tracing.vault,
            tracing.bus,
            me,
            case_id,
            [
                service.ExposureInput(
                    "shared_meal",
                    dt.datetime(2026, 12, 5, 19, 0),
                    end=dt.datetime(2026, 12, 5, 21, 0),
                    person=PersonInput(name="陈一", phone="13700000031"),
                ),
                service.ExposureInput(
                    "shared_meal",
                    dt.datetime(2026, 12, 7, 12, 0),
                    end=dt.datetime(2026, 12, 7, 13, 0),
                    person=PersonInput(name="林二", phone="13700000032"),
                ),
            ],
        )
        return {r.label: r.category for r in service.contact_rows(session, me, contacts)}


def test_a_quarantined_contact_who_turns_positive_was_isolated_since_her_quarantine(
    tracing: Tracing, world: World, frozen_clock: clock.FrozenClock
) -> None:
    frozen_clock.set(_at(2026, 12, 6, 9, 30))
    case_id = _index_case(tracing, world)
    contact_id = _household_contact(tracing, world, case_id)
    frozen_clock.set(_at(2026, 12, 8, 10, 0))
    with tracing.as_user("home_investigator") as (session, me):
        converted = service.convert_contact(
            session,
            tracing.bus,
            me,
            contact_id,
            Classification.asymptomatic,
            sampling_date=dt.date(2026, 12, 8),
        )
        # Her centralized quarantine began on 12-06 (day 1 after the exposure of 12-05), and not before
        # she was on record that morning.
        assert clock.as_local(converted.isolated_at).replace(microsecond=0) == dt.datetime(2026, 12, 6, 9, 30)
        new_case = converted.id
    assert _exposures_to(tracing, new_case) == {
        "陈*": ContactCategory.close_contact,
        "林*": ContactCategory.not_a_contact,
    }


def test_reporting_a_quarantined_contact_as_a_case_keeps_her_isolation(
    tracing: Tracing, world: World, frozen_clock: clock.FrozenClock
) -> None:
    frozen_clock.set(_at(2026, 12, 6, 9, 30))
    case_id = _index_case(tracing, world)
    _household_contact(tracing, world, case_id)
    frozen_clock.set(_at(2026, 12, 8, 10, 0))
    with tracing.as_user("home_investigator") as (session, me):
        reported = service.register_case(
            session,
            tracing.vault,
            tracing.bus,
            me,
            service.CaseInput(
                classification=Classification.asymptomatic,
                person=PersonInput(id_number=world.id_numbers[world.people[HOME_COUNTY][1]]),
                sampling_date=dt.date(2026, 12, 8),
            ),
        )
        assert reported.found_under_management
        assert clock.as_local(reported.isolated_at).replace(microsecond=0) == dt.datetime(2026, 12, 6, 9, 30)
        new_case = reported.id
    assert _exposures_to(tracing, new_case)["林*"] is ContactCategory.not_a_contact


def test_a_contact_released_before_testing_positive_was_not_isolated(
    tracing: Tracing, world: World, frozen_clock: clock.FrozenClock
) -> None:
    frozen_clock.set(_at(2026, 12, 6, 9, 30))
    case_id = _index_case(tracing, world)
    contact_id = _household_contact(tracing, world, case_id)
    # Weeks later, long after her plan ended, she is found positive: nothing isolated her then.
    frozen_clock.set(_at(2027, 1, 20, 10, 0))
    with tracing.as_user("home_investigator") as (session, me):
        converted = service.convert_contact(
            session, tracing.bus, me, contact_id, Classification.confirmed, onset_date=dt.date(2027, 1, 19)
        )
        assert converted.isolated_at is None


# ------------------------------------------------------------------------------------ impossible facts


def _report(tracing: Tracing, **fields) -> Case:  # type: ignore[no-untyped-def]
    with tracing.as_user("home_investigator") as (session, me):
        return service.register_case(
            session,
            tracing.vault,
            tracing.bus,
            me,
            service.CaseInput(
                classification=fields.pop("classification", Classification.confirmed),
                person=fields.pop("person", PersonInput(name="钱七", phone="13900000001")),
                **fields,
            ),
        )


def _fields(excinfo: pytest.ExceptionInfo[InvalidInput]) -> set[str]:
    return {e.field for e in excinfo.value.errors}


def test_a_community_or_residence_that_does_not_exist_is_refused(tracing: Tracing, world: World) -> None:
    with pytest.raises(InvalidInput) as bad_community:
        _report(tracing, person=PersonInput(name="钱七", community_code="330106999999", address="保俶路1号"))
    assert _fields(bad_community) == {"community_code"}
    assert "330106999999" in bad_community.value.errors[0].message
    with pytest.raises(InvalidInput) as not_a_community:
        _report(tracing, person=PersonInput(name="钱七", community_code="330106001", address="保俶路1号"))
    assert _fields(not_a_community) == {"community_code"}
    with pytest.raises(InvalidInput) as bad_residence:
        _report(tracing, person=PersonInput(name="钱七", residence_code="330299"))
    assert _fields(bad_residence) == {"residence_code"}
    with tracing.as_user("home_investigator") as (session, _me):
        assert session.scalar(select(Case.id)) is None


def test_a_diagnosis_before_onset_or_sampling_is_refused(tracing: Tracing, world: World) -> None:
    with pytest.raises(InvalidInput) as before_onset:
        _report(tracing, onset_date=dt.date(2026, 12, 4), diagnosis_date=dt.date(2026, 12, 2))
    assert _fields(before_onset) == {"diagnosis_date"}
    with pytest.raises(InvalidInput) as before_sample:
        _report(tracing, sampling_date=dt.date(2026, 12, 5), diagnosis_date=dt.date(2026, 12, 4))
    assert _fields(before_sample) == {"diagnosis_date"}
    # An infection found by screening before any symptom: onset after the diagnosis is possible.
    screened = _report(
        tracing,
        classification=Classification.asymptomatic,
        sampling_date=dt.date(2026, 12, 3),
        diagnosis_date=dt.date(2026, 12, 4),
        onset_date=dt.date(2026, 12, 6),
    )
    case = _report(
        tracing,
        person=PersonInput(name="孙八", phone="13900000002"),
        onset_date=dt.date(2026, 12, 3),
        sampling_date=dt.date(2026, 12, 4),
        diagnosis_date=dt.date(2026, 12, 4),
    )
    with tracing.as_user("home_investigator") as (session, me), pytest.raises(InvalidInput) as corrected:
        # A correction is checked against the dates the case already has.
        service.update_case(
            session, tracing.bus, me, case.id, service.CaseUpdate(onset_date=dt.date(2026, 12, 5))
        )
    assert _fields(corrected) == {"diagnosis_date"}
    assert screened.diagnosis_date == dt.date(2026, 12, 4)


def test_the_case_of_a_new_resident_is_found_in_the_registry_by_id_number(
    tracing: Tracing, world: World
) -> None:
    fresh = valid_id("330106", "19850304", 771)
    person = PersonInput(id_number=fresh, name="赵六", community_code="330106001001")
    # Living in a community here but without an address, they could not be registered: say so.
    with pytest.raises(InvalidInput) as missing:
        _report(tracing, person=person)
    assert _fields(missing) == {"address"}
    case = _report(tracing, person=dataclasses.replace(person, address="保俶路9号"))
    full_width = fresh.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    with tracing.as_user("home_community_worker") as (session, worker):
        for typed in (fresh, full_width, f" {fresh[:6]} {fresh[6:]} "):
            found = people.search(session, tracing.vault, worker, typed)
            assert [(p.id, p.name) for p in found.items] == [(case.person_id, "赵*")], typed


def test_a_person_traced_by_id_number_is_one_person_when_reported_as_a_case(
    tracing: Tracing, world: World
) -> None:
    fresh = valid_id("330106", "19900101", 772)
    case_id = _index_case(tracing, world)
    with tracing.as_user("home_investigator") as (session, me):
        (contact,) = service.add_exposures(
            session,
            tracing.vault,
            tracing.bus,
            me,
            case_id,
            [
                service.ExposureInput(
                    "household", dt.datetime(2026, 12, 5, 8), person=PersonInput(id_number=fresh)
                )
            ],
        )
        assert contact.unidentified_id is not None
    with tracing.as_user("home_investigator") as (session, me):
        reported = service.register_case(
            session,
            tracing.vault,
            tracing.bus,
            me,
            service.CaseInput(
                classification=Classification.asymptomatic,
                person=PersonInput(
                    id_number=fresh, name="吴九", community_code="330106001002", address="宝石路1号"
                ),
                sampling_date=dt.date(2026, 12, 6),
            ),
        )
        assert reported.person_id is not None
        found = people.search(session, tracing.vault, me, fresh)
        assert [p.id for p in found.items] == [reported.person_id]
        (row,) = service.list_contacts(session, me, service.ContactFilter(case_id=case_id, status=None)).items
        # The contact traced under the ID number became this case, found while under management.
        assert (row.status, row.converted_case_id) == (ContactStatus.converted, reported.id)
        assert reported.found_under_management


# ------------------------------------------------------------------------------------ assist requests


def test_a_mistyped_receiver_is_refused_not_replaced(tracing: Tracing, world: World) -> None:
    case_id = _index_case(tracing, world)
    with tracing.as_user("home_investigator") as (session, me):
        (contact,) = service.add_exposures(
            session,
            tracing.vault,
            tracing.bus,
            me,
            case_id,
            [
                service.ExposureInput(
                    "household",
                    dt.datetime(2026, 12, 5, 8),
                    person=PersonInput(name="张伟", phone="13800130099", residence_code=FOREIGN_COUNTY),
                )
            ],
        )
        contact_id = contact.id
    with tracing.as_user("home_investigator") as (session, me), pytest.raises(InvalidInput) as typo:
        assist.send(session, tracing.vault, tracing.bus, me, contact_id, "330299", "请协查")
    assert _fields(typo) == {"receiver_code"}
    with tracing.as_user("home_investigator") as (session, me):
        assert session.scalar(select(AssistRequest.id)) is None
        sent = assist.send(session, tracing.vault, tracing.bus, me, contact_id, "", "请协查")
        shown = assist.get(session, me, sent.id)
        assert (shown.box, shown.message, shown.person_label) == ("sent", "请协查", "张*")


# ------------------------------------------------------------------------------------ epidemic curve


def test_the_chain_timeline_has_every_day_between_its_cases(tracing: Tracing, world: World) -> None:
    case_id = _index_case(tracing, world)
    contact_id = _household_contact(tracing, world, case_id)
    with tracing.as_user("home_investigator") as (session, me):
        second = service.convert_contact(
            session, tracing.bus, me, contact_id, Classification.confirmed, onset_date=dt.date(2026, 12, 7)
        )
        view = clusters.chain_view(session, me, second.cluster_id)
    dates = [dt.date.fromisoformat(d) for d in view["timeline"]["dates"]]
    assert dates[0] == dt.date(2026, 12, 4) and dates[-1] == dt.date(2026, 12, 7)
    assert dates == [dates[0] + dt.timedelta(days=i) for i in range(len(dates))]
    totals = [sum(series[i] for series in view["timeline"]["series"].values()) for i in range(len(dates))]
    assert totals == [1, 0, 0, 1]


def test_a_quarantined_close_contacts_own_contacts_were_exposed_only_until_her_quarantine(
    tracing: Tracing, world: World, frozen_clock: clock.FrozenClock
) -> None:
    frozen_clock.set(_at(2026, 12, 6, 9, 30))
    case_id = _index_case(tracing, world)
    contact_id = _household_contact(tracing, world, case_id)
    frozen_clock.set(_at(2026, 12, 8, 10, 0))
    with tracing.as_user("home_investigator") as (session, me):
        contacts = service.add_exposures(
            session,
            tracing.vault,
            tracing.bus,
            me,
            case_id,
            [
                service.ExposureInput(
                    "household",
                    dt.datetime(2026, 12, 5, 19, 0),
                    person=PersonInput(name="陈一", phone="13700000031"),
                    via_contact_id=contact_id,
                ),
                service.ExposureInput(
                    "household",
                    dt.datetime(2026, 12, 7, 19, 0),
                    person=PersonInput(name="林二", phone="13700000032"),
                    via_contact_id=contact_id,
                ),
            ],
        )
        rows = {r.label: r for r in service.contact_rows(session, me, contacts)}
    assert rows["陈*"].category is ContactCategory.contact_of_contact
    assert rows["林*"].category is ContactCategory.not_a_contact
    # The close contact she was exposed through is named as every list names her, not by a row id.
    assert rows["陈*"].via_label == "王*"
    assert "王*" in rows["陈*"].reason
    assert f"contact {contact_id}" not in rows["陈*"].reason
