"""The ``fangkong vaccination`` commands: import doses, evaluate status, coverage, outreach, AEFI."""

from __future__ import annotations

import typer

from fangkong.vaccination.cli import aefi, coverage, doses, outreach

app = typer.Typer(no_args_is_help=True, help="Doses and their import, coverage, outreach, adverse events.")
for _module in (doses, coverage, outreach, aefi):
    for _command in _module.app.registered_commands:
        app.registered_commands.append(_command)
    for _group in _module.app.registered_groups:
        app.registered_groups.append(_group)
