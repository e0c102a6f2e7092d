"""Alert use cases: routing to responders, the verification workflow with its response clock, escalation
of overdue alerts to the parent jurisdiction, the notifier outbox, and the CIDARS-style statistics.

Every function takes ``now`` so that the caller (the API reads ``fangkong.core.clock.utcnow``, tests pass
their own) controls time.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.db import Database
from fangkong.core.errors import Conflict, InvalidInput, NotFound, RowError
from fangkong.core.events import EventBus
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction, User
from fangkong.core.permissions import ROLE_PERMISSIONS, Permission
from fangkong.core.scope import path_in_scope, under
from fangkong.surveillance.events import AlertAnswered, AlertConfirmedAsEvent
from fangkong.surveillance.models import (
    Alert,
    AlertAction,
    AlertDelivery,
    AlertLevel,
    AlertSignal,
    Channel,
    DeliveryStatus,
    DetectionResult,
    NotifierEndpoint,
    RuleKind,
)
from fangkong.surveillance.models import (
    AlertStatus as AlertStatus,
)
from fangkong.surveillance.notify import MAX_ATTEMPTS, AlertMessage, NotifyError, notifier_for
from fangkong.surveillance.rules import (
    AlertFacts,
    ResponseStats,
    TransitionRefusedError,
    next_status,
    response_due,
    response_statistics,
    should_escalate,
)

INAPP = "inapp"
MAX_NOTE_LENGTH = 2_000
DELIVERY_BATCH = 500
"""outbox deliveries sent per call of :func:`deliver_pending`."""


def _responder_roles() -> list[str]:
    return [role.value for role, perms in ROLE_PERMISSIONS.items() if Permission.alerts_respond in perms]


def responders_of(session: Session, jurisdiction_id: int) -> list[User]:
    """The active users of exactly this jurisdiction whose role may respond to alerts."""
    return list(
        session.scalars(
            select(User)
            .where(
                User.jurisdiction_id == jurisdiction_id,
                User.is_active.is_(True),
                User.role.in_(_responder_roles()),
            )
            .order_by(User.id)
        )
    )


def record_action(
    session: Session,
    alert: Alert,
    actor: str,
    action: str,
    now: dt.datetime,
    *,
    from_status: AlertStatus | None = None,
    to_status: AlertStatus | None = None,
    note: str = "",
) -> None:
    session.add(
        AlertAction(
            alert_id=alert.id,
            at=now,
            actor=actor,
            action=action,
            from_status=from_status.value if from_status else None,
            to_status=to_status.value if to_status else None,
            note=note,
        )
    )


def route(session: Session, alert: Alert, reason: str, now: dt.datetime) -> int:
    """Notify the assigned jurisdiction: each responder's inbox at once, each endpoint through the outbox."""
    count = 0
    for user in responders_of(session, alert.assigned_jurisdiction_id):
        session.add(
            AlertDelivery(
                alert_id=alert.id,
                reason=reason,
                notifier=INAPP,
                user_id=user.id,
                jpath=alert.assigned_jpath,
                status=DeliveryStatus.sent,
                attempts=1,
                created_at=now,
                sent_at=now,
                last_error="",
            )
        )
        count += 1
    endpoints = session.scalars(
        select(NotifierEndpoint).where(
            NotifierEndpoint.jurisdiction_id == alert.assigned_jurisdiction_id,
            NotifierEndpoint.active.is_(True),
        )
    )
    for endpoint in endpoints:
        session.add(
            AlertDelivery(
                alert_id=alert.id,
                reason=reason,
                notifier=endpoint.kind,
                endpoint_id=endpoint.id,
                jpath=alert.assigned_jpath,
                status=DeliveryStatus.pending,
                attempts=0,
                created_at=now,
                last_error="",
            )
        )
        count += 1
    session.flush()
    return count


# ---------------------------------------- reading


def get_alert(session: Session, path: str, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None or not path_in_scope(alert.jpath, path):
        raise NotFound(f"alert {alert_id} not found")
    return alert


@dataclass(frozen=True)
class AlertRow:
    alert: Alert
    place: Jurisdiction
    assigned: Jurisdiction


def list_alerts(
    session: Session,
    path: str,
    *,
    statuses: Sequence[AlertStatus] = (),
    assigned_to: str | None = None,
    page: int = 1,
    size: int = 50,
) -> tuple[list[AlertRow], int]:
    """Alerts about the caller's subtree (``assigned_to``: only those in that jurisdiction's inbox)."""
    from sqlalchemy.orm import aliased

    assigned = aliased(Jurisdiction)
    condition = [under(Alert.jpath, path)]
    if statuses:
        condition.append(Alert.status.in_(list(statuses)))
    if assigned_to is not None:
        condition.append(Alert.assigned_jpath == assigned_to)
    total = session.scalar(select(func.count()).select_from(Alert).where(*condition)) or 0
    size = max(1, min(size, 200))
    # Open alerts first (new, then under verification), then the closed ones.
    open_first = case(
        (Alert.status == AlertStatus.signal, 0), (Alert.status == AlertStatus.verifying, 1), else_=2
    )
    rows = session.execute(
        select(Alert, Jurisdiction, assigned)
        .join(Jurisdiction, Jurisdiction.id == Alert.jurisdiction_id)
        .join(assigned, assigned.id == Alert.assigned_jurisdiction_id)
        .where(*condition)
        .order_by(open_first, Alert.rank.desc(), Alert.created_at.desc(), Alert.id.desc())
        .offset((max(page, 1) - 1) * size)
        .limit(size)
    )
    return [AlertRow(a, j, k) for a, j, k in rows], total


@dataclass(frozen=True)
class AlertDetail:
    row: AlertRow
    evidence: dict[str, object]
    actions: list[AlertAction]
    deliveries: list[tuple[AlertDelivery, str]]
    signals: list[tuple[DetectionResult, Channel, Jurisdiction]]


def alert_detail(session: Session, path: str, alert_id: int) -> AlertDetail:
    alert = get_alert(session, path, alert_id)
    place = session.get(Jurisdiction, alert.jurisdiction_id)
    assigned = session.get(Jurisdiction, alert.assigned_jurisdiction_id)
    assert place is not None
    assert assigned is not None
    actions = list(
        session.scalars(select(AlertAction).where(AlertAction.alert_id == alert.id).order_by(AlertAction.id))
    )
    deliveries: list[tuple[AlertDelivery, str]] = []
    for delivery in session.scalars(
        select(AlertDelivery).where(AlertDelivery.alert_id == alert.id).order_by(AlertDelivery.id)
    ):
        if delivery.user_id is not None:
            user = session.get(User, delivery.user_id)
            target = user.display_name if user else str(delivery.user_id)
        else:
            endpoint = session.get(NotifierEndpoint, delivery.endpoint_id) if delivery.endpoint_id else None
            target = endpoint.name if endpoint else delivery.notifier
        deliveries.append((delivery, target))
    signals = [
        (r, c, j)
        for r, c, j in session.execute(
            select(DetectionResult, Channel, Jurisdiction)
            .join(AlertSignal, AlertSignal.result_id == DetectionResult.id)
            .join(Channel, Channel.id == DetectionResult.channel_id)
            .join(Jurisdiction, Jurisdiction.id == DetectionResult.jurisdiction_id)
            .where(AlertSignal.alert_id == alert.id)
            .order_by(DetectionResult.period_start, Channel.code)
        )
    ]
    evidence = json.loads(alert.evidence or "{}")
    return AlertDetail(AlertRow(alert, place, assigned), evidence, actions, deliveries, signals)


# ---------------------------------------- the workflow


def act(
    session: Session,
    bus: EventBus,
    actor: audit.Actor,
    path: str,
    alert_id: int,
    action: str,
    note: str,
    now: dt.datetime,
) -> Alert:
    """Start verification, confirm as an event, or dismiss with a reason; the first stops the clock.

    Confirming or dismissing publishes ``AlertAnswered`` (and confirming ``AlertConfirmedAsEvent``).
    """
    alert = get_alert(session, path, alert_id)
    note = note.strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise InvalidInput(
            [RowError(1, "note", Message("longer than {limit} characters", limit=MAX_NOTE_LENGTH))]
        )
    if action == "dismiss" and not note:
        raise InvalidInput([RowError(1, "note", "a dismissal needs a reason")])
    try:
        target = next_status(alert.status, action)
    except TransitionRefusedError as exc:
        raise Conflict(exc.text) from None
    before = alert.status
    alert.status = target
    if alert.responded_at is None:
        alert.responded_at = now
        alert.responded_by = actor.username
    if target in (AlertStatus.confirmed, AlertStatus.dismissed):
        alert.closed_at = now
        alert.closed_by = actor.username
        alert.outcome_note = note
    record_action(
        session, alert, actor.username, action, now, from_status=before, to_status=target, note=note
    )
    session.flush()
    audit.record(
        session,
        actor,
        f"surveillance.alert.{action}",
        "alert",
        alert.id,
        jpath=alert.jpath,
        detail={"from": before.value, "to": target.value, "note": note},
    )
    if target in (AlertStatus.confirmed, AlertStatus.dismissed):
        bus.publish(
            session, AlertAnswered(alert_id=alert.id, jpath=alert.jpath, status=target.value, answered_at=now)
        )
    if target is AlertStatus.confirmed:
        evidence = json.loads(alert.evidence or "{}")
        channels = tuple(str(c.get("code")) for c in evidence.get("channels", []))
        diseases = tuple(
            sorted({str(c["disease"]) for c in evidence.get("channels", []) if c.get("disease")})
        )
        bus.publish(
            session,
            AlertConfirmedAsEvent(
                alert_id=alert.id,
                jurisdiction_id=alert.jurisdiction_id,
                jpath=alert.jpath,
                level=alert.level.value,
                channels=channels,
                diseases=diseases,
                first_date=alert.first_date,
                last_date=alert.last_date,
                confirmed_by=actor.username,
                note=note,
            ),
        )
    return alert


def escalate_overdue(session: Session, actor: audit.Actor, path: str, now: dt.datetime) -> list[Alert]:
    """Move every unanswered alert past its deadline one jurisdiction up, with a fresh clock there."""
    overdue = session.scalars(
        select(Alert)
        .where(under(Alert.jpath, path), Alert.status == AlertStatus.signal, Alert.response_due_at < now)
        .order_by(Alert.id)
    ).all()
    moved: list[Alert] = []
    for alert in overdue:
        assigned = session.get(Jurisdiction, alert.assigned_jurisdiction_id)
        parent = session.get(Jurisdiction, assigned.parent_id) if assigned and assigned.parent_id else None
        if parent is not None and assigned is not None and assigned.is_sandbox and not parent.is_sandbox:
            parent = None  # a drill's alert stays in its sandbox: the real county above is no part of it
        if not should_escalate(alert.status, alert.response_due_at, now, parent is not None):
            continue
        assert parent is not None
        assert assigned is not None
        alert.assigned_jurisdiction_id, alert.assigned_jpath = parent.id, parent.path
        alert.escalations += 1
        alert.response_due_at = response_due(now, alert.response_hours)
        record_action(
            session,
            alert,
            actor.username,
            "escalated",
            now,
            note=f"no response by the deadline; moved from {assigned.name} to {parent.name}",
        )
        session.flush()
        route(session, alert, "escalated", now)
        audit.record(
            session,
            actor,
            "surveillance.alert.escalate",
            "alert",
            alert.id,
            jpath=alert.jpath,
            detail={"from": assigned.code, "to": parent.code, "escalations": alert.escalations},
        )
        moved.append(alert)
    return moved


# ---------------------------------------- the notifier outbox


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    failed: int
    retrying: int


def _message(session: Session, alert: Alert, reason: str) -> AlertMessage:
    place = session.get(Jurisdiction, alert.jurisdiction_id)
    assigned = session.get(Jurisdiction, alert.assigned_jurisdiction_id)
    assert place is not None
    assert assigned is not None
    evidence = json.loads(alert.evidence or "{}")
    return AlertMessage(
        event=f"alert.{reason}",
        alert_id=alert.id,
        level=alert.level.value,
        status=alert.status.value,
        title=alert.title,
        jurisdiction_code=place.code,
        jurisdiction_name=place.name,
        assigned_code=assigned.code,
        created_at=alert.created_at.isoformat(),
        response_due_at=alert.response_due_at.isoformat(),
        channels=[str(c.get("code")) for c in evidence.get("channels", [])],
        link=f"/surveillance/alerts/{alert.id}",
    )


def deliver_pending(db: Database, now: dt.datetime, path: str = "/") -> DeliveryReport:
    """Send the outbox: messages are built in one transaction, sent outside any, results saved in another."""
    with db.unit_of_work() as session:
        pending = session.execute(
            select(AlertDelivery, NotifierEndpoint)
            .join(NotifierEndpoint, NotifierEndpoint.id == AlertDelivery.endpoint_id)
            .where(AlertDelivery.status == DeliveryStatus.pending, under(AlertDelivery.jpath, path))
            .order_by(AlertDelivery.id)
            .limit(DELIVERY_BATCH)
        ).all()
        work = []
        for delivery, endpoint in pending:
            alert = session.get(Alert, delivery.alert_id)
            assert alert is not None
            work.append((delivery.id, endpoint.kind, endpoint.url, _message(session, alert, delivery.reason)))
    outcomes: dict[int, str] = {}
    for delivery_id, kind, url, message in work:
        try:
            notifier_for(kind, url).send(message)
            outcomes[delivery_id] = ""
        except NotifyError as exc:
            outcomes[delivery_id] = str(exc) or "failed"
    sent = failed = retrying = 0
    with db.unit_of_work() as session:
        for delivery_id, error in outcomes.items():
            found = session.get(AlertDelivery, delivery_id)
            if found is None:
                continue
            delivery = found
            delivery.attempts += 1
            if not error:
                delivery.status, delivery.sent_at, delivery.last_error = DeliveryStatus.sent, now, ""
                sent += 1
            else:
                delivery.last_error = error[:500]
                if delivery.attempts >= MAX_ATTEMPTS:
                    delivery.status = DeliveryStatus.failed
                    failed += 1
                else:
                    retrying += 1
    return DeliveryReport(sent, failed, retrying)


# ---------------------------------------- statistics


@dataclass(frozen=True)
class AlertStatistics:
    start: dt.date
    end: dt.date
    overall: ResponseStats
    single_case: ResponseStats
    temporal: ResponseStats
    # Alerts of the period by colour, every colour present (zero where none), blue to red.
    levels: dict[AlertLevel, int] = field(default_factory=dict)


def statistics(
    session: Session, path: str, start: dt.date, end: dt.date, now: dt.datetime
) -> AlertStatistics:
    """Response figures of the alerts raised from ``start`` to ``end`` (local days, both included)."""
    low, high = clock.day_bounds(start, end)
    rows = session.execute(
        select(
            Alert.created_at,
            Alert.responded_at,
            Alert.status,
            Alert.response_hours,
            Alert.escalations,
            Alert.kind,
            Alert.level,
        ).where(under(Alert.jpath, path), Alert.created_at >= low, Alert.created_at < high)
    ).all()
    facts = [(AlertFacts(c, r, s, h, e), k) for c, r, s, h, e, k, _ in rows]
    levels = dict.fromkeys(AlertLevel, 0)
    for row in rows:
        levels[row[6]] += 1
    return AlertStatistics(
        start=start,
        end=end,
        overall=response_statistics((f for f, _ in facts), now),
        single_case=response_statistics((f for f, k in facts if k is RuleKind.single_case), now),
        temporal=response_statistics((f for f, k in facts if k is not RuleKind.single_case), now),
        levels=levels,
    )
