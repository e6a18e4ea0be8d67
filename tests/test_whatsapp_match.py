"""WhatsApp accounts and ``[[contacts]]`` in settings.toml; which contact a chat is with
(pure); the connector's cursor (a real folder of export files)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.drafting.chats import KnownContact, match_chat
from assistant.services.whatsapp import date_order_of, message_key
from assistant.settings import Contact, load_settings
from connectors.base import ConfigurationError
from connectors.whatsapp import WhatsAppConnector
from tests.test_settings import BASE, load_error, write

FIXTURES = Path(__file__).parent / "fixtures" / "whatsapp"

WHATSAPP = '''
[[accounts]]
name = "ana-wa"
kind = "whatsapp"
owner = "ana@acme.example"
path = "whatsapp/ana"
'''

CONTACTS = '''
[[contacts]]
email = "Roberto@ValvulasNorte.example"
name = "Roberto Salinas"
company = "Válvulas del Norte"
phone = "+52 81 1234 5678"
formal = true

[[contacts]]
email = "megan@harbor.example"
'''


# --- Settings ----------------------------------------------------------------------------

def test_a_whatsapp_account_and_contacts_load(tmp_path):
    settings = load_settings(write(tmp_path, BASE + WHATSAPP + CONTACTS), environ={})
    account = settings.account("ana-wa")
    assert (account.kind, account.path, account.owner, account.me, account.date_order) == (
        "whatsapp", tmp_path / "whatsapp" / "ana", "ana@acme.example", None, None)
    assert settings.contacts == (
        Contact("roberto@valvulasnorte.example", "Roberto Salinas", "Válvulas del Norte",
                "+52 81 1234 5678", True),
        Contact("megan@harbor.example"))
    # No drafts go to a chat export folder: the owner's mailbox is the maildir one.
    assert [a.name for a in settings.accounts_of("ana@acme.example")] == ["ana"]
    assert date_order_of(settings, account) == "day_first"  # digest.language defaults to es


def test_date_order_follows_the_setting_then_the_teams_language(tmp_path):
    text = BASE + WHATSAPP.replace('path = "whatsapp/ana"',
                                   'path = "whatsapp/ana"\nme = "Ana P."\ndate_order = "month_first"')
    settings = load_settings(write(tmp_path, text), environ={})
    assert (settings.account("ana-wa").me, date_order_of(settings, settings.account("ana-wa"))) == (
        "Ana P.", "month_first")
    english = load_settings(write(tmp_path, BASE + WHATSAPP + '\n[digest]\nlanguage = "en"\n'), environ={})
    assert date_order_of(english, english.account("ana-wa")) == "month_first"


@pytest.mark.parametrize("old, new, key, in_fix", [
    ('owner = "ana@acme.example"\npath = "whatsapp/ana"', 'path = "whatsapp/ana"',
     "accounts[2].owner", 'me = "Ana Pérez"'),
    ('path = "whatsapp/ana"', 'path = "whatsapp/ana"\ndate_order = "dmy"',
     "accounts[2].date_order", "day_first"),
    ('path = "whatsapp/ana"', 'path = "whatsapp/ana"\nfolders = ["x"]',
     "accounts[2].folders", "remove folders"),
])
def test_whatsapp_account_mistakes(tmp_path, old, new, key, in_fix):
    err = load_error(tmp_path, BASE + WHATSAPP.replace(old, new))
    assert err.key == key and in_fix in err.fix


@pytest.mark.parametrize("old, new, key, in_fix", [
    ('email = "megan@harbor.example"', 'name = "Megan"', "contacts[2].email", "email"),
    ('phone = "+52 81 1234 5678"', 'phone = "call me"', "contacts[1].phone", "+52"),
    ('email = "megan@harbor.example"', 'email = "roberto@valvulasnorte.example"',
     "contacts[2].email", "once"),
    ("formal = true", "formal = true\nwhatsapp = true", "contacts[1].whatsapp", ""),
])
def test_contacts_mistakes(tmp_path, old, new, key, in_fix):
    err = load_error(tmp_path, BASE + CONTACTS.replace(old, new))
    assert err.key == key and in_fix in err.fix


# --- Matching (pure) ---------------------------------------------------------------------

KNOWN = [KnownContact("roberto@valvulasnorte.example", ("Roberto Salinas",), ("+528112345678",)),
         KnownContact("megan@harbor.example", ("Megan Doyle",), ("+14155550147",))]


@pytest.mark.parametrize("title, senders, expected", [
    (None, ["Ana Pérez", "\u202a+52 1 81 1234 5678\u202c"], "roberto@valvulasnorte.example"),
    (None, ["Ana Perez", "81 1234 5678"], "roberto@valvulasnorte.example"),  # no country code: MX
    (None, ["ana pérez", "roberto  SALINAS"], "roberto@valvulasnorte.example"),
    ("Megan Doyle", ["Ana Pérez"], "megan@harbor.example"),  # only the rep wrote: the file's name
    (None, ["+1 (415) 555-0147"], "megan@harbor.example"),   # only the client wrote
])
def test_a_chat_matches_one_contact(title, senders, expected):
    match = match_chat(title, senders, me=["Ana Pérez"], contacts=KNOWN, region="MX")
    assert (match.contact, match.reason) == (expected, None)
    assert match.rep_senders == {s for s in senders if s.lower().startswith("ana")}


def test_a_chat_matching_nobody_or_two_contacts_is_not_guessed():
    nobody = match_chat("Luis", ["Ana Pérez", "Luis Ortega"], me=["Ana Pérez"], contacts=KNOWN, region="MX")
    assert (nobody.contact, nobody.reason, nobody.values) == (None, "whatsapp.no_contact",
                                                              {"who": "Luis Ortega, Luis"})
    both = match_chat(None, ["Ana Pérez", "Megan Doyle", "+52 81 1234 5678"], me=["Ana Pérez"],
                      contacts=KNOWN, region="MX")
    assert (both.contact, both.reason) == (None, "whatsapp.several")
    assert both.values["emails"] == "megan@harbor.example, roberto@valvulasnorte.example"


def test_a_chat_without_the_rep_among_several_senders_is_set_aside():
    match = match_chat(None, ["Ana P.", "Roberto Salinas"], me=["Ana Pérez"], contacts=KNOWN, region="MX")
    assert (match.contact, match.reason) == (None, "whatsapp.no_rep")


def test_the_message_key_is_stable_and_tells_messages_apart():
    from datetime import datetime, timezone

    at = datetime(2026, 11, 13, 22, 41, tzinfo=timezone.utc)
    key = message_key("roberto@valvulasnorte.example", at, "Roberto Salinas", "ok")
    assert key == message_key("Roberto@ValvulasNorte.example", at, "Roberto Salinas", "ok")
    assert key != message_key("roberto@valvulasnorte.example", at, "Roberto Salinas", "ok.")
    assert key != message_key("megan@harbor.example", at, "Roberto Salinas", "ok")
    # The same "ok" twice in one minute: two messages.
    assert key == message_key("roberto@valvulasnorte.example", at, "Roberto Salinas", "ok", 1)
    assert key != message_key("roberto@valvulasnorte.example", at, "Roberto Salinas", "ok", 2)


# --- The connector's cursor --------------------------------------------------------------

def test_the_cursor_skips_unchanged_files_and_rereads_a_grown_or_forgotten_one(tmp_path):
    folder = tmp_path / "wa"
    (folder / "old").mkdir(parents=True)
    shutil.copy(FIXTURES / "es-iphone-_chat.txt", folder / "old" / "es.txt")
    shutil.copy(FIXTURES / "en-iphone-_chat.txt", folder / "en.txt")
    (folder / "notes.md").write_text("not an export")
    (folder / "broken.txt").write_text("no dates here\n")
    connector = WhatsAppConnector(folder)
    first = list(connector.fetch(None))
    assert [(e.provider_id, e.chat is not None) for e in first] == [
        ("broken.txt", False), ("en.txt", True), ("old/es.txt", True)]
    assert "date header" in first[0].error
    cursor = None
    for export in first:
        cursor = connector.cursor_after(cursor, export, keep=export.chat is not None)
    assert [e.provider_id for e in connector.fetch(cursor)] == ["broken.txt"]  # forgotten: re-read
    with open(folder / "en.txt", "a", encoding="utf-8") as fh:
        fh.write("[11/22/26, 9:00:00 AM] Megan Doyle: Any news?\n")
    again = [e for e in connector.fetch(cursor) if e.chat is not None]
    assert [e.provider_id for e in again] == ["en.txt"] and len(again[0].chat.messages) == 7
    with pytest.raises(ConfigurationError):
        list(connector.fetch('{"v": 1, "kind": "mbox"}'))
    with pytest.raises(ConfigurationError, match="not found"):
        WhatsAppConnector(tmp_path / "missing")
    assert connector.probe().startswith("3 export files")


def test_a_number_is_whose_the_first_source_that_knows_it_says():
    """[[contacts]] wins over the CRM, the CRM over a signature; the same source naming two
    contacts is not guessed at."""
    number = "+528112345678"
    ana = ["Ana Pérez"]

    def whose(*contacts: KnownContact) -> tuple[str | None, str | None]:
        match = match_chat(None, ["Ana Pérez", "81 1234 5678"], me=ana, contacts=contacts, region="MX")
        return match.contact, match.reason

    signed = KnownContact("firma@valvulasnorte.example", signature_phones=(number,))
    in_crm = KnownContact("crm@valvulasnorte.example", crm_phones=(number,))
    mapped = KnownContact("compras@valvulasnorte.example", phones=(number,))
    assert whose(signed) == ("firma@valvulasnorte.example", None)
    assert whose(signed, in_crm) == ("crm@valvulasnorte.example", None)
    assert whose(signed, in_crm, mapped) == ("compras@valvulasnorte.example", None)
    assert whose(in_crm, KnownContact("otro@valvulasnorte.example", crm_phones=(number,))) == (
        None, "whatsapp.several")
    # A contact's other numbers still count: precedence settles one number, not a contact.
    both = KnownContact("compras@valvulasnorte.example", phones=("+528187654321",),
                        crm_phones=(number,))
    assert whose(both, signed) == ("compras@valvulasnorte.example", None)
