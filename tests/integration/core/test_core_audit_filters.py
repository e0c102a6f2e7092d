"""The audit log's filters on both databases: by user, the platform itself, action, object and local days."""

from __future__ import annotations

import datetime as dt

from conftest import World
from fangkong.core import audit, clock
from fangkong.core.audit import EntryFilter

HOME = "/330000/330100/330106/"


def test_filters_pick_entries_by_user_action_object_and_local_day(app, world: World, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    someone = audit.Actor(world.users["home_investigator"], "home_investigator", "10.0.0.1")
    day = dt.date(2026, 11, 3)
    # 07:30 in Beijing on the 3rd is 23:30 UTC on the 2nd: it belongs to the 3rd.
    frozen_clock.set(clock.from_local(dt.datetime.combine(day, dt.time(7, 30))))
    with app.state.db.unit_of_work() as session:
        early = audit.record(session, someone, "cases.register", "case", 7, jpath=HOME).id
    frozen_clock.set(clock.from_local(dt.datetime.combine(day, dt.time(23, 50))))
    with app.state.db.unit_of_work() as session:
        late = audit.record(session, audit.SYSTEM, "surveillance.run", "detector_run", 1, jpath=HOME).id
    frozen_clock.set(clock.from_local(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 10))))
    with app.state.db.unit_of_work() as session:
        after = audit.record(session, someone, "cases.update", "case", 7, jpath=HOME).id

    def ids(where: EntryFilter) -> list[int]:
        with app.state.db.unit_of_work() as session:
            rows, total = audit.list_entries(session, HOME, include_system=False, where=where)
        assert total == len(rows)
        return [r.id for r in rows if r.id in (early, late, after)]

    since, until = clock.day_bounds(day)
    assert ids(EntryFilter(since=since, until=until)) == [late, early]
    assert ids(EntryFilter(actor_id=someone.user_id)) == [after, early]
    assert ids(EntryFilter(system_only=True)) == [late]
    assert ids(EntryFilter(action="cases.update")) == [after]
    assert ids(EntryFilter(object_type="case", object_id="7")) == [after, early]
    assert ids(EntryFilter(object_type="case", object_id="8")) == []
    with app.state.db.unit_of_work() as session:
        names = audit.actor_names(session, {someone.user_id})  # type: ignore[arg-type]
    assert names == {someone.user_id: "home investigator"}
