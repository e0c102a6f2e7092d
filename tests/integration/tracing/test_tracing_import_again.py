"""A contact list imported again (issue 11 item 17's set-based import): people it names again update
their contact and plan, nobody is doubled, and the plans of an import are those the protocol gives."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from sqlalchemy import func, select
from tracing_support import Tracing

from conftest import HOME_COUNTY, World
from fangkong.core.crypto import Vault
from fangkong.core.people_rules import Keys
from fangkong.protocol.models import ManagementPlanRecord
from fangkong.tracing import imports
from fangkong.tracing.models import Contact
from fangkong.wiring import build_bus

pytest_plugins = ["tracing_support"]  # the `tracing` fixture


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _run(tracing: Tracing, kind: str, path: Path) -> imports.ImportReport:
    settings = tracing.app.state.settings  # type: ignore[attr-defined]
    keys = Keys(settings.encryption_key, settings.hash_key)
    vault = Vault(settings.encryption_key, settings.hash_key)
    with tracing.as_user("home_investigator") as (session, me):
        return imports.import_file(session, vault, build_bus(), me, keys, kind, path)  # type: ignore[arg-type]


def test_a_contact_named_again_is_updated_not_doubled(tracing: Tracing, world: World, tmp_path: Path) -> None:
    index, first, second, third = world.people[HOME_COUNTY][:4]
    ids = world.id_numbers
    cases = _csv(
        tmp_path / "cases.csv",
        ["case_ref", "classification", "id_number", "onset_date"],
        [["XH-1", "confirmed", ids[index], "2022-07-05"]],
    )
    assert _run(tracing, "cases", cases).cases == 1
    header = ["case_ref", "id_number", "phone", "name", "setting", "last_exposure"]
    before = _run(
        tracing,
        "contacts",
        _csv(
            tmp_path / "contacts.csv",
            header,
            [
                ["XH-1", ids[first], "", "", "household", "2022-07-03"],
                ["XH-1", ids[second], "", "", "household", "2022-07-03"],
                ["XH-1", "", "13700000077", "陈七", "household", "2022-07-03"],
            ],
        ),
    )
    assert before.contacts == {"close_contact": 3}
    again = _run(
        tracing,
        "contacts",
        _csv(
            tmp_path / "again.csv",
            header,
            [
                ["XH-1", ids[first], "", "", "household", "2022-07-04"],  # a later exposure
                ["XH-1", "", "13700000077", "陈七", "household", "2022-07-03"],  # the same again
                ["XH-1", ids[third], "", "", "household", "2022-07-04"],  # someone new
            ],
        ),
    )
    assert again.contacts == {"close_contact": 3}
    with tracing.as_user("home_investigator") as (session, _me):
        assert session.scalar(select(func.count()).select_from(Contact)) == 4
        keys = [k for (k,) in session.execute(select(Contact.subject_key))]
        assert len(keys) == len(set(keys))
        moved = session.scalar(select(Contact).where(Contact.subject_key == f"p:{first}"))
        assert moved is not None and moved.last_exposure.date() >= dt.date(2022, 7, 4)
        plans = {
            r.person_id: r
            for r in session.scalars(
                select(ManagementPlanRecord).where(ManagementPlanRecord.source.like("contact:%"))
            )
        }
        # One plan per registry person: restarted for the later exposure, cn-9's 7 + 3 days.
        assert set(plans) == {first, second, third}
        assert plans[first].clock_date == dt.date(2022, 7, 4)
        assert plans[first].end_date == dt.date(2022, 7, 14)
        assert plans[second].clock_date == dt.date(2022, 7, 3)
        assert {p.protocol_id for p in plans.values()} == {"cn-9"}
