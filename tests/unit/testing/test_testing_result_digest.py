"""A result row's digest is the SHA-256 of its content as ``json.dumps(..., sort_keys=True)`` writes it:
digests stored by earlier loads must still match, or the same file loaded again would be a correction."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest

from fangkong.core.clock import as_utc
from fangkong.testing.models import TestResult
from fangkong.testing.service.results import ResultLine

_BEIJING = dt.timezone(dt.timedelta(hours=8))


@pytest.mark.parametrize(
    "ct_values",
    [{}, {"ORF1ab": 31.2, "N": 30.8}, {"N": 29.999}, {"N": 30.0}, {"ORF1ab": 12.345, "N": 40.0}],
)
@pytest.mark.parametrize("barcode", ["R1T00000001", "管码-7", 'odd"bar\\code'])
@pytest.mark.parametrize("result", list(TestResult))
def test_digest_is_the_sorted_json_of_the_row(
    ct_values: dict[str, float], barcode: str, result: TestResult
) -> None:
    line = ResultLine(2, barcode, result, ct_values, dt.datetime(2022, 4, 1, 12, 30, tzinfo=_BEIJING), None)
    content = {
        "barcode": barcode,
        "result": result.value,
        "ct": {gene: round(value, 2) for gene, value in sorted(ct_values.items())},
        "tested_at": as_utc(line.tested_at).isoformat(),
    }
    assert line.digest == hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def test_a_different_ct_is_a_different_digest() -> None:
    at = dt.datetime(2022, 4, 1, 12, 30, tzinfo=_BEIJING)
    first = ResultLine(2, "R1T1", TestResult.positive, {"N": 30.8}, at, None)
    second = ResultLine(2, "R1T1", TestResult.positive, {"N": 30.9}, at, None)
    assert first.digest != second.digest
