"""The web app shows people by name (issue 14, item 5): the queue, a follow-up, a thread
and the team page name each contact, owner and assignee, with the address as a second
line and the title; a contact with no name shows the address only, and nothing is named
after the mail domain. Real SQLite, the real Flask app and planner."""

from __future__ import annotations

import html
import re

import pytest

from assistant.demo.pipeline import demo_passwords
from assistant.services.planning import plan
from assistant.services.review import list_followups
from assistant.services.scan import open_store
from assistant.services.sync import sync
from assistant.services.pages import thread_slug
from assistant.settings import load_settings
from tests.people_team import NOW, write_team
from tests.webapp import WebEnv, app_for


@pytest.fixture
def people_web(tmp_path):
    settings = load_settings(write_team(tmp_path), environ={})
    engine = open_store(settings)
    sync(settings, engine)
    plan(settings, engine, NOW)
    demo_passwords(settings, engine, NOW)
    yield WebEnv(tmp_path, settings, engine, NOW, app_for(settings, engine, NOW))
    engine.dispose()


def _person(page: str, name: str, address: str) -> bool:
    """``name`` shown with ``address`` as its title and secondary line."""
    pattern = (rf'<span class="person" title="{re.escape(address)}"><span class="pname">'
               rf'{re.escape(name)}</span> <span class="paddr">{re.escape(address)}</span></span>')
    return re.search(pattern, page) is not None


@pytest.mark.parametrize("lang", ["en", "es"])
def test_pages_name_people_with_their_address_as_second_line(people_web, lang):
    rep = people_web.client("ana@acerosbajio.example", lang=lang)
    queue = html.unescape(rep.get("/followups").text)
    assert _person(queue, "Raúl Quiroga", "rquiroga@barandalesmx.example")
    assert _person(queue, "Diego Ramírez", "diego@constructoranorte.example")
    assert ('<span class="person" title="compras@aceroslozano.example"><span class="paddr only">'
            'compras@aceroslozano.example</span></span>') in queue
    assert "Barandalesmx" not in queue and "Aceroslozano" not in queue

    raul = next(r for r in list_followups(people_web.engine) if r.contact == "rquiroga@barandalesmx.example")
    page = html.unescape(rep.get(f"/followups/{raul.id}").text)
    assert _person(page, "Raúl Quiroga", "rquiroga@barandalesmx.example")
    assert _person(page, "Ana Pérez", "ana@acerosbajio.example")        # the timeline's sender

    thread = html.unescape(rep.get(f"/threads/{thread_slug(raul.quote_message_id)}").text)
    assert _person(thread, "Ana Pérez", "ana@acerosbajio.example")      # the owner
    assert _person(thread, "Raúl Quiroga", "rquiroga@barandalesmx.example")

    manager = people_web.client("marta@acerosbajio.example", lang=lang)
    team = html.unescape(manager.get("/team").text)
    assert _person(team, "Ana Pérez", "ana@acerosbajio.example")
    assert "ana@acerosbajio.example</h3>" not in team


def test_the_digest_names_contacts_above_their_address(people_web):
    from assistant.services.digest import build_digests

    [digest] = build_digests(people_web.settings, people_web.engine, NOW)
    # Digest v2's text tables: the contact's name under the subject, the address whole on
    # a line of its own under the row (never cut after a dot into a narrow column).
    lines = [line.strip() for line in digest.text.splitlines()]
    assert lines[lines.index("Raúl Quiroga") + 1] == "rquiroga@barandalesmx.example"
    assert "diego@constructoranorte.example" in lines and "Diego Ramírez" in lines
    assert "compras@aceroslozano.example" in lines                 # no name: the address alone
    page = html.unescape(digest.html)
    assert re.search(r'<span style="[^"]*">Raúl Quiroga</span><br><span class="addr" style="[^"]*">'
                     r'rquiroga@barandalesmx\.example</span>', page)
    assert re.search(r'<br><span class="addr" style="[^"]*">compras@aceroslozano\.example</span>', page)
    assert not re.search(r'<span style="[^"]*">[^<]*</span><br><span class="addr" style="[^"]*">'
                         r'compras@aceroslozano\.example', page)
    assert "Ana Pérez" in digest.text and "Barandalesmx" not in digest.text


def test_page_names_fall_back_to_the_newest_signatures(people_web):
    from assistant.drafting.contacts import Identity
    from assistant.services import people

    # No thread given: no To names to read; Raúl sends as bare "rquiroga" and signs.
    found = people.names(people_web.settings, people_web.engine,
                         ["RQuiroga@barandalesmx.example", "compras@aceroslozano.example",
                          "marta@acerosbajio.example"])
    assert found == {"rquiroga@barandalesmx.example": Identity("Raúl Quiroga", "Barandales MX"),
                     "compras@aceroslozano.example": Identity(None, None),
                     "marta@acerosbajio.example": Identity("Marta Garza", "Aceros del Bajío")}
