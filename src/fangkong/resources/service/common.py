"""Helpers every resources use case shares: the actor, a jurisdiction in scope by code, a staff
member or team in scope by id, and the one error shape for a bad field."""

from __future__ import annotations

from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Principal
from fangkong.core.errors import InvalidInput, NotFound, RowError
from fangkong.core.i18n import Message
from fangkong.core.jurisdictions import by_code
from fangkong.core.models import Jurisdiction
from fangkong.core.scope import path_in_scope
from fangkong.resources.models import Staff, Team


def actor(principal: Principal, ip: str = "") -> audit.Actor:
    return audit.Actor(principal.user_id, principal.username, ip or "web")


def bad(field: str, message: Message) -> InvalidInput:
    return InvalidInput([RowError(1, field, message)])


def jurisdiction_in_scope(session: Session, principal: Principal, code: str, field: str) -> Jurisdiction:
    """The jurisdiction with ``code`` inside the caller's scope, else an error naming ``field``."""
    node = by_code(session, code.strip()) if code else None
    if node is None or not path_in_scope(node.path, principal.jpath):
        raise bad(field, Message("no jurisdiction with this code in your area"))
    return node


def get_staff(session: Session, principal: Principal, staff_id: int) -> Staff:
    found = session.get(Staff, staff_id)
    if found is None or not path_in_scope(found.jpath, principal.jpath):
        raise NotFound(Message("staff member {id} not found", id=staff_id))
    return found


def get_team(session: Session, principal: Principal, team_id: int) -> Team:
    found = session.get(Team, team_id)
    if found is None or not path_in_scope(found.jpath, principal.jpath):
        raise NotFound(Message("team {id} not found", id=team_id))
    return found
