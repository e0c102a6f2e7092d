"""A quarantine site's staff: who is posted there (from the resources capability's staff), the minimum a
site of its size needs before it opens, and the open sites short of it.

Postings live in resources (``resources.service.postings``); this module finds the site in the caller's
scope, hands it there, and keeps ``quarantine_sites.staff_on_duty`` equal to the people posted now, so
readers of the site row see the same number as the postings. The minimum is ``rules.staffing``'s. A site
whose county keeps no staff roster on the platform is not held to it (as sampling sites are not held to
certified samplers there): the check would only block a county that staffs its sites on paper.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core.auth import Principal
from fangkong.core.errors import Conflict
from fangkong.core.events import DomainEvent
from fangkong.core.i18n import Message
from fangkong.core.scope import under
from fangkong.quarantine.models import QuarantineRoom, QuarantineSite, RoomState, SiteStatus
from fangkong.quarantine.rules.staffing import SOURCE, StaffingGap, minimum_staff, staffing_gaps
from fangkong.quarantine.service.sites import get_site
from fangkong.resources.events import StaffPostingsEnded
from fangkong.resources.service import postings
from fangkong.resources.service.staff import StaffRow

KIND = postings.QUARANTINE_SITE
# Posts a quarantine site has (a sampler is posted to sampling sites only), in the order pages show them.
ROLES = ("lead", "medical", "security", "cleaning", "support")


def _ref(site: QuarantineSite) -> postings.SiteRef:
    return postings.SiteRef(KIND, site.id, site.name, site.jpath)


def beds_in_service(session: Session, site_ids: Sequence[int]) -> dict[int, int]:
    """Beds of the rooms in service of each site: its size for the staffing minimum."""
    wanted = sorted(set(site_ids))
    beds: dict[int, int] = {}
    for start in range(0, len(wanted), 1000):
        beds.update(
            (int(site), int(n or 0))
            for site, n in session.execute(
                select(QuarantineRoom.site_id, func.sum(QuarantineRoom.beds))
                .where(
                    QuarantineRoom.site_id.in_(wanted[start : start + 1000]),
                    QuarantineRoom.state != RoomState.out_of_service,
                )
                .group_by(QuarantineRoom.site_id)
            )
        )
    return beds


def _sync(session: Session, site: QuarantineSite) -> None:
    site.staff_on_duty = postings.on_duty(session, KIND, [site.id])[site.id]
    session.flush()


def post_staff(
    session: Session,
    principal: Principal,
    site_id: int,
    staff_id: int,
    role: str,
    *,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    ip: str = "",
) -> int:
    """Post a staff member to a site (not one closed for good) in a role, for a period; returns the
    posting's id."""
    site = get_site(session, principal, site_id)
    if site.status is SiteStatus.closed:
        raise Conflict(Message("{site} is closed for good: nobody is posted there", site=site.name))
    posting = postings.post(
        session, principal, _ref(site), staff_id, role, starts_on=starts_on, ends_on=ends_on, ip=ip
    )
    _sync(session, site)
    return posting.id


def unpost_staff(
    session: Session, principal: Principal, site_id: int, posting_id: int, *, ip: str = ""
) -> None:
    site = get_site(session, principal, site_id)
    postings.unpost(session, principal, _ref(site), posting_id, ip=ip)
    _sync(session, site)


@dataclass(frozen=True)
class SiteStaffing:
    """A site's posted staff against its minimum."""

    rows: list[postings.PostingRow]
    posted: dict[str, int]
    minimum: dict[str, int]
    gaps: list[StaffingGap]
    beds: int
    keeps_roster: bool
    source: str = SOURCE

    @property
    def on_duty(self) -> int:
        return sum(self.posted.values())


def staffing(session: Session, principal: Principal, site_id: int) -> SiteStaffing:
    site = get_site(session, principal, site_id)
    beds = beds_in_service(session, [site.id]).get(site.id, 0)
    posted = postings.posted_by_role(session, KIND, [site.id]).get(site.id, {})
    return SiteStaffing(
        rows=postings.postings_of(session, KIND, site.id),
        posted=posted,
        minimum=minimum_staff(beds),
        gaps=staffing_gaps(beds, posted),
        beds=beds,
        keeps_roster=postings.keeps_roster(session, site.jpath),
    )


def postable(session: Session, principal: Principal, site_id: int) -> list[StaffRow]:
    """Who may be posted to the site now (available, not away, not posted elsewhere)."""
    return postings.postable(session, principal, _ref(get_site(session, principal, site_id)))


def opening_refusal(session: Session, site: QuarantineSite) -> Message | None:
    """Why the site may not open for lack of staff (each missing post named), or None."""
    if not postings.keeps_roster(session, site.jpath):
        return None
    beds = beds_in_service(session, [site.id]).get(site.id, 0)
    gaps = staffing_gaps(beds, postings.posted_by_role(session, KIND, [site.id]).get(site.id, {}))
    if not gaps:
        return None
    return Message(
        "{site} cannot open: its {beds} beds need {needed} staff posted and it lacks {missing}",
        site=site.name,
        beds=beds,
        needed=sum(minimum_staff(beds).values()),
        missing=[Message("{n} × {role}", n=g.missing, role=Message(g.role, ctx="posting")) for g in gaps],
    )


@dataclass(frozen=True)
class ShortSite:
    id: int
    name: str
    jpath: str
    beds: int
    needed: int
    on_duty: int


def open_sites_short(session: Session, jpath: str) -> list[ShortSite]:
    """Open sites of a subtree with fewer staff posted than their minimum (the command dashboard's gap);
    sites of counties that keep no roster on the platform are left out, as for opening."""
    sites = list(
        session.scalars(
            select(QuarantineSite)
            .where(under(QuarantineSite.jpath, jpath), QuarantineSite.status == SiteStatus.open)
            .order_by(QuarantineSite.jpath, QuarantineSite.id)
        )
    )
    if not sites:
        return []
    beds = beds_in_service(session, [s.id for s in sites])
    posted = postings.posted_by_role(session, KIND, [s.id for s in sites])
    rosters: dict[str, bool] = {}
    short = []
    for site in sites:
        if site.jpath not in rosters:
            rosters[site.jpath] = postings.keeps_roster(session, site.jpath)
        size = beds.get(site.id, 0)
        have = posted.get(site.id, {})
        if rosters[site.jpath] and staffing_gaps(size, have):
            short.append(
                ShortSite(
                    site.id,
                    site.name,
                    site.jpath,
                    size,
                    sum(minimum_staff(size).values()),
                    sum(have.values()),
                )
            )
    return short


@dataclass(frozen=True)
class OpenSite:
    id: int
    name: str
    jpath: str
    beds: int


def open_sites(session: Session, jpath: str) -> list[OpenSite]:
    """Open sites of a subtree with their size (read by the resources demo, which staffs them)."""
    sites = list(
        session.scalars(
            select(QuarantineSite)
            .where(under(QuarantineSite.jpath, jpath), QuarantineSite.status == SiteStatus.open)
            .order_by(QuarantineSite.jpath, QuarantineSite.id)
        )
    )
    beds = beds_in_service(session, [s.id for s in sites])
    return [OpenSite(s.id, s.name, s.jpath, beds.get(s.id, 0)) for s in sites]


def sync_on_duty(session: Session, site_ids: Sequence[int]) -> None:
    """Set each site's ``staff_on_duty`` to the people posted there now (after postings written in bulk)."""
    duty = postings.on_duty(session, KIND, site_ids)
    for site in session.scalars(select(QuarantineSite).where(QuarantineSite.id.in_(list(site_ids)))):
        site.staff_on_duty = duty.get(site.id, 0)
    session.flush()


def on_staff_postings_ended(session: Session, event: DomainEvent) -> None:
    """A staff member left their sites (marked not available): the sites' stored staff on duty follow."""
    assert isinstance(event, StaffPostingsEnded)
    sync_on_duty(session, [site for kind, site in event.sites if kind == KIND.value])
