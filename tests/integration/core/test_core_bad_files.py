"""Uploads that are not clean CSV get a 422 naming the line, never a 500 (found by the schema fuzzer)."""

from __future__ import annotations

from conftest import World, token_for


def test_a_stray_carriage_return_in_a_jurisdiction_file_names_its_line(client, world: World) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, "home_administrator")
    content = b"code,name,level,parent_code\n330106002,a\rb,township,330106\n"
    response = client.post(
        "/api/jurisdictions/import", files={"file": ("j.csv", content, "text/csv")}, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["row"] >= 1


def test_a_people_file_that_is_not_utf8_is_refused(client, world: World) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, "home_community_worker")
    content = "id_number,name,community_code,address\n1,张三,2,路\n".encode("gb18030")
    response = client.post(
        "/api/people/import", files={"file": ("p.csv", content, "text/csv")}, headers=headers
    )
    assert response.status_code == 422
    assert "UTF-8" in response.json()["errors"][0]["message"]


def test_a_stray_carriage_return_in_a_surveillance_upload_is_refused(client, world: World) -> None:  # type: ignore[no-untyped-def]
    headers = token_for(client, "home_surveillance_analyst")
    content = b"channel,jurisdiction,date,value\ncase_reports,330106,2022-07-01,1\r2\n"
    response = client.post(
        "/api/surveillance/observations/upload",
        files={"file": ("s.csv", content, "text/csv")},
        headers=headers,
    )
    assert response.status_code == 422
