"""The ``fangkong response`` commands: tasks and the sweeper, daily closures, the dashboard, the report."""

from __future__ import annotations

import typer

from fangkong.response.cli import closures, dashboard, reports, tasks

app = typer.Typer(no_args_is_help=True, help="Tasks with deadlines, the daily closure, dashboard, report.")
for _module in (tasks, closures, dashboard, reports):
    for _command in _module.app.registered_commands:
        app.registered_commands.append(_command)
    for _group in _module.app.registered_groups:
        app.registered_groups.append(_group)
