"""The doses pages over HTTP: the list (filtered, paged, empty state said), a site's form for one dose,
and the import with its dry run, its table of every bad row and its template."""

from __future__ import annotations

import re

from conftest import HOME_COUNTY, PASSWORD, World


def _csrf(text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)  # type: ignore[union-attr]


def _log_in(client, username: str, page: str) -> str:  # type: ignore[no-untyped-def]
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": _csrf(client.get("/login").text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    shown = client.get(page)
    assert shown.status_code == 200, shown.text
    return _csrf(shown.text)


ZH = "身份证号,疫苗名称,技术路线,剂次,接种类型,接种日期,接种单位,批号\n"


def test_import_dry_run_then_write_then_every_bad_row_listed(client, world: World) -> None:  # type: ignore[no-untyped-def]
    csrf = _log_in(client, "home_administrator", "/vaccination/doses/import")
    empty = client.get("/vaccination/doses")
    assert 'data-testid="no-doses"' in empty.text and "此处尚无接种记录" in empty.text
    template = client.get("/vaccination/doses/template.csv")
    assert template.status_code == 200 and template.content.decode("utf-8-sig").startswith(
        "身份证号,疫苗名称"
    )
    a, b = (world.id_numbers[p] for p in world.people[HOME_COUNTY][:2])
    body = (
        ZH + f"{a},科兴,灭活,1,基础,2021-04-01,站A,KX01\n{b},克威莎,,1,基础,2021-04-02,站A,CS01\n"
    ).encode()
    dry = client.post(
        "/vaccination/doses/import",
        data={"csrf_token": csrf, "dry_run": "true"},
        files={"file": ("doses.csv", body, "text/csv")},
    )
    assert dry.status_code == 200
    assert "试导入" in dry.text and 'data-testid="doses-import-doses">2<' in dry.text
    assert 'data-testid="no-doses"' in client.get("/vaccination/doses").text
    done = client.post(
        "/vaccination/doses/import",
        data={"csrf_token": csrf},
        files={"file": ("doses.csv", body, "text/csv")},
    )
    assert done.status_code == 200 and "已导入" in done.text
    listed = client.get("/vaccination/doses")
    assert listed.text.count('data-testid="dose-row"') == 2
    assert "腺病毒载体疫苗" in listed.text and "灭活疫苗" in listed.text
    by_lot = client.get("/vaccination/doses", params={"lot": "CS01"})
    assert by_lot.text.count('data-testid="dose-row"') == 1
    again = client.post(
        "/vaccination/doses/import",
        data={"csrf_token": csrf},
        files={"file": ("doses.csv", body + b"x,y,,9,?,2021-02-30,,\n", "text/csv")},
    )
    assert again.status_code == 422
    table = re.search(r'data-testid="doses-import-errors".*?</table>', again.text, re.S).group(0)  # type: ignore[union-attr]
    assert "此人该剂次已有接种记录" in table  # rows 2 and 3, already recorded
    for column in ("剂次", "接种类型", "接种日期", "接种单位", "批号"):
        assert f'<td class="mono">{column}</td>' in table
    assert client.get("/vaccination/doses").text.count('data-testid="dose-row"') == 2  # nothing more


def test_a_site_records_a_dose_from_the_page(client, world: World) -> None:  # type: ignore[no-untyped-def]
    csrf = _log_in(client, "home_community_worker", "/vaccination/doses")
    page = client.get("/vaccination/doses")
    assert 'data-testid="dose-form"' in page.text and "/vaccination/doses/import" not in page.text
    person = world.people[HOME_COUNTY][0]
    form = {
        "csrf_token": csrf,
        "id_number": world.id_numbers[person],
        "product": "智飞",
        "platform": "",
        "dose_number": "1",
        "kind": "primary",
        "given_on": "2022-11-01",
        "site": "保俶社区接种点",
        "lot": "ZF01",
    }
    made = client.post("/vaccination/doses", data=form, follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"] == f"/vaccination/doses?person={person}"
    shown = client.get(made.headers["location"])
    assert shown.text.count('data-testid="dose-row"') == 1 and "重组蛋白疫苗" in shown.text
    refused = client.post("/vaccination/doses", data={**form, "dose_number": "1"}, follow_redirects=False)
    assert refused.status_code == 409
    unknown = client.get("/vaccination/doses", params={"id_number": "110101199003074514"})
    assert unknown.status_code == 422 and "本辖区人口库中没有此身份证号的人员" in unknown.text
    assert client.get("/vaccination/doses/import").status_code == 403


def test_the_list_pages_through_the_doses(client, world: World, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from fangkong.vaccination.views import doses as views

    csrf = _log_in(client, "home_administrator", "/vaccination/doses/import")
    kinds = {1: "基础", 2: "基础", 3: "加强"}
    lines = [
        f"{world.id_numbers[p]},科兴,灭活,{n},{kinds[n]},2021-0{n}-1{i},站A,L{i}{n}"
        for i, p in enumerate(world.people[HOME_COUNTY])
        for n in (1, 2, 3)
    ]
    body = (ZH + "\n".join(lines) + "\n").encode()
    done = client.post(
        "/vaccination/doses/import", data={"csrf_token": csrf}, files={"file": ("d.csv", body, "text/csv")}
    )
    assert done.status_code == 200, done.text
    monkeypatch.setattr(views, "PAGE_SIZE", 5)
    first = client.get("/vaccination/doses")
    assert first.text.count('data-testid="dose-row"') == 5 and 'data-testid="dose-next"' in first.text
    last = client.get("/vaccination/doses", params={"page": 4})
    assert last.text.count('data-testid="dose-row"') == len(lines) - 15 == 3
