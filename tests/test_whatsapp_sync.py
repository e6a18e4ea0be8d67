"""WhatsApp chat exports end to end, through the real CLI on a temporary settings.toml with
a Maildir account and a WhatsApp account (real SQLite file): a client's WhatsApp answer
turns its quote thread ``awaiting_us``; a re-exported chat adds only what is new; a chat
no contact matches is set aside, listed, and taken once the settings name its contact."""

from __future__ import annotations

import json
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest

from tests.builders import local, raw_message
from tests.test_pipeline import run

FIXTURES = Path(__file__).parent / "fixtures" / "whatsapp"
ES_ANDROID = FIXTURES / "Chat de WhatsApp con Roberto Salinas.txt"
EN_ANDROID = FIXTURES / "WhatsApp Chat with +1 (415) 555-0147.txt"
EN_IPHONE = FIXTURES / "en-iphone-_chat.txt"
QUOTE_ID = "<cot-2291.1@acme.example>"
PROPOSAL_ID = "<prop-88.1@acme.example>"
NOW = "2026-11-16T15:00:00+00:00"

SETTINGS = """\
[company]
name = "Acme"
domains = ["acme.example"]

[team]
timezone = "America/Mexico_City"

[[team.members]]
email = "ana@acme.example"
name = "Ana Pérez"
role = "account_executive"

[[accounts]]
name = "ana"
kind = "maildir"
owner = "ana@acme.example"
path = "mail/ana"

[[accounts]]
name = "ana-whatsapp"
kind = "whatsapp"
owner = "ana@acme.example"
path = "whatsapp/ana"

[protocol]
holidays_country = "MX"
send_window_start = "09:00"
responsible_role = "owner"
auto_send = false

[[protocol.steps]]
after_days = 2
channel = "email"
template = "followup_1"

[[protocol.steps]]
after_days = 3
channel = "whatsapp"
template = "whatsapp_1"

[storage]
url = "sqlite:///followup.db"
{contacts}"""

ROBERTO = """
[[contacts]]
email = "roberto@valvulasnorte.example"
name = "Roberto Salinas"
company = "Válvulas del Norte"
"""


def _team(tmp_path: Path, contacts: str = ROBERTO) -> Path:
    root = tmp_path / "team"
    for sub in ("cur", "new", "tmp"):
        (root / "mail" / "ana" / sub).mkdir(parents=True)
    (root / "whatsapp" / "ana").mkdir(parents=True)
    quote = raw_message(frm="Ana Pérez <ana@acme.example>", to="roberto@valvulasnorte.example",
                        subject="Cotización COT-2291 válvulas", date=local(2026, 11, 12, 8, 50),
                        mid=QUOTE_ID, body="Buen día Roberto, adjunto la cotización.")
    (root / "mail" / "ana" / "cur" / "1.quote:2,S").write_bytes(quote)
    # A client who asked by mail first, signing with their phone; the quote answers it.
    request = raw_message(frm="Megan Doyle <megan@harbor.example>", to="ana@acme.example",
                          subject="Conveyor upgrade", date=local(2026, 11, 17, 9, 0),
                          mid="<req-1@harbor.example>",
                          body="Hi Ana, could you send us pricing?\n\n-- \nMegan Doyle\n"
                               "Harbor Logistics\nMobile: +1 (415) 555-0147\n")
    proposal = raw_message(frm="Ana Pérez <ana@acme.example>", to="megan@harbor.example",
                           subject="Proposal: conveyor upgrade", date=local(2026, 11, 18, 15, 0),
                           mid=PROPOSAL_ID, body="Hi Megan, our proposal is attached.")
    (root / "mail" / "ana" / "cur" / "2.request:2,S").write_bytes(request)
    (root / "mail" / "ana" / "cur" / "3.proposal:2,S").write_bytes(proposal)
    (root / "settings.toml").write_text(SETTINGS.format(contacts=contacts), encoding="utf-8")
    return root


def _scan(root: Path, now: str = NOW, env: dict | None = None) -> dict[str, dict]:
    out = run("--config", str(root / "settings.toml"), "scan", "--json", "--now", now, env=env)
    assert out.returncode == 0, out.stderr
    return {t["quote_message_id"]: t for t in json.loads(out.stdout)["threads"]}


def _sync(root: Path, env: dict | None = None) -> str:
    out = run("--config", str(root / "settings.toml"), "sync", env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def _lines(path: Path, upto: int) -> str:
    return "".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[:upto])


def _rows(root: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(root / "followup.db") as db:
        return db.execute(sql).fetchall()


def test_a_whatsapp_answer_turns_the_thread_awaiting_us_and_a_reexport_adds_only_the_new(tmp_path):
    root = _team(tmp_path)
    chat = root / "whatsapp" / "ana" / ES_ANDROID.name
    # Exported after Roberto's answers, before Ana wrote back (the file's first 11 lines).
    chat.write_text(_lines(ES_ANDROID, 11), encoding="utf-8")
    _sync(root)
    thread = _scan(root)[QUOTE_ID]
    assert thread["status"] == "awaiting_us"
    assert thread["next_step"] is None
    # Roberto's last real message (the photo at 16:44 local); the deleted one is not a reply.
    assert thread["last_reply_at"] == "2026-11-13T16:44:00-06:00"
    # Ana's two WhatsApp lines in a row after the quote are one touch.
    assert _rows(root, "select channel, by from touches") == [("whatsapp", "ana@acme.example")]
    stored = _rows(root, "select count(*) from messages where message_id like '<wa.%'")[0][0]
    assert stored == 2  # the multi-line question and the photo

    # The same chat exported again a day later, with Ana's answer: only that is new.
    shutil.copy(ES_ANDROID, chat)
    out = _sync(root)
    assert "ana-whatsapp: leídos 5, nuevos 0, contactos por WhatsApp 1" in out
    assert _rows(root, "select count(*) from messages where message_id like '<wa.%'")[0][0] == 2
    assert len(_rows(root, "select id from touches")) == 2
    thread = _scan(root)[QUOTE_ID]
    # Ana answered on WhatsApp: the client no longer waits; the cadence runs from her touch.
    assert thread["status"] in ("waiting", "silent")
    assert thread["last_outbound_at"] == "2026-11-13T18:10:00-06:00"
    assert thread["next_step"]["number"] == 1

    # Nothing changed: a third sync reads nothing.
    assert "ana-whatsapp: leídos 0, nuevos 0" in _sync(root)
    tested = run("--config", str(root / "settings.toml"), "accounts", "test", "ana-whatsapp")
    # the connector's own report after the team's words (connectors quote no catalogue)
    assert tested.stdout.strip() == (f"ana-whatsapp: funciona — 1 export files; {ES_ANDROID.name}: "
                                     "8 messages (android, day first)"), tested.stdout + tested.stderr


def test_chats_matched_by_the_phone_in_the_contacts_signature_and_by_their_mail_name(tmp_path):
    """An English Android zip whose client is an unsaved number (the phone in her mail's
    signature), then an English iPhone zip where she is a saved contact (her name in her
    mail's From); no [[contacts]] entry for her."""
    root = _team(tmp_path)
    with zipfile.ZipFile(root / "whatsapp" / "ana" / "WhatsApp Chat with +1 (415) 555-0147.zip", "w") as z:
        z.writestr(EN_ANDROID.name, EN_ANDROID.read_text(encoding="utf-8"))
        z.writestr("scan_0042.pdf", b"%PDF-1.4 not read")
    settings = root / "settings.toml"
    settings.write_text(settings.read_text(encoding="utf-8").replace(
        'path = "whatsapp/ana"', 'path = "whatsapp/ana"\nme = "Ana Perez"'), encoding="utf-8")
    _sync(root)
    thread = _scan(root, "2026-11-20T15:00:00+00:00")[PROPOSAL_ID]
    assert thread["status"] == "awaiting_us"
    assert thread["last_reply_at"] == "2026-11-19T09:13:00-06:00"
    names = _rows(root, "select attachment_names from messages where message_id like '<wa.%' "
                        "order by sent_at")
    assert [json.loads(n) for (n,) in names] == [[], ["scan_0042.pdf"]]

    with zipfile.ZipFile(root / "whatsapp" / "ana" / "WhatsApp Chat - Harbor Logistics.zip", "w") as z:
        z.writestr("_chat.txt", EN_IPHONE.read_bytes())
        z.writestr("00000004-Q-7710 Pallet racks.pdf", b"%PDF-1.4 not read")
    assert "ana-whatsapp: leídos 4, nuevos 2, contactos por WhatsApp 1" in _sync(root)  # not the Android zip again
    thread = _scan(root, "2026-11-23T15:00:00+00:00")[PROPOSAL_ID]
    assert thread["status"] == "awaiting_us"
    assert thread["last_reply_at"] == "2026-11-21T08:03:10-06:00"  # the image; the deleted one is not


def test_an_unmatched_chat_is_set_aside_then_taken_once_the_settings_name_its_contact(tmp_path):
    root = _team(tmp_path, contacts="")
    shutil.copy(ES_ANDROID, root / "whatsapp" / "ana" / ES_ANDROID.name)
    out = _sync(root)
    assert "1 chats apartados" in out
    assert "ningún contacto coincide con este chat (Roberto Salinas)" in out  # the team speaks es
    listed = run("--config", str(root / "settings.toml"), "accounts", "list").stdout
    assert f"apartado: {ES_ANDROID.name}: ningún contacto coincide" in listed
    assert _rows(root, "select count(*) from messages where message_id like '<wa.%'")[0][0] == 0
    assert _scan(root)[QUOTE_ID]["status"] != "awaiting_us"

    settings = root / "settings.toml"
    settings.write_text(settings.read_text(encoding="utf-8") + ROBERTO, encoding="utf-8")
    out = _sync(root)
    assert "apartado" not in out
    assert "apartado" not in run("--config", str(settings), "accounts", "list").stdout
    assert _rows(root, "select count(*) from messages where message_id like '<wa.%'")[0][0] == 2
    # The full chat ends with Ana's answer: the thread waits on the client again.
    assert _scan(root)[QUOTE_ID]["status"] in ("waiting", "silent")


def test_a_chat_is_matched_by_the_name_the_quote_gave_its_contact(tmp_path):
    """Roberto never wrote by mail and has no [[contacts]] entry: the only name Followup has
    for him is the one Ana's quote wrote in To. His chat (saved under that name) is his."""
    root = _team(tmp_path, contacts="")
    quote = raw_message(frm="Ana Pérez <ana@acme.example>", to="Roberto Salinas <roberto@valvulasnorte.example>",
                        subject="Cotización COT-2291 válvulas", date=local(2026, 11, 12, 8, 50),
                        mid=QUOTE_ID, body="Buen día Roberto, adjunto la cotización.")
    (root / "mail" / "ana" / "cur" / "1.quote:2,S").write_bytes(quote)
    shutil.copy(ES_ANDROID, root / "whatsapp" / "ana" / ES_ANDROID.name)
    out = _sync(root)
    assert "apartado" not in out, out
    assert _rows(root, "select count(*) from messages where message_id like '<wa.%'")[0][0] == 2


def test_a_whatsapp_answer_cancels_the_drafted_email_follow_up(tmp_path):
    root = _team(tmp_path)
    config = str(root / "settings.toml")
    _sync(root)
    due = "2026-11-18T16:00:00+00:00"  # step 1 is due on the 17th (the 16th is a holiday)
    planned = run("--config", config, "drafts", "plan", "--now", due)
    assert planned.returncode == 0, planned.stderr
    before = json.loads(run("--config", config, "drafts", "list", "--json").stdout)["followups"]
    assert [(f["quote_message_id"], f["status"]) for f in before
            if f["quote_message_id"] == QUOTE_ID] == [(QUOTE_ID, "drafted")]
    # Roberto answered on WhatsApp on the 13th; Ana exports the chat on the 18th.
    (root / "whatsapp" / "ana" / ES_ANDROID.name).write_text(_lines(ES_ANDROID, 11), encoding="utf-8")
    _sync(root)
    after = json.loads(run("--config", config, "drafts", "list", "--json").stdout)["followups"]
    assert [f["status"] for f in after if f["quote_message_id"] == QUOTE_ID] == ["cancelled"]
    assert _scan(root, due)[QUOTE_ID]["status"] == "awaiting_us"


def test_a_colleague_in_a_group_chat_is_our_side(tmp_path):
    """Luis (a team member) writes in the client's group: his lines are his touches, never
    the client's replies; the client's last message is what the thread waits on."""
    root = _team(tmp_path)
    settings = root / "settings.toml"
    settings.write_text(settings.read_text(encoding="utf-8").replace(
        "[[accounts]]", '[[team.members]]\nemail = "luis@acme.example"\nname = "Luis Ortega"\n'
        'role = "account_executive"\n\n[[accounts]]', 1), encoding="utf-8")
    group = (_lines(ES_ANDROID, 11)
             + "13/11/26, 6:30\u202fp.\u202fm. - Luis Ortega: Roberto, el flete va incluido.\n")
    (root / "whatsapp" / "ana" / "Chat de WhatsApp con Válvulas del Norte.txt").write_text(
        group, encoding="utf-8")
    _sync(root)
    touches = _rows(root, "select by from touches order by at")
    assert touches == [("ana@acme.example",), ("luis@acme.example",)]
    thread = _scan(root)[QUOTE_ID]
    assert thread["status"] in ("waiting", "silent")  # Luis answered
    assert thread["last_reply_at"] == "2026-11-13T16:44:00-06:00"


@pytest.mark.postgres
def test_the_same_on_postgresql(tmp_path, postgres_url):
    """The first test's answer, re-export and rerun on PostgreSQL (CLI output only)."""
    root = _team(tmp_path)
    env = {"FOLLOWUP_DATABASE_URL": postgres_url}
    chat = root / "whatsapp" / "ana" / ES_ANDROID.name
    chat.write_text(_lines(ES_ANDROID, 11), encoding="utf-8")
    assert "ana-whatsapp: leídos 4, nuevos 2, contactos por WhatsApp 1" in _sync(root, env)
    assert _scan(root, env=env)[QUOTE_ID]["status"] == "awaiting_us"
    shutil.copy(ES_ANDROID, chat)
    assert "ana-whatsapp: leídos 5, nuevos 0, contactos por WhatsApp 1" in _sync(root, env)
    assert "ana-whatsapp: leídos 0, nuevos 0\n" in _sync(root, env)
    assert _scan(root, env=env)[QUOTE_ID]["status"] in ("waiting", "silent")
