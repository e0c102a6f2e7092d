"""Journeys in a real Chromium (issue 11): the investigator, the surveillance analyst, the command centre, the
quarantine manager (issue 12), the testing coordinator and the laboratory (issue 13) and the administrator
of 西湖区 walk their pages in Chinese and in English and send every form with a bad value, beside real data
and a drill run to its end.

Each journey logs in as the role, walks every page of its navigation (the top bar and each group's second
row) and the detail pages its work leads to (a case, a contact, an assist request, an alert, a drill), then
sends every form on those pages with a bad value: a date in the future, an end before its start, an empty
required field, a code that does not exist, a file with a bad row. One checker looks at every page on the
way, and the journey fails, listing everything it saw, on:

- **a bare error page**: a page without the top bar's navigation, the error page where a page was asked
  for, or an answer of 500 or above (of 400 or above, but for the refusal of a bad value);
- **lost input**: after a refused form, a field that no longer holds what was typed, or no message in the
  form (beside the field the bad value was typed in, when it has one; for a file, the list of its bad
  rows may follow the form);
- **a raw key**: in the platform's own words, a snake_case token (``command_centre``, ``case_report``), a
  dotted key of lowercase words (``people.reveal``), or a placeholder left unfilled (``{value}``,
  ``%(n)s``), in either language;
- **English on a Chinese page**: a run of Latin letters and digits with two letters or more (a lone
  letter is a symbol: R, N, h) in the platform's own words, except the few in ``SYMBOLS`` that Chinese
  readers use as they are (Rt, ICU, CSV...);
- **a doubled phrase**: the same word or words twice in a row ("not available not available", "暂无暂无");
- **a script error**: an uncaught exception, a console error or a Content-Security-Policy violation (a
  refused form's own 4xx answer excepted while it is being sent);
- **a number that includes a drill**: any number a real page shows (KPIs, lists, counts, case numbers,
  the Rt table, the alert boards) that differs from the same page before the drill started, the drill's
  sandbox in the jurisdiction picker, a count that is not the seeded real data's, or an audit entry of
  the drill's work in the commander's name.

What is data, and so exempt from the language and raw-key rules (the convention of
``docs/developing.md``, "Data on pages"): the text of an element with class ``mono`` (codes, ID and
phone numbers, usernames, times, parameters, addresses), with ``data-user`` (what a person wrote, shown
as written: names, notes, a protocol file's own text), ``<cite>`` (a work cited), ``code`` and ``pre``;
text an element declares in another language than the page's (``lang="en"``: a language's own name);
the values held by form fields; and, after a refused form, what the user just typed or uploaded, which
the message may quote. Everything else a reader meets is the platform's own words: text, the options of
a select, placeholders, aria-labels and alt texts (``title`` tooltips are left out: they may name the
stored key for the expert). The seeded people, places and notes are Chinese, as a county's are, so a
Latin word can only be the platform's.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from conftest import FOREIGN_COUNTY, HOME_COUNTY, PASSWORD, World, token_for
from fangkong.core.models import AuditEntry

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

# Latin words a Chinese page may show as they are: symbols and names Chinese readers use unchanged.
SYMBOLS = {
    "Rt",  # the effective reproduction number, written so in Chinese guidance too
    "CSV",  # a file format
    "Excel",  # a program
    "ICU",  # 重症监护病房, written ICU in Chinese usage
    "Ct",  # 循环阈值 (Ct 值) of a PCR test, as the national protocols write it
    "ORF1ab",  # the gene target the protocols name with N
    "IP",  # IP 地址
    "UTF",  # UTF-8, a text encoding
    "AIC",  # 赤池信息准则, the model-choice criterion, written AIC in Chinese statistics
}
# A run of Latin letters and digits (ORF1ab is one); with two letters or more it is a word, a lone letter
# (R, N, h) is a symbol.
LATIN_RUN = re.compile(r"[A-Za-z0-9]+")
# What the user typed, as it may be quoted back: words, and keys with their dots and underscores.
TYPED = re.compile(r"[A-Za-z0-9_.]+")


def latin_words(text: str) -> list[str]:
    return [w for w in LATIN_RUN.findall(text) if sum(c.isalpha() for c in w) >= 2]


RAW_KEY = re.compile(
    r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"  # snake_case: command_centre, case_report
    r"|\b[a-z]{2,}(?:_[a-z]+)*\.[a-z]{2,}(?:_[a-z]+)*\b"  # dotted: people.reveal
    r"|\{[a-z_]+\}|%\([a-z_]+\)[sd]"  # an unfilled placeholder: {value}, %(n)s
)
DOUBLED_WORDS = re.compile(r"\b([A-Za-z]{2,}(?:\s+[A-Za-z]{2,})*)\s+\1\b", re.IGNORECASE)
DOUBLED_HAN = re.compile(r"([\u4e00-\u9fff]{2,})\1")
NUMBER = re.compile(r"\d[\d,.:%/-]*")
# A refused form's own answer: the browser logs the failed request and htmx its response error.
REFUSAL_LOGS = re.compile(r"(status of|Status Error Code) 4(00|03|04|09|22)\b|htmx:responseError")

# What the checker reads of a page in one call: the navigation, the error page, the platform's own words
# outside data (each with where it sits) and the lines of text a reader sees.
PAGE_JS = """() => {
  const DATA = ".mono, code, pre, kbd, samp, cite, [data-user]";
  const SKIP = "script, style, noscript, template, [hidden]";
  const page = document.documentElement.lang;
  // Text an element declares in another language than the page's (a language's name in its own words).
  const elsewhere = (el) => { const l = el.closest("[lang]"); return l !== null && l.lang !== page; };
  const data = (el) => el.closest(DATA) !== null || elsewhere(el);
  const where = (el) => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 3; e = e.parentElement) {
      let p = e.tagName.toLowerCase();
      if (e.dataset && e.dataset.testid) p += "[data-testid=" + e.dataset.testid + "]";
      else if (e.getAttribute("name")) p += "[name=" + e.getAttribute("name") + "]";
      else if (e.id) p += "#" + e.id;
      parts.unshift(p);
    }
    return parts.join(" > ");
  };
  const known = new Map();
  const shown = (el) => {
    if (!el || el === document.documentElement) return true;
    if (known.has(el)) return known.get(el);
    const result = !el.matches(SKIP) && getComputedStyle(el).display !== "none" && shown(el.parentElement);
    known.set(el, result);
    return result;
  };
  const words = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    const text = n.textContent.replace(/\\s+/g, " ").trim();
    if (!text || !el || data(el) || !shown(el)) continue;
    words.push([text, where(el)]);
  }
  const attributed = "[placeholder], [aria-label], img[alt], input[type=submit], input[type=button]";
  for (const el of document.body.querySelectorAll(attributed)) {
    if (data(el) || !shown(el)) continue;
    for (const attr of ["placeholder", "aria-label", "alt"]) {
      const v = (el.getAttribute(attr) || "").trim();
      if (v) words.push([v, where(el) + "@" + attr]);
    }
    if (el.matches("input[type=submit], input[type=button]") && el.value) words.push([el.value, where(el)]);
  }
  const error = document.querySelector("[data-testid=error-page]");
  return {
    navigation: document.querySelectorAll("header.top nav a").length,
    error: error ? error.innerText.replace(/\\s+/g, " ").slice(0, 300) : null,
    words: words,
    lines: document.body.innerText.split(/[\\n\\t]/),
  };
}"""

# The forms of the page's main part: how each is sent, and whether it has a field a user types in.
FORMS_JS = """() => Array.from(document.querySelectorAll("main form")).map((f) => ({
  method: f.getAttribute("hx-post") ? "POST" : (f.getAttribute("method") || "get").toUpperCase(),
  action: f.getAttribute("hx-post") || f.getAttribute("action") || location.pathname,
  typed: Array.from(f.elements).some((e) => e.name && e.name !== "csrf_token" && e.tagName !== "SELECT"
    && !["hidden", "submit", "button", "reset", "checkbox", "radio"].includes(e.type)),
}))"""

# Collects what the browser refuses under the Content-Security-Policy, and says so on the console.
WATCH_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""

# The fields of a form a user fills (not hidden, not buttons, not files), and what each holds.
FIELDS_JS = """(form) => Array.from(form.elements)
  .filter((e) => e.name && !["hidden", "submit", "button", "file", "reset"].includes(e.type)
                 && e.name !== "csrf_token")
  .map((e) => [e.name, e.type === "checkbox" || e.type === "radio" ? String(e.checked) : e.value])"""

# A refusal is said in the form, or (an import's every bad row) in the list right after it.
SAID_JS = """(form) => {
  const shown = (e) => e !== null && e.offsetParent !== null && e.innerText.trim() !== "";
  const next = form.nextElementSibling;
  return shown(form.querySelector("[data-form-errors], .errors"))
    || (next !== null && next.matches("[data-testid$=errors]") && shown(next));
}"""

SETTLED_JS = "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"


# ------------------------------------------------------------------------------------------ the checker


@dataclass
class Checker:
    """Watches one browser tab through a journey and collects every problem it sees, with where."""

    page: Any
    language: str = "zh"
    problems: list[str] = field(default_factory=list)
    _logs: list[str] = field(default_factory=list)
    _refusing: bool = False
    _seen: set[tuple[str, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.page.add_init_script(WATCH_VIOLATIONS)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self._logs.append(f"uncaught script error: {error}"))
        self.page.on("response", self._response)

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        if self._refusing and REFUSAL_LOGS.search(message.text):
            return
        self._logs.append(f"console error: {message.text}")

    def _response(self, response: Any) -> None:
        """A failed answer, with its address (the console's own line for it has none)."""
        if response.status >= 500 or (response.status >= 400 and not self._refusing):
            self._logs.append(f"{response.status} from {response.request.method} {response.url}")

    @contextmanager
    def refusal(self) -> Iterator[None]:
        """While a form with a bad value is sent: its own 4xx answer is expected."""
        self._refusing = True
        try:
            yield
        finally:
            self._refusing = False

    def fail(self, where: str, what: str) -> None:
        """Record a problem once a language: the first page it was seen on names it."""
        if (self.language, what) not in self._seen:
            self._seen.add((self.language, what))
            self.problems.append(f"[{self.language}] {where}: {what}")

    def check(self, where: str, typed: str = "") -> None:
        """Every rule of the module docstring, on the page as it is now.

        ``typed`` is what the user just sent (fields and file): the page may quote it back, as data.
        """
        echoed = set(LATIN_RUN.findall(typed)) | set(TYPED.findall(typed))
        for log in self._logs:
            self.fail(where, log)
        self._logs.clear()
        seen = self.page.evaluate(PAGE_JS)
        if seen["navigation"] == 0:
            self.fail(where, "a bare page: no navigation")
        if seen["error"]:
            self.fail(where, f"the error page: {seen['error']}")
        for text, place in seen["words"]:
            for key in RAW_KEY.findall(text):
                if key not in echoed:
                    self.fail(where, f"a raw key “{key}” in “{text[:120]}” ({place})")
            if self.language == "zh":
                english = [w for w in latin_words(text) if w not in SYMBOLS and w not in echoed]
                if english:
                    self.fail(where, f"English {english} in “{text[:120]}” ({place})")
        for line in seen["lines"]:
            doubled = DOUBLED_WORDS.search(line) or DOUBLED_HAN.search(line)
            if doubled:
                self.fail(where, f"a doubled phrase “{doubled.group(0)}” in “{line.strip()[:120]}”")


# ------------------------------------------------------------------------------------------ real data


@dataclass
class Real:
    """What the real (not drill) data of the journeys holds, with the ids of its detail pages."""

    cases: list[int]
    contacts: list[int]
    assist_received: int
    alert: int
    person: int
    # A community with too few days of counts for an Rt estimate.
    community: int


DISPLAY_NAMES = {
    "investigator": "流调员 王敏",
    "surveillance_analyst": "监测员 李强",
    "command_centre": "指挥部 赵刚",
    "administrator": "管理员 周丽",
}


def _post(client, url: str, headers: dict[str, str], body: dict[str, Any]) -> Any:  # type: ignore[no-untyped-def]
    response = client.post(url, headers=headers, json=body)
    assert response.is_success, f"{url}: {response.status_code} {response.text[:500]}"
    return response.json()


def seed_real(client, world: World) -> Real:  # type: ignore[no-untyped-def]
    """Two cases of 西湖区 with their contacts, an assist request 海曙区 sends to 西湖区, and a week of case
    reports whose spike the county's detector turns into an alert: all through the API, as users make them."""
    from fangkong.core import clock
    from fangkong.core.models import User

    # People of a Chinese county have Chinese names, so that a Latin word on a page is the platform's own.
    with client.app.state.db.unit_of_work() as session:
        for user in session.query(User):
            place = "海曙区" if user.username.startswith("away") else "西湖区"
            user.display_name = place + DISPLAY_NAMES.get(user.role.value, "值班员")

    def day(before: int) -> str:
        return (clock.today() - dt.timedelta(days=before)).isoformat()

    home = token_for(client, "home_investigator")
    first = _post(client, "/api/tracing/cases", home, {
        "classification": "confirmed", "onset_date": day(4), "isolated_at": f"{day(2)}T10:00:00",
        "person": {"id_number": world.id_numbers[world.people[HOME_COUNTY][0]]},
    })  # fmt: skip
    second = _post(client, "/api/tracing/cases", home, {
        "classification": "asymptomatic", "sampling_date": day(1),
        "person": {"id_number": world.id_numbers[world.people[HOME_COUNTY][1]]},
    })  # fmt: skip
    contacts = _post(client, f"/api/tracing/cases/{first['id']}/exposures", home, {"exposures": [
        {"setting": "household", "start": f"{day(5)}T19:00:00",
         "person": {"id_number": world.id_numbers[world.people[HOME_COUNTY][2]]}},
        {"setting": "shared_meal", "start": f"{day(5)}T12:00:00", "end": f"{day(5)}T13:30:00",
         "person": {"name": "陈一", "phone": "13700000031"}},
    ]})  # fmt: skip

    away = token_for(client, "away_investigator")
    foreign = _post(client, "/api/tracing/cases", away, {
        "classification": "confirmed", "onset_date": day(3),
        "person": {"id_number": world.id_numbers[world.people[FOREIGN_COUNTY][0]]},
    })  # fmt: skip
    travelled = _post(client, f"/api/tracing/cases/{foreign['id']}/exposures", away, {"exposures": [
        {"setting": "shared_meal", "start": f"{day(4)}T18:00:00", "end": f"{day(4)}T20:00:00",
         "person": {"name": "林二", "phone": "13700000032", "residence_code": HOME_COUNTY}},
    ]})  # fmt: skip
    assist = _post(
        client, f"/api/tracing/contacts/{travelled[0]['id']}/assist", away, {"message": "请协查此人"}
    )

    analyst = token_for(client, "home_surveillance_analyst")
    channels = {c["code"]: c for c in client.get("/api/surveillance/channels", headers=analyst).json()}
    counts = (2, 3, 1, 2, 4, 2, 3)
    _post(client, "/api/surveillance/observations", analyst, {"observations": [
        {"channel": "case_reports", "jurisdiction": HOME_COUNTY, "date": day(20 - i),
         "value": 30 if i == 20 else counts[i % 7]} for i in range(21)
    ]})  # fmt: skip
    _post(client, "/api/surveillance/configs", analyst, {
        "channel_id": channels["case_reports"]["id"], "level": "county", "method": "ears_c1", "params": {},
    })  # fmt: skip
    run = _post(client, "/api/surveillance/runs", analyst, {})
    assert run["alerts_created"], run
    # Daily counts for Rt: three weeks for one community (an estimate), three days for another (too few).
    _post(client, "/api/modeling/case-counts", analyst, {"basis": "onset", "counts": [
        *({"jurisdiction": "330106001001", "date": day(21 - i), "local": 3 + i % 4} for i in range(21)),
        *({"jurisdiction": "330106001002", "date": day(3 - i), "local": 1} for i in range(3)),
    ]})  # fmt: skip
    return Real(
        cases=[int(first["id"]), int(second["id"])],
        contacts=[int(c["id"]) for c in contacts],
        assist_received=int(assist["id"]),
        alert=int(run["alerts_created"][0]),
        person=world.people[HOME_COUNTY][0],
        community=world.jurisdictions["330106001002"],
    )


def run_drill(client) -> int:  # type: ignore[no-untyped-def]
    """The command centre runs a drill of 西湖区 on autopilot to its end: cases, contacts, signals."""
    commander = token_for(client, "home_command_centre")
    drill = _post(client, "/api/modeling/drills", commander, {
        "people": 1200, "days": 14, "seed": 5, "realtime": False, "autopilot": True, "protocol_id": "cn-9",
    })  # fmt: skip
    report = _post(
        client, f"/api/modeling/drills/{drill['id']}/advance", commander, {"to_hours": 14 * 24 + 1}
    )
    assert report["finished"] and report["failed"] == 0, report
    assert drill["summary"]["cases"] >= 1, drill
    # The autopilot's work (reading residents, registering cases, feeding signals) is the drill's own,
    # never the commander's: the audit trail of a real person holds only what that person did.
    with client.app.state.db.unit_of_work() as session:
        done = session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor_id == world_user(session, "home_command_centre"))
        ).all()
    assert not [a for a in done if a.split(".")[0] in {"people", "cases", "surveillance", "assist"}], done
    return int(drill["id"])


def world_user(session, username: str) -> int:  # type: ignore[no-untyped-def]
    from fangkong.core.models import User

    return int(session.scalar(select(User.id).where(User.username == username)))


# ------------------------------------------------------------------------------------------ bad values


@dataclass(frozen=True)
class Bad:
    """A bad value for one form: what to type, where the message must sit, and how to send it."""

    fill: dict[str, str] = field(default_factory=dict)
    # The field whose message must sit beside it (None: the message is the form's own, or the file's).
    field: str | None = None
    button: str = "[type=submit]"
    # An empty required field or a number out of range: the browser's own check is set aside so that the
    # server's answer (the one every client gets) is what the user sees.
    novalidate: bool = False
    # CSV text for the form's file field.
    upload: str | None = None
    # A GET filter: the page comes back whole with what was typed; an error list is welcome, not needed.
    filter: bool = False


def _day(days: int) -> str:
    from fangkong.core import clock

    return (clock.today() + dt.timedelta(days=days)).isoformat()


# Every form of the journeys, by its action (ids as {id}), with the bad value it is sent with. A form the
# journeys meet that is not here fails the journey: a new form needs its bad value.
BAD: dict[str, Callable[[], Bad]] = {
    "GET /tracing": lambda: Bad({"since": _day(0), "until": _day(-10)}, filter=True),
    "GET /areas": lambda: Bad({"q": "不存在的风险区"}, filter=True),
    "POST /areas/doorstep/requests": lambda: Bad({"detail": "买药"}, "area_id"),
    "POST /areas/doorstep/departments": lambda: Bad({"name": " ", "phone": "0571"}, "name"),
    "POST /areas/checkpoint": lambda: Bad({"checkpoint": "杭州东站", "id_number": "123"}, "id_number"),
    "GET /tracing/cases": lambda: Bad({"q": "不存在的编号"}, filter=True),
    "GET /tracing/clusters": lambda: Bad({"min_size": "0"}, filter=True, novalidate=True),
    "GET /people": lambda: Bad({"q": "110101199003077777"}, filter=True),
    "GET /vaccination/doses": lambda: Bad({"id_number": "123", "lot": "不存在的批号"}, filter=True),
    "GET /surveillance": lambda: Bad({"as_of": "2099-01-01"}, filter=True),
    "GET /surveillance/alerts/stats": lambda: Bad({"start": _day(0), "end": _day(-30)}, filter=True),
    "GET /modeling/rt": lambda: Bad({"window": "0"}, filter=True, novalidate=True),
    "GET /audit": lambda: Bad({"object_id": "第三个", "start": "2099-01-01"}, filter=True),
    "POST /tracing/cases": lambda: Bad({"name": "冯十一", "onset_date": "2099-01-01"}, "onset_date"),
    "POST /tracing/cases/{id}/reclassify": lambda: Bad({"reason": ""}, "reason", novalidate=True),
    "POST /tracing/cases/{id}/update": lambda: Bad({"onset_date": "2099-01-01"}, "onset_date"),
    "POST /tracing/cases/{id}/exposures": lambda: Bad(
        {"name": "周三", "start": f"{_day(-2)}T10:00", "end": f"{_day(-3)}T10:00"}, "end"
    ),
    "POST /tracing/cases/{id}/visits": lambda: Bad(
        {"place_name": "联华超市", "start": f"{_day(-2)}T10:00", "end": f"{_day(-3)}T10:00"}, "end"
    ),
    "POST /tracing/cases/{id}/links": lambda: Bad({"infector_ref": "不存在-999"}, "infector_ref"),
    "POST /tracing/contacts/{id}/convert": lambda: Bad({"sampling_date": "2099-02-01"}, "sampling_date"),
    "POST /tracing/contacts/{id}/override": lambda: Bad({"reason": ""}, "reason", novalidate=True),
    "POST /tracing/contacts/{id}/assist": lambda: Bad(
        {"receiver_code": "", "message": "请协查"}, "receiver_code"
    ),
    "POST /tracing/assist/{id}": lambda: Bad({"reason": ""}, "reason", button="[data-testid=decline]"),
    "POST /tracing/import": lambda: Bad(
        {"kind": "cases"}, upload="病例编号,病例分类,发病日期\n甲-1,确诊,2022-07-05\n甲-2,大概,2022-07-05\n"
    ),
    "POST /surveillance/alerts/{id}/action": lambda: Bad(
        {"note": ""}, "note", button="[data-testid=dismiss]"
    ),
    "POST /surveillance/config/channels": lambda: Bad(
        {"code": "霍乱 病例!", "name": "霍乱病例", "unit": "例"}, "code"
    ),
    "POST /surveillance/config/detectors": lambda: Bad({"method": "ears_c1", "params": "alpha=7"}, "params"),
    "POST /surveillance/config/rules": lambda: Bad(
        {"name": "多渠道规则", "window_days": "500"}, "window_days", novalidate=True
    ),
    "POST /surveillance/data/upload": lambda: Bad(
        upload=f"监测渠道,地区编码,日期,数值\ncase_reports,{HOME_COUNTY},2022-13-01,3\n"
    ),
    "POST /modeling/rt/upload": lambda: Bad(upload="date,jurisdiction,local\n2024-03-01,330106001001,很多\n"),
    "POST /modeling/scenarios": lambda: Bad({"days": "0", "seeds": "一,二"}, "days", novalidate=True),
    "POST /modeling/drills": lambda: Bad({"name": "周末演练", "people": "5"}, "people", novalidate=True),
    "POST /people/import": lambda: Bad(
        upload=f"身份证号,姓名,社区编码\n110101199003077777,赵六,{HOME_COUNTY}001001\n"
    ),
    "POST /users": lambda: Bad(
        {"username": "xihu_new", "display_name": "新分析员", "password": "短"}, "password"
    ),
    "POST /quarantine/sites": lambda: Bad({"name": "新隔离点", "tier": "0"}, "tier", novalidate=True),
    "POST /quarantine/sites/{id}/postings": lambda: Bad(
        {"ends_on": "2000-01-01"}, "ends_on", novalidate=True
    ),
    "POST /quarantine/rule": lambda: Bad({"occupancy_percent": "150"}, "occupancy_percent", novalidate=True),
    "POST /quarantine/transfers": lambda: Bad({"seats": "0"}, "seats", novalidate=True),
    "POST /testing/sites/{id}/samplers": lambda: Bad({"ends_on": "2000-01-01"}, "ends_on", novalidate=True),
    "GET /testing/worklist": lambda: Bad({"day": "2099-01-01"}, filter=True),
    "GET /testing/planner": lambda: Bad({"prevalence": "150"}, filter=True, novalidate=True),
    "POST /testing/campaigns": lambda: Bad(
        {"name": "全员核酸", "deadline_hours": "0"}, "deadline_hours", novalidate=True
    ),
    "POST /testing/campaigns/{id}/stop": lambda: Bad({"reason": ""}, "reason", novalidate=True),
    "POST /testing/rounds/{id}/close": lambda: Bad(
        {"community_positives": "-1"}, "community_positives", novalidate=True
    ),
    "POST /testing/orders/{id}/sample": lambda: Bad({"barcode": ""}, "barcode", novalidate=True),
    "POST /testing/recalls/{id}/retest": lambda: Bad({"barcode": ""}, "barcode", novalidate=True),
    "POST /testing/lab": lambda: Bad(upload="条码,结果,检测时间\nT-1,大概,2022-07-05 10:00\n"),
    "GET /accountability": lambda: Bad({"weeks": "0"}, filter=True, novalidate=True),
    # No task ticked: nothing to assign the team to.
    "POST /tasks/bulk": lambda: Bad({"action": "assign"}),
    "POST /tasks/{id}/act": lambda: Bad({"evidence": ""}, "evidence", novalidate=True),
    "POST /tasks/templates/{code}": lambda: Bad({"minutes": "0"}, "minutes", novalidate=True),
    "POST /closure/{id}/{day}/publish": lambda: Bad({"reason": ""}, "reason", novalidate=True),
    "POST /closure/{id}/{day}/v{version}/sign-off": lambda: Bad(
        {"objectives": ""}, "objectives", novalidate=True
    ),
    "POST /resources/staff": lambda: Bad({"name": " ", "unit": "疾控中心"}, "name", novalidate=True),
    "POST /resources/staff/certify": lambda: Bad({"passed_on": "2099-01-01"}, "passed_on", novalidate=True),
    "POST /resources/teams": lambda: Bad({"name": " "}, "name", novalidate=True),
    "POST /resources/deployments": lambda: Bad(
        {"to_jurisdiction_code": "999999", "outbreak": "疫情", "commander": "指挥部"}, "to_jurisdiction_code"
    ),
    "POST /resources/supplies/receipts": lambda: Bad({"quantity": "0"}, "quantity", novalidate=True),
    "GET /resources/roster": lambda: Bad({"jurisdiction": "999999"}, filter=True),
    "POST /resources/roster/import": lambda: Bad(upload="人员编号,日期,班次\n1,2099-01-01,午班\n"),
    "POST /resources/training/courses": lambda: Bad({"title": " "}, "title", novalidate=True),
    "POST /resources/training/courses/{id}/sessions": lambda: Bad(
        {"held_on": "2099-01-01"}, "held_on", novalidate=True
    ),
    "POST /resources/training/sessions/{id}/results": lambda: Bad(
        {"exam_score": "120"}, "exam_score", novalidate=True
    ),
    "GET /resources/training/renewals": lambda: Bad({"jurisdiction": "999999"}, filter=True),
    "POST /privacy/rules": lambda: Bad({"period_days": "3"}, "period_days", novalidate=True),
    "POST /privacy/emergencies": lambda: Bad({"name": " "}, "name", novalidate=True),
    "POST /privacy/access": lambda: Bad({"person_id": "第一个", "reason": "other"}, "person_id"),
    "POST /privacy/access/{id}/review": lambda: Bad({"note": " "}, "note", novalidate=True),
    "POST /resources/supplies/transfers": lambda: Bad(
        {"to_jurisdiction_code": "330203", "quantity": "0"}, "quantity", novalidate=True
    ),
}


def _key(method: str, action: str) -> str:
    path = re.sub(r"/\d{4}-\d\d-\d\d(?=/|$)", "/{day}", action.split("?")[0])
    path = re.sub(r"/v\d+(?=/)", "/v{version}", path)
    path = re.sub(r"^/tasks/templates/[^/]+$", "/tasks/templates/{code}", path)
    path = re.sub(r"/\d+", "/{id}", path)
    return f"{method.upper()} {path}"


# ------------------------------------------------------------------------------------------ walking


def landing(live_server: str) -> re.Pattern[str]:
    """Where "/" lands: the overview, or the command dashboard for those who read it (issue 15)."""
    return re.compile("^" + re.escape(live_server) + r"/(dashboard)?$")


def login(page, live_server: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/login?next=/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(landing(live_server))


def switch_language(page, live_server: str, language: str) -> None:  # type: ignore[no-untyped-def]
    """The header's language link, as a user would."""
    page.goto(f"{live_server}/")
    page.click(f"[data-testid=lang-{language}]")
    page.wait_for_url(landing(live_server))
    assert page.locator("html").get_attribute("lang") == ("zh-CN" if language == "zh" else "en")


def visit(checker: Checker, live_server: str, path: str) -> None:
    page = checker.page
    response = page.goto(f"{live_server}{path}")
    if response is None or response.status != 200:
        checker.fail(path, f"answered {response.status if response else 'nothing'}")
    if page.locator("[hx-trigger*=load]").count():
        page.wait_for_load_state("networkidle")  # panels that load themselves
    checker.check(path)


def navigation(checker: Checker, live_server: str) -> list[str]:
    """Every page the role's navigation shows: the top bar, and each group's second row."""
    page = checker.page
    page.goto(f"{live_server}/")
    top = [str(a.get_attribute("href")) for a in page.locator("header.top nav a").all()]
    pages: list[str] = []
    for path in top:
        if path not in pages:
            pages.append(path)
        page.goto(f"{live_server}{path}")
        for a in page.locator("nav.subnav a").all():
            href = str(a.get_attribute("href"))
            if href not in pages:
                pages.append(href)
    return pages


def send_bad_values(checker: Checker, live_server: str, path: str, done: set[str]) -> None:
    """Send each form of the page not sent yet (each kind once a language) with its bad value."""
    page = checker.page
    fresh = True  # the page as visited: the first form is sent on it, the others on a new load each
    for index, form in enumerate(page.evaluate(FORMS_JS)):
        key = _key(form["method"], form["action"])
        if key in done or not form["typed"]:
            continue  # sent already, or only buttons and choices from a list: nothing typed can be wrong
        done.add(key)
        where = f"{path} form {key}"
        if key not in BAD:
            checker.fail(where, "a form with no bad value to try (add it to BAD)")
            continue
        if not fresh:
            page.goto(f"{live_server}{path}")
        fresh = False
        _send(checker, form_selector(form["action"], index, page), BAD[key](), where)


def form_selector(action: str, index: int, page) -> str:  # type: ignore[no-untyped-def]
    """A selector that finds the same form after the page changed under it (the n-th with its action)."""
    attribute = "hx-post" if page.locator(f"main form[hx-post='{action}']").count() else "action"
    forms = page.locator("main form")
    position = sum(1 for i in range(index) if forms.nth(i).get_attribute(attribute) == action)
    return f"main form[{attribute}='{action}'] >> nth={position}"


def _send(checker: Checker, selector: str, bad: Bad, where: str) -> None:
    page = checker.page
    form = page.locator(selector)
    # A form kept in a closed <details> is opened as a user would.
    form.evaluate("(f) => { const d = f.closest('details'); if (d) d.open = true; }")
    if bad.novalidate:
        form.evaluate("(f) => { f.noValidate = true; }")
    for name, value in bad.fill.items():
        target = form.locator(f"[name='{name}']:not([type=hidden])").last
        if target.evaluate("(e) => e.tagName") == "SELECT":
            target.select_option(value)
        else:
            target.fill(value)
    if bad.upload is not None:
        form.locator("input[type=file]").set_input_files(
            files=[{"name": "数据.csv", "mimeType": "text/csv", "buffer": bad.upload.encode()}]
        )
    typed = dict(form.evaluate(FIELDS_JS))
    get = bad.filter
    with checker.refusal():
        with page.expect_response(
            lambda r: (
                r.request.method == ("GET" if get else "POST")
                and r.request.resource_type in ("document", "xhr", "fetch")
            )
        ) as answer:
            form.locator(bad.button).first.click()
        page.wait_for_load_state()
        page.wait_for_function(SETTLED_JS)
        status = answer.value.status
        checker.check(where, typed=" ".join([*bad.fill.values(), bad.upload or ""]))
    if not get and status < 400:
        checker.fail(where, f"the bad value {bad.fill or 'file'} was accepted (answered {status})")
        return
    form = page.locator(selector)
    if form.count() == 0:
        checker.fail(where, "the form is gone after the bad value: what was typed is lost")
        return
    kept = dict(form.evaluate(FIELDS_JS))
    lost = {name: (value, kept.get(name)) for name, value in typed.items() if kept.get(name) != value}
    if lost:
        checker.fail(where, f"lost input (typed, now): {lost}")
    if get:
        if status >= 400 and not form.evaluate(SAID_JS):
            checker.fail(where, f"refused ({status}) with no message in the form")
        return
    if bad.field is not None:
        beside = form.locator(f".field-error[data-error-for='{bad.field}']")
        if beside.count() == 0 or not beside.first.is_visible() or not beside.first.inner_text().strip():
            checker.fail(where, f"no message beside {bad.field}")
    elif not form.evaluate(SAID_JS):
        checker.fail(where, "no message in the form (nor in the list of the file's bad rows after it)")


def walk(checker: Checker, live_server: str, pages: list[str]) -> None:
    """Every page, checked; and every form on it, sent with its bad value."""
    done: set[str] = set()
    for path in pages:
        visit(checker, live_server, path)
        send_bad_values(checker, live_server, path, done)


def figures(checker: Checker, live_server: str, pages: list[str]) -> dict[str, list[str]]:
    """The numbers each page shows in its main part, and the places its jurisdiction picker offers."""
    page = checker.page
    seen: dict[str, list[str]] = {}
    for path in pages:
        page.goto(f"{live_server}{path}")
        seen[path] = NUMBER.findall(page.locator("main").inner_text())
    seen["jurisdiction picker"] = page.locator("[data-testid=focus] option").all_inner_texts()
    return seen


# ------------------------------------------------------------------------------------------ the journeys


@dataclass(frozen=True)
class Journey:
    username: str
    # Detail pages the role's work leads to, from the real data's ids and the drill's.
    details: Callable[[Real, int], list[str]]
    # Pages of real figures, which must read the same before and after the drill.
    real_figures: tuple[str, ...] = ()
    # The tracing figures and the audit trail, checked against the seeded real data itself.
    real_counts: bool = False


JOURNEYS = {
    "investigator": Journey(
        "home_investigator",
        lambda real, drill: [
            f"/tracing/cases/{real.cases[0]}",
            f"/tracing/contacts/{real.contacts[1]}",
            f"/tracing/assist/{real.assist_received}",
            "/tracing/clusters",
            "/tracing/import",
            f"/surveillance/alerts/{real.alert}",
            f"/people/{real.person}",
        ],
        (
            "/",
            "/tracing",
            "/tracing/cases",
            "/tracing/contacts",
            "/tracing/assist",
            "/tracing/clusters",
            "/people",
            "/surveillance",
            "/surveillance/alerts",
        ),
        real_counts=True,
    ),
    "surveillance_analyst": Journey(
        "home_surveillance_analyst",
        lambda real, drill: [
            f"/surveillance/alerts/{real.alert}",
            "/surveillance/alerts/stats",
            "/surveillance/series",
            "/surveillance/data",
            f"/modeling/rt?jurisdiction_id={real.community}",
        ],
        ("/surveillance", "/surveillance/alerts", "/surveillance/data", "/modeling/rt"),
    ),
    "command_centre": Journey(
        "home_command_centre",
        lambda real, drill: [
            f"/tracing/cases/{real.cases[0]}",
            f"/tracing/contacts/{real.contacts[1]}",
            "/tracing/clusters",
            f"/surveillance/alerts/{real.alert}",
            "/surveillance/alerts/stats",
            "/surveillance/data",
            f"/people/{real.person}",
            f"/modeling/drills/{drill}",
        ],
        (
            "/",
            "/tracing",
            "/tracing/cases",
            "/tracing/contacts",
            "/tracing/clusters",
            "/people",
            "/surveillance",
            "/surveillance/alerts",
            "/surveillance/alerts/stats",
            "/surveillance/data",
            "/modeling/rt",
        ),
        real_counts=True,
    ),
    "quarantine_manager": Journey(
        "home_quarantine_manager",
        lambda real, drill: ["/quarantine/transfers", "/quarantine/history"],
        ("/quarantine", "/quarantine/to-place", "/quarantine/census"),
    ),
    "testing_coordinator": Journey(
        "home_testing_coordinator",
        lambda real, drill: ["/testing/recalls", "/testing/planner", f"/testing/people/{real.person}"],
        ("/testing", "/testing/worklist"),
    ),
    "laboratory": Journey(
        "home_laboratory",
        lambda real, drill: ["/testing/planner", "/testing/recalls"],
        ("/testing", "/testing/lab"),
    ),
    "administrator": Journey(
        "home_administrator",
        lambda real, drill: [
            f"/people/{real.person}",
            f"/surveillance/alerts/{real.alert}",
            f"/modeling/drills/{drill}",
        ],
        ("/", "/people", "/jurisdictions"),
    ),
}


def _in_language(checker: Checker, live_server: str, language: str) -> None:
    checker.language = language
    if checker.page.locator(f"[data-testid=lang-{language}]").count():
        switch_language(checker.page, live_server, language)


def real_counts(checker: Checker, live_server: str, real: Real, commander_id: int) -> None:
    """The figures the seeded real data alone gives, as the pages show them beside the finished drill."""
    page = checker.page
    page.goto(f"{live_server}/tracing")
    new_cases = page.locator("[data-testid=kpi-new-cases]").inner_text()
    if new_cases != str(len(real.cases)):
        checker.fail("/tracing", f"new cases {new_cases}, the real data has {len(real.cases)}")
    for path, table, rows in (
        ("/tracing/cases", "cases-table", len(real.cases)),
        ("/tracing/contacts", "contacts-table", len(real.contacts)),
    ):
        page.goto(f"{live_server}{path}")
        listed = page.locator(f"[data-testid={table}] tbody tr").count()
        if listed != rows:
            checker.fail(path, f"{listed} rows listed, the real data has {rows}")
    if checker.page.locator("header.top nav a[href='/audit']").count():
        # The drill's autopilot reads its residents' personal data as the drill, not as the commander.
        page.goto(f"{live_server}/audit?user={commander_id}&action=people.reveal")
        revealed = page.locator("[data-testid=audit-table] tbody tr").count()
        if revealed:
            checker.fail("/audit", f"{revealed} reveals of personal data in the commander's name")


@pytest.mark.parametrize("role", list(JOURNEYS))
def test_a_journey_through_the_pages_and_forms_in_both_languages_beside_a_drill(  # type: ignore[no-untyped-def]
    role: str, live_server: str, browser, client, world: World
) -> None:
    journey = JOURNEYS[role]
    real = seed_real(client, world)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    checker = Checker(page)
    try:
        login(page, live_server, journey.username)
        before: dict[str, dict[str, list[str]]] = {}
        for language in ("zh", "en"):
            _in_language(checker, live_server, language)
            before[language] = figures(checker, live_server, list(journey.real_figures))
        drill = run_drill(client)
        for language in ("zh", "en"):
            _in_language(checker, live_server, language)
            after = figures(checker, live_server, list(journey.real_figures))
            for path, numbers in after.items():
                if numbers != before[language][path]:
                    checker.fail(
                        path, f"real figures moved with the drill: {before[language][path]} → {numbers}"
                    )
            if journey.real_counts:
                real_counts(checker, live_server, real, world.users["home_command_centre"])
            pages = navigation(checker, live_server)
            walk(checker, live_server, pages + [p for p in journey.details(real, drill) if p not in pages])
    finally:
        context.close()
    assert not checker.problems, f"{len(checker.problems)} problems:\n" + "\n".join(checker.problems)
