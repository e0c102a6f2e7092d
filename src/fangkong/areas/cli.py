"""``fangkong areas ...``: risk areas, arrivals and doorstep services from the command line."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)
