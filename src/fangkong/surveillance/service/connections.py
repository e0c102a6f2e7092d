"""Where alerts go and where signals come from: notifier endpoints and pull sources."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.errors import Conflict, InvalidInput, NotFound, RowError
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction
from fangkong.core.scope import path_in_scope, under
from fangkong.surveillance.models import NotifierEndpoint, PullSource
from fangkong.surveillance.notify import notifier_kinds
from fangkong.surveillance.pull import source_kinds
from fangkong.surveillance.service.channels import list_channels

# ---------------------------------------- notifier endpoints and pull sources


def list_endpoints(session: Session, path: str) -> list[NotifierEndpoint]:
    return list(
        session.scalars(
            select(NotifierEndpoint).where(under(NotifierEndpoint.jpath, path)).order_by(NotifierEndpoint.id)
        )
    )


def create_endpoint(
    session: Session,
    actor: audit.Actor,
    path: str,
    name: str,
    kind: str,
    url: str,
    jurisdiction_code: str | None,
) -> NotifierEndpoint:
    errors: list[RowError] = []
    if not name.strip():
        errors.append(RowError(1, "name", "is empty"))
    if kind not in notifier_kinds():
        errors.append(
            RowError(
                1,
                "kind",
                Message("“{value}” is not one of {choices}", value=kind, choices=", ".join(notifier_kinds())),
            )
        )
    if not url.startswith(("http://", "https://")):
        errors.append(RowError(1, "url", "must start with http:// or https://"))
    node = (
        session.scalar(select(Jurisdiction).where(Jurisdiction.path == path))
        if not jurisdiction_code
        else (session.scalar(select(Jurisdiction).where(Jurisdiction.code == jurisdiction_code)))
    )
    if node is None or not path_in_scope(node.path, path):
        errors.append(
            RowError(1, "jurisdiction", Message("jurisdiction “{value}” not found", value=jurisdiction_code))
        )
    if errors or node is None:
        raise InvalidInput(errors)
    endpoint = NotifierEndpoint(
        name=name.strip(), kind=kind, url=url, jurisdiction_id=node.id, jpath=node.path, active=True
    )
    session.add(endpoint)
    session.flush()
    audit.record(
        session,
        actor,
        "surveillance.endpoint.create",
        "notifier_endpoint",
        endpoint.id,
        jpath=node.path,
        detail={"name": endpoint.name, "kind": kind},
    )
    return endpoint


def list_pull_sources(session: Session, path: str) -> list[PullSource]:
    return list(
        session.scalars(select(PullSource).where(under(PullSource.jpath, path)).order_by(PullSource.id))
    )


def get_pull_source(session: Session, path: str, source_id: int) -> PullSource:
    source = session.get(PullSource, source_id)
    if source is None or not path_in_scope(source.jpath, path):
        raise NotFound(f"pull source {source_id} not found")
    return source


def create_pull_source(
    session: Session, actor: audit.Actor, path: str, name: str, kind: str, url: str, channel_code: str | None
) -> PullSource:
    errors: list[RowError] = []
    if not name.strip():
        errors.append(RowError(1, "name", "is empty"))
    if kind not in source_kinds():
        errors.append(
            RowError(
                1,
                "kind",
                Message("“{value}” is not one of {choices}", value=kind, choices=", ".join(source_kinds())),
            )
        )
    if not url.startswith(("http://", "https://")):
        errors.append(RowError(1, "url", "must start with http:// or https://"))
    if channel_code and channel_code not in {c.code for c in list_channels(session, path)}:
        errors.append(RowError(1, "channel_code", Message("unknown channel “{value}”", value=channel_code)))
    if errors:
        raise InvalidInput(errors)
    if session.scalar(select(PullSource.id).where(PullSource.name == name.strip())) is not None:
        raise Conflict(Message("a pull source named “{name}” already exists", name=name.strip()))
    source = PullSource(
        name=name.strip(),
        kind=kind,
        url=url,
        channel_code=channel_code or None,
        jpath=path,
        active=True,
        last_status="",
    )
    session.add(source)
    session.flush()
    audit.record(
        session,
        actor,
        "surveillance.pull_source.create",
        "pull_source",
        source.id,
        jpath=path,
        detail={"name": source.name, "kind": kind},
    )
    return source
