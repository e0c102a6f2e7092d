"""Daily case counts: by report day (local) and by onset day, zero-filled, counting confirmed and
asymptomatic cases only, limited to the subtree asked for; and the Rt page reading them."""

from __future__ import annotations

import datetime as dt

from tracing_support import Tracing

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World
from fangkong.core import clock
from fangkong.tracing import service
from fangkong.tracing.models import Classification
from fangkong.tracing.persons import PersonInput

pytest_plugins = ["tracing_support"]  # the `tracing` fixture

DAY = dt.date(2026, 12, 1)


def _report(
    tracing: Tracing,
    world: World,
    user: str,
    county: str,
    index: int,
    classification: Classification,
    reported: dt.datetime,
    onset: dt.date | None,
    imported: bool = False,
) -> None:
    person_id = world.people[county][index]
    with tracing.as_user(user) as (session, me):
        service.register_case(
            session,
            tracing.vault,
            tracing.bus,
            me,
            service.CaseInput(
                classification=classification,
                person=PersonInput(id_number=world.id_numbers[person_id]),
                onset_date=onset,
                reported_at=reported,
                imported=imported,
            ),
        )


def test_counts_by_report_and_onset_day(tracing: Tracing, world: World) -> None:
    # Local wall-clock times: 23:30 on the 1st and 00:30 on the 2nd fall on different local days even
    # though both are on the 1st in UTC.
    _report(tracing, world, "home_investigator", HOME_COUNTY, 0, Classification.confirmed,
            dt.datetime(2026, 12, 1, 23, 30), DAY - dt.timedelta(days=2))  # fmt: skip
    _report(tracing, world, "home_investigator", HOME_COUNTY, 1, Classification.asymptomatic,
            dt.datetime(2026, 12, 2, 0, 30), None, imported=True)  # fmt: skip
    _report(tracing, world, "home_investigator", HOME_COUNTY, 2, Classification.suspected,
            dt.datetime(2026, 12, 2, 9, 0), DAY)  # fmt: skip
    _report(tracing, world, "away_investigator", FOREIGN_COUNTY, 0, Classification.confirmed,
            dt.datetime(2026, 12, 2, 9, 0), DAY)  # fmt: skip
    home = "/330000/330100/330106/"
    first, last = DAY - dt.timedelta(days=3), DAY + dt.timedelta(days=2)
    with tracing.app.state.db.unit_of_work() as session:  # type: ignore[attr-defined]
        by_report = service.daily_case_counts(session, home, first, last)
        by_onset = service.daily_case_counts(session, home, first, last, by="onset")
        province = service.daily_case_counts(session, "/330000/", DAY, DAY + dt.timedelta(days=1))
    assert list(by_report) == [first + dt.timedelta(days=i) for i in range(6)]
    assert by_report[DAY] == 1 and by_report[DAY + dt.timedelta(days=1)] == 1 and sum(by_report.values()) == 2
    assert by_onset[DAY - dt.timedelta(days=2)] == 1 and sum(by_onset.values()) == 1
    assert province == {DAY: 1, DAY + dt.timedelta(days=1): 2}


def test_rt_page_reads_the_cases(tracing: Tracing, world: World) -> None:
    from fangkong.modeling.models import CountBasis
    from fangkong.modeling.service import count_source

    _report(tracing, world, "home_investigator", HOME_COUNTY, 0, Classification.confirmed,
            dt.datetime(2026, 12, 1, 10, 0), DAY, imported=True)  # fmt: skip
    with tracing.as_user("home_command_centre") as (session, me):
        source, rows = count_source(session, me, "/330000/", CountBasis.report)
        assert source == "tracing"
        assert list(rows) == [("/330000/330100/330106/330106001/330106001001/", DAY, 0, 1)]
        # Outside the caller's scope: nothing from tracing, so the uploaded counts (none) are read.
        source, rows = count_source(session, me, "/330000/330200/", CountBasis.onset)
        assert source == "uploaded" and list(rows) == []
    assert clock.today() >= DAY
