"""Feeding one drill event, as the drill, through the same use cases a user calls.

Case reports and the autopilot's investigations go through ``tracing.service``, fever-clinic figures
through ``surveillance.observations`` followed by a detection run, the autopilot's alert responses
through ``surveillance.alerts``, sampling and lab rounds through :mod:`drill_testing`, quarantine
placements through :mod:`drill_quarantine`, the elderly outreach calls through
:mod:`drill_vaccination` and reads with a stated reason, their review and the sandbox's retention dry
run through :mod:`drill_privacy`. Each returns a reference to the record it made.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core.auth import Principal
from fangkong.core.crypto import Vault
from fangkong.core.errors import DomainError
from fangkong.core.events import EventBus
from fangkong.core.models import Jurisdiction
from fangkong.modeling.drill_clock import drill_hours_at
from fangkong.modeling.drills.acting import _actor, capability_available, drill_principal
from fangkong.modeling.drills.reads import marks_of
from fangkong.modeling.drills.requests import EXPOSURE_HOUR, FEVER_CHANNEL
from fangkong.modeling.models import Drill, DrillEvent


def _calendar(drill: Drill, day: int | None) -> dt.date | None:
    return None if day is None else drill.calendar_start + dt.timedelta(days=int(day))


def _feed(
    session: Session,
    vault: Vault,
    bus: EventBus,
    drill: Drill,
    kind: str,
    payload: dict[str, Any],
    due_hours: float,
    now: dt.datetime,
) -> str:
    principal = drill_principal(session, drill)
    if kind == "case_report":
        return _feed_case(session, vault, bus, principal, drill, payload)
    if kind == "investigation":
        return _feed_investigation(session, vault, bus, principal, drill, payload, due_hours)
    if kind == "signal":
        return _feed_signal(session, bus, principal, drill, payload, due_hours, now)
    if kind == "alert_response":
        return f"answered:{_answer_alerts(session, bus, principal, drill, due_hours, now)}"
    if kind in ("sampling", "lab"):
        from fangkong.modeling import drill_testing

        day = _calendar(drill, int(due_hours // 24))
        assert day is not None
        if kind == "sampling":
            return f"sampled:{drill_testing.sampling_round(session, principal, day, drill.id)}"
        reported = set(_cases_by_person(session, drill.id))
        return f"reported:{drill_testing.lab_round(session, bus, principal, reported)}"
    if kind == "areas":
        from fangkong.modeling import drill_areas

        day = _calendar(drill, int(due_hours // 24))
        assert day is not None
        return drill_areas.areas_round(session, bus, principal, day, vault.hash_key)
    if kind == "outreach":
        from fangkong.modeling import drill_vaccination

        day = _calendar(drill, int(due_hours // 24))
        assert day is not None
        return drill_vaccination.outreach_round(
            session, bus, principal, day, drill.calendar_start, drill.seed
        )
    if kind == "placement":
        from fangkong.modeling import drill_quarantine

        day = _calendar(drill, int(due_hours // 24))
        assert day is not None
        return drill_quarantine.placement_round(session, bus, principal, day)
    if kind in ("privacy_access", "privacy_review", "privacy_retention"):
        from fangkong.modeling import drill_privacy

        if kind == "privacy_access":
            return drill_privacy.access_round(session, drill, int(payload["day"]))
        if kind == "privacy_review":
            return drill_privacy.review_round(session, drill)
        return drill_privacy.retention_forecast(session, drill)
    raise DomainError(f"unknown drill event {kind!r}")


def _id_number(session: Session, vault: Vault, principal: Principal, person_id: int) -> str:
    from fangkong.core import people

    # The registry's audited read: every synthetic resident the drill names leaves a trace.
    return people.reveal(session, vault, principal, person_id, ip="drill").id_number


def _feed_case(
    session: Session, vault: Vault, bus: EventBus, principal: Principal, drill: Drill, payload: dict[str, Any]
) -> str:
    if not capability_available("fangkong.tracing.service"):
        raise DomainError("not fed: the tracing capability is not built yet")
    from fangkong.tracing import service as tracing
    from fangkong.tracing.persons import PersonInput
    from fangkong.tracing.service import Classification

    onset = _calendar(drill, payload.get("onset_day"))
    case = tracing.register_case(
        session,
        vault,
        bus,
        principal,
        tracing.CaseInput(
            classification=Classification.confirmed if onset is not None else Classification.asymptomatic,
            person=PersonInput(id_number=_id_number(session, vault, principal, int(payload["person_id"]))),
            onset_date=onset,
            sampling_date=_calendar(drill, payload.get("sampling_day")),
            diagnosis_date=_calendar(drill, payload.get("diagnosed_day")),
            notes=f"【演练】drill {drill.id}",
        ),
        ip="drill",
    )
    return f"case:{case.id}"


def _cases_by_person(session: Session, drill_id: int) -> dict[int, int]:
    """Registry person → tracing case, for the case reports this drill has fed."""
    found: dict[int, int] = {}
    rows = session.execute(
        select(DrillEvent.payload, DrillEvent.record_ref).where(
            DrillEvent.drill_id == drill_id,
            DrillEvent.kind == "case_report",
            DrillEvent.record_ref.is_not(None),
        )
    )
    for payload, ref in rows:
        found[int(json.loads(payload)["person_id"])] = int(str(ref).split(":")[1])
    return found


def _report_payloads(session: Session, drill_id: int) -> dict[int, dict[str, Any]]:
    rows = session.scalars(
        select(DrillEvent.payload).where(DrillEvent.drill_id == drill_id, DrillEvent.kind == "case_report")
    )
    return {int(p["person_id"]): p for p in (json.loads(text) for text in rows)}


def _feed_investigation(
    session: Session,
    vault: Vault,
    bus: EventBus,
    principal: Principal,
    drill: Drill,
    payload: dict[str, Any],
    due_hours: float,
) -> str:
    """The autopilot's investigation: the case's close contacts recorded as exposures."""
    if not capability_available("fangkong.tracing.service"):
        raise DomainError("not fed: the tracing capability is not built yet")
    from fangkong.tracing import service as tracing
    from fangkong.tracing.persons import PersonInput
    from fangkong.tracing.service import Certainty

    person_id = int(payload["person_id"])
    cases = _cases_by_person(session, drill.id)
    case_id = cases.get(person_id)
    if case_id is None:
        raise DomainError("not fed: the case report it follows was not recorded")
    reports = _report_payloads(session, drill.id)
    report = reports[person_id]
    anchor = report.get("onset_day")
    anchor = report["sampling_day"] if anchor is None else anchor
    day = _calendar(drill, max(0, int(anchor) - 1))
    assert day is not None
    start = dt.datetime.combine(day, dt.time(EXPOSURE_HOUR))
    lines: list[Any] = []
    infected_by = {link.infector_case_id for link in tracing.links_of(session, principal, case_id)[0]}
    for contact_id, setting in report["contacts"]:
        contact_case = cases.get(int(contact_id))
        infected = reports.get(int(contact_id), {}).get("infector_person_id") == person_id
        if contact_case is not None:
            # A case has one infector, and a link has one direction: link only a case with no infector
            # yet that did not infect this one (tracing links contacts who become cases itself).
            infected = (
                infected
                and not tracing.links_of(session, principal, contact_case)[0]
                and contact_case not in infected_by
            )
            lines.append(
                tracing.ExposureInput(
                    setting=setting,
                    start=start,
                    contact_case_id=contact_case,
                    infected=Certainty.probable if infected else None,
                    note="drill autopilot",
                )
            )
        else:
            lines.append(
                tracing.ExposureInput(
                    setting=setting,
                    start=start,
                    person=PersonInput(id_number=_id_number(session, vault, principal, int(contact_id))),
                    note="drill autopilot",
                )
            )
    if capability_available("fangkong.response.service.compliance"):
        from fangkong.modeling.drill_response import team_reached_scene

        team_reached_scene(session, principal, case_id)
        if capability_available("fangkong.resources.service"):
            from fangkong.modeling.drill_resources import dispatch

            # The case's tasks go to a real investigation team of the county (resources).
            dispatch(session, principal, drill, case_id)
    if lines:
        tracing.add_exposures(session, vault, bus, principal, case_id, lines, ip="drill")
        if capability_available("fangkong.quarantine.service"):
            from fangkong.modeling.drill_quarantine import DEFAULT_PLACEMENT_DELAY_HOURS

            # The quarantine manager places the new contacts after a delay: a drill event of its own.
            session.add(
                DrillEvent(
                    drill_id=drill.id,
                    kind="placement",
                    due_hours=due_hours + DEFAULT_PLACEMENT_DELAY_HOURS,
                    payload="{}",
                )
            )
    return f"case:{case_id}"


def _feed_signal(
    session: Session,
    bus: EventBus,
    principal: Principal,
    drill: Drill,
    payload: dict[str, Any],
    due_hours: float,
    now: dt.datetime,
) -> str:
    if not capability_available("fangkong.surveillance.service"):
        raise DomainError("not fed: the surveillance capability is not built yet")
    from fangkong.surveillance import alerts, observations, runner
    from fangkong.surveillance import service as surveillance
    from fangkong.surveillance.alerts import AlertStatus
    from fangkong.surveillance.ingest import RawRecord

    township = session.get(Jurisdiction, drill.sandbox_id)
    assert township is not None
    day = _calendar(drill, int(payload["day"]))
    assert day is not None
    actor = _actor(principal)
    surveillance.ensure_defaults(session)
    report = observations.ingest(
        session, actor, township.path,
        [RawRecord(1, FEVER_CHANNEL, township.code, day.isoformat(), int(payload["value"]))],
        f"drill {drill.id}", now,
    )  # fmt: skip
    run = runner.run_detection(session, bus, actor, township.path, day, now)
    if drill.autopilot:
        _rows, open_alerts = alerts.list_alerts(
            session, drill.sandbox_path, statuses=[AlertStatus.signal], size=1
        )
        pending = session.scalar(
            select(func.count())
            .select_from(DrillEvent)
            .where(
                DrillEvent.drill_id == drill.id,
                DrillEvent.kind == "alert_response",
                DrillEvent.fed_at.is_(None),
            )
        )
        if open_alerts and not pending:
            # The autopilot takes the alert up after its delay: a drill event of its own.
            session.add(
                DrillEvent(
                    drill_id=drill.id,
                    kind="alert_response",
                    due_hours=due_hours + drill.alert_response_delay_hours,
                    payload="{}",
                )
            )
    return f"batch:{report.batch_id};run:{run.run.id}"


def _answer_alerts(
    session: Session, bus: EventBus, principal: Principal, drill: Drill, hours: float, now: dt.datetime
) -> int:
    """The autopilot takes up each open alert of the sandbox whose response delay has passed."""
    from fangkong.surveillance import alerts
    from fangkong.surveillance.alerts import AlertStatus

    marks = marks_of(session, drill.id)
    answered = 0
    rows, _total = alerts.list_alerts(session, drill.sandbox_path, statuses=[AlertStatus.signal], size=200)
    for row in rows:
        created = drill_hours_at(marks, drill.speed, row.alert.created_at)
        if created + drill.alert_response_delay_hours <= hours + 1e-6:
            alerts.act(
                session,
                bus,
                _actor(principal),
                drill.sandbox_path,
                row.alert.id,
                "verify",
                "drill autopilot",
                now,
            )
            answered += 1
    return answered
