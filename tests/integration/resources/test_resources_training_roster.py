"""Training results certify, the duty roster decides who is on duty today, a roster file is all or
nothing, and a staff member's work phone is never stored in clear (on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from conftest import FOREIGN_COUNTY, HOME_COUNTY, World
from fangkong.core import clock, config
from fangkong.core.crypto import Vault
from fangkong.core.errors import InvalidInput
from fangkong.core.models import AuditEntry
from fangkong.privacy.service.linkage import identity_columns, table
from fangkong.resources.cli import app as cli
from fangkong.resources.models import Shift, Skill
from fangkong.resources.service import roster, staff, teams, training
from resources_support import acting, add_certified


def _vault(settings) -> Vault:  # type: ignore[no-untyped-def]
    return Vault(settings.encryption_key, settings.hash_key)


def _eligible(session, me) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(r.staff.name for r in staff.eligible(session, me.jpath, Skill.sampling))


def test_a_sessions_results_certify_the_passers_until_the_certificate_expires(
    app, world: World, frozen_clock: clock.FrozenClock
) -> None:
    db = app.state.db
    today = clock.today()
    with acting(db, "home_administrator") as (session, me):
        people = [
            staff.add_staff(session, me, jurisdiction_code=HOME_COUNTY, name=n, unit="社区卫生服务中心").id
            for n in ("甲采样", "乙采样")
        ]
        course = training.create_course(session, me, title="采样实操", skill="sampling", valid_days=30)
        held = training.hold_session(session, me, course.id, today)
        assert training.add_participants(session, me, held.id, people) == 2
        assert _eligible(session, me) == []
        training.record_result(session, me, held.id, people[0], 92)
        training.record_result(session, me, held.id, people[1], 61)
        assert [
            (line.staff.name, line.attendance.passed) for line in training.lines(session, me, held.id)
        ] == [
            ("乙采样", False),
            ("甲采样", True),
        ]
        # The passer may sample; the one who failed may not.
        assert _eligible(session, me) == ["甲采样"]
        rows, total = training.course_sessions(session, me, course.id)
        assert total == 1 and (rows[0].attended, rows[0].passed) == (2, 1)
        with pytest.raises(InvalidInput) as caught:
            training.add_participants(session, me, held.id, [])
        assert caught.value.errors[0].field == "staff_ids"
    # Thirty days of validity: the last valid day is day 29; on day 30 it is off the list and due.
    frozen_clock.advance(dt.timedelta(days=30))
    with acting(db, "home_administrator") as (session, me):
        assert _eligible(session, me) == []
        due = staff.renewals_due(session, me, 0)
        assert [(r.staff.name, r.expired) for r in due] == [("甲采样", True)]


def _csv(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _shift_count(db) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as session:
        return len(list(session.scalars(select(Shift.id))))


def test_a_bad_roster_file_names_row_and_column_and_writes_nothing(app, world: World, tmp_path: Path) -> None:
    db = app.state.db
    with acting(db, "away_administrator") as (session, me):
        foreign = add_certified(session, me, "海曙甲", "sampling", code=FOREIGN_COUNTY)
    with acting(db, "home_administrator") as (session, me):
        ours = [add_certified(session, me, f"采样{i}", "sampling") for i in range(2)]
    today = clock.today().isoformat()
    bad = _csv(
        tmp_path,
        "roster.csv",
        [
            "人员编号,姓名,日期,班次",
            f"{ours[0]},采样0,{today},值班",
            f"{ours[1]},采样1,2026-13-40,值班",
            f"{ours[1]},采样1,{today},午班",
            f"{foreign},海曙甲,{today},备班",
            f"{ours[0]},采样0,{today},备班",
        ],
    )
    with acting(db, "home_administrator") as (session, me), pytest.raises(InvalidInput) as caught:
        roster.import_roster(session, me, bad)
    assert [(e.row, e.field) for e in caught.value.errors] == [
        (3, "日期"),
        (4, "班次"),
        (5, "人员编号"),
        (6, "日期"),
    ]
    assert caught.value.file
    assert _shift_count(db) == 0
    # A missing column is named as the file would name it.
    with acting(db, "home_administrator") as (session, me), pytest.raises(InvalidInput) as caught:
        roster.import_roster(
            session, me, _csv(tmp_path, "short.csv", ["人员编号,日期", f"{ours[0]},{today}"])
        )
    assert [(e.row, e.field) for e in caught.value.errors] == [(1, "班次")]
    # The same file in English headers, as Excel, once fixed, is written whole.
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["staff_id", "day", "kind"])
    sheet.append([ours[0], clock.today(), "on_duty"])
    sheet.append([ours[1], clock.today(), "on_call"])
    book.save(tmp_path / "roster.xlsx")
    with acting(db, "home_administrator") as (session, me):
        report = roster.import_roster(session, me, tmp_path / "roster.xlsx")
        assert (report.rows, report.written) == (2, 2)
        counts = staff.duty_counts(session, me.jpath)
        assert (counts.rostered, counts.on_call) == (1, 1)


def test_todays_on_duty_count_follows_the_roster_of_the_local_day(
    app, world: World, frozen_clock: clock.FrozenClock
) -> None:
    db = app.state.db
    # 20:19 UTC on 6 December is already 7 December in Beijing: the roster's "today" is the local day.
    today = clock.today()
    assert today == clock.utcnow().date() + dt.timedelta(days=1)
    with acting(db, "home_administrator") as (session, me):
        team = teams.create_team(
            session, me, jurisdiction_code=HOME_COUNTY, kind="sampling", name="西湖采样队"
        )
        ids = [add_certified(session, me, f"采样{i}", "sampling") for i in range(4)]
        for i in ids:
            teams.add_member(session, me, team.id, i)
        roster.set_shift(session, me, ids[0], today, "on_duty", team_id=team.id)
        roster.set_shift(session, me, ids[1], today, "on_duty")
        roster.set_shift(session, me, ids[2], today, "on_call", team_id=team.id)
        roster.set_shift(session, me, ids[2], today + dt.timedelta(days=1), "on_duty")
        roster.set_shift(session, me, ids[3], today - dt.timedelta(days=1), "on_duty")
        counts = staff.duty_counts(session, me.jpath)
        assert (counts.on_duty, counts.on_call) == (2, 1)
        assert [p.id for p in roster.on_call_by_team(session, me.jpath)[team.id]] == [ids[2]]
        # Marked not available: off the count whatever the roster says.
        staff.set_availability(session, me, ids[1], available=False)
        assert staff.duty_counts(session, me.jpath).on_duty == 1
        # "off" clears a day.
        roster.set_shift(session, me, ids[0], today, "off")
        assert staff.duty_counts(session, me.jpath).on_duty == 0
        with pytest.raises(InvalidInput) as caught:
            roster.set_shift(session, me, ids[0], today, "nights")
        assert caught.value.errors[0].field == "kind"
    frozen_clock.advance(dt.timedelta(days=1))
    with acting(db, "home_administrator") as (session, me):
        counts = staff.duty_counts(session, me.jpath)
        assert (counts.on_duty, counts.on_call) == (1, 0)
        week = roster.week(session, me, HOME_COUNTY, clock.today())
        assert week.monday == roster.week_start(clock.today()) and week.total == 4


def test_a_staff_phone_is_never_stored_in_clear_and_its_reveal_is_audited(
    app, world: World, settings
) -> None:  # type: ignore[no-untyped-def]
    db = app.state.db
    vault = _vault(settings)
    with acting(db, "home_administrator") as (session, me):
        person = staff.add_staff(
            session, me, jurisdiction_code=HOME_COUNTY, name="周流调", unit="区疾控中心",
            work_phone="139 0571 2345", vault=vault,
        )  # fmt: skip
        landline = staff.add_staff(
            session, me, jurisdiction_code=HOME_COUNTY, name="吴消杀", unit="区疾控中心",
            work_phone="0571-87001234", vault=vault,
        )  # fmt: skip
        staff_id, landline_id = person.id, landline.id
    with db.unit_of_work() as session:
        raw = session.execute(text("SELECT * FROM resources_staff")).mappings().all()
    assert len(raw) == 2
    for row in raw:
        for value in row.values():
            shown = value.hex() if isinstance(value, bytes | memoryview) else str(value)
            blob = bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
            for secret in ("13905712345", "87001234"):
                assert secret not in shown and secret.encode() not in blob
    by_id = {r["id"]: r for r in raw}
    assert by_id[staff_id]["phone_masked"] == "139****2345"
    # The hash is the one a resident's mobile gets, so the privacy sweep that follows a person's phone
    # hash into every table finds a staff phone too; and the sweep sees the three columns by convention.
    assert by_id[staff_id]["phone_hash"] == vault.keyed_hash("13905712345")
    staff_table = table("resources_staff")
    assert staff_table is not None
    assert {c.name for c in identity_columns(staff_table)} == {"phone_cipher", "phone_hash", "phone_masked"}
    with acting(db, "home_administrator") as (session, me):
        assert staff.reveal_phone(session, vault, me, staff_id) == "13905712345"
        assert staff.reveal_phone(session, vault, me, landline_id) == "0571-87001234"
    with db.unit_of_work() as session:
        reveals = session.scalars(
            select(AuditEntry.object_id).where(AuditEntry.action == "resources.staff.phone_reveal")
        ).all()
    assert sorted(reveals) == sorted([str(staff_id), str(landline_id)])
    with acting(db, "home_administrator") as (session, me), pytest.raises(InvalidInput) as caught:
        staff.add_staff(
            session, me, jurisdiction_code=HOME_COUNTY, name="错号", unit="x", work_phone="12ab", vault=vault
        )
    assert [e.field for e in caught.value.errors] == ["work_phone"]


@pytest.fixture
def cli_env(monkeypatch, app, settings, world: World) -> Iterator[None]:  # type: ignore[no-untyped-def]
    for name in ("database_url", "encryption_key", "hash_key", "secret_key"):
        monkeypatch.setenv(f"FANGKONG_{name.upper()}", getattr(settings, name))
    monkeypatch.setenv("FANGKONG_VAR_DIR", str(settings.var_dir))
    config.get_settings.cache_clear()
    yield
    config.get_settings.cache_clear()


def test_the_cli_imports_the_roster_and_prints_today(cli_env, app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = app.state.db
    with acting(db, "home_administrator") as (session, me):
        ids = [add_certified(session, me, f"采样{i}", "sampling") for i in range(2)]
    today = clock.today().isoformat()
    runner = CliRunner()
    bad = _csv(
        tmp_path, "bad.csv", ["人员编号,日期,班次", f"{ids[0]},{today},值班", f"x{ids[1]},{today},值班"]
    )
    refused = runner.invoke(cli, ["roster-import", str(bad), "-u", "home_administrator", "--json"])
    assert refused.exit_code == 2, refused.output
    assert [(e["row"], e["field"]) for e in json.loads(refused.output)["errors"]] == [(3, "人员编号")]
    good = _csv(
        tmp_path, "good.csv", ["人员编号,日期,班次", f"{ids[0]},{today},值班", f"{ids[1]},{today},备班"]
    )
    done = runner.invoke(cli, ["roster-import", str(good), "-u", "home_administrator", "--json"])
    assert done.exit_code == 0 and json.loads(done.output)["written"] == 2, done.output
    shown = json.loads(runner.invoke(cli, ["roster", "--jurisdiction", HOME_COUNTY, "--json"]).output)
    assert shown["day"] == today
    assert sorted((s["name"], s["kind"]) for s in shown["shifts"]) == [
        ("采样0", "on_duty"),
        ("采样1", "on_call"),
    ]
    counts = json.loads(runner.invoke(cli, ["counts", "--jurisdiction", HOME_COUNTY, "--json"]).output)
    assert (counts["on_duty"], counts["on_call"]) == (1, 1)


def test_anonymising_a_resident_wipes_the_staff_phone_they_share(app, world: World, settings) -> None:  # type: ignore[no-untyped-def]
    """The privacy sweep follows a person's phone hash into every table: a staff member's work mobile
    that is the resident's own goes with the resident's identity."""
    from fangkong.core.models import Person
    from fangkong.privacy.service.linkage import anonymise_people
    from fangkong.resources.models import Staff

    vault = _vault(settings)
    db = app.state.db
    with db.unit_of_work() as session:
        resident = next(
            p
            for p in session.scalars(select(Person).where(Person.id.in_(world.people[HOME_COUNTY])))
            if vault.decrypt_person(p.pii).phone
        )
        resident_id, mobile = resident.id, vault.decrypt_person(resident.pii).phone
    with acting(db, "home_administrator") as (session, me):
        shared = staff.add_staff(
            session,
            me,
            jurisdiction_code=HOME_COUNTY,
            name="郑采样",
            unit="社区",
            work_phone=mobile,
            vault=vault,
        ).id
        other = staff.add_staff(
            session, me, jurisdiction_code=HOME_COUNTY, name="冯采样", unit="社区",
            work_phone="0571-87005678", vault=vault,
        ).id  # fmt: skip
    with db.unit_of_work() as session:
        anonymise_people(session, select(Person.id).where(Person.id == resident_id))
    with db.unit_of_work() as session:
        wiped, kept = session.get(Staff, shared), session.get(Staff, other)
        assert wiped is not None and kept is not None
        assert not wiped.phone_cipher and wiped.phone_masked in (None, "*")
        assert kept.phone_masked == "057*****5678" and kept.phone_cipher
