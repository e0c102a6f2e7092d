"""Typed words from a page's form, read as numbers and days, with the message a user sees beside the field.

The pages' forms send text (a route reads it as ``str`` so that what was typed comes back with the error
instead of a bare 422 from the framework); these turn it into a value or an ``InvalidInput`` naming the
field, the same words on every page.
"""

from __future__ import annotations

import datetime as dt

from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message

# How much of what was typed is repeated in the message: enough to recognise it, never a whole paste.
_ECHO = 20


def whole_number(text: str, field: str, *, low: int, high: int) -> int:
    """A whole number within [low, high]; the message says which bound was crossed."""
    value = text.strip()
    if not value.lstrip("-").isdigit():
        raise InvalidInput(
            [RowError(1, field, Message("“{value}” is not a whole number", value=text[:_ECHO]))]
        )
    number = int(value)
    if number < low:
        raise InvalidInput([RowError(1, field, Message("must be at least {limit}", limit=low))])
    if number > high:
        raise InvalidInput([RowError(1, field, Message("must be at most {limit}", limit=high))])
    return number


def iso_date(text: str, field: str) -> dt.date:
    """A day written as 2022-07-01 (the date input's own format)."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        problem = Message("“{value}” is not a date (write it as 2022-07-01)", value=text[:_ECHO])
        raise InvalidInput([RowError(1, field, problem)]) from None


def optional_iso_date(text: str, field: str) -> dt.date | None:
    """A day as :func:`iso_date`, or None when the field was left empty (an open-ended period)."""
    return iso_date(text, field) if text.strip() else None
