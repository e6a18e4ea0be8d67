"""WhatsApp chats matched by the phone numbers the team's CRM holds (issue 15): each
connector's ``contact_phones`` on its CRM's own data model (a real Tryton, the Odoo fake on
both APIs and both sides of Odoo 19's ``mobile`` removal, the HubSpot fake), and end to
end through the CLI -- a person with an email and a mobile number made in the CRM, a
``followup crm sync``, then a WhatsApp export from that number turns the lead thread
``awaiting_us`` in ``followup scan``; a CRM that is down during the phone pull leaves the
numbers read before in place and says so."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.drafting.chats import match_chat
from assistant.services.app import Followup
from assistant.services.whatsapp import known_contacts
from assistant.settings import DATABASE_URL_ENV, load_settings
from assistant.storage import crm as crm_store
from connectors.crm import Person, Unavailable
from connectors.crm.hubspot import HubSpotCRM
from connectors.crm.odoo import OdooCRM
from connectors.crm.tryton import TrytonCRM
from tests.crm_team import REPS
from tests.fakes.hubspot import FakeHubSpot
from tests.fakes.odoo import FakeOdoo
from tests.test_whatsapp_sync import NOW, QUOTE_ID, _team
from tests.tryton import ADMIN_PASSWORD, Tryton

ROBERTO = "roberto@valvulasnorte.example"
CHAT_NUMBER = "\u202a+52 1 81 2233 4455\u202c"  # as an Android export writes an unsaved number
SECRET_ENV = "FOLLOWUP_TEST_CRM_SECRET"
ODOO_KEY = "6f646f6f2d6b65792d666f722d70686f6e6573"
HUBSPOT_TOKEN = "pat-na1-11111111-2222-4333-8444-555555555555"


# --- The team, the chat, the CLI -----------------------------------------------------------

@pytest.fixture
def team(tmp_path, monkeypatch):
    """A Maildir team (Roberto's quote, no [[contacts]], no phone in his mail) with a
    WhatsApp account; ``team(crm_section, secret)`` adds ``[crm]``: the settings' path."""
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)

    def make(crm_section: str, secret: str) -> Path:
        monkeypatch.setenv(SECRET_ENV, secret)
        root = _team(tmp_path, contacts="")
        settings = root / "settings.toml"
        with open(settings, "a", encoding="utf-8") as f:
            f.write("\n" + crm_section)
        return settings

    return make


def chat_from(settings: Path, number: str = CHAT_NUMBER, name: str = "a") -> None:
    """Ana's Spanish Android export of a chat with an unsaved number: her question, then
    the client's answer (a real reply, asking a question: not a holding reply)."""
    text = ("13/11/26, 9:00\u202fa.\u202fm. - Ana Pérez: Buen día, ¿recibió la cotización COT-2291?\n"
            f"13/11/26, 4:41\u202fp.\u202fm. - {number}: Sí, gracias. ¿El flete va incluido?\n")
    folder = settings.parent / "whatsapp" / "ana"
    (folder / f"Chat de WhatsApp con {name}.txt").write_text(text, encoding="utf-8")


def cli(settings: Path, *args: str):
    result = CliRunner().invoke(main, ["--config", str(settings), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def crm_sync(settings: Path, *extra: str) -> tuple[int, dict]:
    result = cli(settings, "crm", "sync", "--now", NOW, "--json", *extra)
    return result.exit_code, json.loads(result.stdout)


def status_of_quote(settings: Path) -> str:
    result = cli(settings, "scan", "--json", "--now", NOW)
    assert result.exit_code == 0, result.output
    return {t["quote_message_id"]: t for t in json.loads(result.stdout)["threads"]}[QUOTE_ID]["status"]


def the_chat_is_matched_after_the_crm_sync(settings: Path) -> dict:
    """Before the CRM sync the chat is set aside (no source knows the number); after it,
    the next mail sync matches it to Roberto and his thread waits on us."""
    chat_from(settings)
    first = cli(settings, "sync")
    assert first.exit_code == 0 and "1 chats apartados" in first.output, first.output
    assert status_of_quote(settings) != "awaiting_us"
    code, synced = crm_sync(settings)
    assert code == 0 and synced["error"] is None, synced
    assert synced["phones"] >= 1
    again = cli(settings, "sync")
    assert again.exit_code == 0 and "apartado" not in again.output, again.output
    assert status_of_quote(settings) == "awaiting_us"
    return synced


# --- Tryton (the real server, one for this module) ------------------------------------------

@pytest.fixture(scope="module")
def tryton_server(tryton_template):
    shm = Path("/dev/shm")
    base = Path(tempfile.mkdtemp(prefix="followup-tryton-phones-",
                                 dir=shm if shm.is_dir() and os.access(shm, os.W_OK) else None))
    server = Tryton(base, tryton_template)
    yield server
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


def party(tryton: Tryton, name: str, *mechanisms: dict) -> int:
    """A party made in Tryton as a person would, with its contact mechanisms."""
    made, = tryton.admin().model("party.party", "create", [
        {"name": name, "contact_mechanisms": [["create", list(mechanisms)]]}])
    return made


def test_tryton_reads_the_phone_and_mobile_mechanisms_of_the_party_with_the_email(tryton_server):
    party(tryton_server, "Gerardo Treviño",
          {"type": "email", "value": "Gerardo.Trevino@grupoindustrialrio.example"},
          {"type": "mobile", "value": "+52 81 1111 2222"},
          {"type": "phone", "value": "81 3333 4444"},
          {"type": "fax", "value": "81 5555 6666"},
          {"type": "mobile", "value": "+52 81 7777 8888"})
    admin = tryton_server.admin()
    old, = admin.model("party.contact_mechanism", "search", [("value", "=", "+52 81 7777 8888")])
    admin.model("party.contact_mechanism", "write", [old], {"active": False})  # archived
    # A company's party holding two people's emails: each email's numbers by the name.
    party(tryton_server, "Lonestar Fab",
          {"type": "email", "value": "megan@lonestarfab.example", "name": "Megan Doyle"},
          {"type": "email", "value": "raul@lonestarfab.example", "name": "Raúl Quiroga"},
          {"type": "mobile", "value": "+1 415 555 0147", "name": "Megan Doyle"},
          {"type": "phone", "value": "+1 415 555 0100"})  # the switchboard: nobody's
    party(tryton_server, "Decoy", {"type": "email", "value": "juanXperez@decoy.example"},
          {"type": "mobile", "value": "+52 55 1234 5678"})
    crm = TrytonCRM(tryton_server.url, tryton_server.database, "admin", ADMIN_PASSWORD)
    phones = crm.contact_phones(["gerardo.trevino@grupoindustrialrio.example",
                                 "MEGAN@lonestarfab.example", "raul@lonestarfab.example",
                                 "juan_perez@decoy.example", "nobody@nowhere.example"])
    crm.close()
    assert phones == {"gerardo.trevino@grupoindustrialrio.example": ["+52 81 1111 2222", "81 3333 4444"],
                      "megan@lonestarfab.example": ["+1 415 555 0147"]}


def test_tryton_after_crm_sync_a_chat_from_the_partys_mobile_awaits_us(team, tryton_server):
    party(tryton_server, "Roberto Salinas", {"type": "email", "value": ROBERTO},
          {"type": "mobile", "value": "81 2233 4455"})  # no country code: read in MX
    settings = team(f'[crm]\nkind = "tryton"\nurl = "{tryton_server.url}"\n'
                    f'database = "{tryton_server.database}"\nusername = "admin"\n'
                    f'password_env = "{SECRET_ENV}"\n', ADMIN_PASSWORD)
    synced = the_chat_is_matched_after_the_crm_sync(settings)
    assert synced["phones"] == 1
    status = cli(settings, "crm", "status")
    assert "Teléfonos del CRM: 1 (leídos " in status.output
    # Followup's person is the party Tryton already had (found by its email), not a new one.
    admin = tryton_server.admin()
    assert len(admin.model("party.contact_mechanism", "search",
                           [("type", "=", "email"), ("value", "=", ROBERTO)])) == 1


# --- Odoo (the fake, both APIs; Odoo 19 has no res.partner.mobile) ---------------------------

@pytest.fixture(params=[("json2", False), ("xmlrpc", True)], ids=["json2-odoo19", "xmlrpc-odoo18"])
def odoo(request):
    api, mobile = request.param
    fake = FakeOdoo(ODOO_KEY, mobile=mobile)
    for login, name in REPS:
        fake.add_user(login, name)
    fake.api = api
    yield fake
    fake.stop()


def odoo_crm(odoo) -> OdooCRM:
    return OdooCRM(odoo.url, "acme", ODOO_KEY, api=odoo.api, login="followup", timeout=5)


def partner(odoo, **values) -> int:
    """A contact made in Odoo as a person would."""
    made, = odoo.call("res.partner", "create", {"vals_list": [values]})
    return made


def test_odoo_reads_phone_and_mobile_where_the_version_has_mobile(odoo):
    company = partner(odoo, name="Grupo Industrial Río", is_company=True, phone="+52 81 9999 0000")
    numbers = {"phone": "+52 81 1111 2222", **({"mobile": "81 3333 4444"} if odoo.api == "xmlrpc" else {})}
    partner(odoo, name="Gerardo", email="Gerardo@GrupoIndustrialRio.example", parent_id=company, **numbers)
    partner(odoo, name="Juan", email="juanXperez@decoy.example", phone="+52 55 1234 5678")
    partner(odoo, name="Sin teléfono", email="nadie@grupoindustrialrio.example")
    crm = odoo_crm(odoo)
    phones = crm.contact_phones(["gerardo@grupoindustrialrio.example", "juan_perez@decoy.example",
                                 "nadie@grupoindustrialrio.example"])
    assert phones == {"gerardo@grupoindustrialrio.example": list(numbers.values())}
    assert odoo.calls.count("res.partner.fields_get") == 1
    crm.contact_phones(["gerardo@grupoindustrialrio.example"])
    assert odoo.calls.count("res.partner.fields_get") == 1  # asked once per connection
    if odoo.api == "json2":  # Odoo 19: asking for mobile is an error, so it is never asked
        with pytest.raises(Exception, match="Invalid field 'mobile'"):
            odoo.call("res.partner", "search_read", {"domain": [], "fields": ["mobile"]})


def test_odoo_after_crm_sync_a_chat_from_the_partners_number_awaits_us(team, odoo):
    field = "mobile" if odoo.api == "xmlrpc" else "phone"
    partner(odoo, name="Roberto Salinas", email=ROBERTO, **{field: "+52 81 2233 4455"})
    xmlrpc = 'api = "xmlrpc"\nusername = "followup"\n' if odoo.api == "xmlrpc" else ""
    settings = team(f'[crm]\nkind = "odoo"\nurl = "{odoo.url}"\ndatabase = "acme"\n'
                    f'api_key_env = "{SECRET_ENV}"\n{xmlrpc}', ODOO_KEY)
    assert the_chat_is_matched_after_the_crm_sync(settings)["phones"] == 1
    assert odoo.apis == {odoo.api}


# --- HubSpot (the fake) --------------------------------------------------------------------

@pytest.fixture
def hubspot():
    fake = FakeHubSpot(HUBSPOT_TOKEN, owners=REPS)
    yield fake
    fake.stop()


def hubspot_section(hubspot) -> str:
    return f'[crm]\nkind = "hubspot"\nurl = "{hubspot.url}"\napi_key_env = "{SECRET_ENV}"\n'


def test_hubspot_reads_phone_and_mobilephone_of_the_contacts_with_the_emails(hubspot):
    hubspot.create("contacts", {"email": "gerardo@grupoindustrialrio.example",
                                "phone": "+52 81 1111 2222", "mobilephone": "81 3333 4444"})
    hubspot.create("contacts", {"email": "megan@harbor.example", "mobilephone": "+1 415 555 0147"})
    hubspot.create("contacts", {"email": "nadie@grupoindustrialrio.example"})
    crm = HubSpotCRM(hubspot.url, HUBSPOT_TOKEN)
    emails = [f"contact{n}@example.com" for n in range(150)] + [
        "Gerardo@GrupoIndustrialRio.example", "megan@harbor.example", "nadie@grupoindustrialrio.example"]
    assert crm.contact_phones(emails) == {
        "gerardo@grupoindustrialrio.example": ["+52 81 1111 2222", "81 3333 4444"],
        "megan@harbor.example": ["+1 415 555 0147"]}
    assert hubspot.calls.count("POST /crm/v3/objects/contacts/search") == 2  # 153 addresses, 100 a search


def test_hubspot_after_crm_sync_a_chat_from_the_contacts_mobile_awaits_us(team, hubspot):
    hubspot.create("contacts", {"email": ROBERTO, "firstname": "Roberto",
                                "mobilephone": "+52 81 2233 4455"})
    settings = team(hubspot_section(hubspot), HUBSPOT_TOKEN)
    assert the_chat_is_matched_after_the_crm_sync(settings)["phones"] == 1
    robertos = [c for c in hubspot.objects["contacts"].values() if c["properties"]["email"] == ROBERTO]
    assert len(robertos) == 1  # the deal's contact is the one HubSpot had


def test_a_crm_down_during_the_phone_pull_keeps_the_numbers_read_before_and_says_so(team, hubspot):
    contact = hubspot.create("contacts", {"email": ROBERTO, "mobilephone": "+52 81 2233 4455"})
    settings = team(hubspot_section(hubspot), HUBSPOT_TOKEN)
    assert cli(settings, "sync").exit_code == 0  # the mail: Roberto's lead thread
    code, first = crm_sync(settings)
    assert code == 0 and first["phones"] == 1
    hubspot.update("contacts", contact["id"], {"mobilephone": "+52 81 8765 4321"})
    hubspot.failing["/crm/v3/objects/contacts/search"] = 503  # only the phone pull fails
    result = cli(settings, "crm", "sync", "--now", NOW, "--retry")
    assert result.exit_code == 1
    assert "no se leyeron del CRM los teléfonos de los contactos (HubSpot at" in result.output
    assert "los chats de WhatsApp se relacionan con los leídos antes" in result.output
    status = json.loads(cli(settings, "crm", "status", "--json").stdout)
    assert "no se leyeron del CRM los teléfonos" in status["last_error"] and status["phones"] == 1
    engine = Followup.open(load_settings(settings)).engine
    with engine.connect() as conn:
        assert crm_store.phones(conn) == {ROBERTO: ["+52 81 2233 4455"]}
    # The chat from the number read before is still Roberto's.
    chat_from(settings)
    assert "apartado" not in cli(settings, "sync").output
    assert status_of_quote(settings) == "awaiting_us"
    # HubSpot back: the next sync reads the new number in place of the old one.
    hubspot.failing.clear()
    code, back = crm_sync(settings, "--retry")
    assert code == 0 and back["error"] is None and back["phones"] == 1
    with engine.connect() as conn:
        assert crm_store.phones(conn) == {ROBERTO: ["+52 81 8765 4321"]}


def test_a_crm_refusing_the_phone_read_is_a_warning_and_the_sync_stands(team, hubspot):
    hubspot.create("contacts", {"email": ROBERTO, "mobilephone": "+52 81 2233 4455"})
    settings = team(hubspot_section(hubspot), HUBSPOT_TOKEN)
    assert cli(settings, "sync").exit_code == 0
    assert crm_sync(settings)[1]["phones"] == 1
    hubspot.failing["/crm/v3/objects/contacts/search"] = 400
    code, refused = crm_sync(settings)
    assert code == 0 and refused["error"] is None and refused["phones"] is None
    warning, = refused["warnings"]
    assert warning.startswith("no se leyeron del CRM los teléfonos de los contactos (HubSpot refused")
    status = json.loads(cli(settings, "crm", "status", "--json").stdout)
    assert status["phones"] == 1 and status["last_error"] is None


def test_a_connector_error_from_the_phone_read_is_the_error_trees(hubspot):
    hubspot.outage = 502
    with pytest.raises(Unavailable, match="HTTP 502"):
        HubSpotCRM(hubspot.url, HUBSPOT_TOKEN).contact_phones([ROBERTO])


# --- Precedence: [[contacts]], then the CRM, then the signature ------------------------------

def test_contacts_entry_wins_over_the_crm_and_the_crm_over_a_signature(tmp_path, monkeypatch):
    """One number, three sources naming three people: whose it is follows the order."""
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    root = _team(tmp_path, contacts="")  # Megan signs her mail with +1 (415) 555-0147
    settings_path = root / "settings.toml"
    assert cli(settings_path, "sync").exit_code == 0
    settings = load_settings(settings_path)
    engine = Followup.open(settings).engine

    def whose(number: str, settings=settings) -> str | None:
        return match_chat(None, ["Ana Pérez", number], me=["Ana Pérez"],
                          contacts=known_contacts(settings, engine), region="MX").contact

    assert whose("+1 (415) 555-0147") == "megan@harbor.example"  # her signature
    with engine.begin() as conn:
        crm_store.replace_phones(conn, {ROBERTO: ["+1 415 555 0147"]}, datetime.fromisoformat(NOW))
    assert whose("+1 (415) 555-0147") == "megan@harbor.example"  # no [crm]: its numbers left out

    def add(text: str):
        with open(settings_path, "a", encoding="utf-8") as f:
            f.write(text)
        return load_settings(settings_path)

    with_crm = add(f'\n[crm]\nkind = "hubspot"\napi_key_env = "{SECRET_ENV}"\n')
    assert whose("+1 (415) 555-0147", with_crm) == ROBERTO  # the CRM says it is Roberto's
    explicit = add('\n[[contacts]]\nemail = "compras@valvulasnorte.example"\nphone = "+1 415 555 0147"\n')
    assert whose("+1 (415) 555-0147", explicit) == "compras@valvulasnorte.example"
    assert whose("81 2233 4455", explicit) is None


def test_the_phone_read_writes_nothing_in_odoo(odoo):
    """The read writes nothing: the CRM's records are as they were."""
    crm = odoo_crm(odoo)
    crm.upsert_person(Person(ROBERTO, "Roberto Salinas"))
    before = json.dumps(odoo.models, sort_keys=True)
    crm.contact_phones([ROBERTO])
    assert json.dumps(odoo.models, sort_keys=True) == before
