"""FHIR R4 lab results: the template reads back exactly, malformed bundles are refused naming the element."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fangkong.core.errors import InvalidInput, RowError
from fangkong.testing.fhir_results import LabResult, parse_bundle, template_bundle

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "testing"
UTC = dt.UTC


def _fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def _refusal(data: object) -> list[RowError]:
    with pytest.raises(InvalidInput) as caught:
        parse_bundle(data)  # type: ignore[arg-type]
    assert caught.value.file
    return caught.value.errors


def _template_with(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    bundle = template_bundle()
    change(bundle)
    return bundle


EXPECTED = (
    LabResult(
        tube_barcode="TUBE-20261206-0001",
        result="positive",
        ct_values={"ORF1ab": 28.4, "N": 26.9},
        resulted_at=dt.datetime(2026, 12, 6, 6, 5, tzinfo=UTC),
        report_id="LAB-20261206-0001",
        report_version="1",
        is_correction=False,
        order_id="R20261206-S0001",
        sampled_at=dt.datetime(2026, 12, 6, 0, 30, tzinfo=UTC),
        entry=3,
    ),
    LabResult(
        tube_barcode="TUBE-20261206-0002",
        result="negative",
        ct_values={},
        resulted_at=dt.datetime(2026, 12, 6, 6, 5, tzinfo=UTC),
        report_id="LAB-20261206-0001",
        report_version="1",
        is_correction=False,
        order_id="R20261206-S0001",
        sampled_at=dt.datetime(2026, 12, 6, 0, 30, tzinfo=UTC),
        entry=4,
    ),
)


def test_template_file_is_what_template_bundle_builds() -> None:
    assert _fixture("fhir_result_template.json") == template_bundle()


@pytest.mark.parametrize("form", ["bytes", "str", "dict"])
def test_template_gives_exactly_the_expected_results(form: str) -> None:
    text = (FIXTURES / "fhir_result_template.json").read_text(encoding="utf-8")
    data: bytes | str | dict[str, Any] = {
        "bytes": text.encode("utf-8"),
        "str": text,
        "dict": json.loads(text),
    }[form]
    parsed = parse_bundle(data)
    assert parsed.bundle_id == "lab-results-template"
    assert parsed.results == EXPECTED
    assert list(parsed.results[0].ct_values) == ["ORF1ab", "N"]
    assert parsed.by_barcode()["TUBE-20261206-0002"].result == "negative"
    for result in parsed.results:
        assert result.resulted_at.tzinfo is UTC


def test_a_corrected_report_is_flagged_as_a_correction() -> None:
    parsed = parse_bundle(_fixture("fhir_corrected_report.json"))
    assert [(r.tube_barcode, r.result, r.report_version, r.is_correction) for r in parsed.results] == [
        ("TUBE-20261206-0001", "positive", "2", True),
        ("TUBE-20261206-0002", "invalid", "2", True),
    ]
    assert parsed.results[1].resulted_at == dt.datetime(2026, 12, 6, 8, 40, tzinfo=UTC)


def test_an_amended_result_in_a_final_report_is_a_correction_too() -> None:
    def amend(bundle: dict[str, Any]) -> None:
        bundle["entry"][4]["resource"]["status"] = "amended"

    results = parse_bundle(_template_with(amend)).results
    assert [r.is_correction for r in results] == [False, True]


def test_a_report_without_an_identifier_is_named_by_its_id_and_has_no_version() -> None:
    def strip(bundle: dict[str, Any]) -> None:
        report = bundle["entry"][5]["resource"]
        del report["identifier"], report["meta"]
        report["id"] = "report-7"

    results = parse_bundle(_template_with(strip)).results
    assert {(r.report_id, r.report_version) for r in results} == {("report-7", None)}


def test_results_from_interpretation_alone_and_from_detected_codes() -> None:
    def recode(bundle: dict[str, Any]) -> None:
        positive, negative = bundle["entry"][3]["resource"], bundle["entry"][4]["resource"]
        del positive["valueCodeableConcept"]
        negative["valueCodeableConcept"] = {
            "coding": [{"system": "http://snomed.info/sct", "code": "260415000"}]
        }
        del negative["interpretation"]

    assert [r.result for r in parse_bundle(_template_with(recode)).results] == ["positive", "negative"]


def test_without_issued_the_effective_time_is_the_result_time() -> None:
    def drop_issued(bundle: dict[str, Any]) -> None:
        del bundle["entry"][3]["resource"]["issued"]

    results = parse_bundle(_template_with(drop_issued)).results
    assert results[0].resulted_at == dt.datetime(2026, 12, 6, 0, 30, tzinfo=UTC)


def test_references_by_type_and_id_resolve_like_full_urls() -> None:
    def relative(bundle: dict[str, Any]) -> None:
        for entry in bundle["entry"]:
            del entry["fullUrl"]
        bundle["entry"][3]["resource"]["specimen"] = {"reference": "Specimen/TUBE-20261206-0001"}
        bundle["entry"][4]["resource"]["specimen"] = {"reference": "Specimen/TUBE-20261206-0002"}
        bundle["entry"][5]["resource"]["result"] = [{"reference": "Observation/000000000021"},
                                                    {"reference": "Observation/000000000022"}]  # fmt: skip
        for index in (1, 2):
            bundle["entry"][index]["resource"]["request"] = [{"reference": "ServiceRequest/R20261206-S0001"}]

    assert parse_bundle(_template_with(relative)).results == EXPECTED


def test_a_missing_container_identifier_is_refused_naming_the_element() -> None:
    errors = _refusal(_fixture("fhir_missing_barcode.json"))
    assert errors == [RowError(2, "Bundle.entry[2].resource.container[0].identifier", "is required")]


def test_an_unknown_result_code_is_refused_naming_the_element() -> None:
    errors = _refusal(_fixture("fhir_unknown_result_code.json"))
    assert len(errors) == 1
    assert (errors[0].row, errors[0].field) == (
        3,
        "Bundle.entry[3].resource.valueCodeableConcept.coding[0].code",
    )
    assert "123456" in errors[0].message and "10828004" in errors[0].message


def test_a_bad_date_is_refused_by_the_r4_model_naming_the_element() -> None:
    def bad_date(bundle: dict[str, Any]) -> None:
        bundle["entry"][3]["resource"]["effectiveDateTime"] = "2026-13-01T08:30:00+08:00"

    errors = _refusal(_template_with(bad_date))
    assert [(e.row, e.field) for e in errors] == [(3, "Bundle.entry[3].resource.effectiveDateTime")]
    assert "2026-13-01T08:30:00+08:00" in errors[0].message and "datetime" in errors[0].message


def test_a_result_time_without_time_zone_is_refused() -> None:
    def naive(bundle: dict[str, Any]) -> None:
        bundle["entry"][4]["resource"]["issued"] = "2026-12-06T14:05:00"

    errors = _refusal(_template_with(naive))
    assert [(e.row, e.field) for e in errors] == [(4, "Bundle.entry[4].resource.issued")]


def test_a_day_without_time_and_no_issued_is_refused() -> None:
    def day_only(bundle: dict[str, Any]) -> None:
        observation = bundle["entry"][4]["resource"]
        del observation["issued"]
        observation["effectiveDateTime"] = "2026-12-06"

    errors = _refusal(_template_with(day_only))
    assert [(e.row, e.field) for e in errors] == [(4, "Bundle.entry[4].resource.effectiveDateTime")]
    assert "no time of day" in errors[0].message


@pytest.mark.parametrize(
    ("change", "row", "field", "words"),
    [
        (lambda b: b.update(resourceType="Patient"), 0, "resourceType", "Bundle"),
        (lambda b: b["entry"][1]["resource"].update(resourceType="Specimenn"), 1,
         "Bundle.entry[1].resource.resourceType", "not a FHIR R4 resource"),
        (lambda b: b["entry"][3]["resource"].update(specimen={"reference": b["entry"][0]["fullUrl"]}), 3,
         "Bundle.entry[3].resource.specimen.reference", "must refer to a Specimen, not a ServiceRequest"),
    ],
    ids=["not-a-bundle", "unknown-resource-type", "specimen-is-an-order"],
)  # fmt: skip
def test_a_wrong_resource_type_is_refused_naming_the_element(
    change: Callable[[dict[str, Any]], object], row: int, field: str, words: str
) -> None:
    errors = _refusal(_template_with(change))
    assert [(e.row, e.field) for e in errors][:1] == [(row, field)]
    assert words in errors[0].message


def _second_result(bundle: dict[str, Any]) -> None:
    again = copy.deepcopy(bundle["entry"][4])
    again["fullUrl"] = "urn:uuid:0b6a4c1e-5a36-4c2e-9d1f-000000000023"
    again["resource"]["id"] = "000000000023"
    bundle["entry"].append(again)
    bundle["entry"][5]["resource"]["result"].append({"reference": again["fullUrl"]})


def _res(bundle: dict[str, Any], entry: int) -> dict[str, Any]:
    resource: dict[str, Any] = bundle["entry"][entry]["resource"]
    return resource


def _barcode(bundle: dict[str, Any], entry: int) -> dict[str, Any]:
    identifier: dict[str, Any] = _res(bundle, entry)["container"][0]["identifier"][0]
    return identifier


def _no_specimen_nor_value(bundle: dict[str, Any]) -> None:
    for element in ("specimen", "valueCodeableConcept", "interpretation"):
        del _res(bundle, 4)[element]


def _tube_without_result(bundle: dict[str, Any]) -> None:
    del bundle["entry"][4]
    _res(bundle, 4)["result"].pop()


def _malformed(
    name: str, change: Callable[[dict[str, Any]], object], row: int, element: str, words: str
) -> Any:
    return pytest.param(change, row, f"Bundle.{element}", words, id=name)


@pytest.mark.parametrize(
    ("change", "row", "field", "words"),
    [
        _malformed(
            "status-missing", lambda b: _res(b, 3).pop("status"), 3, "entry[3].resource.status", "is required"
        ),
        _malformed(
            "status-preliminary",
            lambda b: _res(b, 3).update(status="preliminary"),
            3,
            "entry[3].resource.status",
            "not a result yet",
        ),
        _malformed(
            "unknown-element",
            lambda b: _res(b, 3).update(colour="red"),
            3,
            "entry[3].resource.colour",
            "not an element",
        ),
        _malformed(
            "barcode-value-missing",
            lambda b: _barcode(b, 2).pop("value"),
            2,
            "entry[2].resource.container[0].identifier[0].value",
            "is required",
        ),
        _malformed(
            "container-missing",
            lambda b: _res(b, 2).pop("container"),
            2,
            "entry[2].resource.container",
            "is required",
        ),
        _malformed(
            "barcode-twice",
            lambda b: _barcode(b, 2).update(value="TUBE-20261206-0001"),
            2,
            "entry[2].resource.container[0].identifier",
            "already in entry 1",
        ),
        _malformed(
            "observation-names-no-specimen",
            lambda b: _res(b, 3).pop("specimen"),
            3,
            "entry[3].resource.specimen",
            "is required",
        ),
        _malformed(
            "specimen-not-in-bundle",
            lambda b: _res(b, 3)["specimen"].update(reference="urn:uuid:x"),
            3,
            "entry[3].resource.specimen.reference",
            "no Specimen",
        ),
        _malformed(
            "interpretation-disagrees",
            lambda b: _res(b, 3)["interpretation"][0]["coding"][0].update(code="NEG"),
            3,
            "entry[3].resource.interpretation",
            "says negative but the value says positive",
        ),
        _malformed(
            "ct-out-of-range",
            lambda b: _res(b, 3)["component"][0]["valueQuantity"].update(value=428),
            3,
            "entry[3].resource.component[0].valueQuantity.value",
            "Ct 428",
        ),
        _malformed(
            "gene-twice",
            lambda b: _res(b, 3)["component"][1].update(code={"text": "ORF1ab"}),
            3,
            "entry[3].resource.component[1].code",
            "two Ct values",
        ),
        _malformed(
            "several-problems", _no_specimen_nor_value, 4, "entry[4].resource.specimen", "is required"
        ),
        _malformed(
            "result-in-no-report",
            lambda b: _res(b, 5)["result"].pop(),
            4,
            "entry[4].resource",
            "in no DiagnosticReport",
        ),
        _malformed(
            "report-not-final",
            lambda b: _res(b, 5).update(status="registered"),
            5,
            "entry[5].resource.status",
            "not a result yet",
        ),
        _malformed(
            "tube-without-result",
            _tube_without_result,
            2,
            "entry[2].resource",
            "tube TUBE-20261206-0002 has no result",
        ),
        _malformed(
            "two-results-for-a-tube",
            _second_result,
            6,
            "entry[6].resource.specimen",
            "already has a result in entry 4",
        ),
        _malformed(
            "entry-twice",
            lambda b: b["entry"].append(copy.deepcopy(b["entry"][4])),
            6,
            "entry[6].fullUrl",
            "is already used by entry 4",
        ),
        _malformed("no-tube", lambda b: b.update(entry=[b["entry"][0]]), 0, "entry", "no Specimen"),
        _malformed(
            "resource-not-an-object",
            lambda b: b["entry"][3].update(resource=7),
            3,
            "entry[3].resource",
            "JSON object",
        ),
    ],
)
def test_malformed_bundles_are_refused_naming_the_element(
    change: Callable[[dict[str, Any]], object], row: int, field: str, words: str
) -> None:
    errors = _refusal(_template_with(change))
    first = errors[0]
    assert (first.row, first.field) == (row, field), errors
    assert words in first.message, errors


def test_every_problem_is_reported_at_once() -> None:
    def break_both(bundle: dict[str, Any]) -> None:
        del bundle["entry"][1]["resource"]["container"]
        bundle["entry"][4]["resource"]["valueCodeableConcept"]["coding"][0]["code"] = "999"

    errors = _refusal(_template_with(break_both))
    assert [(e.row, e.field) for e in errors] == [
        (1, "Bundle.entry[1].resource.container"),
        (4, "Bundle.entry[4].resource.valueCodeableConcept.coding[0].code"),
    ]


@pytest.mark.parametrize("data", [b"\xff\xfe{", "{not json", "[1, 2]"])
def test_text_that_is_not_a_json_object_is_refused(data: bytes | str) -> None:
    errors = _refusal(data)
    assert [(e.row, e.field) for e in errors] == [(0, "Bundle")]


def test_the_error_message_of_the_refusal_names_row_and_element() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_bundle(_fixture("fhir_missing_barcode.json"))
    assert "row 2, Bundle.entry[2].resource.container[0].identifier: is required" in caught.value.message
