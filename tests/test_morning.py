"""The reps' morning list (issue 14): each business morning every rep with due
follow-ups gets one short email in their language, with links to the web app, ``tel:``
links for calls and ``wa.me`` links for WhatsApp; received here by a real SMTP server on
loopback (aiosmtpd), parsed, and its links opened in the web app. Sent at most once a day
per rep, never to someone who turned it off."""

from __future__ import annotations

import email
import email.policy
import html
import re
import socket
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from assistant.scheduler import Runner
from assistant.services import digest as D
from assistant.services import morning as MO
from assistant.settings import load_settings
from assistant.storage import users as stored_users
from tests.webapp import MANAGER, OTHER_REP, REP, app_for, csrf, web, web_template  # noqa: F401

BASE = "https://followup.aceros.example"
MX = ZoneInfo("America/Mexico_City")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """What the loopback server received; ``drop`` closes the connection after taking
    the message, before answering (the client's response is lost)."""

    def __init__(self) -> None:
        self.envelopes = []
        self.drop = False

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        if self.drop:
            server.transport.close()
        return "250 OK"

    def messages(self):
        return [email.message_from_bytes(e.original_content, policy=email.policy.default)
                for e in self.envelopes]

    def to(self, address: str):
        return [m for m in self.messages() if address in m["To"]]


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


def _with(web, port: int, extra: str = "") -> object:
    """The web env's settings with the web app's address and the loopback SMTP server."""
    text = (web.folder / "settings.toml").read_text(encoding="utf-8")
    if extra:
        assert "\n[digest]\n" in text
        text = text.replace("\n[digest]\n", f"\n[digest]\n{extra}", 1)
    text = text.replace("[storage]", f'[digest.smtp]\nhost = "127.0.0.1"\nport = {port}\n'
                        f'security = "none"\n\n[web]\nbase_url = "{BASE}/"\n\n[storage]')
    path = web.folder / "settings-morning.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, environ={})


def _links(html_text: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]+)"', html_text)]


def _due(web, email_: str, now):
    return [r for r in web.followups_of(email_, "drafted") if r.due_at.replace(tzinfo=r.due_at.tzinfo or ZoneInfo("UTC")) <= now]


def test_a_reps_morning_email_is_received_parsed_and_its_links_open(web, smtp):
    inbox, port = smtp
    settings = _with(web, port)
    stored_users.set_language(web.engine, OTHER_REP, "en")  # Luis chose English in the web app
    sender = D.SmtpSender(settings.digest.smtp)
    results = MO.send_lists(settings, web.engine, web.now, sender)
    assert {r.email: r.status for r in results}[REP] == "sent"
    ana_due = _due(web, REP, web.now)
    assert ana_due and {r.channel for r in ana_due} >= {"email", "phone"}
    [message] = inbox.to(REP)
    assert message["Content-Language"] == "es" and message["Auto-Submitted"] == "auto-generated"
    assert message["Subject"] == f"Tus seguimientos de hoy: {len(ana_due)} — jue 26 nov"
    assert message.get_content_type() == "multipart/alternative"
    body = message.get_body(("html",)).get_content()
    plain = message.get_body(("plain",)).get_content()
    assert "Buenos días, Ana:" in plain and "días hábiles de atraso" in plain
    links = _links(body)
    for row in ana_due:  # each follow-up: its page, and the call or WhatsApp link
        assert f"{BASE}/followups/{row.id}" in links
        if row.channel == "phone" and row.link:
            assert row.link.startswith("tel:") and row.link in links
            assert f"Llamar al {row.phone}" in plain
        if row.channel == "whatsapp" and row.link:
            assert row.link.startswith("https://wa.me/") and row.link in links
        if row.channel != "email" and not row.link:  # no number in the client's mail
            assert "sin teléfono registrado" in plain
    assert f"{BASE}/me" in plain  # where to turn it off
    # contacts by name before their address, the name the client's own mail gives
    # contacts by name before their address: the names their own mail gives them
    assert "Rosa Elizondo · rosa.elizondo@constructoramty.example" in plain
    assert "Patricia Leal · pleal@metalmecanicaleal.example" in plain
    assert "Rosa Elizondo" in body and "Patricia Leal" in body
    tel = [link for link in links if link.startswith("tel:")]
    assert tel and all(re.fullmatch(r"tel:\+?[0-9]+", link) for link in tel)
    # Luis reads English; his WhatsApp follow-up carries a wa.me link
    [english] = inbox.to(OTHER_REP)
    assert english["Content-Language"] == "en"
    assert english["Subject"].startswith("Your follow-ups for today: ")
    luis_links = _links(english.get_body(("html",)).get_content())
    assert any(link.startswith("https://wa.me/") for link in luis_links)
    assert "Good morning, Luis:" in english.get_body(("plain",)).get_content()
    # every page link opens in the web app for the rep signed in, on the right follow-up
    client = web.client(REP)
    for link in (l for l in links if l.startswith(BASE)):
        path = urlsplit(link).path
        page = client.get(path)
        assert page.status_code == 200, link
        match = re.fullmatch(r"/followups/(\d+)", path)
        if match:
            row = next(r for r in ana_due if r.id == int(match.group(1)))
            assert html.escape(row.contact) in page.text or row.contact in page.text


def test_at_most_once_a_day_even_with_a_lost_response(web, smtp):
    inbox, port = smtp
    settings = _with(web, port)
    sender = D.SmtpSender(settings.digest.smtp)
    inbox.drop = True  # the server takes Ana's list, then the connection drops
    first = {r.email: r for r in MO.send_lists(settings, web.engine, web.now, sender, rep=REP)}
    assert first[REP].status == "unknown" and len(inbox.to(REP)) == 1
    inbox.drop = False
    again = MO.send_lists(settings, web.engine, web.now + timedelta(minutes=30), sender)
    statuses = {r.email: r.status for r in again}
    assert statuses[REP] == "skipped" and len(inbox.to(REP)) == 1  # not sent twice
    assert statuses[OTHER_REP] == "sent"
    # a second worker the same day: nothing more
    third = MO.send_lists(settings, web.engine, web.now + timedelta(hours=1), sender,
                          holder="worker-2")
    assert {r.status for r in third} == {"skipped"}
    assert len(inbox.to(OTHER_REP)) == 1
    # a refused send (nothing left) is retried
    class Refusing:
        def send(self, message):
            raise D.NotSent("SMTP 127.0.0.1: 554 refused")

    tomorrow = web.now + timedelta(days=1)  # Friday 27 Nov
    [refused] = [r for r in MO.send_lists(settings, web.engine, tomorrow, Refusing(), rep=OTHER_REP)]
    assert refused.status == "failed"
    [retried] = MO.send_lists(settings, web.engine, tomorrow, sender, rep=OTHER_REP)
    assert retried.status == "sent" and len(inbox.to(OTHER_REP)) == 2


def test_a_person_turns_it_off_in_my_settings_and_the_team_can_turn_it_off(web, smtp):
    inbox, port = smtp
    settings = _with(web, port)
    client = web.client(REP, lang="es")
    page = client.get("/me")
    assert page.status_code == 200 and "Correo matutino" in page.text and "checked" in page.text
    off = client.post("/me/morning", data={"csrf_token": csrf(page.text)})
    assert off.status_code == 302
    assert "checked" not in client.get("/me").text
    results = {r.email: r.status for r in MO.send_lists(settings, web.engine, web.now,
                                                         D.SmtpSender(settings.digest.smtp))}
    assert results[REP] == "opted_out" and inbox.to(REP) == []
    assert results[OTHER_REP] == "sent"
    page = client.get("/me")
    client.post("/me/morning", data={"csrf_token": csrf(page.text), "morning": "on"})
    [back] = MO.send_lists(settings, web.engine, web.now, D.SmtpSender(settings.digest.smtp), rep=REP)
    assert back.status == "sent" and len(inbox.to(REP)) == 1
    # digest.morning_list = false: the scheduler's job sends no list at all
    quiet = _with(web, port, "morning_list = false\n")
    assert quiet.digest.morning_list is False
    before = len(inbox.envelopes)
    tomorrow_9 = datetime(2026, 11, 27, 9, 5, tzinfo=MX)
    runner = Runner(quiet, web.engine, clock=lambda: tomorrow_9,
                    jobs={"sync": lambda n, p: None, "plan": lambda n, p: None})
    assert "morning" in runner.run_due(tomorrow_9).ran
    assert len(inbox.envelopes) == before


def test_the_scheduler_sends_it_at_the_send_window_on_business_days_only(web, smtp):
    inbox, port = smtp
    settings = _with(web, port)
    assert settings.protocol.send_window_start == "09:00"

    def run(at: datetime) -> list[str]:  # a fresh worker, as `followup run --once`
        runner = Runner(settings, web.engine, clock=lambda: at,
                        jobs={"sync": lambda n, p: None, "plan": lambda n, p: None})
        outcome = runner.run_due(at)
        assert outcome.failed == []
        return outcome.ran

    def lists():  # the morning lists received (the Monday digest goes to the same inbox)
        return [m for m in inbox.messages() if m["Subject"].startswith("Tus seguimientos")]

    friday = datetime(2026, 11, 27, 8, 59, tzinfo=MX)
    assert "morning" not in run(friday) and lists() == []  # before the window
    assert "morning" in run(friday.replace(minute=0, hour=9))
    reps = {m["To"] for m in lists()}
    assert any(REP in to for to in reps) and any(OTHER_REP in to for to in reps)
    sent = len(lists())
    assert "morning" not in run(friday.replace(hour=11))  # done today (another worker)
    assert "morning" not in run(datetime(2026, 11, 28, 10, tzinfo=MX))  # Saturday
    assert len(lists()) == sent
    # Monday 16 Nov 2026 is a public holiday in Mexico (Revolution Day, third Monday)
    assert "morning" not in run(datetime(2026, 11, 16, 9, 30, tzinfo=MX))
    assert len(lists()) == sent
    monday = datetime(2026, 11, 30, 9, 1, tzinfo=MX)
    assert "morning" in run(monday) and len(lists()) > sent
    days = {m["Subject"].rsplit("—", 1)[1].strip() for m in lists()}
    assert days == {"vie 27 nov", "lun 30 nov"}


def test_morning_command_prints_writes_and_sends(web, smtp, tmp_path):
    from click.testing import CliRunner

    from assistant.cli import main

    inbox, port = smtp
    settings = _with(web, port)
    base = ["--config", str(settings.path), "morning", "--now", web.now.isoformat()]
    cli = CliRunner()
    printed = cli.invoke(main, base + ["--rep", REP])
    assert printed.exit_code == 0, printed.output
    assert f"Para: {REP}" in printed.output and f"{BASE}/followups/" in printed.output
    out = tmp_path / "lists"
    wrote = cli.invoke(main, base + ["--out", str(out)])
    assert wrote.exit_code == 0 and f"{REP}: se escribió {out / 'morning-ana.html'}" in wrote.output
    assert (out / "morning-ana.html").is_file() and (out / "morning-ana.txt").is_file()
    assert "https://wa.me/" in (out / "morning-luis.txt").read_text(encoding="utf-8")
    sent = cli.invoke(main, base + ["--send"])
    assert sent.exit_code == 0, sent.output
    assert f"{REP}: enviado" in sent.output and len(inbox.to(REP)) == 1
    again = cli.invoke(main, base + ["--send"])
    assert f"{REP}: ya se envió hoy" in again.output and len(inbox.to(REP)) == 1
