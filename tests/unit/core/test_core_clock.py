"""The one clock: "today" is the deployment's local day at every hour, and only core/clock.py reads time."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fangkong.core import clock
from fangkong.core.config import ConfigurationError, build_settings

SRC = Path(__file__).resolve().parents[3] / "src" / "fangkong"
BEIJING_MIDNIGHT_UTC = dt.datetime(2026, 12, 6, 16, 0, tzinfo=dt.UTC)  # 2026-12-07 00:00 in Beijing


@pytest.mark.parametrize(
    ("utc", "local_day"),
    [
        (dt.datetime(2026, 12, 6, 15, 59, 59, tzinfo=dt.UTC), dt.date(2026, 12, 6)),
        (BEIJING_MIDNIGHT_UTC, dt.date(2026, 12, 7)),
        (dt.datetime(2026, 12, 6, 16, 30, tzinfo=dt.UTC), dt.date(2026, 12, 7)),  # 00:30 local
        (dt.datetime(2026, 12, 6, 23, 59, tzinfo=dt.UTC), dt.date(2026, 12, 7)),
        (dt.datetime(2026, 12, 7, 0, 0, tzinfo=dt.UTC), dt.date(2026, 12, 7)),
        (dt.datetime(2026, 12, 7, 15, 59, tzinfo=dt.UTC), dt.date(2026, 12, 7)),
    ],
)
def test_today_is_the_local_day_whatever_the_utc_date(utc: dt.datetime, local_day: dt.date) -> None:
    with clock.freeze(utc):
        assert clock.today() == local_day
        assert clock.local_day(clock.utcnow()) == local_day
        start, end = clock.day_bounds(clock.today())
        assert start <= clock.utcnow() < end


def test_a_local_day_is_the_24_hours_from_local_midnight() -> None:
    start, end = clock.day_bounds(dt.date(2026, 12, 7))
    assert (start, end) == (BEIJING_MIDNIGHT_UTC, BEIJING_MIDNIGHT_UTC + dt.timedelta(days=1))
    first, last = clock.day_bounds(dt.date(2026, 12, 1), dt.date(2026, 12, 7))
    assert (first, last) == (dt.datetime(2026, 11, 30, 16, tzinfo=dt.UTC), end)


def test_local_wall_time_round_trips_through_utc() -> None:
    wall = dt.datetime(2026, 12, 7, 0, 30)
    stored = clock.from_local(wall)
    assert stored == dt.datetime(2026, 12, 6, 16, 30, tzinfo=dt.UTC)
    assert clock.as_local(stored) == wall
    assert clock.as_local(stored.replace(tzinfo=None)) == wall  # a naive instant is read as UTC


def test_the_zone_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    at = dt.datetime(2026, 12, 6, 20, 19, tzinfo=dt.UTC)
    try:
        clock.set_time_zone("Europe/London")
        with clock.freeze(at):
            assert clock.today() == dt.date(2026, 12, 6)
        clock.set_time_zone("Asia/Urumqi")  # UTC+6: still the 7th at 02:19
        with clock.freeze(at):
            assert clock.today() == dt.date(2026, 12, 7)
    finally:
        clock.set_time_zone(clock.DEFAULT_TIME_ZONE)


def test_an_unknown_zone_is_refused_at_start_up_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="FANGKONG_TIME_ZONE='Mars/Olympus'"):
        build_settings(env="test", var_dir=tmp_path, time_zone="Mars/Olympus")
    assert (
        build_settings(env="test", var_dir=tmp_path, time_zone="Asia/Shanghai").time_zone == "Asia/Shanghai"
    )


def test_a_frozen_clock_moves_only_when_told() -> None:
    at = dt.datetime(2026, 12, 6, 15, 0, tzinfo=dt.UTC)
    with clock.freeze(at) as frozen:
        assert clock.utcnow() == clock.utcnow() == at
        frozen.advance(hours=1)
        assert clock.utcnow() == at + dt.timedelta(hours=1)
        assert clock.today() == dt.date(2026, 12, 7)
    with clock.freeze(at, tick=dt.timedelta(microseconds=1)):
        first, second = clock.utcnow(), clock.utcnow()
        assert first < second and clock.local_day(second) == dt.date(2026, 12, 6)


@given(st.integers(min_value=0, max_value=24 * 60 - 1))
def test_any_minute_of_a_utc_day_falls_in_the_local_day_its_bounds_give(minute: int) -> None:
    at = dt.datetime(2026, 12, 6, tzinfo=dt.UTC) + dt.timedelta(minutes=minute)
    with clock.freeze(at):
        today = clock.today()
        start, end = clock.day_bounds(today)
        assert start <= at < end
        assert end - start == dt.timedelta(days=1)
        assert clock.as_local(start) == dt.datetime.combine(today, dt.time.min)


# ------------------------------------------------------------ only core/clock.py reads the time

FORBIDDEN_CALLS = {
    ("date", "today"): "date.today()",
    ("datetime", "now"): "datetime.now()",
    ("datetime", "utcnow"): "datetime.utcnow()",
    ("datetime", "today"): "datetime.today()",
    ("time", "time"): "time.time()",
}


def _offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                owner = func.value
                owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
                if (owner_name, func.attr) in FORBIDDEN_CALLS:
                    found.append(f"{FORBIDDEN_CALLS[(owner_name, func.attr)]} at line {node.lineno}")
                # utcnow().date() is the UTC date, not the local day.
                if (
                    func.attr == "date"
                    and isinstance(owner, ast.Call)
                    and getattr(owner.func, "attr", getattr(owner.func, "id", "")) == "utcnow"
                ):
                    found.append(f"utcnow().date() at line {node.lineno}")
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in ("ZoneInfo", "gettz", "localtime", "gmtime"):
                found.append(f"{name}() at line {node.lineno}")
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            if any(zone in text for zone in ("Asia/", "Europe/", "America/", "UTC+8", "+08:00")):
                found.append(f"a literal time zone {text!r} at line {node.lineno}")
    return found


def test_nothing_outside_core_clock_reads_the_system_clock_or_names_a_zone() -> None:
    offences = {
        str(path.relative_to(SRC)): hits
        for path in sorted(SRC.rglob("*.py"))
        if path.relative_to(SRC).as_posix() != "core/clock.py" and (hits := _offences(path))
    }
    assert offences == {}


def test_the_guard_catches_each_way_of_reading_the_clock(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import datetime as dt\nfrom zoneinfo import ZoneInfo\n"
        "a = dt.date.today()\nb = dt.datetime.now(dt.UTC)\nc = clock.utcnow().date()\n"
        "d = ZoneInfo('Asia/Shanghai')\n"
    )
    hits = _offences(bad)
    assert [h.split(" at ")[0] for h in hits] == [
        "date.today()",
        "datetime.now()",
        "utcnow().date()",
        "ZoneInfo()",
        "a literal time zone 'Asia/Shanghai'",
    ]
