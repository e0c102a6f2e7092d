"""Migration 0008 moves the sandboxes of drills made before it out of the real tree, on both backends."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from fangkong.core.migrate import downgrade, upgrade

COUNTY = "/330000/330100/330106/"
SANDBOX = COUNTY + "330106999/"
COMMUNITY = SANDBOX + "330106999001/"
REAL_TOWNSHIP = COUNTY + "330106001/"


def _engine(url: str):  # type: ignore[no-untyped-def]
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def _seed_before_0008(url: str) -> None:
    """A county with a real township and, as drills made them before 0008, a sandbox inside its subtree."""
    nodes = [
        (1, "330000", "province", None, "/330000/", False),
        (2, "330100", "city", 1, "/330000/330100/", False),
        (3, "330106", "county", 2, COUNTY, False),
        (4, "330106001", "township", 3, REAL_TOWNSHIP, False),
        (5, "330106999", "township", 3, SANDBOX, True),
        (6, "330106999001", "community", 5, COMMUNITY, True),
    ]
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            for jid, code, level, parent, path, sandbox in nodes:
                conn.execute(
                    text(
                        "INSERT INTO jurisdictions (id, code, name, level, parent_id, path, is_sandbox)"
                        " VALUES (:id, :code, :code, :level, :parent, :path, :sandbox)"
                    ),
                    {
                        "id": jid,
                        "code": code,
                        "level": level,
                        "parent": parent,
                        "path": path,
                        "sandbox": sandbox,
                    },
                )
            for hid, (jid, path) in enumerate([(6, COMMUNITY), (4, REAL_TOWNSHIP)], start=1):
                conn.execute(
                    text(
                        "INSERT INTO households (id, jurisdiction_id, jpath, address_hash, address_cipher,"
                        " address_masked) VALUES (:id, :jid, :path, :hash, :cipher, '')"
                    ),
                    {"id": hid, "jid": jid, "path": path, "hash": f"{hid:032d}", "cipher": b"x"},
                )
    finally:
        engine.dispose()


def _paths(url: str) -> tuple[dict[str, str], dict[int, str]]:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            nodes = dict(conn.execute(text("SELECT code, path FROM jurisdictions")).all())
            homes = dict(conn.execute(text("SELECT id, jpath FROM households")).all())
    finally:
        engine.dispose()
    return nodes, homes


def test_old_sandboxes_move_behind_the_marker_and_back(database_url: str) -> None:
    downgrade(database_url, "0007")
    try:
        _seed_before_0008(database_url)
        upgrade(database_url, "0008")
        nodes, homes = _paths(database_url)
        assert nodes["330106999"] == "/~" + SANDBOX
        assert nodes["330106999001"] == "/~" + COMMUNITY
        assert homes[1] == "/~" + COMMUNITY
        # The real tree is as it was.
        assert (nodes["330106"], nodes["330106001"], homes[2]) == (COUNTY, REAL_TOWNSHIP, REAL_TOWNSHIP)
        downgrade(database_url, "0007")
        nodes, homes = _paths(database_url)
        assert (nodes["330106999"], nodes["330106999001"], homes[1]) == (SANDBOX, COMMUNITY, COMMUNITY)
    finally:
        upgrade(database_url)
