"""The handhelds' live calls committed together (group commit): each call gets its own answer, and the
answers are those of the calls bound one after the other in the order they arrived."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from conftest import World
from fangkong.core.auth import Principal
from fangkong.core.config import Settings
from fangkong.testing.models import Tube, TubeMember
from fangkong.testing.service.scanning import BindReport, Scan, ScanStatus
from fangkong.testing.service.scanning.live import LiveScans
from testing_support import acting_as, home_people, home_round, make_scan, scan_codes


class _Held:
    """A unit of work that waits, the first time, until the test lets it go (so that calls queue up
    behind the first group), and that can be told to fail once (a group failing as a whole)."""

    def __init__(self, db) -> None:  # type: ignore[no-untyped-def]
        self.db = db
        self.entered = threading.Event()
        self.release = threading.Event()
        self.fail_next_group = False
        self.used = 0

    @contextmanager
    def __call__(self) -> Iterator[Session]:
        self.used += 1
        if self.used == 1:
            self.entered.set()
            assert self.release.wait(30)
        with self.db.unit_of_work() as session:
            if self.fail_next_group and self.used == 2:
                raise RuntimeError("the database went away mid-group")
            yield session


def _principal(db) -> Principal:  # type: ignore[no-untyped-def]
    with acting_as(db, "home_community_worker") as (_session, me):
        return me


def _queued(live: LiveScans, me: Principal, first: Scan, rest: list[Scan], held: _Held) -> list[BindReport]:
    """``first`` bound by a call that holds the writer; each of ``rest`` sent by its own call, in this
    order, while it waits; then the writer let go. Each call's report, in the order sent."""
    reports: list[BindReport | None] = [None] * (1 + len(rest))

    def send(k: int, scan: Scan) -> None:
        reports[k] = live.bind(me, [scan])

    threads = [threading.Thread(target=send, args=(0, first))]
    threads[0].start()
    assert held.entered.wait(30)
    for k, scan in enumerate(rest, start=1):
        thread = threading.Thread(target=send, args=(k, scan))
        threads.append(thread)
        thread.start()
        deadline = time.monotonic() + 30
        while len(live._waiting) < k and time.monotonic() < deadline:  # the calls queued so far, in order
            time.sleep(0.001)
    held.release.set()
    for thread in threads:
        thread.join(60)
    assert all(r is not None for r in reports)
    return [r for r in reports if r is not None]


def _members(db) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as session:
        return int(session.scalar(select(func.count()).select_from(TubeMember)) or 0)


def test_calls_waiting_together_are_bound_in_one_group_each_with_its_own_answer(  # type: ignore[no-untyped-def]
    app, world: World, settings: Settings
) -> None:
    db = app.state.db
    _, round_id = home_round(db, world, pool_size=5)
    codes = scan_codes(settings)
    people = home_people(world)
    held = _Held(db)
    live = LiveScans(held, codes)
    first = make_scan(codes, people[0], "T0900", 1, round_id=round_id)
    rest = [
        *(make_scan(codes, p, "T0900", seq, round_id=round_id) for seq, p in enumerate(people[1:5], start=2)),
        first,  # the handheld sent its first scan again (its answer was lost)
        make_scan(codes, people[5], "T0900", 6, round_id=round_id),  # a sixth person: the tube is full
        make_scan(codes, people[1], "T0901", 7, round_id=round_id, device="pda-02"),  # scanned twice
    ]
    reports = _queued(live, _principal(db), first, rest, held)

    assert (live.groups, live.calls) == (2, 8)  # the first call alone, then the seven that waited
    assert [len(r.outcomes) for r in reports] == [1] * 8
    assert all(r.outcomes[0].index == 0 for r in reports)
    assert [r.outcomes[0].status for r in reports] == [ScanStatus.recorded] * 5 + [
        ScanStatus.already_recorded,
        ScanStatus.refused,
        ScanStatus.refused,
    ]
    assert reports[6].outcomes[0].text == "tube T0900 is full: it holds 5 people and has 5"
    assert reports[7].outcomes[0].text.startswith("this person was already sampled in round")
    assert _members(db) == 5
    with db.unit_of_work() as session:
        assert session.scalar(select(Tube.members).where(Tube.barcode == "T0900")) == 5


def test_a_group_that_fails_is_bound_again_call_by_call(app, world: World, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    db = app.state.db
    _, round_id = home_round(db, world, pool_size=5)
    codes = scan_codes(settings)
    people = home_people(world)
    held = _Held(db)
    held.fail_next_group = True
    live = LiveScans(held, codes)
    first = make_scan(codes, people[0], "T0950", 1, round_id=round_id)
    rest = [
        make_scan(codes, p, "T0950", seq, round_id=round_id) for seq, p in enumerate(people[1:3], start=2)
    ]
    reports = _queued(live, _principal(db), first, rest, held)

    assert [r.outcomes[0].status for r in reports] == [ScanStatus.recorded] * 3
    assert held.used == 1 + 1 + 2  # the first call, the failed group, then its two calls alone
    assert _members(db) == 3
