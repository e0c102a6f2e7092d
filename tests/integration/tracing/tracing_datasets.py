"""Adapters from the real outbreak files to fangkong's import templates, as a user would do in a spreadsheet.

Each function reads one upstream file (``tests/fixtures/tracing/``) and writes a CSV in a template's
columns; nothing is inferred beyond what the columns need:

- Singapore (Tindale et al. 2020): "Related cases" and "Cluster links" name linked cases without saying
  who infected whom; each linked pair is written once, the case with the earlier onset (else the earlier
  confirmation, else the smaller number) as the infector, certainty "possible" as the source is silent.
- Tianjin: the cases named in "Infection_source" (TJ12, "case 109", and the typo JN25 for TJ25) are the
  infectors, certainty "probable"; a pair named both ways is kept once, as first written.
- MERS Korea 2015: the line list becomes cases, the "contacts" list (infector → infectee pairs with the
  exposure setting) becomes exposures between two cases with certainty "probable".
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "tracing"
SINGAPORE = FIXTURES / "COVID-19_Singapore_data_revised.csv"
TIANJIN = FIXTURES / "Tianjin135cases_revised.csv"
MERS_LINELIST = FIXTURES / "mers_korea_2015__linelist.csv"
MERS_CONTACTS = FIXTURES / "mers_korea_2015__contacts.csv"

CASE_COLUMNS = [
    "case_ref",
    "classification",
    "sex",
    "age",
    "onset_date",
    "diagnosis_date",
    "report_time",
    "imported",
    "origin",
    "isolated_at",
    "outcome",
    "outcome_date",
    "infected_by",
    "link_certainty",
]
TIANJIN_REFERENCE = re.compile(r"(?:TJ|JN|case\s+)(\d+)", re.IGNORECASE)
# The outbreaks package's exposure words, as the protocol's settings.
MERS_SETTINGS = {
    "Hospital room": "clinical_care",
    "Emergency room": "clinical_care",
    "Visit hospital": "visit",
    "Contact with HCW": "clinical_care",
    "Family member": "household",
}


def _value(text: str) -> str:
    text = (text or "").strip()
    return "" if text in ("NA", "N/A") else text


def _dmy(text: str) -> str:
    text = _value(text)
    return dt.datetime.strptime(text, "%d/%m/%Y").date().isoformat() if text else ""


def _write(path: Path, columns: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def singapore_links() -> list[tuple[str, str]]:
    """Every linked pair of Singapore case numbers, each once (unordered)."""
    rows = list(csv.DictReader(SINGAPORE.open(encoding="utf-8-sig")))
    known = {r["CaseID"] for r in rows}
    pairs: set[tuple[str, str]] = set()
    for r in rows:
        for column in ("Related cases", "Cluster links"):
            for other in re.split(r"[,;\s]+", r[column]):
                if other in known and other != r["CaseID"]:
                    a, b = sorted((r["CaseID"], other), key=int)
                    pairs.add((a, b))
    return sorted(pairs, key=lambda p: (int(p[0]), int(p[1])))


def singapore_cases(out: Path) -> Path:
    rows = list(csv.DictReader(SINGAPORE.open(encoding="utf-8-sig")))
    by_id = {r["CaseID"]: r for r in rows}

    def order(case_id: str) -> tuple[str, str, int]:
        r = by_id[case_id]
        return (
            _value(r["date_onset_symptoms"]) or "9999",
            _value(r["date_confirmation"]) or "9999",
            int(case_id),
        )

    infectors: dict[str, list[str]] = {}
    for a, b in singapore_links():
        first, second = sorted((a, b), key=order)
        infectors.setdefault(second, []).append(f"SG{first}")
    out_rows = []
    for r in rows:
        isolated = sorted(d for d in (_value(r["date_quarantine"]), _value(r["date_hospital"])) if d)
        imported = "Wuhan" in r["presumed_reason"]
        out_rows.append(
            {
                "case_ref": f"SG{r['CaseID']}",
                "classification": "confirmed",
                "sex": _value(r["sex"]),
                "age": _value(r["age"]),
                "onset_date": _value(r["date_onset_symptoms"]),
                "diagnosis_date": _value(r["date_confirmation"]),
                "report_time": _value(r["date_confirmation"]),
                "imported": "yes" if imported else "no",
                "origin": "Wuhan" if imported else "",
                "isolated_at": isolated[0] if isolated else "",
                "outcome": "recovered" if r["outcome"] == "Discharged" else "",
                "outcome_date": _value(r["date_discharge"]) if r["outcome"] == "Discharged" else "",
                "infected_by": ";".join(infectors.get(r["CaseID"], [])),
                "link_certainty": "possible",
            }
        )
    return _write(out, CASE_COLUMNS, out_rows)


def tianjin_links() -> list[tuple[str, str]]:
    """(infector, infectee) case numbers named by the source; a pair named both ways is kept once."""
    rows = list(csv.DictReader(TIANJIN.open(encoding="utf-8-sig")))
    known = {r["case_id"] for r in rows}
    seen: set[frozenset[str]] = set()
    links = []
    for r in rows:
        for number in TIANJIN_REFERENCE.findall(r["Infection_source"]):
            infector = f"TJ{int(number)}"
            pair = frozenset((infector, r["case_id"]))
            if infector in known and infector != r["case_id"] and pair not in seen:
                seen.add(pair)
                links.append((infector, r["case_id"]))
    return links


def tianjin_cases(out: Path) -> Path:
    rows = list(csv.DictReader(TIANJIN.open(encoding="utf-8-sig")))
    infectors: dict[str, list[str]] = {}
    for infector, infectee in tianjin_links():
        infectors.setdefault(infectee, []).append(infector)
    out_rows = []
    for r in rows:
        source = r["Infection_source"].lower()
        imported = any(w in source for w in ("wuhan", "hubei")) and not TIANJIN_REFERENCE.search(source)
        out_rows.append(
            {
                "case_ref": r["case_id"],
                "classification": "confirmed",
                "sex": _value(r["gender "]),
                "age": _value(r["age"]),
                "onset_date": _dmy(r["symptom_onset"]),
                "diagnosis_date": _dmy(r["confirm_date"]),
                "report_time": _dmy(r["confirm_date"]),
                "imported": "yes" if imported else "no",
                "origin": "Hubei" if imported else "",
                "isolated_at": "",
                "outcome": "died" if _value(r["death"]) else "",
                "outcome_date": "",
                "infected_by": ";".join(infectors.get(r["case_id"], [])),
                "link_certainty": "probable",
            }
        )
    return _write(out, CASE_COLUMNS, out_rows)


def mers_links() -> list[tuple[str, str]]:
    return [(r["from"], r["to"]) for r in csv.DictReader(MERS_CONTACTS.open(encoding="utf-8"))]


def mers_cases(out: Path) -> Path:
    rows = []
    for r in csv.DictReader(MERS_LINELIST.open(encoding="utf-8")):
        died = r["outcome"] == "Dead"
        rows.append(
            {
                "case_ref": r["id"],
                "classification": "confirmed",
                "sex": r["sex"],
                "age": _value(r["age"]),
                "onset_date": _value(r["dt_onset"]),
                "diagnosis_date": _value(r["dt_diag"]),
                "report_time": _value(r["dt_report"]),
                "imported": "yes" if r["place_infect"] == "Middle East" else "no",
                "origin": "Middle East" if r["place_infect"] == "Middle East" else "",
                "isolated_at": "",
                "outcome": "died" if died else "",
                "outcome_date": _value(r["dt_death"]) if died else "",
                "infected_by": "",
                "link_certainty": "",
            }
        )
    return _write(out, CASE_COLUMNS, rows)


def mers_exposures(out: Path) -> Path:
    windows = {
        r["id"]: (_value(r["dt_start_exp"]), _value(r["dt_end_exp"]), _value(r["dt_onset"]))
        for r in csv.DictReader(MERS_LINELIST.open(encoding="utf-8"))
    }
    rows = []
    for r in csv.DictReader(MERS_CONTACTS.open(encoding="utf-8")):
        start, end, onset = windows[r["to"]]
        # The infectee's exposure window; without one, the day before their onset.
        if not start:
            day = dt.date.fromisoformat(onset or windows[r["from"]][2]) - dt.timedelta(days=1)
            start = end = day.isoformat()
        rows.append(
            {
                "case_ref": r["from"],
                "contact_case_ref": r["to"],
                "setting": MERS_SETTINGS[r["exposure"].strip()],
                "start": start,
                "end": end or start,
                "infected": "probable",
                "note": r["exposure"].strip(),
            }
        )
    return _write(out, ["case_ref", "contact_case_ref", "setting", "start", "end", "infected", "note"], rows)
