import re
import pytest
from conftest import World, token_for
from protocol_switch_support import seed_contacts
pytestmark = [pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

def test_dbg(client, app, world: World, settings):
    seed_contacts(app, world, settings)
    headers = {**token_for(client, "home_administrator"), "accept": "text/html"}
    for lang in ("zh", "en"):
        client.cookies.set("fk_lang", lang)
        r = client.post("/protocols/switch", data={"protocol_id": "cn-9-20"}, headers=headers)
        block = r.text[r.text.find('data-testid="switch-preview"'):]
        block = block[:block.find('</form>')]
        print(re.sub(r"<[^>]+>", " ", block).split())
