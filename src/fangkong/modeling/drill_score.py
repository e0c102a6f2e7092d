"""A drill's score, read from the records the teams (or the autopilot) left in the platform.

Each measure compares what was recorded with the drill's answer key and the protocol's deadlines, in
drill hours (record times go through the drill clock). A measure whose capability is not built yet
reports "not available", one with nothing to judge yet "no data"; the score is the mean of the points
of the measures that could be judged, so it grows as capabilities land.

* ``investigation``: hours from a case report to the first record of its investigation (an exposure
  or a visit); points = share investigated within the protocol's case-investigation deadline (cn-9:
  24 h). Reports still inside the deadline and not investigated are left out.
* ``contacts_24h``: share of each case's close contacts (the answer key) identified as contacts of
  that case within 24 drill hours of its report.
* ``alert_response``: hours from an alert about the sandbox to the first response; points = share
  answered within the alert's own response time. Where the response capability runs, read from the
  alert's verification task clock instead (see :mod:`drill_response`).
* ``response_2_4_24``: share of "2+4+24" promises kept by the case tasks (see :mod:`drill_response`).
* ``staff_hours``: staff-hours per case of the real investigation teams the cases went to; no points
  (a cost read beside the score; see :mod:`drill_resources`).
* ``quarantine_placement``: hours from a person's identification (their plan asking for a centralized
  stage) to their check-in at a quarantine site; points = share checked in within the protocol's
  transfer deadline (cn-9: close contacts 8 h, contacts of contacts 12 h). People not checked in count
  as late once their deadline has passed, and are left out before.
* ``area_designation``: days from a case report to the designation of the first risk area it is behind
  (its home, a frequent place, a place it stayed); points = share designated within
  :data:`AREA_DESIGNATION_DAYS`. Cases whose area is still a proposal past that count as late; cases
  behind no area (a protocol that designates none) are left out.
* ``area_lifting``: changes the protocol's clock made due (downgrades and liftings) that were taken,
  against those due and ready but not taken by the drill's current day; points = share taken.
* ``elderly_outreach``: share of the people aged 60 and over on the sandbox's outreach worklist at the
  start contacted (an attempt recorded, whatever its outcome) within
  :data:`drill_vaccination.OUTREACH_DAYS` drill days; people not yet contacted are left out until that
  window has closed (see :mod:`drill_vaccination`).
* ``access_review``: share of the reads outside one's jurisdiction (access with a stated reason) in the
  sandbox reviewed by a supervisor within :data:`drill_privacy.REVIEW_WINDOW_HOURS` drill hours; a read
  not reviewed counts as late once that window has passed (see :mod:`drill_privacy`).
* ``test_turnaround``: hours from sampling a test to its result; points = share of sampled tests
  resulted within the protocol's lab deadline (cn-9: 12 h of receiving the samples). Tests without a
  result count as late once the deadline has passed.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.auth import Principal
from fangkong.core.i18n import Message, render_text, stored
from fangkong.modeling.drill_clock import Mark, drill_hours_at
from fangkong.modeling.drills import capability_available, drill_hours, drill_principal, get_drill, marks_of
from fangkong.modeling.models import Drill, DrillEvent

MeasureStatus = Literal["ok", "no_data", "not_available"]

# Window in which contacts count as identified, drill hours ("share of contacts identified within 24 h",
# issue 6).
CONTACT_WINDOW_HOURS: Final[float] = 24.0
# Case-investigation deadline when the protocol sets none, hours; cn-9 parameter case_investigation_hours.
DEFAULT_INVESTIGATION_HOURS: Final[float] = 24.0


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    status: MeasureStatus
    value: float | None = None
    unit: str = ""
    points: float | None = None
    target: str = ""
    detail: str = ""
    judged: int = 0


@dataclass(frozen=True)
class DrillScore:
    drill_id: int
    hours: float
    measures: list[Measure] = field(default_factory=list)

    @property
    def total(self) -> float | None:
        points = [m.points for m in self.measures if m.status == "ok" and m.points is not None]
        return sum(points) / len(points) if points else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "drill_id": self.drill_id,
            "drill_hours": self.hours,
            "score": self.total,
            # Details are stored messages: the JSON answer gives them in English.
            "measures": [{**m.__dict__, "detail": render_text(m.detail, None)} for m in self.measures],
        }


@dataclass(frozen=True)
class _Report:
    case_id: int
    person_id: int
    reported: float
    contacts: list[int]


def score(
    session: Session, principal: Principal, drill_id: int, now: dt.datetime | None = None
) -> DrillScore:
    drill = get_drill(session, principal, drill_id)
    # The records are read inside the sandbox, where the caller's own scope does not reach.
    reader = drill_principal(session, drill)
    hours = drill_hours(session, drill, now)
    marks = marks_of(session, drill.id)
    reports = _reports(session, drill, marks)
    tracing = capability_available("fangkong.tracing.service")
    measures = [
        _investigation(session, reader, drill, marks, reports, hours)
        if tracing
        else _missing("investigation"),
        _contacts(session, reader, drill, marks, reports, hours) if tracing else _missing("contacts_24h"),
        _alert_measure(session, reader, drill, marks, hours),
        _response(session, reader, drill, marks, hours)
        if capability_available("fangkong.response.service.compliance")
        else _missing("response_2_4_24"),
        _turnaround(session, drill, marks, hours)
        if capability_available("fangkong.testing.service")
        else _missing("test_turnaround"),
        _placement(session, drill, marks, hours)
        if capability_available("fangkong.quarantine.service")
        else _missing("quarantine_placement"),
        _outreach(session, reader, drill, hours)
        if capability_available("fangkong.vaccination.service")
        else _missing("elderly_outreach"),
        _staff_hours(session, reader, drill, marks, hours)
        if capability_available("fangkong.resources.service")
        else _missing("staff_hours"),
        _access_review(session, drill, marks, hours)
        if capability_available("fangkong.privacy.service")
        else _missing("access_review"),
        *(
            _areas(session, reader, drill, marks, reports, hours)
            if capability_available("fangkong.areas.service")
            else (_missing("area_designation"), _missing("area_lifting"))
        ),
    ]
    return DrillScore(drill.id, hours, measures)


LABELS: Final[dict[str, str]] = {
    "investigation": "Hours from report to investigation",
    "contacts_24h": "Close contacts identified within 24 h",
    "alert_response": "Alert response time",
    "test_turnaround": "Test results within the lab deadline",
    "quarantine_placement": "Close contacts placed within the transfer deadline",
    "area_designation": "Days from a case to its risk area",
    "area_lifting": "Risk areas lifted when due",
    "response_2_4_24": "Case tasks within 2+4+24 h",
    "staff_hours": "Staff-hours per case",
    "elderly_outreach": "Elders on the worklist contacted within 7 days",
    "access_review": "Reads outside the jurisdiction reviewed within 1 day",
}
_CAPABILITY: Final[dict[str, str]] = {
    "investigation": "tracing",
    "contacts_24h": "tracing",
    "alert_response": "surveillance",
    "test_turnaround": "testing",
    "quarantine_placement": "quarantine",
    "area_designation": "areas",
    "area_lifting": "areas",
    "response_2_4_24": "response",
    "staff_hours": "resources",
    "elderly_outreach": "vaccination",
    "access_review": "privacy",
}


def _staff_hours(
    session: Session, reader: Principal, drill: Drill, marks: list[Mark], hours: float
) -> Measure:
    """Staff-hours per case of the real teams the cases went to (see :mod:`drill_resources`); no points."""
    from fangkong.modeling.drill_resources import staff_hours

    value, judged = staff_hours(session, reader, drill, marks, hours)
    if value is None:
        return Measure(
            "staff_hours", LABELS["staff_hours"], "no_data", unit="h",
            detail="no case has gone to a team of the county yet",
        )  # fmt: skip
    return Measure(
        "staff_hours", LABELS["staff_hours"], "ok", value=value, unit="h", judged=judged,
        detail=stored(Message("{cases} cases worked by the county's investigation teams", cases=judged)),
    )  # fmt: skip


def _missing(key: str) -> Measure:
    return Measure(
        key,
        LABELS[key],
        "not_available",
        # The status column already says "not available": the detail says why, once.
        detail=stored(
            Message(
                "the {capability} capability is not built yet",
                capability=Message(_CAPABILITY[key], ctx="capability"),
            )
        ),
    )


def _reports(session: Session, drill: Drill, marks: list[Mark]) -> list[_Report]:
    rows = session.execute(
        select(DrillEvent.payload, DrillEvent.record_ref, DrillEvent.fed_at).where(
            DrillEvent.drill_id == drill.id,
            DrillEvent.kind == "case_report",
            DrillEvent.record_ref.is_not(None),
        )
    ).all()
    out = []
    for payload_text, ref, fed_at in rows:
        if fed_at is None:
            continue
        payload = json.loads(payload_text)
        out.append(
            _Report(
                case_id=int(str(ref).split(":")[1]),
                person_id=int(payload["person_id"]),
                reported=drill_hours_at(marks, drill.speed, fed_at),
                contacts=[int(c) for c, _setting in payload["contacts"]],
            )
        )
    return out


def _deadline_hours(drill: Drill) -> float:
    from fangkong.protocol.loader import load_builtin

    hours = load_builtin(drill.protocol_id).deadlines.case_investigation_hours
    return float(hours) if hours is not None else DEFAULT_INVESTIGATION_HOURS


def _investigation(
    session: Session,
    principal: Principal,
    drill: Drill,
    marks: list[Mark],
    reports: list[_Report],
    hours: float,
) -> Measure:
    from fangkong.tracing import service as tracing

    deadline = _deadline_hours(drill)
    delays: list[float] = []
    late = 0
    for report in reports:
        records = [e.created_at for e in tracing.exposures_of(session, principal, report.case_id)]
        records += [v.created_at for v in tracing.visits_of(session, principal, report.case_id)]
        if records:
            first = min(drill_hours_at(marks, drill.speed, at) for at in records)
            delays.append(max(0.0, first - report.reported))
        elif hours - report.reported > deadline:
            late += 1
    judged = len(delays) + late
    if judged == 0:
        return Measure(
            "investigation", LABELS["investigation"], "no_data", unit="h", target=f"≤ {deadline:g} h",
            detail="no case report has been investigated or passed its deadline yet",
        )  # fmt: skip
    on_time = sum(1 for d in delays if d <= deadline)
    return Measure(
        "investigation",
        LABELS["investigation"],
        "ok",
        value=statistics.median(delays) if delays else None,
        unit="h",
        points=100.0 * on_time / judged,
        target=f"≤ {deadline:g} h",
        detail=stored(
            Message(
                "{on_time} of {judged} reports investigated within {deadline} h (median of investigated)",
                on_time=on_time,
                judged=judged,
                deadline=float(deadline),
            )
        ),
        judged=judged,
    )


def _contacts(
    session: Session,
    principal: Principal,
    drill: Drill,
    marks: list[Mark],
    reports: list[_Report],
    hours: float,
) -> Measure:
    from fangkong.tracing import service as tracing

    expected = 0
    found = 0
    for report in reports:
        if not report.contacts:
            continue
        identified: dict[int, float] = {}
        page = tracing.list_contacts(
            session, principal, tracing.ContactFilter(case_id=report.case_id, status=None), size=200
        )
        for row in page.items:
            contact = tracing.get_contact(session, principal, row.id)
            if contact.person_id is not None:
                identified[contact.person_id] = drill_hours_at(marks, drill.speed, contact.created_at)
        within = sum(
            1
            for p in report.contacts
            if p in identified and identified[p] - report.reported <= CONTACT_WINDOW_HOURS
        )
        if hours - report.reported < CONTACT_WINDOW_HOURS and within < len(report.contacts):
            continue  # still inside its 24 hours
        expected += len(report.contacts)
        found += within
    if expected == 0:
        return Measure("contacts_24h", LABELS["contacts_24h"], "no_data", unit="%", target="100 %",
                       detail="no case report has passed its first 24 h yet")  # fmt: skip
    share = found / expected
    return Measure(
        "contacts_24h",
        LABELS["contacts_24h"],
        "ok",
        value=100.0 * share,
        unit="%",
        points=100.0 * share,
        target="100 %",
        detail=stored(
            Message(
                "{found} of {expected} close contacts in the answer key identified within 24 h",
                found=found,
                expected=expected,
            )
        ),
        judged=expected,
    )


def _alert_measure(
    session: Session, reader: Principal, drill: Drill, marks: list[Mark], hours: float
) -> Measure:
    if capability_available("fangkong.response.service.compliance"):
        from fangkong.modeling.drill_response import alert_verification

        status, value, points, detail, judged = alert_verification(session, reader, drill, marks, hours)
        if status == "ok":
            return Measure(
                "alert_response", LABELS["alert_response"], "ok", value=value, unit="h", points=points,
                target="within each verification task's deadline", detail=detail, judged=judged,
            )  # fmt: skip
    if capability_available("fangkong.surveillance.alerts"):
        return _alerts(session, drill, marks, hours)
    return _missing("alert_response")


def _response(session: Session, reader: Principal, drill: Drill, marks: list[Mark], hours: float) -> Measure:
    from fangkong.modeling.drill_response import two_four_twenty_four

    label = LABELS["response_2_4_24"]
    status, target, value, points, detail, judged = two_four_twenty_four(session, reader, drill, marks, hours)
    if status != "ok":
        return Measure("response_2_4_24", label, "no_data", unit="%", target=target, detail=detail)
    return Measure(
        "response_2_4_24", label, "ok", value=value, unit="%", points=points, target=target,
        detail=detail, judged=judged,
    )  # fmt: skip


def _alerts(session: Session, drill: Drill, marks: list[Mark], hours: float) -> Measure:
    from fangkong.surveillance import alerts

    rows, _total = alerts.list_alerts(session, drill.sandbox_path, size=200)
    delays: list[float] = []
    on_time = 0
    judged = 0
    for row in rows:
        alert = row.alert
        created = drill_hours_at(marks, drill.speed, alert.created_at)
        if alert.responded_at is not None:
            delay = max(0.0, drill_hours_at(marks, drill.speed, alert.responded_at) - created)
            delays.append(delay)
            judged += 1
            on_time += delay <= alert.response_hours
        elif hours - created > alert.response_hours:
            judged += 1
    if judged == 0:
        detail = (
            "no alert about the sandbox yet" if not rows else "alerts are still within their response time"
        )
        return Measure("alert_response", LABELS["alert_response"], "no_data", unit="h", detail=detail)
    return Measure(
        "alert_response",
        LABELS["alert_response"],
        "ok",
        value=statistics.median(delays) if delays else None,
        unit="h",
        points=100.0 * on_time / judged,
        target="within each alert's response time",
        detail=stored(
            Message(
                "{on_time} of {judged} alerts answered in time (median of answered)",
                on_time=on_time,
                judged=judged,
            )
        ),
        judged=judged,
    )


def _placement(session: Session, drill: Drill, marks: list[Mark], hours: float) -> Measure:
    from fangkong.quarantine.service import timeliness

    delays: list[float] = []
    on_time = 0
    judged = 0
    for timing in timeliness.transfer_timings(session, drill.sandbox_path):
        identified = drill_hours_at(marks, drill.speed, timing.identified_at)
        allowed = (timing.deadline_at - timing.identified_at).total_seconds() / 3600.0
        if timing.checked_in_at is not None:
            delay = max(0.0, drill_hours_at(marks, drill.speed, timing.checked_in_at) - identified)
            delays.append(delay)
            judged += 1
            on_time += delay <= allowed + 1e-6
        elif hours - identified > allowed:
            judged += 1
    if judged == 0:
        return Measure(
            "quarantine_placement", LABELS["quarantine_placement"], "no_data", unit="h",
            detail="no one has been checked into quarantine or passed the transfer deadline yet",
        )  # fmt: skip
    return Measure(
        "quarantine_placement",
        LABELS["quarantine_placement"],
        "ok",
        value=statistics.median(delays) if delays else None,
        unit="h",
        points=100.0 * on_time / judged,
        target="within the transfer deadline",
        detail=stored(
            Message(
                "{on_time} of {judged} people checked into quarantine within the transfer deadline "
                "(median of those checked in)",
                on_time=on_time,
                judged=judged,
            )
        ),
        judged=judged,
    )


# Lab deadline when the protocol sets none, hours (cn-9: results within 12 h, protocols.md §7, S54).
DEFAULT_LAB_HOURS: Final[float] = 12.0


def _turnaround(session: Session, drill: Drill, marks: list[Mark], hours: float) -> Measure:
    from fangkong.protocol.loader import load_builtin
    from fangkong.testing.service import orders

    deadline_setting = load_builtin(drill.protocol_id).deadlines.lab_turnaround_hours
    deadline = float(deadline_setting) if deadline_setting is not None else DEFAULT_LAB_HOURS
    delays: list[float] = []
    on_time = 0
    judged = 0
    for timing in orders.turnarounds(session, drill.sandbox_path):
        sampled = drill_hours_at(marks, drill.speed, timing.sampled_at)
        if timing.resulted_at is not None:
            delay = max(0.0, drill_hours_at(marks, drill.speed, timing.resulted_at) - sampled)
            delays.append(delay)
            judged += 1
            on_time += delay <= deadline + 1e-6
        elif hours - sampled > deadline:
            judged += 1
    if judged == 0:
        return Measure(
            "test_turnaround", LABELS["test_turnaround"], "no_data", unit="h", target=f"≤ {deadline:g} h",
            detail="no test has been sampled and resulted or passed the lab deadline yet",
        )  # fmt: skip
    return Measure(
        "test_turnaround",
        LABELS["test_turnaround"],
        "ok",
        value=statistics.median(delays) if delays else None,
        unit="h",
        points=100.0 * on_time / judged,
        target=f"≤ {deadline:g} h",
        detail=stored(
            Message(
                "{on_time} of {judged} tests resulted within {deadline} h of sampling (median of resulted)",
                on_time=on_time,
                judged=judged,
                deadline=float(deadline),
            )
        ),
        judged=judged,
    )


def _access_review(session: Session, drill: Drill, marks: list[Mark], hours: float) -> Measure:
    from fangkong.modeling import drill_privacy

    on_time, judged = drill_privacy.reviewed_in_time(session, drill, marks, hours)
    target = f"100 % ≤ {drill_privacy.REVIEW_WINDOW_HOURS:g} h"
    if judged == 0:
        return Measure(
            "access_review", LABELS["access_review"], "no_data", unit="%", target=target,
            detail="no read outside the jurisdiction to judge yet",
        )  # fmt: skip
    return Measure(
        "access_review", LABELS["access_review"], "ok", value=100.0 * on_time / judged, unit="%",
        points=100.0 * on_time / judged, target=target, judged=judged,
        detail=stored(
            Message("{on_time} of {judged} reads outside the jurisdiction reviewed within a day",
                    on_time=on_time, judged=judged)
        ),
    )  # fmt: skip


def _outreach(session: Session, principal: Principal, drill: Drill, hours: float) -> Measure:
    from fangkong.modeling import drill_vaccination

    worklist = [int(p) for p in json.loads(drill.summary or "{}").get("elderly_worklist", [])]
    window = drill_vaccination.OUTREACH_DAYS
    on_time, judged = drill_vaccination.reached(
        session, principal, worklist, drill.calendar_start, int(hours // 24)
    )
    if judged == 0:
        return Measure(
            "elderly_outreach", LABELS["elderly_outreach"], "no_data", unit="%", target=f"100 % ≤ {window} d",
            detail="no elder on the worklist has been contacted yet, and the window is still open",
        )  # fmt: skip
    return Measure(
        "elderly_outreach",
        LABELS["elderly_outreach"],
        "ok",
        value=100.0 * on_time / judged,
        unit="%",
        points=100.0 * on_time / judged,
        target=f"100 % ≤ {window} d",
        detail=stored(
            Message(
                "{on_time} of {judged} elders on the worklist contacted within {days} d",
                on_time=on_time,
                judged=judged,
                days=window,
            )
        ),
        judged=judged,
    )


# Days a case's risk area may take to be designated ("露头就打": the day the case is reported; one day
# allows for a report in the evening), modelling choice.
AREA_DESIGNATION_DAYS: Final[float] = 1.0


def _areas(
    session: Session,
    principal: Principal,
    drill: Drill,
    marks: list[Mark],
    reports: list[_Report],
    hours: float,
) -> tuple[Measure, Measure]:
    from fangkong.areas.service import AreaState, designation

    reported = {r.case_id: r.reported for r in reports}
    designated_for: dict[int, float] = {}
    waiting: set[int] = set()
    applied = 0
    page = 1
    while True:
        listed = designation.list_areas(session, principal, page=page, size=200)
        for area in listed.items:
            case_ids = {c.case_id for c in designation.cases_of(session, principal, area.id)}
            if area.designated_at is not None:
                at = drill_hours_at(marks, drill.speed, area.designated_at)
                for case_id in case_ids:
                    designated_for[case_id] = min(designated_for.get(case_id, at), at)
            elif area.state is AreaState.proposed:
                waiting.update(case_ids)
            applied += sum(
                1
                for c in designation.timeline(session, principal, area.id)
                if c.kind in ("downgraded", "lifted")
            )
        if page * 200 >= listed.total:
            break
        page += 1
    delays = [max(0.0, designated_for[c] - at) / 24.0 for c, at in reported.items() if c in designated_for]
    late_waiting = sum(
        1
        for c in waiting
        if c in reported and c not in designated_for and hours - reported[c] > AREA_DESIGNATION_DAYS * 24
    )
    judged = len(delays) + late_waiting
    if judged == 0:
        designation_measure = Measure(
            "area_designation", LABELS["area_designation"], "no_data", unit="d",
            target=f"≤ {AREA_DESIGNATION_DAYS:g} d", detail="no case is behind a risk area yet",
        )  # fmt: skip
    else:
        on_time = sum(1 for d in delays if d <= AREA_DESIGNATION_DAYS + 1e-6)
        designation_measure = Measure(
            "area_designation",
            LABELS["area_designation"],
            "ok",
            value=statistics.median(delays) if delays else None,
            unit="d",
            points=100.0 * on_time / judged,
            target=f"≤ {AREA_DESIGNATION_DAYS:g} d",
            detail=stored(
                Message(
                    "{on_time} of {judged} cases had their risk area designated within {days} d "
                    "(median of designated)",
                    on_time=on_time,
                    judged=judged,
                    days=AREA_DESIGNATION_DAYS,
                )
            ),
            judged=judged,
        )
    today = drill.calendar_start + dt.timedelta(days=int(hours // 24))
    overdue = sum(
        1 for c in designation.due_changes(session, principal, today) if c.ready and c.due_on < today
    )
    taken = applied + overdue
    if taken == 0:
        lifting_measure = Measure(
            "area_lifting", LABELS["area_lifting"], "no_data", unit="%", target="100 %",
            detail="no risk area change has fallen due yet",
        )  # fmt: skip
    else:
        lifting_measure = Measure(
            "area_lifting",
            LABELS["area_lifting"],
            "ok",
            value=100.0 * applied / taken,
            unit="%",
            points=100.0 * applied / taken,
            target="100 %",
            detail=stored(
                Message(
                    "{applied} risk area changes taken when due, {overdue} due and not taken",
                    applied=applied,
                    overdue=overdue,
                )
            ),
            judged=taken,
        )
    return designation_measure, lifting_measure
