"""A sampling site's samplers: who is posted there (from the resources capability's staff) against the
samplers the rule sized it for.

Postings live in resources (``resources.service.postings``); this module finds the site in the caller's
scope and hands it there. Only a person certified for sampling is posted as a sampler ("no training, no
post": postings refuses the others, naming them); a person holds one posting at a time, so a sampler
cannot be counted at two sites. The round's opening still checks the county's certified samplers
(``rounds.set_up_sites``); this is who stands at which site.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from fangkong.core.auth import Principal
from fangkong.core.errors import Conflict, NotFound
from fangkong.core.i18n import Message
from fangkong.core.scope import path_in_scope
from fangkong.resources.service import postings
from fangkong.resources.service.staff import SAMPLING, StaffRow
from fangkong.testing.models import SamplingSite

KIND = postings.SAMPLING_SITE
ROLE = "sampler"


def get_site(session: Session, principal: Principal, site_id: int) -> SamplingSite:
    site = session.get(SamplingSite, site_id)
    if site is None or not path_in_scope(site.jpath, principal.jpath):
        raise NotFound(Message("sampling site {id} not found", id=site_id))
    return site


def _ref(site: SamplingSite) -> postings.SiteRef:
    return postings.SiteRef(KIND, site.id, site.name, site.jpath)


def post_sampler(
    session: Session,
    principal: Principal,
    site_id: int,
    staff_id: int,
    *,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    ip: str = "",
) -> int:
    """Post a certified sampler to a site in use, for a period; returns the posting's id."""
    site = get_site(session, principal, site_id)
    if not site.active:
        raise Conflict(Message("{site} is not in use: nobody is posted there", site=site.name))
    posting = postings.post(
        session, principal, _ref(site), staff_id, ROLE, starts_on=starts_on, ends_on=ends_on, ip=ip
    )
    return posting.id


def unpost_sampler(
    session: Session, principal: Principal, site_id: int, posting_id: int, *, ip: str = ""
) -> None:
    postings.unpost(session, principal, _ref(get_site(session, principal, site_id)), posting_id, ip=ip)


@dataclass(frozen=True)
class SiteSamplers:
    """A site's samplers posted now (and to come) against the number the rule sized it for."""

    rows: list[postings.PostingRow]
    on_duty: int
    planned: int

    @property
    def short(self) -> int:
        return max(0, self.planned - self.on_duty)


def samplers(session: Session, principal: Principal, site_id: int) -> SiteSamplers:
    site = get_site(session, principal, site_id)
    return SiteSamplers(
        rows=postings.postings_of(session, KIND, site.id),
        on_duty=postings.on_duty(session, KIND, [site.id])[site.id],
        planned=site.samplers if site.active else 0,
    )


def postable(session: Session, principal: Principal, site_id: int) -> list[StaffRow]:
    """Who may be posted to the site now and holds a sampling certification today."""
    site = get_site(session, principal, site_id)
    return [r for r in postings.postable(session, principal, _ref(site)) if r.eligible_for(SAMPLING)]


def fill_from_roster(session: Session, principal: Principal, site_ids: list[int], *, ip: str = "") -> int:
    """Post certified samplers who are free to each site in turn until it has the samplers the rule sized
    it for, or nobody is left (the first sites of the list first); returns how many were posted."""
    posted = 0
    for site_id in site_ids:
        short = samplers(session, principal, site_id).short
        for row in postable(session, principal, site_id)[:short]:
            post_sampler(session, principal, site_id, row.staff.id, ip=ip)
            posted += 1
    return posted
