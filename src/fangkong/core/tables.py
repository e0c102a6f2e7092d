"""Print the CLI's tables so that no number is ever cut, whatever the width of the terminal or file.

Rich shrinks a table that is wider than the console by wrapping its columns and, as a last resort,
cutting cells with an ellipsis: an 80-column terminal (or output piped to a file, which Rich treats as
80 columns) showed infections averted as "165,9…". Every command prints its tables through
:func:`print_table`, which lays them out by one rule: a word that holds a digit (a number, a range, a
date) is never broken or cut; words of text may wrap or fold. If the table fits, it is printed as built.
If it fits only when its columns are narrowed, each column gets a fixed width no narrower than its
longest number. If even that does not fit, the table turns vertical: one block per row, a label beside
each value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich import box
from rich.console import Console, RenderableType
from rich.errors import MarkupError
from rich.table import Column, Table
from rich.text import Text

_WORD = re.compile(r"\S+")
_DIGIT = re.compile(r"\d")
# Words of text may be folded, but not below this many cells: narrower columns read as noise.
TEXT_FLOOR = 10


def _plain(cell: RenderableType) -> str | None:
    """The text of a cell as printed (markup removed); None for a renderable that is not text."""
    if isinstance(cell, Text):
        return cell.plain
    if isinstance(cell, str):
        try:
            return Text.from_markup(cell).plain
        except MarkupError:
            return cell
    return None


def _width(text: str) -> int:
    return Text(text).cell_len


def _widest_word(texts: Sequence[str], *, numbers: bool) -> int:
    """The widest word of ``texts`` that holds a digit (``numbers``) or that holds none."""
    return max(
        (
            _width(word)
            for text in texts
            for word in _WORD.findall(text)
            if bool(_DIGIT.search(word)) is numbers
        ),
        default=0,
    )


def _floor(column: Column) -> int:
    """The narrowest this column may be: its widest number whole, its words of text at TEXT_FLOOR."""
    texts = [t for t in (_plain(c) for c in column.cells) if t is not None]
    header = _plain(column.header) or ""
    number = _widest_word([*texts, header], numbers=True)
    words = min(_widest_word([*texts, header], numbers=False), TEXT_FLOOR)
    return max(number, words, 1)


def _longest_word(column: Column) -> int:
    texts = [t for t in (_plain(c) for c in (*column.cells, column.header)) if t is not None]
    return max(_widest_word(texts, numbers=True), _widest_word(texts, numbers=False), 1)


def _natural(column: Column) -> int:
    """The width this column would take with nothing wrapped."""
    texts = [t for t in (_plain(c) for c in (*column.cells, column.header)) if t is not None]
    return max((_width(line) for text in texts for line in text.splitlines() or [""]), default=1)


def fit_table(table: Table, width: int) -> RenderableType:
    """``table`` laid out for ``width`` cells without cutting a number (see the module docstring)."""
    for column in table.columns:
        column.overflow = "fold"
    # Borders and padding: Rich's own arithmetic, so that the widths below add up exactly.
    overhead = table._extra_width + sum(table._get_padding_width(i) for i in range(len(table.columns)))
    room = width - overhead
    floors = [_floor(c) for c in table.columns]
    naturals = [max(_natural(c), f) for c, f in zip(table.columns, floors, strict=True)]
    if sum(naturals) <= room:
        return table
    if sum(floors) > room:
        return vertical(table, width)
    widths = list(floors)
    spare = room - sum(widths)
    # First whole words: the columns that need the fewest extra cells to fold no word get them first.
    words = [max(_longest_word(c), f) for c, f in zip(table.columns, floors, strict=True)]
    for i in sorted(range(len(widths)), key=lambda k: words[k] - widths[k]):
        grow = min(words[i] - widths[i], spare)
        if grow < words[i] - widths[i]:
            break
        widths[i] += grow
        spare -= grow
    # Then water-filling: the spare cells go, one at a time, to the column furthest below its natural
    # width (relative to it), so that long text columns wrap before short ones do.
    while spare > 0:
        wanting = [i for i, w in enumerate(widths) if w < naturals[i]]
        if not wanting:
            break
        i = min(wanting, key=lambda k: widths[k] / naturals[k])
        widths[i] += 1
        spare -= 1
    for column, fixed in zip(table.columns, widths, strict=True):
        column.width = fixed
        column.no_wrap = False
    return table


def vertical(table: Table, width: int) -> RenderableType:
    """One block per row of ``table``: each column's header beside the row's value."""
    labels = [_plain(c.header) or "" for c in table.columns]
    label_width = min(max((_width(label) for label in labels), default=1), max(width // 2, TEXT_FLOOR))
    out = Table(
        title=table.title,
        caption=table.caption,
        show_header=False,
        box=box.SIMPLE_HEAD if table.box else None,
        show_lines=False,
    )
    out.add_column(width=label_width, overflow="fold", style="bold")
    out.add_column(overflow="fold")
    rows = list(zip(*(c.cells for c in table.columns), strict=True))
    for index, cells in enumerate(rows):
        for position, (label, cell) in enumerate(zip(labels, cells, strict=True)):
            out.add_row(label, cell, end_section=position == len(cells) - 1 and index < len(rows) - 1)
    return out


def print_table(console: Console, table: Table) -> None:
    """Print ``table`` on ``console`` at the console's width, never cutting a number."""
    console.print(fit_table(table, console.width))
