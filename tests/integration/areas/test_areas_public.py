"""The public page's data and feed, its cache (refreshed on change, never a query per request), 3,000
areas, subscriptions with their allowance per address, and the notices outbox (SQLite and PostgreSQL)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time

import pytest
from sqlalchemy import event, func, insert, select

from areas_support import area_in_force
from conftest import World, run_in_own_loop
from fangkong.areas.events import RiskAreaDesignated
from fangkong.areas.models import (
    AreaState,
    PublicSubscription,
    RiskArea,
    RiskAreaChange,
    RiskLevel,
    SubscriptionNotice,
    UnitKind,
)
from fangkong.areas.service import public
from fangkong.core import clock
from fangkong.core.crypto import Vault
from fangkong.core.errors import InvalidInput, NotFound
from fangkong.core.models import Jurisdiction

HOME = "330106001001"
OTHER_CITY = "330203001001"


@pytest.fixture(autouse=True)
def _fresh_allowance(monkeypatch: pytest.MonkeyPatch) -> None:
    public.SUBSCRIBE_ALLOWANCE.reset()
    monkeypatch.setattr(public, "CACHE", public.PublicCache())


def _vault(settings) -> Vault:  # type: ignore[no-untyped-def]
    return Vault(settings.encryption_key, settings.hash_key)


def _seed_areas(app) -> dict[str, int]:  # type: ignore[no-untyped-def]
    old = clock.utcnow() - dt.timedelta(days=9)
    with app.state.db.unit_of_work() as session:
        return {
            "high": area_in_force(session, place_code=HOME, name="翠苑小区3幢", reason="病例A住所"),
            "medium": area_in_force(session, place_code="330106001002", name="宝石菜场", level="medium"),
            "away": area_in_force(session, place_code=OTHER_CITY, name="南门小区", at=old),
            "proposed": area_in_force(
                session, place_code=HOME, name="待批小区", state="proposed", change_kind="proposed"
            ),
            "lifted": area_in_force(
                session, place_code=HOME, name="已解封小区", state="lifted", change_kind="lifted", level="low"
            ),
        }


def test_page_by_city_and_county_with_measures_and_changes(app, world: World) -> None:  # type: ignore[no-untyped-def]
    _seed_areas(app)
    with app.state.db.unit_of_work() as session:
        page = public.build_page(session)
    assert [c.name for c in page.cities] == ["杭州市", "宁波市"]
    (xihu,) = page.cities[0].counties
    assert (xihu.code, xihu.name, xihu.protocol_id) == ("330106", "西湖区", "cn-9")
    assert [a.name for a in xihu.high] == ["翠苑小区3幢"]
    assert [a.name for a in xihu.medium] == ["宝石菜场"]
    assert xihu.high[0].place == "保俶社区" and xihu.high[0].designated_on == clock.today()
    assert "足不出户" in xihu.measures["high"] and "错峰取物" in xihu.measures["medium"]
    assert "个人防护" in xihu.measures["low"]
    assert (page.high_count, page.medium_count) == (2, 1)
    # Recent changes: the last week only, no proposals, and never a reason.
    assert [(c.area_name, c.kind) for c in page.changes] == [
        ("已解封小区", "lifted"),
        ("宝石菜场", "designated"),
        ("翠苑小区3幢", "designated"),
    ]
    assert page.changes[0].wording.render("zh") != "lifted"
    assert page.low_note.render("zh") != str(page.low_note)


def test_feed_whole_region_and_per_county_carries_no_personal_data(app, world: World) -> None:  # type: ignore[no-untyped-def]
    _seed_areas(app)
    snap = public.snapshot(app.state.db)
    body = json.loads(snap.feed.body)
    assert [c["code"] for c in body["counties"]] == ["330106", "330203"]
    assert body["counties"][0]["high"][0] == {
        "name": "翠苑小区3幢",
        "level": "high",
        "unit": "compound",
        "place": "保俶社区",
        "designated_on": clock.today().isoformat(),
        "level_since": clock.today().isoformat(),
    }
    assert "low_note" in body and body["low_note"]["zh"]
    text = snap.feed.body.decode()
    assert "病例" not in text and "待批小区" not in text  # reasons and proposals stay inside
    for person_id in world.id_numbers:
        assert world.id_numbers[person_id] not in text
    xihu = snap.county_feed("330106")
    assert xihu is not None
    assert [c["code"] for c in json.loads(xihu.body)["counties"]] == ["330106"]
    assert snap.county_feed("999999") is None
    assert snap.feed.etag.startswith('"') and snap.feed.etag != xihu.etag
    html = snap.html_for("zh", lambda page, lang: f"{lang}:{page.high_count}")
    assert html.body == b"zh:2" and snap.html_for("zh", lambda page, lang: "again") is html


def test_served_from_the_snapshot_and_rebuilt_on_change(app, world: World) -> None:  # type: ignore[no-untyped-def]
    db = app.state.db
    ids = _seed_areas(app)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", count)
    cache = public.PublicCache(check_every=3600)
    first = cache.refresh(db)
    built = len(statements)
    for _ in range(200):
        assert cache.refresh(db) is first
        assert run_in_own_loop(cache.for_request, db) is first
    assert len(statements) == built  # no query for 400 reads
    with db.unit_of_work() as session:
        area_in_force(session, place_code=HOME, name="新增小区")
    assert cache.refresh(db) is first  # another process's change: seen at the next check only
    cache.invalidate()
    second = cache.refresh(db)
    assert second is not first and second.page.high_count == 3
    # Several processes: a change counter that moved is seen within the check interval.
    other = public.PublicCache(check_every=0.0)
    other.refresh(db)
    before = other.builds
    assert other.refresh(db).page.version == second.page.version and other.builds == before
    with db.unit_of_work() as session:
        area = session.get(RiskArea, ids["medium"])
        assert area is not None
        area.state = AreaState.lifted
        session.add(
            RiskAreaChange(
                area_id=area.id, county_id=area.county_id, jpath=area.jpath, kind="lifted",
                from_level=RiskLevel.medium, to_level=RiskLevel.low, by="cc",
            )
        )  # fmt: skip
    assert other.refresh(db).page.medium_count == 0 and other.builds == before + 1
    event.remove(db.engine, "before_cursor_execute", count)


def test_invalidate_as_event_handler_counts_after_commit(app, world: World) -> None:  # type: ignore[no-untyped-def]
    db = app.state.db
    public.CACHE.refresh(db)
    with db.unit_of_work() as session:
        area_in_force(session, place_code=HOME, name="事务内小区")
        public.invalidate(session, None)
        public.CACHE.refresh(db)  # a read in between sees the old rows and clears the mark
    assert public.CACHE.refresh(db).page.high_count == 1  # invalidated again after the commit


def test_async_read_refreshes_behind_the_current_snapshot(app, world: World) -> None:  # type: ignore[no-untyped-def]
    db = app.state.db
    cache = public.PublicCache(check_every=0.0)
    first = run_in_own_loop(cache.for_request, db)  # the first build is awaited
    with db.unit_of_work() as session:
        area_in_force(session, place_code=HOME, name="后台刷新小区")
    assert run_in_own_loop(cache.for_request, db) is first  # served at once, refreshed behind it
    deadline = time.monotonic() + 10
    while cache.peek() is first and time.monotonic() < deadline:
        time.sleep(0.01)
    snap = cache.peek()
    assert snap is not None and snap.page.high_count == 1


def test_three_thousand_areas(app, world: World) -> None:  # type: ignore[no-untyped-def]
    db = app.state.db
    with db.unit_of_work() as session:
        places = list(
            session.execute(
                select(Jurisdiction.id, Jurisdiction.path, Jurisdiction.parent_id).where(
                    Jurisdiction.level == "community"
                )
            ).all()
        )
        county_of = {}
        for jid, _path, parent in places:
            township = session.get(Jurisdiction, parent)
            assert township is not None
            county_of[jid] = township.parent_id
        now = clock.utcnow()
        rows = [
            {
                "jurisdiction_id": places[i % len(places)][0],
                "jpath": places[i % len(places)][1],
                "county_id": county_of[places[i % len(places)][0]],
                "unit_kind": UnitKind.building,
                "name": f"幸福小区{i}幢",
                "level": RiskLevel.high if i % 2 else RiskLevel.medium,
                "state": AreaState.in_force,
                "protocol_id": "cn-9",
                "reason": "",
                "proposed_at": now,
                "designated_at": now,
                "level_since": clock.today(),
                "downgraded_from_high": False,
            }
            for i in range(3000)
        ]
        session.execute(insert(RiskArea), rows)
        area_ids = list(session.scalars(select(RiskArea.id)))
        session.execute(
            insert(RiskAreaChange),
            [
                {"area_id": a, "county_id": rows[0]["county_id"], "jpath": rows[0]["jpath"],
                 "kind": "designated", "to_level": RiskLevel.high, "reason": "", "by": "cc", "at": now}
                for a in area_ids
            ],
        )  # fmt: skip
    started = time.perf_counter()
    snap = public.PublicCache().refresh(db)
    took = time.perf_counter() - started
    assert snap.page.high_count + snap.page.medium_count == 3000
    assert len(snap.page.changes) == 3000
    assert sum(len(c["high"]) + len(c["medium"]) for c in json.loads(snap.feed.body)["counties"]) == 3000
    assert took < 10, took


def test_subscribe_merge_unsubscribe(app, world: World, settings) -> None:  # type: ignore[no-untyped-def]
    vault = _vault(settings)
    with app.state.db.unit_of_work() as session:
        new = public.subscribe(session, vault, "330106", "  Zhang.San@Example.COM ", ip="1.2.3.4")
        assert not new.merged and new.token and new.county_name == "西湖区"
        again = public.subscribe(session, vault, "330106", "zhang.san@example.com", ip="1.2.3.5")
        assert again.merged and again.subscription_id == new.subscription_id and again.token is None
        other = public.subscribe(session, vault, "330203", "zhang.san@example.com", ip="1.2.3.5")
        assert not other.merged
        row = session.get(PublicSubscription, new.subscription_id)
        assert row is not None and b"example" not in row.contact_cipher
        assert vault.decrypt_text(row.contact_cipher) == "zhang.san@example.com"
    with app.state.db.unit_of_work() as session:
        assert public.unsubscribe(session, new.token, ip="1.2.3.4") == "330106"
        assert public.unsubscribe(session, new.token, ip="1.2.3.4") == "330106"  # twice is harmless
        for bad in ("x" * 20, "<script>", 42, None, "a" * 500):
            with pytest.raises(NotFound):
                public.unsubscribe(session, bad, ip="9.9.9.9")
    with app.state.db.unit_of_work() as session:
        assert public.subscribe(session, vault, "330106", "zhang.san@example.com", ip="1.2.3.6").merged
        row = session.get(PublicSubscription, new.subscription_id)
        assert row is not None and row.cancelled_at is None
        assert session.scalar(select(func.count()).select_from(PublicSubscription)) == 2


@pytest.mark.parametrize(
    ("county", "contact", "fields"),
    [
        ("330106", "not-an-address", {"contact"}),
        ("330106", "<script>alert(1)</script>@x.cn", {"contact"}),
        ("330106", "a@" + "b" * 300 + ".cn", {"contact"}),
        ("330106", ["a@b.cn"], {"contact"}),
        ("330106001001", "a@b.cn", {"county_code"}),  # a community, not a county
        ("999999", "a@b.cn", {"county_code"}),
        ({"$ne": 1}, None, {"county_code", "contact"}),
    ],
)
def test_bad_subscriptions_write_nothing(app, world: World, settings, county, contact, fields) -> None:  # type: ignore[no-untyped-def]
    with app.state.db.unit_of_work() as session:
        with pytest.raises(InvalidInput) as bad:
            public.subscribe(session, _vault(settings), county, contact, ip="5.5.5.5")
        assert {e.field for e in bad.value.errors} == fields
        assert session.scalar(select(func.count()).select_from(PublicSubscription)) == 0


def test_allowance_per_address(app, world: World, settings, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    vault = _vault(settings)
    with app.state.db.unit_of_work() as session:
        for i in range(public.SUBSCRIBE_ATTEMPTS_PER_ADDRESS):
            # Invalid attempts count too: a flood of junk is refused like any other.
            with contextlib.suppress(InvalidInput):
                public.subscribe(session, vault, "330106", f"u{i}@x.cn" if i % 2 else "bad", ip="6.6.6.6")
        with pytest.raises(public.TooManyRequests) as refused:
            public.subscribe(session, vault, "330106", "late@x.cn", ip="6.6.6.6")
        assert refused.value.status == 429 and refused.value.retry_after > 0
        assert public.subscribe(session, vault, "330106", "other@x.cn", ip="7.7.7.7").token
    frozen_clock.advance(public.SUBSCRIBE_WINDOW + dt.timedelta(seconds=1))
    with app.state.db.unit_of_work() as session:
        assert public.subscribe(session, vault, "330106", "late@x.cn", ip="6.6.6.6").token


def test_notices_per_subscriber_and_change(app, world: World, settings, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    vault = _vault(settings)
    with app.state.db.unit_of_work() as session:
        one = public.subscribe(session, vault, "330106", "one@x.cn", ip="1.1.1.1")
        two = public.subscribe(session, vault, "330106", "two@x.cn", ip="1.1.1.1")
        gone = public.subscribe(session, vault, "330106", "gone@x.cn", ip="1.1.1.1")
        public.subscribe(session, vault, "330203", "away@x.cn", ip="1.1.1.1")
        public.unsubscribe(session, gone.token, ip="1.1.1.1")
    frozen_clock.advance(dt.timedelta(minutes=5))
    with app.state.db.unit_of_work() as session:
        area_id = area_in_force(session, place_code=HOME, name="翠苑小区")
        area_in_force(session, place_code=HOME, name="待批", state="proposed", change_kind="proposed")
        designated = RiskAreaDesignated(area_id=area_id, jpath="", level="high")
        assert public.record_notices(session, designated) == 2
        assert public.record_notices(session, designated) == 0
        assert public.record_notices(session) == 0  # the proposal is not public
    with app.state.db.unit_of_work() as session:
        pending = public.pending_notices(session, vault)
        assert sorted(p.contact for p in pending) == ["one@x.cn", "two@x.cn"]
        assert {p.unsubscribe_token for p in pending} == {one.token, two.token}
        assert pending[0].change.area_name == "翠苑小区" and pending[0].change.kind == "designated"
        public.mark_delivered(session, [p.notice_id for p in pending])
    with app.state.db.unit_of_work() as session:
        assert public.pending_notices(session, vault) == []
        assert session.scalar(select(func.count()).select_from(SubscriptionNotice)) == 2


def test_public_routes_serve_cached_bytes_with_etag_and_gzip(app, world: World) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    _seed_areas(app)
    with TestClient(app) as client:
        page = client.get("/public/areas")
        assert page.status_code == 200 and "翠苑小区3幢" in page.text and "中风险区" in page.text
        assert "病例" not in page.text and "public" in page.headers["cache-control"]
        english = client.get("/public/areas", headers={"Accept-Language": "en-GB,en"})
        assert "Medium risk areas" in english.text and english.headers["etag"] != page.headers["etag"]
        assert "High risk areas" in client.get("/public/areas?lang=en").text
        feed = client.get("/public/areas.json", headers={"Accept-Encoding": "gzip"})
        assert feed.headers["content-encoding"] == "gzip" and feed.json()["counties"][0]["code"] == "330106"
        again = client.get(
            "/public/areas.json", headers={"Accept-Encoding": "gzip", "If-None-Match": feed.headers["etag"]}
        )
        assert again.status_code == 304 and again.content == b""
        assert client.get("/public/areas/330203.json").json()["counties"][0]["name"] == "海曙区"
        assert client.get("/public/areas/330102.json").status_code == 404
        assert client.get("/public/areas/%3Cscript%3E.json").status_code == 404
