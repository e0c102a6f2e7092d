"""The modelling bench's commands: ``rt``, ``simulate``, ``account`` and ``drill`` (start, status, score...).

Each command is a plain function registered on ``app`` (and the drill commands on ``drill_app``), so the
top-level ``fangkong`` command can register the same functions directly. Numeric kernels, the database
and Rich are imported inside the commands to keep ``fangkong --help`` fast; this package itself needs
only the standard library and Typer.

Bad input never produces a traceback: the command prints one line naming the file, line and column at
fault and exits with code 2.

The package holds one module per command; this module is its public face and its command table (callers
import from ``fangkong.modeling.cli`` as before):

- :mod:`.rt`: ``rt``, the reproduction number of a daily case file;
- :mod:`.case_files`: the case and serial-interval files ``rt`` reads, every cell checked;
- :mod:`.simulate`: ``simulate``, one strategy arm of the agent-based simulator;
- :mod:`.account`: ``account``, the account of several arms;
- :mod:`.region`: the registry population ``--region`` names;
- :mod:`.drill`: the ``drill`` commands;
- :mod:`.common`: the one-line error and exit code 2.
"""

from __future__ import annotations

import typer

from fangkong.modeling.cli.account import account
from fangkong.modeling.cli.case_files import Cases, read_cases, read_si_distr
from fangkong.modeling.cli.common import InputFileError
from fangkong.modeling.cli.drill import (
    drill_advance,
    drill_score_command,
    drill_start,
    drill_status,
    drill_stop,
)
from fangkong.modeling.cli.region import DEMO_REGION_CODE
from fangkong.modeling.cli.rt import DATE_COLUMNS, DEFAULT_WINDOW_DAYS, rt
from fangkong.modeling.cli.simulate import simulate

app = typer.Typer(no_args_is_help=True, add_completion=False)


@app.callback()
def modeling() -> None:
    """Modelling bench: reproduction number, scenarios and the account of strategies."""


# Registered here, in one place and in this order (the order ``--help`` lists them in).
app.command("rt")(rt)
app.command("simulate")(simulate)
app.command("account")(account)

drill_app = typer.Typer(no_args_is_help=True, add_completion=False, help="Drills (实战演练) in a sandbox.")
app.add_typer(drill_app, name="drill")
drill_app.command("start")(drill_start)
drill_app.command("status")(drill_status)
drill_app.command("advance")(drill_advance)
drill_app.command("score")(drill_score_command)
drill_app.command("stop")(drill_stop)

__all__ = [
    "DATE_COLUMNS",
    "DEFAULT_WINDOW_DAYS",
    "DEMO_REGION_CODE",
    "Cases",
    "InputFileError",
    "account",
    "app",
    "drill_advance",
    "drill_app",
    "drill_score_command",
    "drill_start",
    "drill_status",
    "drill_stop",
    "modeling",
    "read_cases",
    "read_si_distr",
    "rt",
    "simulate",
]
