"""Errors a use case raises, which the API turns into clear 4xx answers (never a 500)."""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base of use-case errors; ``status`` is the HTTP status the API answers with."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """Missing, or outside the caller's scope: the two are indistinguishable on purpose."""

    status = 404


class Conflict(DomainError):
    status = 409


class Forbidden(DomainError):
    status = 403


@dataclass(frozen=True)
class RowError:
    """One problem in one row of an import: row numbers count the header as row 1, as spreadsheets do."""

    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.field}: {self.message}"


class InvalidInput(DomainError):
    """Input that fails validation; carries every error found, each naming its row and field."""

    status = 422

    def __init__(self, errors: list[RowError], message: str | None = None) -> None:
        self.errors = errors
        shown = "; ".join(str(e) for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(message or f"{len(errors)} error(s): {shown}{more}")
