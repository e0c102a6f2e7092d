"""Transmission chain links between cases: adding and removing a link, clusters, a case's links."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.errors import Conflict, DomainError, NotFound
from fangkong.core.i18n import Message
from fangkong.core.scope import path_in_scope
from fangkong.tracing.models import (
    Case,
    Certainty,
    ChainLink,
)
from fangkong.tracing.service.reads import actor, get_case


def add_link(
    session: Session,
    principal: Principal,
    infector_case_id: int,
    infectee_case_id: int,
    certainty: Certainty,
    *,
    exposure_id: int | None = None,
    note: str = "",
    ip: str = "",
    audited: bool = True,
) -> ChainLink:
    """Record that one case infected another; both must be in the caller's jurisdiction."""
    infector = get_case(session, principal, infector_case_id)
    infectee = get_case(session, principal, infectee_case_id)
    if infector.id == infectee.id:
        raise DomainError("a case cannot infect itself")
    reverse = session.scalar(
        select(ChainLink.id).where(
            ChainLink.infector_case_id == infectee.id, ChainLink.infectee_case_id == infector.id
        )
    )
    if reverse is not None:
        raise Conflict(
            Message(
                "{infector} is already recorded as infected by {infectee}",
                infector=infector.case_ref,
                infectee=infectee.case_ref,
            )
        )
    same = session.scalar(
        select(ChainLink).where(
            ChainLink.infector_case_id == infector.id, ChainLink.infectee_case_id == infectee.id
        )
    )
    if same is not None:
        same.certainty = certainty
        return same
    link = _add_link(session, infector.id, infectee.id, certainty, exposure_id, note, principal.user_id)
    if audited:
        audit.record(
            session,
            actor(principal, ip),
            "cases.link",
            "case",
            infectee.id,
            jpath=infectee.jpath,
            detail={"infector": infector.id, "certainty": certainty.value},
        )
    return link


def _add_link(
    session: Session,
    infector_id: int,
    infectee_id: int,
    certainty: Certainty,
    exposure_id: int | None,
    note: str,
    by: int | None,
) -> ChainLink:
    infector = session.get(Case, infector_id)
    infectee = session.get(Case, infectee_id)
    assert infector is not None
    assert infectee is not None
    cluster = merge_clusters(session, infector.cluster_id, infectee.cluster_id)
    link = ChainLink(
        infector_case_id=infector_id,
        infectee_case_id=infectee_id,
        certainty=certainty,
        exposure_id=exposure_id,
        jpath=infectee.jpath,
        cluster_id=cluster,
        note=note[:300] or None,
        created_by=by,
    )
    session.add(link)
    session.flush()
    return link


def remove_link(session: Session, principal: Principal, link_id: int, *, ip: str = "") -> None:
    link = session.get(ChainLink, link_id)
    if link is None or not path_in_scope(link.jpath, principal.jpath):
        raise NotFound(f"link {link_id} not found")
    get_case(session, principal, link.infector_case_id)
    cluster = link.cluster_id
    session.delete(link)
    session.flush()
    from fangkong.tracing.clusters import recompute_clusters

    recompute_clusters(session, [cluster])
    audit.record(
        session,
        actor(principal, ip),
        "cases.unlink",
        "case",
        link.infectee_case_id,
        jpath=link.jpath,
        detail={"infector": link.infector_case_id},
    )


def merge_clusters(session: Session, a: int, b: int) -> int:
    """Join two clusters under the smaller label (a link between them was just added)."""
    if a == b:
        return a
    keep, drop = min(a, b), max(a, b)
    session.execute(
        update(Case)
        .where(Case.cluster_id == drop)
        .values(cluster_id=keep)
        .execution_options(synchronize_session="fetch")
    )
    session.execute(
        update(ChainLink)
        .where(ChainLink.cluster_id == drop)
        .values(cluster_id=keep)
        .execution_options(synchronize_session="fetch")
    )
    return keep


@dataclass(frozen=True)
class LinkView:
    id: int
    infector_case_id: int
    infector_ref: str
    infectee_case_id: int
    infectee_ref: str
    certainty: Certainty
    in_scope: bool


def links_of(session: Session, principal: Principal, case_id: int) -> tuple[list[LinkView], list[LinkView]]:
    """(infected by, infected) links of a case; the other end is named only when it is in scope."""
    case = get_case(session, principal, case_id)
    links = list(
        session.scalars(
            select(ChainLink).where(
                or_(ChainLink.infectee_case_id == case.id, ChainLink.infector_case_id == case.id)
            )
        )
    )
    others = {lk.infector_case_id for lk in links} | {lk.infectee_case_id for lk in links}
    known = {
        cid: (ref, path)
        for cid, ref, path in session.execute(
            select(Case.id, Case.case_ref, Case.jpath).where(Case.id.in_(others))
        )
    }
    views = []
    for lk in links:
        other = lk.infector_case_id if lk.infectee_case_id == case.id else lk.infectee_case_id
        ref, path = known.get(other, ("", ""))
        visible = path_in_scope(path, principal.jpath)
        shown = ref if visible else "—"
        views.append(
            LinkView(
                lk.id,
                lk.infector_case_id if visible or lk.infector_case_id == case.id else 0,
                case.case_ref if lk.infector_case_id == case.id else shown,
                lk.infectee_case_id if visible or lk.infectee_case_id == case.id else 0,
                case.case_ref if lk.infectee_case_id == case.id else shown,
                lk.certainty,
                visible,
            )
        )
    return (
        [v for v, lk in zip(views, links, strict=True) if lk.infectee_case_id == case.id],
        [v for v, lk in zip(views, links, strict=True) if lk.infector_case_id == case.id],
    )
