"""Chains and clusters read from the database: labels kept up to date, cluster lists, the chain view, KPIs.

A case's ``cluster_id`` is the smallest case id of its connected component of chain links. Adding a link
merges two labels in place (``service.merge_clusters``); removing one or a bulk import recomputes the
affected components with scipy (``chains.cluster_labels``), so a cluster page reads one indexed label.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from fangkong.core.auth import Principal
from fangkong.core.clock import as_local, from_local, utcnow
from fangkong.core.errors import DomainError, NotFound
from fangkong.core.i18n import Message
from fangkong.core.scope import path_in_scope, under
from fangkong.tracing import chains
from fangkong.tracing.models import (
    AssistRequest,
    AssistStatus,
    Case,
    ChainLink,
    Classification,
    Contact,
    ContactStatus,
)
from fangkong.tracing.rules import MANAGED_CATEGORIES, clamp_day

# The chain view draws with a force simulation up to this many cases; beyond, a layered layout computed
# here (browsers stall on force layouts of thousands of nodes).
FORCE_LAYOUT_MAX_NODES = 400
# Largest chain the endpoint returns; a bigger one is refused with advice rather than sent half-drawn.
CHAIN_MAX_NODES = 50_000
# Clusters listed are connected groups of at least this many cases. protocols.md §2 def.cluster counts
# an outbreak cluster (聚集性疫情) from 5 cases (cn-7, S); the list shows every linked group from 2 and
# marks those of 5 and more.
CLUSTER_MIN_CASES = 2
OUTBREAK_CLUSTER_CASES = 5
_BATCH = 1000


def _in_batches(values: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(values), _BATCH):
        yield values[start : start + _BATCH]


def recompute_clusters(session: Session, cluster_ids: Iterable[int] | None = None) -> int:
    """Recompute the labels of the given clusters (all when None); returns how many cases changed label."""
    if cluster_ids is None:
        cases = session.execute(select(Case.id, Case.cluster_id).order_by(Case.id)).all()
    else:
        wanted = sorted(set(cluster_ids))
        cases = []
        for batch in _in_batches(wanted):
            cases.extend(
                session.execute(select(Case.id, Case.cluster_id).where(Case.cluster_id.in_(batch))).all()
            )
        cases.sort()
    if not cases:
        return 0
    ids = np.array([c[0] for c in cases], dtype=np.int64)
    old = np.array([c[1] for c in cases], dtype=np.int64)
    links: list[Any] = []
    if cluster_ids is None:
        links = list(
            session.execute(
                select(
                    ChainLink.id, ChainLink.infector_case_id, ChainLink.infectee_case_id, ChainLink.cluster_id
                )
            )
        )
    else:
        seen: set[int] = set()
        for batch in _in_batches(ids.tolist()):
            for row in session.execute(
                select(
                    ChainLink.id, ChainLink.infector_case_id, ChainLink.infectee_case_id, ChainLink.cluster_id
                ).where(or_(ChainLink.infector_case_id.in_(batch), ChainLink.infectee_case_id.in_(batch)))
            ):
                if row[0] not in seen:
                    seen.add(row[0])
                    links.append(row)
    src = np.array([lk[1] for lk in links], dtype=np.int64)
    dst = np.array([lk[2] for lk in links], dtype=np.int64)
    labels = chains.cluster_labels(ids, src, dst)
    changed = np.flatnonzero(labels != old)
    if len(changed):
        session.execute(update(Case), [{"id": int(ids[i]), "cluster_id": int(labels[i])} for i in changed])
    label_of = dict(zip(ids.tolist(), labels.tolist(), strict=True))
    link_updates = [{"id": lk[0], "cluster_id": label_of[lk[2]]} for lk in links if lk[3] != label_of[lk[2]]]
    if link_updates:
        session.execute(update(ChainLink), link_updates)
    return len(changed)


@dataclass(frozen=True)
class ClusterRow:
    cluster_id: int
    name: str
    size: int
    first_onset: dt.date | None
    last_onset: dt.date | None
    first_report: dt.datetime
    last_report: dt.datetime
    found_under_management: int
    outbreak: bool


def list_clusters(
    session: Session,
    principal: Principal,
    *,
    min_size: int = CLUSTER_MIN_CASES,
    page: int = 1,
    size: int = 50,
) -> tuple[list[ClusterRow], int]:
    """Linked groups of cases in scope, largest first (sizes count the caller's cases only)."""
    size = max(1, min(size, 200))
    page = max(1, page)
    n = func.count(Case.id)
    grouped = (
        select(
            Case.cluster_id,
            n.label("n"),
            func.min(Case.onset_date),
            func.max(Case.onset_date),
            func.min(Case.reported_at),
            func.max(Case.reported_at),
            func.count().filter(Case.found_under_management.is_(True)),
        )
        .where(under(Case.jpath, principal.jpath), Case.classification != Classification.excluded)
        .group_by(Case.cluster_id)
        .having(n >= max(2, min_size))
    )
    total = session.scalar(select(func.count()).select_from(grouped.subquery())) or 0
    rows = session.execute(
        grouped.order_by(n.desc(), Case.cluster_id).offset((page - 1) * size).limit(size)
    ).all()
    refs = dict(
        session.execute(
            select(Case.id, Case.case_ref).where(
                Case.id.in_([r[0] for r in rows]), under(Case.jpath, principal.jpath)
            )
        ).all()
    )
    return [
        ClusterRow(
            cid,
            refs.get(cid, f"#{cid}"),
            count,
            first,
            last,
            as_local(r_first),
            as_local(r_last),
            int(managed or 0),
            count >= OUTBREAK_CLUSTER_CASES,
        )
        for cid, count, first, last, r_first, r_last, managed in rows
    ], total


def cluster_of_case(session: Session, principal: Principal, case_id: int) -> int:
    case = session.get(Case, case_id)
    if case is None or not path_in_scope(case.jpath, principal.jpath):
        raise NotFound(f"case {case_id} not found")
    return case.cluster_id


_CATEGORY_ORDER = [
    Classification.confirmed,
    Classification.asymptomatic,
    Classification.suspected,
    Classification.excluded,
]


def chain_view(session: Session, principal: Principal, cluster_id: int) -> dict[str, Any]:
    """The cluster as an ECharts graph plus a timeline and its statistics, ready for JSON.

    Cases outside the caller's jurisdiction appear as anonymous nodes (the link is real, the details
    are not the caller's to see).
    """
    rows = session.execute(
        select(
            Case.id,
            Case.case_ref,
            Case.jpath,
            Case.classification,
            Case.onset_date,
            Case.diagnosis_date,
            Case.reported_at,
            Case.imported,
            Case.found_under_management,
        )
        .where(Case.cluster_id == cluster_id)
        .order_by(Case.id)
    ).all()
    visible = [path_in_scope(r[2], principal.jpath) for r in rows]
    if not any(visible):
        raise NotFound(f"cluster {cluster_id} not found")
    if len(rows) > CHAIN_MAX_NODES:
        raise DomainError(
            Message(
                "this chain has {count} cases, more than the {limit} a view can draw",
                count=f"{len(rows):,}",
                limit=f"{CHAIN_MAX_NODES:,}",
            )
        )
    links = session.execute(
        select(ChainLink.infector_case_id, ChainLink.infectee_case_id, ChainLink.certainty).where(
            ChainLink.cluster_id == cluster_id
        )
    ).all()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    src = np.searchsorted(ids, np.fromiter((lk[0] for lk in links), dtype=np.int64, count=len(links)))
    dst = np.searchsorted(ids, np.fromiter((lk[1] for lk in links), dtype=np.int64, count=len(links)))
    epoch = dt.date(2000, 1, 1)
    onset = np.array([(r[4] - epoch).days if r[4] is not None else np.nan for r in rows], dtype=np.float64)
    generation = chains.generations(len(rows), src, dst)
    intervals = chains.serial_intervals(onset, src, dst)
    has_infector = np.zeros(len(rows), dtype=bool)
    has_infector[dst] = True
    force = len(rows) <= FORCE_LAYOUT_MAX_NODES
    if not force:
        key = np.where(np.isnan(onset), np.inf, onset)
        xs, ys = chains.layered_layout(generation, key)
    out_degree = np.bincount(src, minlength=len(rows))
    nodes: list[dict[str, Any]] = []
    timeline: Counter[tuple[str, str]] = Counter()
    for i, r in enumerate(rows):
        node: dict[str, Any] = {
            "id": str(i),
            "category": _CATEGORY_ORDER.index(r[3]),
            "symbolSize": int(8 + 3 * min(out_degree[i], 8)),
            "value": int(generation[i]),
        }
        if visible[i]:
            day = r[4] or r[5] or as_local(r[6]).date()
            node.update(
                name=r[1],
                case_id=r[0],
                onset=r[4].isoformat() if r[4] else None,
                classification=r[3].value,
                imported=r[7],
                found_under_management=r[8],
            )
            timeline[(day.isoformat(), r[3].value)] += 1
        else:
            node.update(name="—", case_id=None, classification=r[3].value, outside=True)
        if not force:
            node["x"], node["y"] = float(xs[i]), float(ys[i])
        nodes.append(node)
    edges = [
        {
            "source": str(int(s)),
            "target": str(int(t)),
            "certainty": lk[2].value,
            "serial_interval": None if np.isnan(si) else float(si),
        }
        for s, t, lk, si in zip(src, dst, links, intervals, strict=True)
    ]
    # Every local day from the first case to the last, days without a case as 0: an epidemic curve
    # that skips empty days draws a gap of a week as close as two days in a row.
    seen = sorted({d for d, _ in timeline})
    first = dt.date.fromisoformat(seen[0]) if seen else None
    span = (dt.date.fromisoformat(seen[-1]) - first).days + 1 if first is not None else 0
    days = [(first + dt.timedelta(days=i)).isoformat() for i in range(span)] if first is not None else []
    series = {c.value: [timeline.get((d, c.value), 0) for d in days] for c in _CATEGORY_ORDER[:3]}
    roots = [
        i
        for i in range(len(rows))
        if not has_infector[i] and visible[i] and not rows[i][7] and rows[i][3] is not Classification.excluded
    ]
    summary = chains.summarise_intervals(intervals)
    in_scope = sum(visible)
    return {
        "cluster_id": cluster_id,
        "layout": "force" if force else "none",
        "categories": [{"name": c.value} for c in _CATEGORY_ORDER],
        "nodes": nodes,
        "links": edges,
        "timeline": {"dates": days, "series": series},
        "stats": {
            "size": len(rows),
            "in_scope": in_scope,
            "links": len(links),
            "generations": int(generation.max(initial=0)),
            "serial_interval": summary.as_dict(),
            "no_known_source": len(roots),
            "found_under_management": sum(1 for i, r in enumerate(rows) if visible[i] and r[8]),
            "outbreak": len(rows) >= OUTBREAK_CLUSTER_CASES,
        },
    }


@dataclass(frozen=True)
class Kpis:
    since: dt.date
    until: dt.date
    new_cases: int
    found_under_management: int
    no_known_source: int
    imported: int
    clusters: int
    largest_cluster: int
    active_contacts: int
    contacts_per_case: float | None
    assist_open_sent: int
    assist_open_received: int
    assist_overdue: int

    @property
    def managed_share(self) -> float | None:
        return round(self.found_under_management / self.new_cases, 3) if self.new_cases > 0 else None


def kpis(session: Session, principal: Principal, since: dt.date, until: dt.date) -> Kpis:
    """The tracing KPIs for cases reported in [since, until] in the caller's jurisdiction."""
    since, until = clamp_day(since), clamp_day(until)
    start = from_local(dt.datetime.combine(since, dt.time.min))
    end = from_local(dt.datetime.combine(until, dt.time.min) + dt.timedelta(days=1))
    in_period = (
        under(Case.jpath, principal.jpath),
        Case.reported_at >= start,
        Case.reported_at < end,
        Case.classification != Classification.excluded,
    )
    sourced = select(ChainLink.infectee_case_id)
    new, managed, imported, unsourced = session.execute(
        select(
            func.count(),
            func.count().filter(Case.found_under_management.is_(True)),
            func.count().filter(Case.imported.is_(True)),
            func.count().filter(Case.imported.is_(False), Case.id.not_in(sourced)),
        ).where(*in_period)
    ).one()
    sizes = (
        select(func.count().label("n"))
        .where(under(Case.jpath, principal.jpath), Case.classification != Classification.excluded)
        .group_by(Case.cluster_id)
        .having(func.count() >= CLUSTER_MIN_CASES)
        .subquery()
    )
    clusters, largest = session.execute(select(func.count(), func.max(sizes.c.n))).one()
    contacts = (
        session.scalar(
            select(func.count())
            .select_from(Contact)
            .where(
                under(Contact.jpath, principal.jpath),
                Contact.status == ContactStatus.active,
                Contact.category.in_(sorted(MANAGED_CATEGORIES)),
            )
        )
        or 0
    )
    traced = (
        session.scalar(
            select(func.count())
            .select_from(Contact)
            .where(
                Contact.case_id.in_(select(Case.id).where(*in_period)),
                Contact.category.in_(sorted(MANAGED_CATEGORIES)),
            )
        )
        or 0
    )
    open_states = [
        AssistStatus.sent,
        AssistStatus.acknowledged,
        AssistStatus.located,
        AssistStatus.plan_applied,
    ]
    now = utcnow()
    sent = (
        session.scalar(
            select(func.count())
            .select_from(AssistRequest)
            .where(under(AssistRequest.sender_jpath, principal.jpath), AssistRequest.status.in_(open_states))
        )
        or 0
    )
    received_filter = (
        under(AssistRequest.receiver_jpath, principal.jpath),
        AssistRequest.status.in_(open_states),
    )
    received = session.scalar(select(func.count()).select_from(AssistRequest).where(*received_filter)) or 0
    overdue = (
        session.scalar(
            select(func.count())
            .select_from(AssistRequest)
            .where(
                or_(
                    *[
                        under(AssistRequest.sender_jpath, principal.jpath),
                        under(AssistRequest.receiver_jpath, principal.jpath),
                    ]
                ),
                AssistRequest.status.in_(open_states),
                AssistRequest.report_due < now,
            )
        )
        or 0
    )
    return Kpis(
        since=since,
        until=until,
        new_cases=new,
        found_under_management=managed,
        no_known_source=unsourced,
        imported=imported,
        clusters=clusters or 0,
        largest_cluster=largest or 0,
        active_contacts=contacts,
        contacts_per_case=round(traced / new, 2) if new else None,
        assist_open_sent=sent,
        assist_open_received=received,
        assist_overdue=overdue,
    )
