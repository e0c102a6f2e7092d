"""Source tracing for one case: gather the evidence from the database, rank it (``source.rank_candidates``).

Evidence comes from three places, all inside the caller's jurisdiction: exposures recorded in other
cases' investigations that name this case's person, exposures in this case's own investigation that name
another case, and places both visited (same place key) in the incubation window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.auth import Principal
from fangkong.core.clock import as_local, from_local
from fangkong.core.scope import under
from fangkong.tracing import service
from fangkong.tracing.models import Case, Classification, Exposure, Visit
from fangkong.tracing.protocols import days_before_onset, protocol_for
from fangkong.tracing.rules import IncubationWindow, incubation_window
from fangkong.tracing.source import Candidate, Evidence, EvidenceKind, Timing, overlap, rank_candidates


@dataclass(frozen=True)
class CandidateView:
    case_id: int
    case_ref: str
    classification: Classification
    onset_date: dt.date | None
    score: float
    reasons: tuple[str, ...]
    already_linked: bool


@dataclass(frozen=True)
class SourceReport:
    case_id: int
    anchor: dt.date | None
    window: IncubationWindow
    candidates: list[CandidateView]


def _timing(case: Case) -> Timing:
    return Timing(
        case.id, case.onset_date, case.sampling_date, as_local(case.isolated_at) if case.isolated_at else None
    )


def source_candidates(
    session: Session, principal: Principal, case_id: int, *, limit: int = 20
) -> SourceReport:
    case = service.get_case(session, principal, case_id)
    protocol = protocol_for(session, case.jpath)
    window = incubation_window(protocol)
    anchor = case.onset_date or case.sampling_date
    if anchor is None:
        return SourceReport(case.id, None, window, [])
    earliest = from_local(dt.datetime.combine(anchor - dt.timedelta(days=window.max_days + 1), dt.time.min))
    latest = from_local(dt.datetime.combine(anchor, dt.time.max))
    evidence: list[Evidence] = []
    scope = under(Exposure.jpath, principal.jpath)
    in_window = (Exposure.start >= earliest, Exposure.start <= latest)
    for other, start, setting in session.execute(
        select(Exposure.case_id, Exposure.start, Exposure.setting).where(
            Exposure.subject_key == case.subject_key, Exposure.case_id != case.id, scope, *in_window
        )
    ):
        evidence.append(Evidence(other, "exposure", as_local(start), f"{setting.replace('_', ' ')} exposure"))
    for exposed, start, setting in session.execute(
        select(Exposure.exposed_case_id, Exposure.start, Exposure.setting).where(
            Exposure.case_id == case.id, Exposure.exposed_case_id.is_not(None), *in_window
        )
    ):
        assert exposed is not None
        evidence.append(
            Evidence(exposed, "exposure", as_local(start), f"{setting.replace('_', ' ')} exposure")
        )
    own = list(
        session.scalars(
            select(Visit).where(Visit.case_id == case.id, Visit.start >= earliest, Visit.start <= latest)
        )
    )
    if own:
        keys = {v.place_key for v in own}
        others = session.scalars(
            select(Visit).where(
                Visit.place_key.in_(keys),
                Visit.case_id != case.id,
                under(Visit.jpath, principal.jpath),
                Visit.start >= earliest - dt.timedelta(days=1),
                Visit.start <= latest,
            )
        )
        for theirs in others:
            for mine in own:
                if mine.place_key != theirs.place_key:
                    continue
                met = overlap(
                    as_local(mine.start),
                    as_local(mine.end) if mine.end else None,
                    as_local(theirs.start),
                    as_local(theirs.end) if theirs.end else None,
                )
                if met is None:
                    continue
                at, together = met
                kind: EvidenceKind = "shared_place_same_time" if together else "shared_place_same_day"
                where = mine.place_name + (f" (carriage {mine.carriage})" if mine.carriage else "")
                evidence.append(
                    Evidence(
                        theirs.case_id,
                        kind,
                        at,
                        f"both at {where}" + ("" if together else ", not at the same time"),
                    )
                )
    ids = {e.candidate_case_id for e in evidence}
    cases = {
        c.id: c
        for c in session.scalars(
            select(Case).where(
                Case.id.in_(ids),
                under(Case.jpath, principal.jpath),
                Case.classification != Classification.excluded,
            )
        )
    }
    ranked: list[Candidate] = rank_candidates(
        _timing(case),
        evidence,
        {cid: _timing(c) for cid, c in cases.items()},
        window,
        days_before_onset(protocol),
        limit=limit,
    )
    infected_by, _ = service.links_of(session, principal, case.id)
    linked = {lk.infector_case_id for lk in infected_by}
    return SourceReport(
        case.id,
        anchor,
        window,
        [
            CandidateView(
                c.case_id,
                cases[c.case_id].case_ref,
                cases[c.case_id].classification,
                cases[c.case_id].onset_date,
                c.score,
                c.reasons,
                c.case_id in linked,
            )
            for c in ranked
        ],
    )
