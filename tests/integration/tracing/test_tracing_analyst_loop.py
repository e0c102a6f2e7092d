"""The analyst's loop on the platform's own records (issue 18): cases with known onsets, reports and
links, entered through the tracing use cases, give back the daily counts per jurisdiction (local and
imported apart), the pooled serial interval and its fitted distribution exactly; Rt from "our chains"
equals Rt with that distribution typed in; the nowcast leaves the reported counts as they are."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter

import numpy as np
import pytest
from scipy import stats
from tracing_support import Tracing
from typer.testing import CliRunner

from conftest import World
from fangkong.analytics.serial_interval import fit_serial_interval
from fangkong.core import config
from fangkong.modeling import own_records
from fangkong.modeling import service as modeling
from fangkong.modeling.models import CountBasis
from fangkong.tracing import service
from fangkong.tracing.models import Certainty, Classification
from fangkong.tracing.persons import PersonInput
from fangkong.tracing.service.serial import BOOTSTRAP_SEED

pytest_plugins = ["tracing_support"]  # the `tracing` fixture

FIRST_ONSET = dt.date(2026, 11, 8)
CASES = 40
COMMUNITIES = ("330106001001", "330106001002")
HOME = "/330000/330100/330106/"
TOWNSHIP = HOME + "330106001/"
# (infector, infectee) by case number; their onsets make the intervals below.
LINKS = [(0, 6), (1, 9), (2, 10), (4, 11), (6, 16), (9, 15), (10, 22), (12, 20), (15, 30), (20, 29), (7, 5)]
INTERVALS = [3, 4, 4, 3, 5, 3, 6, 4, 8, 4, -1]


def _onset(i: int) -> dt.date:
    return FIRST_ONSET + dt.timedelta(days=i // 2)


def _report(i: int) -> dt.date:
    return _onset(i) + dt.timedelta(days=i % 4)


def _imported(i: int) -> bool:
    return i % 10 == 0


def _seed(tracing: Tracing) -> list[int]:
    ids = []
    with tracing.as_user("home_investigator") as (session, me):
        for i in range(CASES):
            case = service.register_case(
                session,
                tracing.vault,
                tracing.bus,
                me,
                service.CaseInput(
                    classification=Classification.confirmed,
                    person=PersonInput(name=f"病例{i}", community_code=COMMUNITIES[i % 2]),
                    onset_date=_onset(i),
                    reported_at=dt.datetime.combine(_report(i), dt.time(10, 0)),
                    imported=_imported(i),
                ),
            )
            ids.append(case.id)
        for infector, infectee in LINKS:
            service.add_link(session, me, ids[infector], ids[infectee], Certainty.confirmed)
    # A linked pair outside the home county: not in the home reader's scope.
    with tracing.as_user("away_investigator") as (session, me):
        pair = [
            service.register_case(
                session, tracing.vault, tracing.bus, me,
                service.CaseInput(
                    classification=Classification.confirmed,
                    person=PersonInput(name=f"外地{k}", community_code="330203001001"),
                    onset_date=FIRST_ONSET + dt.timedelta(days=10 * k),
                    reported_at=dt.datetime.combine(FIRST_ONSET + dt.timedelta(days=10 * k + 1), dt.time(9)),
                ),
            ).id
            for k in range(2)
        ]  # fmt: skip
        service.add_link(session, me, pair[0], pair[1], Certainty.probable)
    return ids


def test_counts_serial_interval_and_rt_from_our_records(tracing: Tracing, world: World) -> None:
    _seed(tracing)
    first, last = FIRST_ONSET, dt.date(2026, 12, 6)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    with tracing.as_user("home_command_centre") as (session, me):
        by_onset = service.case_counts(session, me, "/330000/", first, last, by="onset")
        by_report = service.case_counts(session, me, HOME, first, last, by="report")
        si = service.serial_interval(session, me)
        window = service.serial_interval(session, me, dt.date(2026, 11, 15), dt.date(2026, 11, 20))

    # Counts: each place down the tree from the reader's county, local and imported apart.
    assert by_onset.days == days
    assert set(by_onset.areas) == {HOME, TOWNSHIP, *(TOWNSHIP + c + "/" for c in COMMUNITIES)}
    for place, members in (
        (HOME, range(CASES)),
        (TOWNSHIP + COMMUNITIES[0] + "/", range(0, CASES, 2)),
        (TOWNSHIP + COMMUNITIES[1] + "/", range(1, CASES, 2)),
    ):
        for curve, day_of in ((by_onset.areas[place], _onset), (by_report.areas[place], _report)):
            local = Counter(day_of(i) for i in members if not _imported(i))
            imported = Counter(day_of(i) for i in members if _imported(i))
            assert curve.local == [local.get(d, 0) for d in days], place
            assert curve.imported == [imported.get(d, 0) for d in days], place

    # The serial interval, pooled over the links in scope (the away county's link is not).
    values = np.asarray(INTERVALS, dtype=np.float64)
    assert si.pairs == len(INTERVALS)
    assert si.mean == pytest.approx(values.mean(), abs=1e-12)
    assert si.sd == pytest.approx(values.std(ddof=1), abs=1e-12)
    assert si.negative_share == pytest.approx(1 / len(INTERVALS), abs=1e-12)
    assert si.chosen == "normal"
    loc, scale = stats.norm.fit(values)
    fit = si.chosen_fit
    assert fit is not None
    assert fit.params == pytest.approx({"loc": loc, "scale": scale}, abs=1e-12)
    expected = fit_serial_interval(values, np.random.default_rng(BOOTSTRAP_SEED))
    assert (si.mean_interval, si.sd_interval, si.si_distr) == (
        expected.mean_interval,
        expected.sd_interval,
        expected.si_distr,
    )
    # The window selects links by the infectee's onset: cases 15, 16, 20, 22 (Nov 15 .. 19).
    assert window.pairs == 4
    assert window.mean == pytest.approx((5 + 3 + 6 + 4) / 4)


def test_rt_from_our_chains_equals_rt_with_that_distribution_typed_in(
    tracing: Tracing, world: World, monkeypatch: pytest.MonkeyPatch, settings: config.Settings
) -> None:
    from fangkong.tracing.cli import app as tracing_cli

    _seed(tracing)
    for name in ("database_url", "encryption_key", "hash_key", "secret_key"):
        monkeypatch.setenv(f"FANGKONG_{name.upper()}", getattr(settings, name))
    monkeypatch.setenv("FANGKONG_VAR_DIR", str(settings.var_dir))
    config.get_settings.cache_clear()
    try:
        result = CliRunner().invoke(tracing_cli, ["serial-interval", "-u", "home_command_centre", "--json"])
    finally:
        config.get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert (printed["pairs"], printed["negative_share"]) == (len(INTERVALS), 1 / len(INTERVALS))
    assert printed["mean"] == pytest.approx(np.mean(INTERVALS))
    assert printed["sd"] == pytest.approx(np.std(INTERVALS, ddof=1))
    typed = printed["si_distr"]

    with tracing.as_user("home_command_centre") as (session, me):
        chains = own_records.chains_serial_interval(session, me)
        ours = modeling.rt_by_area(
            session, me, basis=CountBasis.onset, si_distr=chains.si_distr, counts="tracing"
        )
        by_hand = modeling.rt_by_area(session, me, basis=CountBasis.onset, si_distr=typed, counts="tracing")
        default = modeling.rt_by_area(session, me, basis=CountBasis.onset, counts="tracing")
    assert ours.whole is not None and by_hand.whole is not None and default.whole is not None
    assert any(m is not None for m in ours.whole.mean)
    assert ours.whole.mean == by_hand.whole.mean
    assert (ours.whole.low, ours.whole.high) == (by_hand.whole.low, by_hand.whole.high)
    assert ours.si_mean == pytest.approx(by_hand.si_mean)
    # And the chains' serial interval is not the default one: the choice changes the estimate.
    assert ours.whole.mean != default.whole.mean


def test_nowcast_keeps_the_reported_counts(tracing: Tracing, world: World) -> None:
    _seed(tracing)
    with tracing.as_user("home_command_centre") as (session, me):
        curve = own_records.onset_nowcast(session, me, HOME)
        counts = (
            service.case_counts(session, me, HOME, curve.days[0], curve.days[-1], by="onset")
            if curve
            else None
        )
    assert curve is not None and counts is not None
    assert curve.reported == counts.areas[HOME].total
    for i in curve.corrected_days:
        assert curve.lower[i] <= curve.median[i] <= curve.upper[i]
        assert curve.lower[i] >= curve.reported[i]
    assert len(curve.corrected_days) == 15


def test_the_rt_page_offers_both_serial_intervals_and_shows_the_nowcast_band(
    tracing: Tracing, world: World, client
) -> None:  # type: ignore[no-untyped-def]
    from conftest import token_for

    ids = _seed(tracing)
    headers = token_for(client, "home_command_centre")
    # The cluster page pools its own links: case 1 → 9 → 15 → 30 (4, 3 and 8 days).
    with tracing.as_user("home_command_centre") as (session, me):
        cluster_id = service.get_case(session, me, ids[1]).cluster_id
    cluster = client.get(f"/tracing/clusters/{cluster_id}", headers=headers)
    assert cluster.status_code == 200
    assert re.search(r'data-testid="si-pairs">3<', cluster.text)
    assert re.search(r'data-testid="si-mean">5.00 天<', cluster.text)
    typed = client.get("/modeling/rt?counts=tracing&si=typed&si_mean=4.7&si_sd=2.9", headers=headers)
    assert typed.status_code == 200, typed.text
    # Both choices are offered; the chains' serial interval and the nowcast are shown, in Chinese.
    assert 'name="si" value="typed" checked' in typed.text
    assert 'data-testid="rt-si-chains"' in typed.text and "来自本平台传播链的代际间隔" in typed.text
    assert re.search(r'data-testid="si-pairs">11<', typed.text)
    assert 'data-testid="si-family">正态<' in typed.text
    assert "参数化代际间隔" in typed.text
    assert 'data-testid="nowcast-chart"' in typed.text and "现时推算区间" in typed.text
    rows = re.findall(
        r'data-testid="nowcast-reported">(\d+)<.*?data-testid="nowcast-median">(\d+)<', typed.text, flags=re.S
    )
    assert len(rows) == 15 and all(int(m) >= int(r) for r, m in rows)

    chains = client.get("/modeling/rt?counts=tracing&si=chains", headers=headers)
    assert chains.status_code == 200
    assert 'value="chains" data-testid="rt-si-chains" checked' in chains.text
    assert "代际间隔取自本平台传播链的实测" in chains.text
    with tracing.as_user("home_command_centre") as (session, me):
        si = service.serial_interval(session, me)
        view = modeling.rt_by_area(session, me, si_distr=si.si_distr, counts="tracing")
    assert view.whole is not None and view.whole.latest is not None
    latest = re.search(r'data-testid="rt-latest">([\d.]+)<', chains.text)
    assert latest is not None and latest.group(1) == f"{view.whole.latest:.2f}"
    # The API gives the same choice: our counts with our chains' serial interval.
    api = client.get("/api/modeling/rt?counts=tracing&si=chains", headers=headers).json()
    assert (api["source"], api["whole"]["mean"]) == ("tracing", view.whole.mean)
    assert api["si_mean"] == pytest.approx(view.si_mean)

    # The command dashboard's curve carries the same nowcast beside the counts by onset.
    board = client.get("/dashboard", headers=headers)
    assert board.status_code == 200
    block = re.search(
        r'<script type="application/json" id="dashboard-data"[^>]*>(.*?)</script>', board.text, re.S
    )
    assert block is not None
    data = json.loads(block.group(1))
    assert len(data["nowcast"]) == len(data["days"]) == len(data["onset"])
    assert [m is not None for m in data["nowcast"]] == [False] * (len(data["days"]) - 15) + [True] * 15
    assert all(m >= o for m, o in zip(data["nowcast"][-15:], data["onset"][-15:], strict=True))
    assert data["labels"]["nowcast"] == "按发病日期的现时推算"

    bad = client.get("/modeling/rt?si=typed&si_mean=一天", headers=headers)
    assert bad.status_code == 422 and 'data-field="si_mean"' in bad.text


def test_the_confirmed_cases_channel_is_fed_from_tracing_by_the_scheduled_pull(
    tracing: Tracing, world: World
) -> None:
    from sqlalchemy import select

    from fangkong.core import audit, clock
    from fangkong.surveillance import observations
    from fangkong.surveillance.models import Channel, Observation

    _seed(tracing)
    db = tracing.app.state.db  # type: ignore[attr-defined]
    outcomes = observations.pull_all(db, audit.SYSTEM, "/", clock.utcnow())
    assert [(o.name, o.ok) for o in outcomes] == [("tracing: confirmed cases", True)]
    today = clock.today()
    window = [today - dt.timedelta(days=13 - i) for i in range(14)]
    with db.unit_of_work() as session:
        stored = {
            (code, day): value
            for code, day, value in session.execute(
                select(Channel.code, Observation.period_start, Observation.value)
                .join(Channel, Channel.id == Observation.channel_id)
                .where(Observation.jurisdiction_id == world.jurisdictions["330106"])
            )
        }
        away = session.scalars(
            select(Observation.value).where(Observation.jurisdiction_id == world.jurisdictions["330203"])
        ).all()
    expected = Counter(_report(i) for i in range(CASES))
    assert {day: v for (code, day), v in stored.items() if code == "confirmed_cases"} == {
        day: float(expected.get(day, 0)) for day in window
    }
    assert len(away) == 14 and sum(away) == 0  # the away county's two cases were reported before the window
    # Fed again unchanged: nothing new, nothing revised.
    again = observations.pull_all(db, audit.SYSTEM, "/", clock.utcnow())
    assert again[0].report is not None and (again[0].report.created, again[0].report.revised) == (0, 0)
