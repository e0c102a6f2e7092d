"""Loading protocol files: the shipped ones load, broken ones are refused naming the key and the line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from fangkong.protocol.loader import (
    BUILTIN_DIR,
    DEFAULT_PROTOCOL_ID,
    ProtocolError,
    builtin_ids,
    list_builtin,
    load_any,
    load_builtin,
    load_protocol,
    parse_protocol,
)
from fangkong.protocol.schema import Protocol

FIXTURES = Path(__file__).parents[2] / "fixtures" / "protocol"

SHIPPED = ["cn-8", "cn-9", "cn-9-20", "cn-9-10", "cn-10", "who-2021", "who-2022", "us-cdc-2021-12-27"]


def _broken_line(path: Path) -> int:
    """The line the fixture marks with ``# BROKEN``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if "# BROKEN" in line and not line.lstrip().startswith("#"):
            return number
    raise AssertionError(f"{path.name} has no BROKEN marker")


def test_every_shipped_protocol_loads() -> None:
    assert sorted(builtin_ids()) == sorted(SHIPPED)
    protocols = list_builtin()
    assert [p.id for p in protocols] == sorted(SHIPPED, key=lambda i: load_builtin(i).effective)
    assert DEFAULT_PROTOCOL_ID == "cn-9"


@pytest.mark.parametrize("protocol_id", SHIPPED)
def test_every_shipped_protocol_states_its_day_numbering_as_a_documented_parameter(protocol_id: str) -> None:
    text = (BUILTIN_DIR / f"{protocol_id}.yaml").read_text(encoding="utf-8")
    protocol = load_builtin(protocol_id)

    assert re.search(r"^clock_event_day:", text, re.MULTILINE)
    parameter = protocol.parameters["clock_event_day"]
    assert parameter.tag == "U"
    assert parameter.source
    assert load_builtin(protocol_id, {"clock_event_day": 1}).clock_event_day == 1


_NUMBER = re.compile(r"\b(?!note|label|summary|name|unit|criteria|measures)[a-z_]+: \[?-?\d")
_SOURCE = re.compile(r"\bS\d+[a-z]*\b|carried over|unchanged")


@pytest.mark.parametrize("protocol_id", SHIPPED)
def test_every_number_in_a_shipped_file_names_its_source(protocol_id: str) -> None:
    """A line giving a number outside `parameters` names its source id in a comment (or the line above)."""
    lines = (BUILTIN_DIR / f"{protocol_id}.yaml").read_text(encoding="utf-8").splitlines()
    section = ""
    unsourced = []
    for number, line in enumerate(lines, start=1):
        if re.match(r"^[a-z_]+:", line):
            section = line.split(":", 1)[0]
        if section in ("parameters", "sources", "clock_event_day"):
            continue
        value, _, comment = line.partition("#")
        if not _NUMBER.search(value):
            continue
        previous = lines[number - 2].partition("#")[2] if number > 1 else ""
        if not _SOURCE.search(comment) and not _SOURCE.search(previous):
            unsourced.append(f"line {number}: {line.strip()}")
    assert unsourced == []


def test_unconfirmed_values_are_parameters_with_the_reference_default() -> None:
    parameters = load_builtin("cn-9").parameters
    assert parameters["case_investigation_hours"].default == 24
    assert parameters["case_investigation_hours"].tag == "U"
    assert parameters["high_area_first_screening_hours"].default == 24
    who = load_builtin("who-2022").parameters
    assert who["quarantine_days"].tag == "U"
    assert who["quarantine_days"].default == 10


def test_an_override_reaches_every_place_the_parameter_is_used() -> None:
    protocol = load_builtin("cn-9", {"infected_isolation_days": 10, "infected_release_test_days": [9, 10]})

    for name in ("confirmed", "asymptomatic"):
        stage = protocol.categories[name].stages[0]
        assert stage.days == 10
        assert stage.tests[0].days == (9, 10)
    assert protocol.parameters["infected_isolation_days"].effective == 10
    assert load_builtin("cn-9").categories["confirmed"].stages[0].days == 7, "the shipped file is untouched"


def test_an_override_that_breaks_a_rule_is_refused_naming_the_parameter() -> None:
    with pytest.raises(ProtocolError) as caught:
        load_builtin("cn-9", {"discharge_monitoring_days": 5})
    messages = [issue.message for issue in caught.value.errors]
    assert len(messages) == 2  # confirmed and asymptomatic both use the parameter
    assert all("test day 7 is outside its stage (days 1..5" in m for m in messages)
    assert all("value of parameter 'discharge_monitoring_test_days'" in m for m in messages)
    assert all(issue.line is not None for issue in caught.value.errors)


def test_an_override_of_an_unknown_parameter_is_refused() -> None:
    with pytest.raises(ProtocolError) as caught:
        load_builtin("cn-9", {"no_such_parameter": 3})
    assert caught.value.errors[0].path == "parameters.no_such_parameter"


def test_the_minimal_fixture_is_valid() -> None:
    protocol = load_protocol(FIXTURES / "minimal.yaml")
    assert protocol.id == "test-minimal"
    assert load_any(str(FIXTURES / "minimal.yaml")).id == "test-minimal"


@pytest.mark.parametrize(
    ("fixture", "path", "message"),
    [
        (
            "unknown_key.yaml",
            "categories.close_contact.stages[1].dayz",
            "unknown key 'dayz' (did you mean 'days'?)",
        ),
        ("negative_days.yaml", "categories.close_contact.stages[0].days", "greater than or equal to 1"),
        (
            "test_day_outside_stage.yaml",
            "categories.close_contact.stages[1].tests[0].days[1]",
            "test day 5 is outside its stage (days 1..3",
        ),
        (
            "upgrade_cycle.yaml",
            "upgrades[1].to",
            "cycle in upgrade rules: close_contact → confirmed → close_contact",
        ),
        ("unknown_category.yaml", "upgrades[0].to[0]", "unknown category 'suspected'"),
        (
            "unknown_parameter.yaml",
            "categories.close_contact.stages[0].days",
            "unknown parameter 'quarantine_days'",
        ),
        ("bad_yaml.yaml", "", "not valid YAML"),
    ],
)
def test_a_broken_file_is_refused_naming_key_and_line(fixture: str, path: str, message: str) -> None:
    file = FIXTURES / fixture
    with pytest.raises(ProtocolError) as caught:
        load_protocol(file)

    (issue,) = caught.value.errors
    assert issue.path == path
    assert issue.line == _broken_line(file)
    assert message in issue.message
    assert f"line {issue.line}" in str(caught.value)


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    text = (FIXTURES / "minimal.yaml").read_text(encoding="utf-8")
    text = text.replace("        days: 3\n", "        days: 3\n        dayz: 3\n")
    text = text.replace("        days: 7\n", "        days: -7\n")

    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "two-problems.yaml")
    assert sorted(issue.path for issue in caught.value.errors) == [
        "categories.close_contact.stages[0].days",
        "categories.close_contact.stages[1].dayz",
    ]


def test_a_refused_file_leaves_the_protocol_in_force_unchanged() -> None:
    in_force = load_builtin("cn-9")
    with pytest.raises(ProtocolError):
        load_protocol(FIXTURES / "upgrade_cycle.yaml")
    assert load_builtin("cn-9") is in_force
    assert in_force.categories["close_contact"].total_days == 10


def test_a_protocol_built_in_python_gets_the_same_document_checks() -> None:
    with pytest.raises(ValidationError, match="test day 9 is outside its stage"):
        Protocol.model_validate(
            {
                "id": "inline",
                "name": "inline",
                "jurisdiction": "XX",
                "effective": "2022-01-01",
                "summary": "inline",
                "clock_event_day": 0,
                "categories": {
                    "close_contact": {
                        "label": "close contact",
                        "clock": "last_exposure",
                        "stages": [
                            {
                                "type": "home_isolation",
                                "days": 7,
                                "place": "home",
                                "may_leave_home": False,
                                "tests": [{"days": [1, 9]}],
                            }
                        ],
                    }
                },
                "contact_tracing": {"identified": False},
            }
        )


def test_a_missing_file_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="cannot read"):
        load_protocol(FIXTURES / "no-such-file.yaml")


def test_an_unknown_builtin_id_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="cn-9-20"):
        load_builtin("cn-11")


def test_the_example_in_the_protocol_reference_is_valid() -> None:
    docs = Path(__file__).parents[3] / "docs" / "protocols.md"
    example = re.search(r"```yaml\n(.*?)```", docs.read_text(encoding="utf-8"), re.DOTALL)
    assert example is not None

    protocol = parse_protocol(example.group(1), "docs/protocols.md")
    assert [t.method for t in protocol.categories["close_contact"].stages[0].tests] == ["antigen", "pcr"]
