"""Drills (实战演练): a synthetic outbreak pushed through the real platform over accelerated time.

Starting a drill (:func:`start_drill`)

1. makes a sandbox township with a few communities under a real county, flagged ``is_sandbox`` and
   named 【演练】 on every screen (``core.jurisdictions.create_sandbox``), on a path outside every real
   subtree (``core.scope``), so no real list, figure or audit read reaches its rows;
2. from then on acts as the drill itself (:func:`drill_principal`: an account ``drill:<id>`` bound to
   the sandbox), puts the drill's protocol in force there, and registers synthetic residents there
   through the registry's own CSV import;
3. runs the simulator on them (population from the registry, the strategy of the chosen protocol) and
   reads the outbreak off the run (:mod:`drill_outbreak`): who was diagnosed when, symptom onsets, who
   infected whom, each case's close contacts (the answer key);
4. schedules what the drill feeds: each case report on its diagnosis day, the sandbox's daily
   fever-clinic figure, and, when the drill plays the teams too (autopilot), each investigation.

Advancing a drill (:func:`advance`) feeds every event that has come due, as the drill, through the same
use cases a user calls: case reports and exposures through ``tracing.service``, fever-clinic figures
through ``surveillance.observations`` followed by a detection run, alert responses through
``surveillance.alerts``. Each event is fed in its own transaction, so one refused record does not undo
the others; the refusal is kept on the event. A realtime drill is advanced by a background clock
(:mod:`drill_ticker`); a facilitator may jump ahead (``to_hours``), which feeds events one by one at
their own drill times. The clock stops at the drill's end, and the drill is then finished.

Dates written into records are drill days on a calendar that ends today (``calendar_start``), so no
record is dated in the future whatever the speed; times of records are real times, turned into drill
hours through the drill clock (:mod:`drill_clock`) when the drill is scored (:mod:`drill_score`).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, cast

import numpy as np
from sqlalchemy import CursorResult, func, insert, or_, select, update
from sqlalchemy.orm import Session

from fangkong.core import audit, jurisdictions
from fangkong.core.auth import Principal, principal_for
from fangkong.core.clock import as_utc, local_day, utcnow
from fangkong.core.crypto import Vault
from fangkong.core.db import Database
from fangkong.core.errors import DomainError, InvalidInput, NotFound, RowError
from fangkong.core.events import EventBus
from fangkong.core.i18n import Message, render_text
from fangkong.core.models import Jurisdiction, Level, Role
from fangkong.core.people_rules import Keys
from fangkong.core.scope import path_in_scope, under
from fangkong.modeling.drill_clock import Mark, drill_hours_at
from fangkong.modeling.models import Drill, DrillClockMark, DrillEvent, DrillStatus

log = logging.getLogger("fangkong.modeling")

# --- limits and defaults of a drill ------------------------------------------------------------------
MIN_PEOPLE: Final[int] = 200
MAX_PEOPLE: Final[int] = 20_000
MIN_DAYS: Final[int] = 7
MAX_DAYS: Final[int] = 90
# Drill hours per real hour, bounds; 1440 (the default) plays a drill day in a real minute.
MIN_SPEED: Final[float] = 1.0
MAX_SPEED: Final[float] = 1_000_000.0
DEFAULT_SPEED: Final[float] = 1440.0
# Infections seeded on day 0 of a drill, people (a small cluster for the teams to find).
DEFAULT_INITIAL_INFECTIONS: Final[int] = 3
# Most cases a drill reports, cases (beyond this the teams drown rather than practise).
DEFAULT_MAX_CASES: Final[int] = 60
# Fewest cases a drill outbreak must have, cases; a run with fewer is drawn again with the next seed.
MIN_CASES: Final[int] = 3
# Draws of the outbreak before giving up, draws.
MAX_OUTBREAK_DRAWS: Final[int] = 8
# Communities of a sandbox, communities.
DEFAULT_COMMUNITIES: Final[int] = 3
# Draws of the synthetic residents before giving up when their ID numbers clash with the registry's.
RESIDENT_DRAWS: Final[int] = 3
# Largest share of a draw's residents left out because their generated ID numbers are registered
# already; a draw with more is drawn again (share of the residents asked for).
MAX_TAKEN_SHARE: Final[float] = 0.05
# Autopilot delays, drill hours: an investigation after each report, a response to each alert.
DEFAULT_INVESTIGATION_DELAY_HOURS: Final[float] = 6.0
DEFAULT_ALERT_RESPONSE_DELAY_HOURS: Final[float] = 2.0
# Local time of the day an exposure of the answer key is dated, hours (an evening at home or at work).
EXPOSURE_HOUR: Final[int] = 19
# Detector the sandbox's fever-clinic figure is judged by (EARS C1: a 7-day baseline, fit for a new
# series; CDC's EARS, Hutwagner et al. 2003).
DETECTOR_METHOD: Final[str] = "ears_c1"
FEVER_CHANNEL: Final[str] = "fever_clinic"


def capability_available(module: str) -> bool:
    """Whether another capability's service has landed (the score grows as they do)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@dataclass(frozen=True)
class DrillRequest:
    people: int
    days: int
    protocol_id: str = "cn-9"
    name: str = ""
    county_id: int | None = None
    seed: int = 1
    speed: float = DEFAULT_SPEED
    autopilot: bool = False
    realtime: bool = True
    investigation_delay_hours: float = DEFAULT_INVESTIGATION_DELAY_HOURS
    alert_response_delay_hours: float = DEFAULT_ALERT_RESPONSE_DELAY_HOURS
    communities: int = DEFAULT_COMMUNITIES
    initial_infections: int = DEFAULT_INITIAL_INFECTIONS
    max_cases: int = DEFAULT_MAX_CASES


def check_request(request: DrillRequest) -> list[RowError]:
    from fangkong.protocol.loader import builtin_ids

    errors: list[RowError] = []
    if not MIN_PEOPLE <= request.people <= MAX_PEOPLE:
        errors.append(
            RowError(
                1,
                "people",
                Message("between {low} and {high} residents", low=MIN_PEOPLE, high=f"{MAX_PEOPLE:,}"),
            )
        )
    if not MIN_DAYS <= request.days <= MAX_DAYS:
        errors.append(
            RowError(1, "days", Message("between {low} and {high} days", low=MIN_DAYS, high=MAX_DAYS))
        )
    if request.protocol_id not in builtin_ids():
        errors.append(
            RowError(1, "protocol_id", Message("unknown protocol “{value}”", value=request.protocol_id))
        )
    if not MIN_SPEED <= request.speed <= MAX_SPEED:
        errors.append(
            RowError(
                1,
                "speed",
                Message(
                    "between {low} and {high} drill hours per hour",
                    low=float(MIN_SPEED),
                    high=float(MAX_SPEED),
                ),
            )
        )
    if not 0 <= request.seed < 2**31:
        errors.append(RowError(1, "seed", "a whole number from 0 to 2147483647"))
    for name in ("investigation_delay_hours", "alert_response_delay_hours"):
        value = getattr(request, name)
        if not 0 <= value <= 24 * 30:
            errors.append(RowError(1, name, "between 0 and 720 drill hours"))
    if not 1 <= request.communities <= 20:
        errors.append(RowError(1, "communities", "between 1 and 20 communities"))
    if not 1 <= request.initial_infections <= 100:
        errors.append(RowError(1, "initial_infections", "between 1 and 100 people"))
    if not MIN_CASES <= request.max_cases <= 500:
        errors.append(
            RowError(1, "max_cases", Message("between {low} and {high} cases", low=MIN_CASES, high=500))
        )
    if len(request.name) > 60:
        errors.append(RowError(1, "name", "at most 60 characters"))
    return errors


def _actor(principal: Principal, ip: str = "") -> audit.Actor:
    return audit.Actor(principal.user_id, principal.username, ip or "drill")


def drill_principal(session: Session, drill: Drill) -> Principal:
    """The drill acting for itself: its own account (``drill:<id>``), scoped to its sandbox only.

    What the drill feeds, and the reads its score makes, go through the same use cases a user calls,
    as this principal: its records and audit entries name the drill, and it can reach nothing real.
    The account is made with the drill (or on first use, for a drill started before accounts existed).
    """
    township = session.get(Jurisdiction, drill.sandbox_id)
    if township is None or not township.is_sandbox:
        raise NotFound(f"the sandbox of drill {drill.id} no longer exists")
    user = jurisdictions.sandbox_actor(
        session, township, f"{jurisdictions.DRILL_ACTOR_PREFIX}{drill.id}", Role.command_centre
    )
    return principal_for(session, user, "drill")


def _put_protocol_in_force(
    session: Session, actor: audit.Actor, township: Jurisdiction, protocol_id: str
) -> None:
    """The drill's protocol rules its sandbox (plans, deadlines), whatever the county has in force."""
    if not capability_available("fangkong.protocol.service"):
        return
    from fangkong.protocol import service as protocols

    protocols.switch_protocol(session, actor, township, protocol_id)


def _county(session: Session, principal: Principal, county_id: int | None) -> Jurisdiction:
    if county_id is not None:
        node = session.get(Jurisdiction, county_id)
        if node is None or not path_in_scope(node.path, principal.jpath):
            raise NotFound(f"jurisdiction {county_id} not found")
        if node.level is not Level.county or node.is_sandbox:
            raise InvalidInput(
                [RowError(1, "county_id", Message("{place} is not a county", place=node.name))]
            )
        return node
    own = session.get(Jurisdiction, principal.jurisdiction_id)
    if own is not None and own.level is Level.county:
        return own
    found = session.scalar(
        select(Jurisdiction)
        .where(under(Jurisdiction.path, principal.jpath), Jurisdiction.level == Level.county)
        .where(Jurisdiction.is_sandbox.is_(False))
        .order_by(Jurisdiction.path)
        .limit(1)
    )
    if found is None:
        raise InvalidInput(
            [RowError(1, "county_id", "a drill runs in a county; none lies in your jurisdiction")]
        )
    return found


def start_drill(
    session: Session,
    vault: Vault,
    keys: Keys,
    principal: Principal,
    request: DrillRequest,
    *,
    ip: str = "",
    now: dt.datetime | None = None,
) -> Drill:
    """Create the sandbox, its residents and the outbreak, and schedule what the drill will feed."""
    from fangkong.analytics import sim
    from fangkong.core.people import population_arrays
    from fangkong.modeling import drill_outbreak, population, strategies

    errors = check_request(request)
    if errors:
        raise InvalidInput(errors)
    county = _county(session, principal, request.county_id)
    number = (session.scalar(select(func.count()).select_from(Drill)) or 0) + 1
    # A name in no language (stored, it reads the same on Chinese and English pages): 【演练】#3.
    label = (request.name.strip() or f"#{number}")[:60]
    township, communities = jurisdictions.create_sandbox(
        session, _actor(principal, ip), county, label=label, communities=request.communities
    )
    # The drill row first: everything after this is done by the drill's own account, named after it.
    drill = Drill(
        name=label,
        status=DrillStatus.running,
        jurisdiction_id=county.id,
        jpath=county.path,
        sandbox_id=township.id,
        sandbox_path=township.path,
        protocol_id=request.protocol_id,
        people=0,
        days=request.days,
        seed=request.seed,
        speed=request.speed,
        autopilot=request.autopilot,
        realtime=request.realtime,
        investigation_delay_hours=request.investigation_delay_hours,
        alert_response_delay_hours=request.alert_response_delay_hours,
        calendar_start=local_day(now or utcnow()),
        summary="{}",
        created_by=principal.user_id,
        created_by_name=principal.username,
        started_at=now or utcnow(),
    )
    session.add(drill)
    session.flush()
    own = drill_principal(session, drill)
    actor = _actor(own)
    _put_protocol_in_force(session, actor, township, request.protocol_id)
    _register_residents(session, keys, actor, township, communities, request)
    arrays = population_arrays(session, township.path)
    rng = np.random.default_rng(request.seed)
    people = population.from_registry(arrays, rng)
    mapping = strategies.arm(request.protocol_id)
    params = sim.Parameters(initial_infections=request.initial_infections)
    outbreak = None
    draws = 0
    for draw in range(MAX_OUTBREAK_DRAWS):
        draws = draw + 1
        result = sim.simulate(
            people, params, mapping.strategy, request.days, np.random.default_rng(request.seed + draw)
        )
        candidate = drill_outbreak.extract(result, people, params, rng, max_cases=request.max_cases)
        if len(candidate.cases) >= MIN_CASES:
            outbreak = candidate
            break
    if outbreak is None:
        message = Message(
            "No outbreak with {cases} cases took off in {draws} draws: try more residents, more days "
            "or another seed.",
            cases=MIN_CASES,
            draws=MAX_OUTBREAK_DRAWS,
        )
        raise InvalidInput([RowError(1, "people", message)])
    events = drill_outbreak.schedule(
        outbreak,
        arrays.person_id,
        autopilot=request.autopilot,
        investigation_delay_hours=request.investigation_delay_hours,
    )
    if request.autopilot and capability_available("fangkong.testing.service"):
        from fangkong.modeling import drill_testing

        events.extend(drill_testing.schedule(request.days))
    linked = sum(1 for c in outbreak.cases if c.infector is not None)
    summary = {
        "infections": outbreak.infections,
        "cases": len(outbreak.cases),
        "asymptomatic": sum(1 for c in outbreak.cases if not c.symptomatic),
        "linked_to_a_source": linked,
        "draws": draws,
        "key_contacts": sum(len(c.contacts) for c in outbreak.cases),
        "strategy_notes": [render_text(note, None) for note in mapping.notes],
        "not_fed": _not_fed(),
    }
    # The clock starts once the sandbox and its outbreak are ready.
    started = now or utcnow()
    drill.people = arrays.size
    drill.calendar_start = local_day(started) - dt.timedelta(days=request.days)
    drill.summary = json.dumps(summary, ensure_ascii=False)
    drill.started_at = started
    session.execute(
        insert(DrillEvent),
        [
            {"drill_id": drill.id, "kind": e.kind, "due_hours": e.due_hours,
             "payload": json.dumps(e.payload, ensure_ascii=False)}
            for e in events
        ],
    )  # fmt: skip
    session.add(DrillClockMark(drill_id=drill.id, wall_at=started, drill_hours=0.0))
    if capability_available("fangkong.surveillance.service"):
        _watch_sandbox(session, actor, township)
    if capability_available("fangkong.quarantine.service"):
        from fangkong.modeling import drill_quarantine

        drill_quarantine.prepare_sites(session, own, township)
    audit.record(
        session, _actor(principal, ip), "drills.start", "drill", drill.id, jpath=county.path,
        detail={"sandbox": township.code, "people": arrays.size, "days": request.days,
                "protocol": request.protocol_id, "cases": len(outbreak.cases),
                "autopilot": request.autopilot},
    )  # fmt: skip
    return drill


def _not_fed() -> list[str]:
    missing = []
    if not capability_available("fangkong.testing.service"):
        missing.append("test orders and lab results (the testing capability is not built yet)")
    if not capability_available("fangkong.quarantine.service"):
        missing.append("quarantine placements (the quarantine capability is not built yet)")
    if not capability_available("fangkong.tracing.service"):
        missing.append("case reports and exposures (the tracing capability is not built yet)")
    if not capability_available("fangkong.surveillance.service"):
        missing.append("fever-clinic signals (the surveillance capability is not built yet)")
    return missing


def resident_seed(seed: int, sandbox_code: str, attempt: int) -> int:
    """The seed of one draw of a drill's residents: its own seed, its sandbox's code and the attempt."""
    return int(np.random.SeedSequence([seed, int(sandbox_code), attempt]).generate_state(1)[0])


def _register_residents(
    session: Session,
    keys: Keys,
    actor: audit.Actor,
    township: Jurisdiction,
    communities: Sequence[Jurisdiction],
    request: DrillRequest,
) -> None:
    """Synthetic residents through the registry's CSV import.

    The residents are drawn from the drill's seed and its sandbox's code together: every sandbox has a
    code of its own, so a second drill with the same seed gets residents of its own instead of the
    first drill's again (ID numbers are unique in the registry). A generated ID number can still be
    someone's already (a few in a thousand draws, in a county of a few hundred thousand residents): those
    residents are left out of the drill; a draw with many of them is drawn again.
    """
    from fangkong.core.demo.population import write_people_csv

    codes = [c.code for c in communities]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "drill_residents.csv"
        for attempt in range(RESIDENT_DRAWS):
            seed = resident_seed(request.seed, township.code, attempt)
            write_people_csv(path, request.people, seed=seed, community_codes=codes)
            if _import_new_residents(session, keys, actor, township, path, request.people):
                return
    message = Message(
        "Could not draw {people} synthetic residents whose ID numbers are all new in {draws} tries: "
        "start the drill again with another seed or fewer residents.",
        people=request.people,
        draws=RESIDENT_DRAWS,
    )
    raise InvalidInput([RowError(1, "seed", message)])


def _import_new_residents(
    session: Session, keys: Keys, actor: audit.Actor, township: Jurisdiction, path: Path, people: int
) -> bool:
    """Import the drawn residents, less the few whose ID number is registered already; False: draw again."""
    from fangkong.core.people_import import import_people_csv

    # Two dry runs: the draw as it is, then without the residents the first one found registered.
    for _check in range(2):
        try:
            import_people_csv(session, keys, actor, township.path, path, dry_run=True, workers=1)
        except InvalidInput as exc:
            taken = {e.row for e in exc.errors if e.field == "id_number"}
            if len(taken) < len(exc.errors) or len(taken) > MAX_TAKEN_SHARE * people:
                return False
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
            # Row numbers count the header as row 1, as the import's errors do.
            path.write_text(
                "".join(line for row, line in enumerate(lines, start=1) if row not in taken), encoding="utf-8"
            )
            continue
        import_people_csv(session, keys, actor, township.path, path, workers=1)
        return True
    return False


def _watch_sandbox(session: Session, actor: audit.Actor, township: Jurisdiction) -> None:
    """A detector on the sandbox's fever-clinic figure and a township-level rule to raise its alerts."""
    from fangkong.surveillance import service as surveillance

    surveillance.ensure_defaults(session)
    channel = next(
        (c for c in surveillance.list_channels(session, township.path) if c.code == FEVER_CHANNEL), None
    )
    if channel is None:
        return
    surveillance.create_config(session, actor, township.path, channel.id, "township", DETECTOR_METHOD, {})
    surveillance.create_rule(
        session,
        actor,
        township.path,
        surveillance.RuleInput(
            name=f"{township.name}: fever-clinic signal",
            kind="single_channel",
            level="township",
            alert_level="blue",
        ),
    )


# ============================================================================ reading drills


def get_drill(session: Session, principal: Principal, drill_id: int) -> Drill:
    """A drill of the caller's county or above, or the drill the caller has entered."""
    drill = session.get(Drill, drill_id)
    if drill is None or not (
        path_in_scope(drill.jpath, principal.jpath) or path_in_scope(drill.sandbox_path, principal.jpath)
    ):
        raise NotFound(f"drill {drill_id} not found")
    return drill


def list_drills(session: Session, principal: Principal, limit: int = 100) -> list[Drill]:
    return list(
        session.scalars(
            select(Drill)
            .where(or_(under(Drill.jpath, principal.jpath), under(Drill.sandbox_path, principal.jpath)))
            .order_by(Drill.id.desc())
            .limit(limit)
        )
    )


def marks_of(session: Session, drill_id: int) -> list[Mark]:
    rows = session.execute(
        select(DrillClockMark.wall_at, DrillClockMark.drill_hours)
        .where(DrillClockMark.drill_id == drill_id)
        .order_by(DrillClockMark.id)
    ).all()
    return [Mark(w, h) for w, h in rows]


def drill_hours(session: Session, drill: Drill, wall: dt.datetime | None = None) -> float:
    """Where the drill's clock stands at ``wall`` (default now).

    The clock stops at the drill's end (its days, in hours) and stands still once the drill is
    stopped or finished.
    """
    at = as_utc(wall or utcnow())
    if drill.finished_at is not None and drill.status is not DrillStatus.running:
        at = min(at, as_utc(drill.finished_at))
    return min(drill_hours_at(marks_of(session, drill.id), drill.speed, at), end_hours(drill))


def end_hours(drill: Drill) -> float:
    return drill.days * 24.0


@dataclass(frozen=True)
class KindCount:
    kind: str
    fed: int
    due: int
    failed: int


@dataclass(frozen=True)
class DrillStatusView:
    drill: Drill
    hours: float
    day: int
    end_hours: float
    kinds: list[KindCount]
    errors: list[tuple[str, str]]
    summary: dict[str, Any]

    @property
    def fed(self) -> int:
        return sum(k.fed for k in self.kinds)

    @property
    def total(self) -> int:
        return sum(k.due for k in self.kinds)

    @property
    def share(self) -> float:
        return self.fed / self.total if self.total else 1.0

    def of(self, kind: str) -> KindCount:
        return next((k for k in self.kinds if k.kind == kind), KindCount(kind, 0, 0, 0))

    @property
    def cases_to_report(self) -> int:
        """Case reports the drill has yet to feed (a refused one was fed: it shows among the refusals)."""
        reports = self.of("case_report")
        return reports.due - reports.fed


def status(
    session: Session, principal: Principal, drill_id: int, now: dt.datetime | None = None
) -> DrillStatusView:
    drill = get_drill(session, principal, drill_id)
    hours = drill_hours(session, drill, now)
    rows = session.execute(
        select(
            DrillEvent.kind,
            func.count(),
            func.count(DrillEvent.fed_at),
            func.count(DrillEvent.error),
        )
        .where(DrillEvent.drill_id == drill.id)
        .group_by(DrillEvent.kind)
        .order_by(DrillEvent.kind)
    ).all()
    errors = session.execute(
        select(DrillEvent.kind, DrillEvent.error)
        .where(DrillEvent.drill_id == drill.id, DrillEvent.error.is_not(None))
        .order_by(DrillEvent.id)
        .limit(20)
    ).all()
    return DrillStatusView(
        drill=drill,
        hours=hours,
        day=min(int(hours // 24), max(drill.days - 1, 0)),
        end_hours=end_hours(drill),
        kinds=[KindCount(kind, fed, total, failed) for kind, total, fed, failed in rows],
        errors=[(k, e or "") for k, e in errors],
        summary=json.loads(drill.summary or "{}"),
    )


# ============================================================================ advancing a drill


@dataclass
class AdvanceReport:
    drill_id: int
    hours: float
    fed: int = 0
    failed: int = 0
    alerts_answered: int = 0
    finished: bool = False
    errors: list[str] = field(default_factory=list)


def stop_drill(session: Session, principal: Principal, drill_id: int, *, ip: str = "") -> Drill:
    drill = get_drill(session, principal, drill_id)
    if drill.status is DrillStatus.running:
        now = utcnow()
        session.add(
            DrillClockMark(drill_id=drill.id, wall_at=now, drill_hours=drill_hours(session, drill, now))
        )
        drill.status = DrillStatus.stopped
        drill.finished_at = now
        audit.record(session, _actor(principal, ip), "drills.stop", "drill", drill.id, jpath=drill.jpath)
    return drill


def advance(
    db: Database,
    vault: Vault,
    bus: EventBus,
    drill_id: int,
    *,
    to_hours: float | None = None,
    now: dt.datetime | None = None,
) -> AdvanceReport:
    """Feed every event due now (or, jumping ahead, by drill hour ``to_hours``), each in its own transaction.

    The caller has checked that the drill lies in its scope; events are fed by the drill itself
    (:func:`drill_principal`), never by a person.
    """
    wall = now or utcnow()
    with db.unit_of_work() as session:
        drill = session.get(Drill, drill_id)
        if drill is None:
            raise NotFound(f"drill {drill_id} not found")
        report = AdvanceReport(drill_id, drill_hours(session, drill, wall))
        if drill.status is not DrillStatus.running:
            report.finished = drill.status is DrillStatus.finished
            return report
        # Nothing runs past the drill's end: events due after it (an investigation or an alert
        # response the last day's records would have called for) are left unfed.
        target = report.hours if to_hours is None else max(report.hours, float(to_hours))
        target = min(target, end_hours(drill))
        jump = target > report.hours
    while True:
        # One event at a time: feeding may schedule new events (the autopilot's alert responses).
        with db.unit_of_work() as session:
            event_id = session.scalar(
                select(DrillEvent.id)
                .where(
                    DrillEvent.drill_id == drill_id,
                    DrillEvent.fed_at.is_(None),
                    DrillEvent.due_hours <= target,
                )
                .order_by(DrillEvent.due_hours, DrillEvent.id)
                .limit(1)
            )
        if event_id is None:
            break
        moment = utcnow()
        with db.unit_of_work() as session:
            claimed = cast(
                CursorResult[Any],
                session.execute(
                    update(DrillEvent)
                    .where(DrillEvent.id == event_id, DrillEvent.fed_at.is_(None))
                    .values(fed_at=moment)
                    .execution_options(synchronize_session=False)
                ),
            ).rowcount
            if not claimed:
                continue  # another clock fed it meanwhile
            event = session.get(DrillEvent, event_id)
            assert event is not None
            if jump:
                last = max((m.drill_hours for m in marks_of(session, drill_id)), default=0.0)
                session.add(
                    DrillClockMark(drill_id=drill_id, wall_at=moment, drill_hours=max(last, event.due_hours))
                )
            kind, due_hours, payload = event.kind, event.due_hours, json.loads(event.payload)
        try:
            with db.unit_of_work() as session:
                drill = session.get(Drill, drill_id)
                assert drill is not None
                ref = _feed(session, vault, bus, drill, kind, payload, due_hours, moment)
                session.execute(update(DrillEvent).where(DrillEvent.id == event_id).values(record_ref=ref))
            report.fed += 1
            if kind == "alert_response":
                report.alerts_answered += int(ref.split(":")[1])
        except DomainError as exc:
            _fail_event(db, event_id, exc.message, report)
        except Exception:  # one bad event must not stop the drill; the trace goes to the log
            log.exception("drill %s: feeding event %s failed", drill_id, event_id)
            _fail_event(db, event_id, "internal error; it has been logged", report)
    with db.unit_of_work() as session:
        drill = session.get(Drill, drill_id)
        assert drill is not None
        end = utcnow()
        if jump:
            session.add(DrillClockMark(drill_id=drill_id, wall_at=end, drill_hours=target))
        report.hours = target if jump else drill_hours(session, drill, end)
        left = session.scalar(
            select(func.count())
            .select_from(DrillEvent)
            .where(
                DrillEvent.drill_id == drill_id,
                DrillEvent.fed_at.is_(None),
                DrillEvent.due_hours <= report.hours,
            )
        )
        if not left and report.hours >= end_hours(drill) and drill.status is DrillStatus.running:
            drill.status = DrillStatus.finished
            drill.finished_at = end
            report.finished = True
    return report


def _fail_event(db: Database, event_id: int, message: str, report: AdvanceReport) -> None:
    report.failed += 1
    report.errors.append(message)
    with db.unit_of_work() as session:
        session.execute(update(DrillEvent).where(DrillEvent.id == event_id).values(error=message[:2000]))


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
        return _feed_signal(session, principal, drill, payload, due_hours, now)
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
    if kind == "placement":
        from fangkong.modeling import drill_quarantine

        day = _calendar(drill, int(due_hours // 24))
        assert day is not None
        return drill_quarantine.placement_round(session, bus, principal, day)
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
    run = runner.run_detection(session, actor, township.path, day, now)
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
