"""CLI tables never cut a number, at any terminal width (issue 11 item 18).

A number here is any word of the output that holds a digit ("165,966", "(230,001-260,333)",
"2022-07-05"): it must come out whole at 80 and at 60 columns, exactly as it reads on a wide terminal.
"""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table
from typer.testing import CliRunner

from fangkong.core.tables import print_table

SRC = Path(__file__).resolve().parents[3] / "src" / "fangkong"
runner = CliRunner()


def number_words(output: str) -> set[str]:
    # The simulator's speed differs from run to run: it is not data.
    lines = [line for line in output.splitlines() if "per second" not in line]
    return {word for line in lines for word in line.split() if re.search(r"\d", word)}


def render(table: Table, width: int) -> str:
    console = Console(file=io.StringIO(), width=width)
    print_table(console, table)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert all(len(line) <= width for line in out.splitlines()), out
    return str(out)


def account_table() -> Table:
    table = Table(title="The account: demo region, 120 days (mean, 90% range); averted against none")
    for name in ("arm", "frontier", "infections", "severe", "deaths", "peak hospital / beds",
                 "infections averted", "total cost (CNY)", "cost per averted (incr.)"):  # fmt: skip
        table.add_column(name, justify="left" if name in ("arm", "frontier") else "right")
    table.add_row("none", "dominated", "245,120 (230,001-260,333)", "1,234 (1,100-1,400)", "120 (100-140)",
                  "3,400 / 2,000", "0 (0-0)", "100,000,000", "-")  # fmt: skip
    table.add_row("cn-9", "frontier", "79,154 (70,001-90,333)", "434 (400-500)", "40 (30-50)",
                  "1,400 / 2,000", "165,966 (150,000-180,000)", "1,234,567,890", "7,438")  # fmt: skip
    return table


def text_and_numbers_table() -> Table:
    table = Table(title="Cost lines")
    table.add_column("line")
    table.add_column("price", justify="right")
    table.add_column("cn-9", justify="right")
    table.add_row("Laboratory tubes for pooled nucleic acid tests (tube)", "3.50", "1,234,567 x = 4,320,984")
    table.add_row(
        "Centralised quarantine rooms, meals and staff (room-day)", "240.00", "65,432 x = 15,703,680"
    )
    return table


@pytest.mark.parametrize("width", [80, 60])
@pytest.mark.parametrize("build", [account_table, text_and_numbers_table])
def test_every_number_comes_out_whole_at_80_and_60_columns(build, width: int) -> None:  # type: ignore[no-untyped-def]
    wide = render(build(), 250)
    narrow = render(build(), width)
    assert "…" not in narrow
    missing = number_words(wide) - number_words(narrow)
    assert not missing, f"cut at {width} columns: {sorted(missing)}\n{narrow}"


def test_a_table_that_fits_is_printed_as_built() -> None:
    table = Table(title="KPIs")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("contacts traced within 24 h", "1,234")
    out = render(table, 80)
    assert "┃ figure" in out and "1,234 │" in out


def test_a_table_too_wide_for_its_numbers_turns_vertical_one_block_per_row() -> None:
    out = render(account_table(), 60)
    lines = out.splitlines()
    # Each value stands beside its label on one line.
    assert any("infections averted" in line and "165,966" in line for line in lines), out
    assert any("total cost (CNY)" in line and "1,234,567,890" in line for line in lines), out


def test_text_columns_wrap_so_the_numbers_keep_their_width() -> None:
    out = render(text_and_numbers_table(), 80)
    # Still one table with its header (not the vertical layout): the long labels wrapped instead.
    assert "┃ line" in out and "price" in out
    assert "1,234,567" in out and "15,703,680" in out


# --- every table the CLI prints goes through print_table ------------------------------------------------


def _tables_printed_directly(path: Path) -> list[int]:
    """Lines where a variable assigned from ``Table(...)`` is handed straight to ``<console>.print``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef):
            continue
        tables = {
            target.id
            for node in ast.walk(function)
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "id", None) == "Table"
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "print"
                and node.args
                and isinstance(node.args[0], ast.Name)
                and node.args[0].id in tables
            ):
                found.append(node.lineno)
    return found


def test_no_command_prints_a_rich_table_around_the_fitting() -> None:
    modules = [p for p in SRC.rglob("*.py") if "rich.table import" in p.read_text(encoding="utf-8")]
    assert modules, "the CLI modules that print tables were not found"
    direct = {str(p.relative_to(SRC)): lines for p in modules if (lines := _tables_printed_directly(p))}
    assert not direct, f"print these through fangkong.core.tables.print_table: {direct}"


# --- real commands at a standard terminal's width ----------------------------------------------------------

SMALL = ["--size", "3000", "--days", "40", "--initial-infections", "10"]


@pytest.mark.parametrize(
    "args",
    [
        ["account", "--arms", "cn-9,cn-10,none", "--seeds", "1,2", "--workers", "1", *SMALL],
        ["simulate", "--arm", "cn-9", *SMALL],
    ],
    ids=["account", "simulate"],
)
def test_modelling_commands_print_whole_numbers_at_80_and_60_columns(args: list[str]) -> None:
    from fangkong.modeling.cli import app

    wide = runner.invoke(app, args, env={"COLUMNS": "250"})
    assert wide.exit_code == 0, wide.output
    for width in ("80", "60"):
        narrow = runner.invoke(app, args, env={"COLUMNS": width})
        assert narrow.exit_code == 0, narrow.output
        assert "…" not in narrow.stdout
        missing = number_words(wide.stdout) - number_words(narrow.stdout)
        assert not missing, f"cut at {width} columns: {sorted(missing)}\n{narrow.stdout}"


@pytest.mark.parametrize(
    "args",
    [
        ["list"],
        ["show", "cn-9"],
        ["diff", "cn-9", "cn-10"],
        ["plan", "--protocol", "cn-9", "--category", "close_contact", "--last-exposure", "2022-07-01"],
    ],
    ids=["list", "show", "diff", "plan"],
)
def test_protocol_commands_print_whole_numbers_at_80_and_60_columns(args: list[str]) -> None:
    from fangkong.protocol.cli import app

    wide = runner.invoke(app, args, env={"COLUMNS": "250"})
    assert wide.exit_code == 0, wide.output
    for width in ("80", "60"):
        narrow = runner.invoke(app, args, env={"COLUMNS": width})
        assert narrow.exit_code == 0, narrow.output
        missing = number_words(wide.stdout) - number_words(narrow.stdout)
        assert not missing, f"cut at {width} columns: {sorted(missing)}\n{narrow.stdout}"
