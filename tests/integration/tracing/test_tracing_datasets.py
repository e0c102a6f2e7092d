"""Real outbreaks through the ordinary import: fangkong's clusters are the source's linked groups.

The expected groups are computed here straight from the upstream files with a plain union-find over the
links they name, independently of the adapters and of fangkong's cluster code, and the counts are
stated: Singapore 13 linked groups (largest 31) and 20 lone cases; Tianjin 24 groups (largest 10) and
39 lone cases; MERS Korea 2015 two groups (94 and 3) and 65 lone cases.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select
from tracing_datasets import (
    MERS_CONTACTS,
    MERS_LINELIST,
    SINGAPORE,
    TIANJIN,
    mers_cases,
    mers_exposures,
    singapore_cases,
    tianjin_cases,
)
from tracing_support import Tracing

from fangkong.core.people_rules import Keys
from fangkong.tracing import clusters, imports
from fangkong.tracing.models import Case, ChainLink, Contact, ContactStatus

pytest_plugins = ["tracing_support"]  # the `tracing` fixture


def _groups(nodes: list[str], links: list[tuple[str, str]]) -> list[int]:
    """Sizes of the connected groups, largest first (a plain union-find)."""
    parent = {n: n for n in nodes}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in links:
        parent[root(a)] = root(b)
    return sorted(Counter(root(n) for n in nodes).values(), reverse=True)


def _source_singapore() -> list[int]:
    rows = list(csv.DictReader(SINGAPORE.open(encoding="utf-8-sig")))
    ids = [r["CaseID"] for r in rows]
    links = [
        (r["CaseID"], other)
        for r in rows
        for column in ("Related cases", "Cluster links")
        for other in re.findall(r"\d+", r[column])
        if other in ids
    ]
    return _groups(ids, links)


def _source_tianjin() -> list[int]:
    rows = list(csv.DictReader(TIANJIN.open(encoding="utf-8-sig")))
    ids = [r["case_id"] for r in rows]
    links = [
        (r["case_id"], f"TJ{int(n)}")
        for r in rows
        for n in re.findall(r"(?:TJ|JN|case\s+)(\d+)", r["Infection_source"], re.IGNORECASE)
    ]
    return _groups(ids, [(a, b) for a, b in links if b in ids])


def _source_mers() -> list[int]:
    ids = [r["id"] for r in csv.DictReader(MERS_LINELIST.open())]
    return _groups(ids, [(r["from"], r["to"]) for r in csv.DictReader(MERS_CONTACTS.open())])


def _import(tracing: Tracing, kind: str, path: Path) -> imports.ImportReport:
    keys = Keys(tracing.app.state.settings.encryption_key, tracing.app.state.settings.hash_key)
    with tracing.as_user("home_investigator") as (session, me):
        return imports.import_file(session, tracing.vault, tracing.bus, me, keys, kind, path)  # type: ignore[arg-type]


def _fangkong_groups(tracing: Tracing, prefix: str) -> list[int]:
    """Group sizes as fangkong's cluster list reports them, with the lone cases counted as groups of one."""
    with tracing.as_user("home_investigator") as (session, me):
        rows, total = clusters.list_clusters(session, me, size=200)
        assert total == len(rows)
        names = dict(session.execute(select(Case.id, Case.case_ref)).all())
        linked = [r.size for r in rows if names[r.cluster_id].startswith(prefix)]
        cases = (
            session.scalar(select(func.count()).select_from(Case).where(Case.case_ref.startswith(prefix)))
            or 0
        )
    return sorted(linked, reverse=True) + [1] * (cases - sum(linked))


def _stated(groups: list[int]) -> tuple[int, int, int]:
    linked = [g for g in groups if g > 1]
    return len(linked), linked[0], len(groups) - len(linked)


def test_singapore_and_tianjin_clusters_are_reproduced(tracing: Tracing, tmp_path: Path) -> None:
    singapore = _import(tracing, "cases", singapore_cases(tmp_path / "singapore.csv"))
    tianjin = _import(tracing, "cases", tianjin_cases(tmp_path / "tianjin.csv"))
    assert (singapore.cases, tianjin.cases) == (93, 135)
    assert _fangkong_groups(tracing, "SG") == _source_singapore()
    assert _fangkong_groups(tracing, "TJ") == _source_tianjin()
    assert _stated(_source_singapore()) == (13, 31, 20)
    assert _stated(_source_tianjin()) == (24, 10, 39)


def test_mers_korea_line_list_and_contacts_import(tracing: Tracing, tmp_path: Path) -> None:
    cases = _import(tracing, "cases", mers_cases(tmp_path / "mers_cases.csv"))
    exposures = _import(tracing, "exposures", mers_exposures(tmp_path / "mers_exposures.csv"))
    assert (cases.cases, exposures.exposures, exposures.links) == (162, 98, 98)
    assert _fangkong_groups(tracing, "SK_") == _source_mers()
    assert _stated(_source_mers()) == (2, 94, 65)
    with tracing.as_user("home_investigator") as (session, me):
        # Every exposed person is a case already: their contact records say so.
        statuses = set(session.scalars(select(Contact.status)))
        assert statuses == {ContactStatus.converted}
        superspreader = session.scalar(select(Case).where(Case.case_ref == "SK_14"))
        chain = clusters.chain_view(session, me, superspreader.cluster_id)
        out_links = session.scalar(
            select(func.count()).select_from(ChainLink).where(ChainLink.infector_case_id == superspreader.id)
        )
    assert chain["stats"]["size"] == 94
    assert out_links == sum(1 for r in csv.DictReader(MERS_CONTACTS.open()) if r["from"] == "SK_14")
    assert chain["stats"]["generations"] >= 3
