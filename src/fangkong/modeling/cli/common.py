"""What every modelling command shares: bad input ends the command with one line naming the file, line
and column at fault, and exit code 2 (never a traceback).
"""

from __future__ import annotations

from typing import NoReturn

import typer


class InputFileError(Exception):
    """A file the user gave cannot be used; the message names the file, line and column."""


def _fail(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code=2)
