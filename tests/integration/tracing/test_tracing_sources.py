"""Source tracing from the database, and chains that cross a county line seen from one side."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from tracing_support import Tracing

from conftest import PASSWORD, World, valid_id
from fangkong.core import audit, users
from fangkong.tracing import clusters, service, sourcing
from fangkong.tracing.models import Certainty, Classification, PlaceKind
from fangkong.tracing.persons import PersonInput

pytest_plugins = ["tracing_support"]  # the `tracing` fixture


def _case(
    tracing: Tracing, user: str, ref: str, onset: dt.date, community: str, seq: int, **extra: object
) -> int:
    with tracing.as_user(user) as (session, me):
        person = PersonInput(
            id_number=valid_id(community[:6], "19800101", seq),
            name="测试",
            community_code=community,
            address=f"测试路{seq}号",
        )
        case = service.register_case(
            session,
            tracing.vault,
            tracing.bus,
            me,
            service.CaseInput(
                classification=Classification.confirmed,
                case_ref=ref,
                onset_date=onset,
                person=person,
                **extra,
            ),
        )  # type: ignore[arg-type]
        return case.id


def test_candidates_are_ranked_by_timing_and_kind_of_evidence(tracing: Tracing, world: World) -> None:
    home = "330106001001"
    a = _case(
        tracing,
        "home_investigator",
        "A",
        dt.date(2022, 7, 1),
        home,
        101,
        isolated_at=dt.datetime(2022, 7, 3, 9),
    )
    b = _case(tracing, "home_investigator", "B", dt.date(2022, 7, 8), home, 102)
    c = _case(tracing, "home_investigator", "C", dt.date(2022, 7, 2), home, 103)
    far = _case(tracing, "home_investigator", "D", dt.date(2022, 6, 1), home, 104)
    with tracing.as_user("home_investigator") as (session, me):
        for case_id, start in (
            (a, dt.datetime(2022, 7, 2, 12)),
            (b, dt.datetime(2022, 7, 2, 12, 30)),
            (far, dt.datetime(2022, 6, 10, 12)),
        ):
            service.add_visits(
                session,
                tracing.bus,
                me,
                case_id,
                [
                    service.VisitInput(
                        PlaceKind.venue,
                        "老王 面馆" if case_id != b else "老王面馆",
                        start,
                        start + dt.timedelta(hours=1),
                        address="保俶路1号",
                    )
                ],
            )
        service.add_exposures(
            session,
            tracing.vault,
            tracing.bus,
            me,
            c,
            [
                service.ExposureInput(
                    "shared_meal",
                    dt.datetime(2022, 7, 4, 18),
                    end=dt.datetime(2022, 7, 4, 20),
                    contact_case_id=b,
                )
            ],
        )
        report = sourcing.source_candidates(session, me, b)
    assert [x.case_ref for x in report.candidates] == ["C", "A"]
    assert report.candidates[0].score > report.candidates[1].score
    assert "shared meal exposure on 2022-07-04 18:00, 3 d before onset" in report.candidates[0].reasons[0]
    assert "both at 老王面馆" in report.candidates[1].reasons[0]
    assert (report.window.min_days, report.window.max_days) == (1, 14)


def test_a_chain_across_a_county_line_shows_the_other_side_anonymously(
    tracing: Tracing, world: World
) -> None:
    with tracing.app.state.db.unit_of_work() as session:  # type: ignore[attr-defined]
        users.create_user(
            session,
            audit.SYSTEM,
            "/",
            username="city_investigator",
            display_name="杭州市流调",
            role="investigator",
            jurisdiction_code="330100",
            password=PASSWORD,
        )
    here = _case(tracing, "city_investigator", "XH-9", dt.date(2022, 7, 1), "330106001001", 201)
    there = _case(tracing, "city_investigator", "SC-9", dt.date(2022, 7, 4), "330102001001", 202)
    with tracing.as_user("city_investigator") as (session, me):
        service.add_link(session, me, here, there, Certainty.probable)
    with tracing.as_user("home_investigator") as (session, me):
        view = clusters.chain_view(session, me, clusters.cluster_of_case(session, me, here))
        infected_by, infected = service.links_of(session, me, here)
    names = sorted(n["name"] for n in view["nodes"])
    assert names == ["XH-9", "—"]
    hidden = next(n for n in view["nodes"] if n.get("outside"))
    assert hidden["case_id"] is None
    assert "onset" not in hidden
    assert (view["stats"]["size"], view["stats"]["in_scope"]) == (2, 1)
    assert [(lk.infectee_ref, lk.in_scope, lk.infectee_case_id) for lk in infected] == [("—", False, 0)]
    assert infected_by == []
    with tracing.as_user("city_investigator") as (session, me):
        whole = clusters.chain_view(session, me, clusters.cluster_of_case(session, me, there))
        assert sorted(n["name"] for n in whole["nodes"]) == ["SC-9", "XH-9"]
        assert whole["links"][0]["serial_interval"] == 3.0
        assert session.scalar(select(service.Case.cluster_id).where(service.Case.id == there)) == here
