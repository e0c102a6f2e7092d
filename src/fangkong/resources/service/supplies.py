"""Supplies: stock per jurisdiction store and site, receipts, issues, transfers between jurisdictions,
consumption drawn by recorded work (a testing round's tubes, reagents and swabs), the consumption rate
learned from use, days of stock left and the reorder alert.

Every change is a signed move in ``resources_stock_moves`` beside the running ``on_hand``, so the
rate is learned from the moves and the balance can be checked against them. The alert is raised (and
``ReorderAlertRaised`` published) when a move leaves less than the store's threshold of days at the
learned rate, and cleared when stock lasts again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core import audit, clock
from fangkong.core.auth import Principal
from fangkong.core.errors import InvalidInput, NotFound, RowError
from fangkong.core.events import DomainEvent, bus_of
from fangkong.core.i18n import Message
from fangkong.core.models import Jurisdiction
from fangkong.core.scope import ancestor_paths, path_in_scope, under
from fangkong.resources import rules
from fangkong.resources.events import ReorderAlertRaised
from fangkong.resources.models import MoveReason, Stock, StockMove, SupplyKind
from fangkong.resources.service.common import actor, jurisdiction_in_scope

SITE_MAX = 100
QUANTITY_MAX = 10_000_000
# Moves that count as use when the rate is learned (receipts and transfers in do not; a transfer out
# moves stock, it does not use it).
USE = (MoveReason.consumption, MoveReason.issue)


@dataclass(frozen=True)
class StockRow:
    stock: Stock
    jurisdiction_name: str
    rate: float
    days_left: float | None
    reorder: bool
    reorder_quantity: int

    @property
    def unit(self) -> str:
        return rules.UNITS[self.stock.kind]


def _kind(value: str, field: str = "kind") -> SupplyKind:
    try:
        return SupplyKind(value)
    except ValueError:
        raise InvalidInput([RowError(1, field, Message("unknown supply {value}", value=value))]) from None


def _quantity_errors(quantity: int) -> list[RowError]:
    if not 1 <= quantity <= QUANTITY_MAX:
        return [RowError(1, "quantity", Message("a quantity is 1 to {n}", n=QUANTITY_MAX))]
    return []


def _store(session: Session, node: Jurisdiction, site: str, kind: SupplyKind) -> Stock:
    found = session.scalar(
        select(Stock).where(Stock.jpath == node.path, Stock.site == site, Stock.kind == kind)
    )
    if found is None:
        found = Stock(
            jurisdiction_id=node.id,
            jpath=node.path,
            site=site,
            kind=kind,
            on_hand=0,
            reorder_days=rules.DEFAULT_REORDER_DAYS,
            updated_at=clock.utcnow(),
        )
        session.add(found)
        session.flush()
    return found


def get_stock(session: Session, principal: Principal, stock_id: int) -> Stock:
    found = session.get(Stock, stock_id)
    if found is None or not path_in_scope(found.jpath, principal.jpath):
        raise NotFound(Message("stock {id} not found", id=stock_id))
    return found


def usage(session: Session, stock_ids: Iterable[int], day: dt.date) -> dict[int, tuple[int, dt.date | None]]:
    """Units used per store in the rate window, and the first day of use in it."""
    ids = list(stock_ids)
    if not ids:
        return {}
    first = day - dt.timedelta(days=rules.RATE_WINDOW_DAYS - 1)
    rows = session.execute(
        select(StockMove.stock_id, func.sum(-StockMove.quantity), func.min(StockMove.moved_on))
        .where(
            StockMove.stock_id.in_(ids),
            StockMove.reason.in_(USE),
            StockMove.moved_on >= first,
            StockMove.moved_on <= day,
        )
        .group_by(StockMove.stock_id)
    )
    return {sid: (int(used or 0), started) for sid, used, started in rows}


def refresh_alerts(session: Session, stocks: Iterable[Stock], day: dt.date | None = None) -> None:
    """Raise or clear the alerts of these stores (after moves written in bulk, such as the demo's history)."""
    for stock in stocks:
        _refresh_alert(session, stock, day or clock.today())


def _refresh_alert(session: Session, stock: Stock, day: dt.date) -> None:
    used, started = usage(session, [stock.id], day).get(stock.id, (0, None))
    rate = rules.daily_rate(used, started, day)
    if rules.needs_reorder(stock.on_hand, rate, stock.reorder_days):
        if stock.alert_since is None:
            stock.alert_since = day
            event: DomainEvent = ReorderAlertRaised(
                stock.id,
                stock.jpath,
                stock.kind.value,
                stock.on_hand,
                rules.days_left(stock.on_hand, rate),
                day,
            )
            bus_of(session).publish(session, event)
    else:
        stock.alert_since = None


def _move(
    session: Session, stock: Stock, quantity: int, reason: MoveReason, source: str, by: str, day: dt.date
) -> StockMove:
    move = StockMove(
        stock_id=stock.id,
        jpath=stock.jpath,
        kind=stock.kind,
        quantity=quantity,
        reason=reason,
        source=source[:100],
        moved_on=day,
        recorded_by=by[:64],
        created_at=clock.utcnow(),
    )
    session.add(move)
    stock.on_hand += quantity
    stock.updated_at = clock.utcnow()
    session.flush()
    _refresh_alert(session, stock, day)
    return move


def receive(
    session: Session,
    principal: Principal,
    *,
    jurisdiction_code: str,
    kind: str,
    quantity: int,
    site: str = "",
    source: str = "",
    ip: str = "",
) -> Stock:
    """A receipt into a store of a jurisdiction in scope (the store is made on its first receipt)."""
    errors = _quantity_errors(quantity)
    site = site.strip()
    if len(site) > SITE_MAX:
        errors.append(RowError(1, "site", Message("a site name is at most {n} characters", n=SITE_MAX)))
    try:
        supply = _kind(kind)
    except InvalidInput as invalid:
        errors.extend(invalid.errors)
    try:
        node = jurisdiction_in_scope(session, principal, jurisdiction_code, "jurisdiction_code")
    except InvalidInput as invalid:
        errors.extend(invalid.errors)
    if errors:
        raise InvalidInput(errors)
    stock = _store(session, node, site, supply)
    _move(
        session,
        stock,
        quantity,
        MoveReason.receipt,
        source or f"api:{principal.username}",
        principal.username,
        clock.today(),
    )
    audit.record(
        session,
        actor(principal, ip),
        "resources.stock.receive",
        "stock",
        stock.id,
        jpath=stock.jpath,
        detail={"kind": supply.value, "quantity": quantity},
    )
    return stock


def issue(session: Session, principal: Principal, stock_id: int, quantity: int, *, ip: str = "") -> Stock:
    """Stock handed out for use (to a team, a site): counts towards the consumption rate."""
    stock = get_stock(session, principal, stock_id)
    errors = _quantity_errors(quantity)
    if not errors and quantity > stock.on_hand:
        errors.append(RowError(1, "quantity", Message("only {n} on hand", n=stock.on_hand)))
    if errors:
        raise InvalidInput(errors)
    _move(
        session,
        stock,
        -quantity,
        MoveReason.issue,
        f"api:{principal.username}",
        principal.username,
        clock.today(),
    )
    audit.record(
        session, actor(principal, ip), "resources.stock.issue", "stock", stock.id, jpath=stock.jpath,
        detail={"quantity": quantity},
    )  # fmt: skip
    return stock


def transfer(
    session: Session,
    principal: Principal,
    stock_id: int,
    to_jurisdiction_code: str,
    quantity: int,
    *,
    ip: str = "",
) -> Stock:
    """Move stock to another jurisdiction's store (any jurisdiction: supplies cross lines like teams)."""
    stock = get_stock(session, principal, stock_id)
    errors = _quantity_errors(quantity)
    if not errors and quantity > stock.on_hand:
        errors.append(RowError(1, "quantity", Message("only {n} on hand", n=stock.on_hand)))
    target = session.scalar(select(Jurisdiction).where(Jurisdiction.code == to_jurisdiction_code.strip()))
    if target is None:
        errors.append(RowError(1, "to_jurisdiction_code", Message("no jurisdiction with this code")))
    elif target.path == stock.jpath:
        errors.append(RowError(1, "to_jurisdiction_code", Message("a transfer goes to another jurisdiction")))
    if errors:
        raise InvalidInput(errors)
    assert target is not None
    receiving = _store(session, target, "", stock.kind)
    day = clock.today()
    out = _move(
        session, stock, -quantity, MoveReason.transfer_out, f"to:{target.path}", principal.username, day
    )
    _move(session, receiving, quantity, MoveReason.transfer_in, f"move:{out.id}", principal.username, day)
    audit.record(
        session, actor(principal, ip), "resources.stock.transfer", "stock", stock.id, jpath=stock.jpath,
        detail={"to": target.path, "quantity": quantity},
    )  # fmt: skip
    return receiving


def set_threshold(
    session: Session, principal: Principal, stock_id: int, reorder_days: int, *, ip: str = ""
) -> Stock:
    stock = get_stock(session, principal, stock_id)
    if not 1 <= reorder_days <= 365:
        raise InvalidInput([RowError(1, "reorder_days", Message("a threshold is 1 to 365 days"))])
    stock.reorder_days = reorder_days
    _refresh_alert(session, stock, clock.today())
    audit.record(
        session, actor(principal, ip), "resources.stock.threshold", "stock", stock.id, jpath=stock.jpath,
        detail={"reorder_days": reorder_days},
    )  # fmt: skip
    return stock


def consume(
    session: Session, jpath: str, use: dict[SupplyKind, int], source: str, day: dt.date
) -> list[Stock]:
    """Draw recorded work's use from the nearest store at or above ``jpath`` that keeps each supply (read
    and written by event handlers; no principal: the work was already authorised where it was done)."""
    paths = list(reversed(ancestor_paths(jpath)))
    touched = []
    for kind, quantity in use.items():
        if quantity <= 0:
            continue
        stores = {
            s.jpath: s
            for s in session.scalars(
                select(Stock).where(Stock.jpath.in_(paths), Stock.site == "", Stock.kind == kind)
            )
        }
        store = next((stores[p] for p in paths if p in stores), None)
        if store is None:
            continue
        _move(session, store, -quantity, MoveReason.consumption, source, "system", day)
        touched.append(store)
    return touched


def on_round_closed(session: Session, event: DomainEvent) -> None:
    """A testing round has closed: its tubes, reagents and swabs come off the stock that served it."""
    from fangkong.testing.events import RoundClosed

    assert isinstance(event, RoundClosed)
    consume(
        session,
        event.jpath,
        rules.round_consumption(event.tubes, event.people),
        f"round:{event.round_id}",
        event.day,
    )


def quarantine_ppe_source(site_id: int, day: dt.date) -> str:
    return f"quarantine:{site_id}:{day.isoformat()}"


def consume_quarantine_ppe(session: Session, day: dt.date | None = None) -> int:
    """The day's protective equipment of every quarantine site: its rooms occupied now times
    :data:`rules.PPE_PER_OCCUPIED_ROOM_DAY`, drawn from the nearest store at or above the site's place
    (the nightly job; a site already drawn for that day is not drawn again). Returns the sets drawn."""
    from fangkong.quarantine.service.sites import occupied_rooms

    on = day or clock.today()
    drawn = 0
    for site_id, jpath, rooms in occupied_rooms(session):
        source = quarantine_ppe_source(site_id, on)
        if session.scalar(select(StockMove.id).where(StockMove.source == source).limit(1)) is not None:
            continue
        sets = rooms * rules.PPE_PER_OCCUPIED_ROOM_DAY
        if consume(session, jpath, {SupplyKind.ppe: sets}, source, on):
            drawn += sets
    return drawn


def _rows(session: Session, stocks: list[Stock], day: dt.date) -> list[StockRow]:
    used = usage(session, [s.id for s in stocks], day)
    places = {s.jurisdiction_id for s in stocks}
    names = dict(
        session.execute(select(Jurisdiction.id, Jurisdiction.name).where(Jurisdiction.id.in_(places))).all()
    )
    result = []
    for stock in stocks:
        amount, started = used.get(stock.id, (0, None))
        rate = rules.daily_rate(amount, started, day)
        result.append(
            StockRow(
                stock,
                names.get(stock.jurisdiction_id, ""),
                rate,
                rules.days_left(stock.on_hand, rate),
                rules.needs_reorder(stock.on_hand, rate, stock.reorder_days),
                rules.reorder_quantity(stock.on_hand, rate, stock.reorder_days),
            )
        )
    return result


def stock_rows(session: Session, jpath: str, *, alerts_only: bool = False) -> list[StockRow]:
    """Every store of a subtree with its rate, days left and alert (read by the dashboard too)."""
    stocks = list(
        session.scalars(
            select(Stock).where(under(Stock.jpath, jpath)).order_by(Stock.jpath, Stock.site, Stock.kind)
        )
    )
    found = _rows(session, stocks, clock.today())
    return [r for r in found if r.reorder] if alerts_only else found


def list_stock(session: Session, principal: Principal, *, alerts_only: bool = False) -> list[StockRow]:
    return stock_rows(session, principal.jpath, alerts_only=alerts_only)


def moves_of(session: Session, principal: Principal, stock_id: int) -> list[StockMove]:
    stock = get_stock(session, principal, stock_id)
    return list(
        session.scalars(
            select(StockMove).where(StockMove.stock_id == stock.id).order_by(StockMove.id.desc()).limit(200)
        )
    )
