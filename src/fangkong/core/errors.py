"""Errors a use case raises, which the API turns into clear 4xx answers (never a 500).

A message may be plain English or a ``Message`` (msgid and parameters, see ``core.i18n``): ``.message``
is always the English (the JSON API, the CLI, logs) and ``.text`` the message the web pages render in
the reader's language.
"""

from __future__ import annotations

from fangkong.core.i18n import Message, as_message


class DomainError(Exception):
    """Base of use-case errors; ``status`` is the HTTP status the API answers with."""

    status = 400

    def __init__(self, message: str | Message) -> None:
        self.text = as_message(message)
        self.message = str(self.text)
        super().__init__(self.message)


class TooManyRequests(DomainError):
    """A client past its allowance (public forms, sign-in); ``retry_after`` is the wait in seconds."""

    status = 429

    def __init__(self, retry_after: int, message: str | Message | None = None) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(
            message
            or Message(
                "Too many attempts from this address; try again in {seconds} s.", seconds=self.retry_after
            )
        )


class NotFound(DomainError):
    """Missing, or outside the caller's scope: the two are indistinguishable on purpose."""

    status = 404


class Conflict(DomainError):
    status = 409


class Forbidden(DomainError):
    status = 403


class RowError:
    """One problem in one row of an import: row numbers count the header as row 1, as spreadsheets do.

    ``field`` is the form field's name, or the column as the user's file names it (an import reports
    the header the file used, 发病日期 if that was the header). ``message`` is the English text and
    ``text`` the ``Message`` a page renders in the reader's language.
    """

    # ``text`` in a slot: ``vars(error)`` (the CLI's JSON) holds the plain row, field and English message.
    __slots__ = ("__dict__", "text")

    def __init__(self, row: int, field: str, message: str | Message) -> None:
        self.row = row
        self.field = field
        self.text = as_message(message)
        self.message = str(self.text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RowError) and (self.row, self.field, self.message) == (
            other.row,
            other.field,
            other.message,
        )

    def __hash__(self) -> int:
        return hash((self.row, self.field, self.message))

    def __repr__(self) -> str:
        return f"RowError(row={self.row!r}, field={self.field!r}, message={self.message!r})"

    def __str__(self) -> str:
        return f"row {self.row}, {self.field}: {self.message}"

    def renamed(self, field: str) -> RowError:
        """The same problem under another name for its column (the header as the file wrote it)."""
        return RowError(self.row, field, self.text)


class InvalidInput(DomainError):
    """Input that fails validation; carries every error found, each naming its row and field."""

    status = 422

    def __init__(
        self, errors: list[RowError], message: str | Message | None = None, *, file: bool = False
    ) -> None:
        self.errors = errors
        # The errors name rows and columns of an uploaded file (as the file names them), not form fields.
        self.file = file
        shown = "; ".join(str(e) for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(message or f"{len(errors)} error(s): {shown}{more}")
