"""Checkpoint look-ups on SQLite and PostgreSQL: only the checkpoint's fields, every look-up audited."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from areas_support import area_in_force, arrival_input, arrivals_bus, as_user
from conftest import World, valid_id
from fangkong.areas.service import arrivals, checkpoints
from fangkong.core import clock
from fangkong.core.config import Settings
from fangkong.core.crypto import Vault
from fangkong.core.errors import Forbidden, InvalidInput
from fangkong.core.models import AuditEntry

TRAVELLER = valid_id("330203", "19900101", 123)  # the traveller of ``arrival_input``


@pytest.fixture
def vault(settings: Settings) -> Vault:
    return Vault(settings.encryption_key, settings.hash_key)


@pytest.fixture
def high_arrival(app: Any, world: World, vault: Vault) -> Any:
    with app.state.db.unit_of_work() as session:
        area_in_force(session, place_code="330203001001", name="南门小区", level="high")
        return arrivals.register_arrival(
            session, vault, arrivals_bus(), arrival_input(origin_unit="南门小区"),
            channel="staff", reporter="home_community_worker", ip="10.0.0.1",
        )  # fmt: skip


def lookups(app: Any) -> int:
    with app.state.db.unit_of_work() as session:
        return (
            session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "checkpoint.lookup")
            )
            or 0
        )


def test_the_checkpoint_sees_only_its_fields(app: Any, vault: Vault, high_arrival: Any) -> None:
    with as_user(app, "home_community_worker") as (session, me):
        answer = checkpoints.lookup(session, vault, me, TRAVELLER, checkpoint="杭州东站", ip="10.1.1.1")
    assert {f.name for f in dataclasses.fields(answer)} == {
        "found",
        "name",
        "category",
        "measure",
        "valid_until",
    }
    assert answer.found
    assert answer.name == "赵*"
    assert answer.category == "high_risk_area_arrival"
    assert answer.measure == "centralized_quarantine"
    departed = clock.today() - dt.timedelta(days=2)
    assert answer.valid_until == high_arrival.valid_until
    assert answer.valid_until is not None and answer.valid_until > departed
    shown = repr(answer)
    assert TRAVELLER not in shown and "13900139000" not in shown and "保俶路" not in shown


def test_every_look_up_is_audited(app: Any, vault: Vault, high_arrival: Any) -> None:
    before = lookups(app)
    with as_user(app, "home_investigator") as (session, me):
        checkpoints.lookup(session, vault, me, TRAVELLER, checkpoint="G60 卡口", ip="10.1.1.2")
        checkpoints.lookup(session, vault, me, TRAVELLER, checkpoint="G60 卡口", ip="10.1.1.2")
        miss = checkpoints.lookup(
            session, vault, me, valid_id("110105", "19800101", 11), checkpoint="G60 卡口", ip=""
        )
    assert not miss.found
    assert (miss.name, miss.category, miss.measure, miss.valid_until) == (None, None, None, None)
    assert lookups(app) == before + 3
    with app.state.db.unit_of_work() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "checkpoint.lookup").order_by(AuditEntry.id)
        ).first()
        assert entry is not None
        assert entry.actor == "home_investigator" and entry.ip == "10.1.1.2"
        assert TRAVELLER not in entry.detail and "G60 卡口" in entry.detail


def test_outside_scope_it_is_not_found_and_still_audited(app: Any, vault: Vault, high_arrival: Any) -> None:
    before = lookups(app)
    with as_user(app, "away_community_worker") as (session, me):
        answer = checkpoints.lookup(session, vault, me, TRAVELLER, checkpoint="宁波站", ip="10.2.2.2")
    assert not answer.found and answer.name is None
    assert lookups(app) == before + 1


def test_roles_without_the_permission_and_bad_input_are_refused(
    app: Any, vault: Vault, high_arrival: Any
) -> None:
    before = lookups(app)
    with as_user(app, "home_viewer") as (session, me), pytest.raises(Forbidden):
        checkpoints.lookup(session, vault, me, TRAVELLER, checkpoint="杭州东站", ip="")
    with as_user(app, "home_community_worker") as (session, me):
        for number, place, field in (
            ("330203199001011234", "杭州东站", "id_number"),
            ("<script>", "杭州东站", "id_number"),
            (TRAVELLER, "", "checkpoint"),
            (TRAVELLER, "站" * 61, "checkpoint"),
        ):
            with pytest.raises(InvalidInput) as caught:
                checkpoints.lookup(session, vault, me, number, checkpoint=place, ip="")
            assert [e.field for e in caught.value.errors] == [field]
    assert lookups(app) == before
