"""What the Rt page takes from the platform's own records: the serial interval measured on the
transmission chains and the nowcast of the epidemic curve by onset.

Both are read from the tracing capability's service by name, as :func:`service.count_source` reads its
counts, so that this capability does not depend on tracing; where tracing is absent both are empty.
The numbers come from :mod:`fangkong.analytics.serial_interval` and :mod:`fangkong.analytics.nowcast`
through tracing's reads (``serial_interval``, ``onset_nowcast``).
"""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

from sqlalchemy.orm import Session

from fangkong.core.auth import Principal


def _tracing(name: str) -> Any:
    try:
        module = importlib.import_module("fangkong.tracing.service")
    except ImportError:
        return None
    reader = getattr(module, name, None)
    return reader if callable(reader) else None


def chains_serial_interval(
    session: Session, principal: Principal, since: dt.date | None = None, until: dt.date | None = None
) -> Any:
    """The serial interval of the links in the reader's scope (``analytics.serial_interval.SerialInterval``),
    or ``None`` without tracing."""
    reader = _tracing("serial_interval")
    return None if reader is None else reader(session, principal, since, until)


def onset_nowcast(session: Session, principal: Principal, path: str) -> Any:
    """The nowcast of the curve by onset under ``path`` up to today (``tracing.service.CurveNowcast``), or
    ``None`` without tracing or without cases."""
    reader = _tracing("onset_nowcast")
    return None if reader is None else reader(session, principal, path)
