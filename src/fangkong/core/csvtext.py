"""Reading CSV text that users upload: one place that turns the csv module's errors into row errors.

Text is read with ``newline=""`` so that carriage returns inside quoted fields survive, as the csv
module requires; a malformed line (a stray carriage return or NUL in an unquoted field) becomes an
``InvalidInput`` naming its line instead of an unhandled ``csv.Error``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message


def rows_checked(reader: Iterable[list[str]], line_of: object) -> Iterator[list[str]]:
    """Yield the rows of a csv reader; a csv.Error becomes InvalidInput at the reader's current line."""
    iterator = iter(reader)
    while True:
        try:
            row = next(iterator)
        except StopIteration:
            return
        except csv.Error as exc:
            line = getattr(line_of, "line_num", 0) or 1
            raise InvalidInput(
                [RowError(line, "*", Message("not readable as CSV: {reason}", reason=str(exc)))], file=True
            ) from None
        except UnicodeDecodeError:
            line = (getattr(line_of, "line_num", 0) or 0) + 1
            raise InvalidInput([RowError(line, "*", "not UTF-8 text; save the file as UTF-8 CSV")]) from None
        yield row


def decode_text(data: bytes) -> str:
    """An uploaded text file's bytes as text: UTF-8 (with or without a byte-order mark), else GB18030 (what
    Excel and WPS on a Chinese Windows save as "CSV"); InvalidInput when it is neither."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput([RowError(1, "*", "the file is neither UTF-8 nor GB18030 text")], file=True)


def read_csv_text(text: str) -> list[list[str]]:
    """All rows of CSV text, or InvalidInput naming the first unreadable line."""
    reader = csv.reader(io.StringIO(text, newline=""))
    return list(rows_checked(reader, reader))
