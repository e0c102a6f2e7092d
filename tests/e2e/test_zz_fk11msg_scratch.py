import re
from conftest import World, token_for
from test_tracing_pages import _seed

def _visible(page: str) -> str:
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.DOTALL)
    page = re.sub(r"<(select)\b.*?</\1>", " ", page, flags=re.DOTALL)
    return re.sub(r"<[^>]+>", " ", page)

def test_scan(client, world: World):
    ids = _seed(client, world)
    for user, urls in {
        "home_investigator": ["/tracing", "/tracing/cases", f"/tracing/cases/{ids['case']}", f"/tracing/cases/{ids['second']}", "/tracing/contacts",
            f"/tracing/contacts/{ids['contact']}", "/tracing/assist?box=sent", f"/tracing/assist/{ids['request']}", "/tracing/import", "/tracing/clusters", "/people"],
        "away_investigator": ["/tracing/assist?box=received", f"/tracing/assist/{ids['request']}"],
        "home_surveillance_analyst": ["/surveillance", "/surveillance/alerts", "/surveillance/config", "/surveillance/data", "/surveillance/series"],
        "home_command_centre": ["/protocols", "/modeling/rt", "/modeling/scenarios", "/modeling/drills", "/"],
        "home_administrator": ["/users", "/audit", "/jurisdictions"],
    }.items():
        h = {**token_for(client, user), "Cookie": "fk_lang=en"}
        for url in urls:
            r = client.get(url, headers=h)
            words = sorted(set(re.findall(r"[a-z]+_[a-z_]+", _visible(r.text))))
            print(r.status_code, url, words[:60])
            if url in ("/modeling/scenarios", "/protocols", "/surveillance/config"):
                text = re.sub(r"\s+", " ", _visible(r.text))
                for w in ("none", "quarantine", "release", "neighbours", "isolation", "amended"):
                    for m in re.finditer(w, text):
                        print("   ", w, "::", text[max(0, m.start()-80): m.end()+60])
                        break
