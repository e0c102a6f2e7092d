"""Lab results by tube barcode as HL7 FHIR R4 bundles: read and check an upload, and the template for labs.

A lab reports a round as one Bundle of four kinds of resource:

- ``ServiceRequest``: the order (the round and sampling site that sent the tubes);
- ``Specimen``: one per tube, the tube barcode in ``Specimen.container[].identifier[].value``;
- ``Observation``: the tube's result, naming its ``specimen``: a coded ``valueCodeableConcept``
  (SNOMED CT Positive, Negative or Invalid result, or Detected / Not detected) or an ``interpretation``
  (HL7 v3 POS, NEG, DET, ND, IND), and one ``component`` per gene with its Ct in ``valueQuantity``;
- ``DiagnosticReport``: the lab's report, listing the observations in ``result``. Its ``identifier``
  (else its ``id``) and ``meta.versionId`` name the report and its version; a report re-sent with status
  ``corrected``, ``amended`` or ``appended`` is a correction.

Other resources (Patient, Organization...) are read past: results are matched by tube barcode alone.

The structure is checked against the FHIR R4B models of ``fhir.resources`` (R4B leaves these four
resources as R4 had them), not by hand. What FHIR leaves optional but a result cannot do without (the
barcode, the result code, a result time) is checked after that. Every problem is reported at once,
named by its element path as the file has it (``Bundle.entry[3].resource.container[0].identifier``),
with the entry's index as its row; nothing of a refused bundle is returned.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from fangkong.core.clock import as_utc
from fangkong.core.errors import InvalidInput, RowError
from fangkong.core.i18n import Message

if TYPE_CHECKING:
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.codeableconcept import CodeableConcept
    from fhir.resources.R4B.diagnosticreport import DiagnosticReport
    from fhir.resources.R4B.observation import Observation
    from fhir.resources.R4B.reference import Reference
    from fhir.resources.R4B.specimen import Specimen
    from pydantic import ValidationError

ResultValue = Literal["positive", "negative", "invalid"]

SNOMED: Final = "http://snomed.info/sct"
INTERPRETATION: Final = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
LOINC: Final = "http://loinc.org"
UCUM: Final = "http://unitsofmeasure.org"

# Coded results of a SARS-CoV-2 RNA test (SNOMED CT qualifier values; the LOINC 94500-6 answer list uses
# Detected / Not detected). A coding without a system is matched on its code alone: the two tables share
# no code.
RESULT_CODES: Final[dict[tuple[str, str], ResultValue]] = {
    (SNOMED, "10828004"): "positive",  # Positive
    (SNOMED, "260373001"): "positive",  # Detected
    (SNOMED, "260385009"): "negative",  # Negative
    (SNOMED, "260415000"): "negative",  # Not detected
    (SNOMED, "455371000124106"): "invalid",  # Invalid result
}
INTERPRETATION_CODES: Final[dict[tuple[str, str], ResultValue]] = {
    (INTERPRETATION, "POS"): "positive",
    (INTERPRETATION, "DET"): "positive",
    (INTERPRETATION, "NEG"): "negative",
    (INTERPRETATION, "ND"): "negative",
    (INTERPRETATION, "IND"): "invalid",  # Indeterminate: the tube is re-sampled like an invalid one
}

# Statuses of a result the platform acts on; registered, preliminary, cancelled, entered-in-error and
# unknown are not results yet (or no longer).
OBSERVATION_STATUSES: Final = frozenset({"final", "amended", "corrected"})
REPORT_STATUSES: Final = frozenset({"final", "amended", "corrected", "appended"})
# Statuses that mark a report or result changed after it was first final: the platform's correction.
CORRECTION_STATUSES: Final = frozenset({"amended", "corrected", "appended"})

# Largest believable Ct, cycles: SARS-CoV-2 RT-PCR kits run 40 to 45 cycles, so a Ct above 50 cannot
# come from one and is taken for a typo.
MAX_CT: Final[float] = 50.0

# The template's test: LOINC 94500-6, SARS-CoV-2 RNA [Presence] in respiratory specimen by NAA with probe.
TEST_CODE: Final = "94500-6"
TEST_DISPLAY: Final = (
    "SARS-CoV-2 (COVID-19) RNA [Presence] in Respiratory specimen by NAA with probe detection"
)
TUBE_BARCODE_SYSTEM: Final = "urn:fangkong:tube-barcode"


@dataclass(frozen=True)
class LabResult:
    """One tube's result as the lab reported it.

    ``resulted_at`` is when the lab released the result (``Observation.issued``, else ``effective[x]``),
    aware UTC. ``ct_values`` maps each gene the lab named (``ORF1ab``, ``N``) to its Ct, in the file's
    order; a gene that did not amplify has no entry. ``entry`` is the Observation's index in the bundle.
    """

    tube_barcode: str
    result: ResultValue
    ct_values: Mapping[str, float]
    resulted_at: dt.datetime
    report_id: str
    report_version: str | None
    is_correction: bool
    order_id: str | None
    sampled_at: dt.datetime | None
    entry: int


@dataclass(frozen=True)
class FhirResults:
    """A checked bundle: its id and one result per tube, in the order of the bundle's Specimens."""

    bundle_id: str | None
    results: tuple[LabResult, ...]

    def by_barcode(self) -> dict[str, LabResult]:
        return {r.tube_barcode: r for r in self.results}


def parse_bundle(data: bytes | str | Mapping[str, Any]) -> FhirResults:
    """Read a lab's results bundle (JSON text or its parsed dict); ``InvalidInput`` names every problem."""
    raw = _load(data)
    bundle = _validate(raw)
    return _Reader(bundle).read()


# ---------------------------------------------------------------------------------------- structure


def _load(data: bytes | str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(data, bytes | str):
        try:
            text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
            parsed = json.loads(text)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise _refused(0, "Bundle", Message("is not valid JSON")) from None
    else:
        parsed = dict(data)
    if not isinstance(parsed, dict):
        raise _refused(0, "Bundle", Message("must be a JSON object"))
    kind = parsed.get("resourceType")
    if kind != "Bundle":
        raise _refused(0, "resourceType", Message("must be “Bundle”, not “{value}”", value=str(kind or "")))
    return parsed


def _validate(raw: dict[str, Any]) -> Bundle:
    from fhir.resources.R4B.bundle import Bundle
    from pydantic import ValidationError

    # fhir.resources fails with a bare KeyError on a resourceType it does not know; name it first.
    unknown = [
        RowError(
            i,
            f"Bundle.entry[{i}].resource.resourceType",
            Message("“{value}” is not a FHIR R4 resource", value=name),
        )
        for i, name in _entry_resource_types(raw)
        if not _is_resource_type(name)
    ]
    if unknown:
        raise InvalidInput(unknown, file=True)
    try:
        return Bundle.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput(_structure_errors(exc), file=True) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise _refused(0, "Bundle", Message("is not a FHIR R4 bundle: {reason}", reason=str(exc))) from None


def _entry_resource_types(raw: dict[str, Any]) -> Iterator[tuple[int, str]]:
    entries = raw.get("entry")
    if not isinstance(entries, list):
        return
    for i, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and isinstance(resource.get("resourceType"), str):
            yield i, resource["resourceType"]


def _is_resource_type(name: str) -> bool:
    from fhir.resources.R4B import get_fhir_model_class
    from fhir.resources.R4B.resource import Resource

    try:
        return issubclass(get_fhir_model_class(name), Resource)
    except (ValueError, KeyError):
        return False


_FORMAT = re.compile(
    r"(DateTime|Instant|Date|Time|Decimal|Integer|Uri|Url|Id|Code) value string does not match"
)


def _structure_errors(exc: ValidationError) -> list[RowError]:
    errors = []
    for error in exc.errors():
        loc = [part for part in error["loc"] if part != "root"]
        path = "Bundle" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
        row = loc[1] if len(loc) > 1 and loc[0] == "entry" and isinstance(loc[1], int) else 0
        kind = str(error["type"])
        value = error.get("input")
        fmt = _FORMAT.search(str(error["msg"]))
        message: Message
        if kind in ("missing", "model_field_validation.missing"):
            message = Message("is required")
        elif kind == "extra_forbidden":
            message = Message("is not an element of FHIR R4 here")
        elif kind in ("json_invalid", "model_validation_format", "model_type", "dict_type"):
            message = Message("must be a JSON object")
        elif fmt is not None:
            message = Message(
                "“{value}” is not a valid FHIR {kind}", value=_short(value), kind=fmt.group(1).lower()
            )
        else:
            message = Message("invalid value: {reason}", reason=str(error["msg"]))
        errors.append(RowError(row, path, message))
    return errors


def _short(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _refused(row: int, path: str, message: Message) -> InvalidInput:
    return InvalidInput([RowError(row, path, message)], file=True)


# ------------------------------------------------------------------------------------------ meaning


@dataclass
class _Tube:
    entry: int
    barcode: str
    order_id: str | None
    sampled_at: dt.datetime | None


@dataclass
class _Reading:
    entry: int
    specimen_entry: int
    result: ResultValue
    ct_values: dict[str, float]
    resulted_at: dt.datetime
    corrected: bool
    order_id: str | None


@dataclass
class _Report:
    entry: int
    report_id: str
    version: str | None
    corrected: bool


class _Reader:
    """Reads a validated bundle into results, collecting every problem before it refuses the bundle."""

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self.entries = list(bundle.entry or [])
        self.errors: list[RowError] = []
        self.index: dict[str, int] = {}
        for i, entry in enumerate(self.entries):
            resource = entry.resource
            names = [(f"Bundle.entry[{i}].fullUrl", entry.fullUrl)]
            if resource is not None and resource.id:
                names.append(
                    (f"Bundle.entry[{i}].resource.id", f"{resource.get_resource_type()}/{resource.id}")
                )
            for path, name in names:
                if not name:
                    continue
                if name in self.index:
                    # A reference to a name two entries share would pick one of them silently.
                    message = Message(
                        "“{value}” is already used by entry {other}", value=name, other=self.index[name]
                    )
                    self.errors.append(RowError(i, path, message))
                else:
                    self.index[name] = i

    def read(self) -> FhirResults:
        from fhir.resources.R4B.diagnosticreport import DiagnosticReport
        from fhir.resources.R4B.observation import Observation
        from fhir.resources.R4B.specimen import Specimen

        tubes: dict[int, _Tube] = {}
        readings: dict[int, _Reading] = {}
        reports: dict[int, _Report] = {}
        report_of: dict[int, int] = {}
        for i, entry in enumerate(self.entries):
            resource = entry.resource
            if isinstance(resource, Specimen):
                tube = self._tube(i, resource)
                if tube is not None:
                    tubes[i] = tube
            elif isinstance(resource, Observation):
                reading = self._reading(i, resource)
                if reading is not None:
                    readings[i] = reading
            elif isinstance(resource, DiagnosticReport):
                report = self._report(i, resource, report_of)
                if report is not None:
                    reports[i] = report
        if not tubes and not self.errors:
            self._error(0, "Bundle.entry", Message("holds no Specimen: there is no tube to read"))
        self._check_barcodes(tubes)
        reading_of = self._match(tubes, readings, reports, report_of)
        if self.errors:
            raise InvalidInput(sorted(self.errors, key=lambda e: e.row), file=True)
        results = []
        for specimen_entry, tube in tubes.items():
            reading = readings[reading_of[specimen_entry]]
            report = reports[report_of[reading.entry]]
            results.append(
                LabResult(
                    tube_barcode=tube.barcode,
                    result=reading.result,
                    ct_values=reading.ct_values,
                    resulted_at=reading.resulted_at,
                    report_id=report.report_id,
                    report_version=report.version,
                    is_correction=report.corrected or reading.corrected,
                    order_id=tube.order_id or reading.order_id,
                    sampled_at=tube.sampled_at,
                    entry=reading.entry,
                )
            )
        return FhirResults(bundle_id=self.bundle.id, results=tuple(results))

    # ------------------------------------------------------------------------------- one resource

    def _tube(self, i: int, specimen: Specimen) -> _Tube | None:
        at = f"Bundle.entry[{i}].resource"
        if not specimen.container:
            self._error(i, f"{at}.container", Message("is required"))
            return None
        container = specimen.container[0]
        if not container.identifier:
            self._error(i, f"{at}.container[0].identifier", Message("is required"))
            return None
        barcodes = [(j, ident.value.strip()) for j, ident in enumerate(container.identifier) if ident.value]
        barcodes = [(j, value) for j, value in barcodes if value]
        if not barcodes:
            self._error(i, f"{at}.container[0].identifier[0].value", Message("is required"))
            return None
        sampled = specimen.collection.collectedDateTime if specimen.collection else None
        return _Tube(
            entry=i,
            barcode=barcodes[0][1],
            order_id=self._order_id(specimen.request),
            sampled_at=as_utc(sampled) if isinstance(sampled, dt.datetime) else None,
        )

    def _reading(self, i: int, observation: Observation) -> _Reading | None:
        at = f"Bundle.entry[{i}].resource"
        found = len(self.errors)
        if observation.status not in OBSERVATION_STATUSES:
            self._error(
                i,
                f"{at}.status",
                Message(
                    "“{value}” is not a result yet; use one of {allowed}",
                    value=str(observation.status),
                    allowed=sorted(OBSERVATION_STATUSES),
                ),
            )
        specimen_entry = self._specimen_of(i, observation)
        result = self._result(i, observation)
        ct_values = self._ct_values(i, observation)
        resulted_at = self._resulted_at(i, observation)
        if len(self.errors) > found or specimen_entry is None or result is None or resulted_at is None:
            return None
        return _Reading(
            entry=i,
            specimen_entry=specimen_entry,
            result=result,
            ct_values=ct_values,
            resulted_at=resulted_at,
            corrected=observation.status in CORRECTION_STATUSES,
            order_id=self._order_id(observation.basedOn),
        )

    def _report(self, i: int, report: DiagnosticReport, report_of: dict[int, int]) -> _Report | None:
        at = f"Bundle.entry[{i}].resource"
        found = len(self.errors)
        if report.status not in REPORT_STATUSES:
            self._error(
                i,
                f"{at}.status",
                Message(
                    "“{value}” is not a result yet; use one of {allowed}",
                    value=str(report.status),
                    allowed=sorted(REPORT_STATUSES),
                ),
            )
        identifiers = [
            ident.value.strip() for ident in report.identifier or [] if ident.value and ident.value.strip()
        ]
        report_id = identifiers[0] if identifiers else report.id
        if not report_id:
            self._error(i, f"{at}.identifier", Message("is required"))
        if not report.result:
            self._error(i, f"{at}.result", Message("is required"))
        for j, reference in enumerate(report.result or []):
            target = self._resolve(i, f"{at}.result[{j}]", reference, "Observation")
            if target is None:
                continue
            if target in report_of:
                self._error(
                    i,
                    f"{at}.result[{j}]",
                    Message("the result in entry {other} is already in another report", other=target),
                )
            else:
                report_of[target] = i
        if len(self.errors) > found or not report_id:
            return None
        return _Report(
            entry=i,
            report_id=report_id,
            version=report.meta.versionId if report.meta else None,
            corrected=report.status in CORRECTION_STATUSES,
        )

    # --------------------------------------------------------------------------------- one element

    def _specimen_of(self, i: int, observation: Observation) -> int | None:
        at = f"Bundle.entry[{i}].resource.specimen"
        if observation.specimen is None:
            self._error(i, at, Message("is required"))
            return None
        return self._resolve(i, at, observation.specimen, "Specimen")

    def _result(self, i: int, observation: Observation) -> ResultValue | None:
        at = f"Bundle.entry[{i}].resource"
        from_value = None
        if observation.valueCodeableConcept is not None:
            from_value = self._coded(
                i, f"{at}.valueCodeableConcept", observation.valueCodeableConcept, RESULT_CODES
            )
            if from_value is None:
                return None
        from_interpretation = None
        for j, concept in enumerate(observation.interpretation or []):
            from_interpretation = self._coded(i, f"{at}.interpretation[{j}]", concept, INTERPRETATION_CODES)
            if from_interpretation is None:
                return None
        if from_value and from_interpretation and from_value != from_interpretation:
            self._error(
                i,
                f"{at}.interpretation",
                Message(
                    "says {interpretation} but the value says {value}",
                    interpretation=Message(from_interpretation),
                    value=Message(from_value),
                ),
            )
            return None
        found = from_value or from_interpretation
        if found is None:
            self._error(
                i,
                f"{at}.valueCodeableConcept",
                Message("is required: a coded result (SNOMED CT Positive, Negative or Invalid result)"),
            )
        return found

    def _coded(
        self,
        i: int,
        at: str,
        concept: CodeableConcept,
        table: Mapping[tuple[str, str], ResultValue],
    ) -> ResultValue | None:
        codes_alone = {code: value for (_system, code), value in table.items()}
        for coding in concept.coding or []:
            if coding.code is None:
                continue
            if coding.system is None and coding.code in codes_alone:
                return codes_alone[coding.code]
            if (str(coding.system), coding.code) in table:
                return table[(str(coding.system), coding.code)]
        codings = concept.coding or []
        if codings:
            first = codings[0]
            self._error(
                i,
                f"{at}.coding[0].code",
                Message(
                    "unknown result code “{code}” of {system}; use one of {known}",
                    code=str(first.code or ""),
                    system=str(first.system or "no system"),
                    known=sorted({code for _system, code in table}),
                ),
            )
        else:
            self._error(i, f"{at}.coding", Message("is required"))
        return None

    def _ct_values(self, i: int, observation: Observation) -> dict[str, float]:
        values: dict[str, float] = {}
        for j, component in enumerate(observation.component or []):
            at = f"Bundle.entry[{i}].resource.component[{j}]"
            quantity = component.valueQuantity
            if quantity is None:
                continue  # no Ct: the gene did not amplify, or the component carries a coded per-gene result
            if quantity.value is None:
                self._error(i, f"{at}.valueQuantity.value", Message("is required"))
                continue
            gene = _gene(component.code)
            if not gene:
                self._error(i, f"{at}.code", Message("names no gene: give code.text or a coding display"))
                continue
            ct = float(quantity.value)
            if not (math.isfinite(ct) and 0 < ct <= MAX_CT):
                self._error(
                    i,
                    f"{at}.valueQuantity.value",
                    Message(
                        "Ct {value} is not between 0 and {most} cycles",
                        value=str(quantity.value),
                        most=MAX_CT,
                    ),
                )
                continue
            if gene in values:
                self._error(i, f"{at}.code", Message("gene {gene} has two Ct values", gene=gene))
                continue
            values[gene] = ct
        return values

    def _resulted_at(self, i: int, observation: Observation) -> dt.datetime | None:
        # ``issued`` is when the lab released the result; ``effective[x]`` is often the sampling time, so it
        # serves only when the lab sends no ``issued``.
        for moment in (observation.issued, observation.effectiveInstant, observation.effectiveDateTime):
            if isinstance(moment, dt.datetime):
                return as_utc(moment)
        at = f"Bundle.entry[{i}].resource"
        if observation.effectiveDateTime is not None:
            self._error(
                i,
                f"{at}.effectiveDateTime",
                Message(
                    "“{value}” has no time of day; give one with its time zone, or give issued",
                    value=str(observation.effectiveDateTime),
                ),
            )
        else:
            self._error(i, f"{at}.issued", Message("is required"))
        return None

    # ------------------------------------------------------------------------------------ the whole

    def _check_barcodes(self, tubes: dict[int, _Tube]) -> None:
        first: dict[str, int] = {}
        for i, tube in tubes.items():
            if tube.barcode in first:
                self._error(
                    i,
                    f"Bundle.entry[{i}].resource.container[0].identifier",
                    Message(
                        "tube {barcode} is already in entry {other}",
                        barcode=tube.barcode,
                        other=first[tube.barcode],
                    ),
                )
            else:
                first[tube.barcode] = i

    def _match(
        self,
        tubes: dict[int, _Tube],
        readings: dict[int, _Reading],
        reports: dict[int, _Report],
        report_of: dict[int, int],
    ) -> dict[int, int]:
        from fhir.resources.R4B.diagnosticreport import DiagnosticReport
        from fhir.resources.R4B.observation import Observation

        kinds = [type(entry.resource) for entry in self.entries]
        refused_observations = [i for i, k in enumerate(kinds) if k is Observation and i not in readings]
        refused_reports = [i for i, k in enumerate(kinds) if k is DiagnosticReport and i not in reports]
        reading_of: dict[int, int] = {}
        for i, reading in readings.items():
            if reading.specimen_entry not in tubes:
                continue  # the Specimen itself was refused: its error is enough
            if reading.specimen_entry in reading_of:
                self._error(
                    i,
                    f"Bundle.entry[{i}].resource.specimen",
                    Message(
                        "tube {barcode} already has a result in entry {other}",
                        barcode=tubes[reading.specimen_entry].barcode,
                        other=reading_of[reading.specimen_entry],
                    ),
                )
            else:
                reading_of[reading.specimen_entry] = i
            if i not in report_of and not refused_reports:
                self._error(
                    i,
                    f"Bundle.entry[{i}].resource",
                    Message("this result is in no DiagnosticReport (list it in DiagnosticReport.result)"),
                )
        if refused_observations:
            return reading_of  # a refused Observation may be the missing result: its own error says enough
        for specimen_entry, tube in tubes.items():
            if specimen_entry not in reading_of:
                self._error(
                    specimen_entry,
                    f"Bundle.entry[{specimen_entry}].resource",
                    Message(
                        "tube {barcode} has no result (no Observation names this Specimen)",
                        barcode=tube.barcode,
                    ),
                )
        return reading_of

    # ------------------------------------------------------------------------------------ references

    def _lookup(self, reference: Reference) -> int | None:
        target = reference.reference
        if not target:
            return None
        if target in self.index:
            return self.index[target]
        # An absolute URL ending in Type/id names the entry whose resource has that type and id.
        tail = "/".join(target.rstrip("/").split("/")[-2:])
        return self.index.get(tail)

    def _resolve(self, i: int, at: str, reference: Reference, kind: str) -> int | None:
        if not reference.reference:
            self._error(i, f"{at}.reference", Message("is required"))
            return None
        target = self._lookup(reference)
        if target is None:
            self._error(
                i,
                f"{at}.reference",
                Message("no {kind} “{value}” in this bundle", kind=kind, value=reference.reference),
            )
            return None
        found = self.entries[target].resource
        actual = found.get_resource_type() if found is not None else ""
        if actual != kind:
            self._error(
                i,
                f"{at}.reference",
                Message("must refer to a {kind}, not a {actual}", kind=kind, actual=actual),
            )
            return None
        return target

    def _order_id(self, references: Sequence[Reference] | None) -> str | None:
        from fhir.resources.R4B.servicerequest import ServiceRequest

        for reference in references or []:
            target = self._lookup(reference)
            resource = self.entries[target].resource if target is not None else None
            if isinstance(resource, ServiceRequest):
                values = [ident.value for ident in resource.identifier or [] if ident.value]
                return values[0] if values else resource.id
            if reference.identifier is not None and reference.identifier.value:
                return str(reference.identifier.value)
            if reference.reference and reference.reference.startswith("ServiceRequest/"):
                return reference.reference.removeprefix("ServiceRequest/")
        return None

    def _error(self, row: int, path: str, message: Message) -> None:
        self.errors.append(RowError(row, path, message))


def _gene(code: CodeableConcept | None) -> str:
    if code is None:
        return ""
    if code.text and code.text.strip():
        return code.text.strip()
    for coding in code.coding or []:
        if coding.display and coding.display.strip():
            return coding.display.strip()
    for coding in code.coding or []:
        if coding.code:
            return str(coding.code)
    return ""


# ------------------------------------------------------------------------------------------- template


def template_bundle() -> dict[str, Any]:
    """A filled-in example for labs: one order, two tubes (one positive with Ct values, one negative).

    ``tests/fixtures/testing/fhir_result_template.json`` holds the same bundle; the lab upload page
    offers this one for download.
    """
    order = "urn:uuid:0b6a4c1e-5a36-4c2e-9d1f-000000000001"
    tubes = ("urn:uuid:0b6a4c1e-5a36-4c2e-9d1f-000000000011", "urn:uuid:0b6a4c1e-5a36-4c2e-9d1f-000000000012")
    results = (
        "urn:uuid:0b6a4c1e-5a36-4c2e-9d1f-000000000021",
        "urn:uuid:0b6a4c1e-5a36-4c2e-9d1f-000000000022",
    )
    report = "urn:uuid:0b6a4c1e-5a36-4c2e-9d1f-000000000031"
    test = {
        "coding": [{"system": LOINC, "code": TEST_CODE, "display": TEST_DISPLAY}],
        "text": "新冠病毒核酸检测",
    }
    sampled = "2026-12-06T00:30:00Z"
    issued = "2026-12-06T06:05:00Z"

    def specimen(url: str, barcode: str, description: str) -> dict[str, Any]:
        return {
            "fullUrl": url,
            "resource": {
                "resourceType": "Specimen",
                "id": barcode,
                "status": "available",
                "type": {"text": "oropharyngeal swab 咽拭子"},
                "request": [{"reference": order}],
                "collection": {"collectedDateTime": sampled},
                "receivedTime": "2026-12-06T02:10:00Z",
                "container": [
                    {
                        "identifier": [{"system": TUBE_BARCODE_SYSTEM, "value": barcode}],
                        "description": description,
                    }
                ],
            },
        }

    def coded(system: str, code: str, display: str) -> dict[str, Any]:
        return {"coding": [{"system": system, "code": code, "display": display}]}

    def ct(gene: str, value: float) -> dict[str, Any]:
        return {
            "code": {"text": gene},
            "valueQuantity": {"value": value, "unit": "Ct", "system": UCUM, "code": "{Ct}"},
        }

    def observation(url: str, tube: str, value: dict[str, Any], flag: dict[str, Any]) -> dict[str, Any]:
        return {
            "fullUrl": url,
            "resource": {
                "resourceType": "Observation",
                "id": url.rsplit("-", 1)[-1],
                "status": "final",
                "code": test,
                "basedOn": [{"reference": order}],
                "specimen": {"reference": tube},
                "effectiveDateTime": sampled,
                "issued": issued,
                "valueCodeableConcept": value,
                "interpretation": [flag],
            },
        }

    positive = observation(
        results[0],
        tubes[0],
        coded(SNOMED, "10828004", "Positive"),
        coded(INTERPRETATION, "POS", "Positive"),
    )
    positive["resource"]["component"] = [ct("ORF1ab", 28.4), ct("N", 26.9)]
    negative = observation(
        results[1],
        tubes[1],
        coded(SNOMED, "260385009", "Negative"),
        coded(INTERPRETATION, "NEG", "Negative"),
    )
    return {
        "resourceType": "Bundle",
        "id": "lab-results-template",
        "type": "collection",
        "timestamp": "2026-12-06T06:10:00Z",
        "entry": [
            {
                "fullUrl": order,
                "resource": {
                    "resourceType": "ServiceRequest",
                    "id": "R20261206-S0001",
                    "identifier": [{"system": "urn:fangkong:sampling-order", "value": "R20261206-S0001"}],
                    "status": "completed",
                    "intent": "order",
                    "code": test,
                    "subject": {"display": "regional round 2026-12-06, sampling site 0001"},
                    "authoredOn": "2026-12-05T23:00:00Z",
                },
            },
            specimen(tubes[0], "TUBE-20261206-0001", "10-in-1 pooled tube 十混一"),
            specimen(tubes[1], "TUBE-20261206-0002", "10-in-1 pooled tube 十混一"),
            positive,
            negative,
            {
                "fullUrl": report,
                "resource": {
                    "resourceType": "DiagnosticReport",
                    "id": "LAB-20261206-0001",
                    "meta": {"versionId": "1"},
                    "identifier": [{"system": "urn:lab:example", "value": "LAB-20261206-0001"}],
                    "status": "final",
                    "code": test,
                    "issued": issued,
                    "performer": [{"display": "Example testing laboratory"}],
                    "specimen": [{"reference": tubes[0]}, {"reference": tubes[1]}],
                    "result": [{"reference": results[0]}, {"reference": results[1]}],
                },
            },
        ],
    }
