"""Starting a drill (:func:`start_drill`): its sandbox, synthetic residents, outbreak and schedule.

The sandbox township is made under a real county, the drill's protocol is put in force there, the
synthetic residents are registered through the registry's own CSV import (:func:`resident_seed` names
each draw of them), the simulator's outbreak is read off a run, and what the drill will feed is
scheduled.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from fangkong.core import audit, jurisdictions
from fangkong.core.auth import Principal
from fangkong.core.clock import local_day, utcnow
from fangkong.core.crypto import Vault
from fangkong.core.errors import InvalidInput, NotFound, RowError
from fangkong.core.i18n import Message, render_text
from fangkong.core.models import Jurisdiction, Level
from fangkong.core.people_rules import Keys
from fangkong.core.scope import path_in_scope, under
from fangkong.modeling.drills.acting import _actor, capability_available, drill_principal
from fangkong.modeling.drills.requests import (
    DETECTOR_METHOD,
    FEVER_CHANNEL,
    MAX_OUTBREAK_DRAWS,
    MAX_TAKEN_SHARE,
    MIN_CASES,
    RESIDENT_DRAWS,
    DrillRequest,
    check_request,
)
from fangkong.modeling.models import Drill, DrillClockMark, DrillEvent, DrillStatus


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
    elderly_worklist: list[int] = []
    if capability_available("fangkong.vaccination.service"):
        from fangkong.modeling import drill_vaccination

        # The sandbox starts where the region is: its residents get a dose history like everyone's.
        drill_vaccination.give_history(session, township.path, request.seed)
        elderly_worklist = drill_vaccination.starting_worklist(session, own)
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
    if request.autopilot and capability_available("fangkong.areas.service"):
        from fangkong.modeling import drill_areas

        events.extend(drill_areas.schedule(request.days))
    if request.autopilot and capability_available("fangkong.vaccination.service"):
        from fangkong.modeling import drill_vaccination

        events.extend(drill_vaccination.schedule(request.days))
    if request.autopilot and capability_available("fangkong.privacy.service"):
        from fangkong.modeling import drill_privacy

        events.extend(drill_privacy.schedule(request.days))
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
        # The elders the community workers are to reach (the score's elderly_outreach).
        "elderly_worklist": elderly_worklist,
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
