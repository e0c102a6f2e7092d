"""The README's command table says what the real CLI accepts (issue 11 item 15).

Every `fangkong ...` line of the table is walked through the command tree: each sub-command must exist,
each option it names must be listed by that command's ``--help``, its positional words must be
arguments the command takes, and every required argument and option must be shown. So the README
cannot drift from the CLI again (it documented ``fangkong detect --input S.csv`` for a command that
takes the file as an argument).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from fangkong.cli import app

README = Path(__file__).resolve().parents[3] / "README.md"
MAKEFILE = README.parent / "Makefile"
runner = CliRunner()


def table_commands() -> list[str]:
    """The backticked commands in the first column of the README's command table."""
    commands = []
    for line in README.read_text(encoding="utf-8").splitlines():
        cells = line.split("|")
        if len(cells) < 3 or not line.startswith("|"):
            continue
        commands.extend(re.findall(r"`([^`]+)`", cells[1]))
    return [c for c in commands if c.split()[0] in ("fangkong", "make")]


def help_text(path: list[str]) -> str:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    return result.stdout


def _is_option(param: Any) -> bool:
    return str(param.param_type_name) == "option"


def check(command: str) -> None:
    words = command.replace("[", " ").replace("]", " ").split()[1:]
    current: Any = typer.main.get_command(app)
    path: list[str] = []
    while words and hasattr(current, "commands"):
        word = words[0]
        if "/" in word:
            # A list of sub-commands ("import/export/kpis"): each must exist; nothing follows.
            for name in word.split("/"):
                assert name in current.commands, (
                    f"{command!r}: `fangkong {' '.join(path)}` has no sub-command {name!r}"
                )
                assert name in help_text(path), f"{command!r}: {name!r} is not in the --help"
            return
        found = current.commands.get(word)
        assert found is not None, f"{command!r}: `fangkong {' '.join(path)}` has no sub-command {word!r}"
        current, path, words = found, [*path, word], words[1:]
    options = {name: p for p in current.params if _is_option(p) for name in (*p.opts, *p.secondary_opts)}
    arguments = [p for p in current.params if not _is_option(p)]
    shown = help_text(path)
    named: set[str] = set()
    positional: list[str] = []
    rest = iter(words)
    for word in rest:
        if word.startswith("-"):
            assert word in options, f"{command!r}: `fangkong {' '.join(path)}` has no option {word}"
            assert word in shown, f"{command!r}: {word} is not in `fangkong {' '.join(path)} --help`"
            named.add(options[word].name or "")
            if not options[word].is_flag:
                next(rest, None)  # its value
        else:
            positional.append(word)
    unlimited = any(a.nargs == -1 for a in arguments)
    assert unlimited or len(positional) <= len(arguments), (
        f"{command!r}: `fangkong {' '.join(path)}` takes {len(arguments)} argument(s), "
        f"the README gives {positional}"
    )
    required = [a for a in arguments if a.required]
    assert len(positional) >= len(required), f"{command!r}: the required argument(s) are not shown"
    for p in current.params:
        if _is_option(p) and p.required:
            assert p.name in named, f"{command!r}: the required option {p.opts[0]} is not shown"


def test_the_readme_has_a_command_table() -> None:
    commands = table_commands()
    assert any(c.startswith("fangkong detect") for c in commands)
    assert len(commands) >= 10


@pytest.mark.parametrize("command", table_commands())
def test_every_command_in_the_readme_exists_as_written(command: str) -> None:
    if command.startswith("make "):
        target = command.split()[1]
        assert re.search(rf"^{re.escape(target)}:", MAKEFILE.read_text(encoding="utf-8"), re.M), command
        return
    check(command)


@pytest.mark.parametrize(
    "command",
    [
        "fangkong detect --input S.csv --method M --output R.csv",
        "fangkong detect S.csv --output R.csv",
        "fangkong rt CASES.csv --output R.csv",
        "fangkong tracing import/exprot",
        "fangkong people import",
    ],
)
def test_the_check_catches_a_line_that_drifted(command: str) -> None:
    with pytest.raises(AssertionError):
        check(command)


def test_the_readme_names_the_keyed_hash_the_code_uses() -> None:
    text = README.read_text(encoding="utf-8")
    assert "HMAC" not in text
    assert "BLAKE2b" in text
