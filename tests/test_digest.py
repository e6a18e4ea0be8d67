"""The managers' digest on the sample team: HTML parsed back, the right threads and numbers
in the right language, and a digest received by a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
import socket
from html.parser import HTMLParser
from datetime import date, timedelta
from zoneinfo import ZoneInfo
from pathlib import Path

import pytest

from assistant.demo.sample import DEMO_THREADS, generate_sample
from assistant.services import digest as D
from assistant.services.scan import open_store
from assistant.services.sync import sync
from assistant.settings import load_settings
from assistant.settings import SettingsError

SILENT = [t for t in DEMO_THREADS if t["status"] == "silent"]


def subjects(rows) -> list[str]:
    """The subject of each thread row (its first cell's first line; the contact follows)."""
    return [row[0].split(" / ")[0] for row in rows]
WAITING = [t for t in DEMO_THREADS if t["status"] == "awaiting_us"]


class Page(HTMLParser):
    """The parts of a digest a manager reads: thread rows per section, metric rows, bars,
    and every tag used (to check for images and scripts)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.lang = None
        self.section = None
        self.rows: dict[str, list[list[str]]] = {}
        self.metrics: dict[str, list[str]] = {}
        self.quarter: dict[str, list[str]] = {}
        self.links: dict[str, list[str]] = {}
        self.headers: dict[str, list[str]] = {}
        self.bars: dict[str, dict[str, str]] = {}
        self.bar_widths: list[str] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._metric = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        if tag == "html":
            self.lang = attrs.get("lang")
        if tag == "td" and attrs.get("id"):
            self.section = attrs["id"]
            self._row = self._cell = None  # a section's frame, not a data cell
            return
        if tag == "tr":
            self._row, self._cell = [], None
            self._metric = attrs.get("data-metric") if "metric" in (attrs.get("class") or "") else None
            if attrs.get("class") == "bar":
                self.bars.setdefault(self.section, {})[attrs["data-key"]] = attrs["data-value"]
            if attrs.get("class") == "thread":
                self.rows.setdefault(self.section, []).append(self._row)
        if tag in ("td", "th") and self._row is not None and self._cell is None:
            self._cell = []
        if tag == "br" and self._cell is not None:
            self._cell.append("\n")
        if tag == "a" and attrs.get("href"):
            self.links.setdefault(self.section, []).append(attrs["href"])
        if tag == "td" and attrs.get("bgcolor") and attrs.get("width", "").endswith("%"):
            self.bar_widths.append(attrs["width"])

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            lines = ["".join(line.split()) and " ".join(line.split())
                     for line in "".join(self._cell).split("\n")]
            self._row.append(" / ".join(line for line in lines if line))
            self._cell = None
            if tag == "th":
                self.headers.setdefault(self.section, []).append(self._row[-1])
        if tag == "tr" and self._row is not None:
            if self._metric:
                (self.quarter if self.section == "quarter" else self.metrics)[self._metric] = self._row
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    dest = tmp_path_factory.mktemp("digest")
    info = generate_sample(dest)
    os.environ.pop("FOLLOWUP_DATABASE_URL", None)
    settings = load_settings(info.settings_path)
    engine = open_store(settings)
    sync(settings, engine)
    return dest, info, settings, engine


@pytest.fixture(scope="module")
def marta(team):
    _, info, settings, engine = team
    [digest] = D.build_digests(settings, engine, info.now)
    return digest


def test_the_sample_manager_gets_the_company_wide_digest(team, marta):
    _, _, settings, _ = team
    assert [(r.email, r.scope) for r in D.recipients(settings)] == [("marta@aceros.example", None)]
    assert marta.language == "es"
    assert f"vencidos {len(SILENT)} · " in marta.subject
    assert f"clientes esperando {len(WAITING)} — " in marta.subject
    # Its figures' time in words, as the web shows times: "el jue 26 nov 16:00 2026".
    assert re.search(r"Cifras calculadas el [a-zé]{3} \d\d [a-z]{3} \d\d:\d\d 20\d\d "
                     r"\(America/Mexico_City\)", marta.text), marta.text[-300:]
    # One word for a silent thread all through: the by-owner lines say it as the rest do.
    assert "Silenciosas" not in marta.text and re.search(r", Sin respuesta \d+, ", marta.text)
    # The longest wait says its unit: not "(máx. 6)", which reads as "at most 6 clients"
    # (short: the cell must fit a phone, tests/test_digest_links.py).
    assert re.search(rf"{len(WAITING)} \(máx\. \d+ días háb\.\)", marta.text), marta.text


def test_digest_says_which_clients_promised_an_answer_and_when(marta):
    """Rules 9–11: threads whose next step waits on a client's promised day or day back."""
    promised = [t for t in DEMO_THREADS if t["promised_date"]
                and t["status"] in ("waiting", "silent")]
    rows = Page(marta.html).rows["promised"]
    assert sorted(subjects(rows)) == sorted(t["subject"] for t in promised)
    why = dict(zip(subjects(rows), (row[2] for row in rows)))
    assert why["Cotización CN-2026-0431 escalera marina"] == "prometido: mar 24 nov"
    assert why["Proposal: rebar supply for Q1 2027"] == "de regreso el lun 30 nov"
    # an overdue thread whose promise passed says so under its due date
    overdue = dict(zip(subjects(Page(marta.html).rows["overdue"]),
                       (row[2] for row in Page(marta.html).rows["overdue"])))
    assert overdue["Cotización CN-2026-0431 escalera marina"].endswith("prometido: mar 24 nov")
    assert "prometido: mar 24 nov" in marta.text


def test_digest_html_leads_with_overdue_threads_oldest_first(marta):
    page = Page(marta.html)
    overdue = page.rows["overdue"]
    shown = subjects(overdue)
    assert sorted(shown) == sorted(t["subject"] for t in SILENT)
    due = {t["subject"]: t["next_step"]["due_at"] for t in SILENT}
    assert [due[s] for s in shown] == sorted(due[s] for s in shown)
    first = next(t for t in SILENT if t["subject"] == "Presupuesto perfiles tubulares PTR")
    assert due[shown[0]] == first["next_step"]["due_at"]  # due Wed 18 Nov, the oldest
    row = overdue[shown.index(first["subject"])]
    # business days late at Thu 26 Nov (Mon 16 Nov is a holiday), its unit under it
    assert row[-1] == "6 / días hábiles"
    assert row[1] == "Ana Pérez"
    # the contact under the subject: the name their mail gives (people by name), then the address
    assert row[0] == f'{first["subject"]} / Sergio Montemayor / {first["contact"]}'
    assert row[2] == "2/5 llamada / mié 18 nov"
    assert page.headers["overdue"] == ["Cotización", "Responsable", "Paso · vencía", "Atraso"]


def test_digest_lists_unclear_ownership_and_clients_waiting(marta):
    page = Page(marta.html)
    unclear = set(subjects(page.rows["unclear"]))
    assert unclear == {t["subject"] for t in DEMO_THREADS
                       if t["scenario"] == "unclear" and t["status"] in ("silent", "waiting", "awaiting_us")}
    waiting = subjects(page.rows["waiting"])
    assert sorted(waiting) == sorted(t["subject"] for t in WAITING)
    days = [int(row[-1].split(" / ")[0]) for row in page.rows["waiting"]]
    assert days == sorted(days, reverse=True)  # longest wait first


def _quoted_between(reports, first: date, last: date) -> list:
    """The reports whose quote went out on a local date (Mexico City) from first to last."""
    zone = ZoneInfo("America/Mexico_City")
    return [r for r in reports if first <= r.quote_sent_at.astimezone(zone).date() <= last]


def test_digest_numbers_and_charts(marta):
    page = Page(marta.html)
    quarter = marta.current.quarter.team
    # the demo's now is Thu 26 Nov: the week is Thu 19 - Wed 25 Nov, the 90 days end Wed 25
    week = _quoted_between(marta.current.reports, date(2026, 11, 19), date(2026, 11, 25))
    assert week and page.metrics["quotes_sent"][1] == str(len(week))
    assert page.metrics["debt"][1] == str(sum(r.status == "silent" for r in week))
    assert page.quarter["quotes_sent"][1] == str(len(DEMO_THREADS))
    assert page.quarter["debt"][1] == str(len(SILENT))
    share = quarter.abandoned
    assert page.quarter["abandoned"][1] == f"{round(100 * share.value)} % ({share.numerator}/{share.denominator})"
    assert share.denominator > 0
    status = page.bars["chart-status"]
    assert status["silent"] == str(len(SILENT))
    assert status["awaiting_us"] == str(len(WAITING))
    assert sum(int(v) for v in status.values()) == len(DEMO_THREADS)
    scenarios = page.bars["chart-scenario"]
    assert int(scenarios["nobody"]) == sum(t["scenario"] == "nobody" for t in DEMO_THREADS)
    assert int(scenarios["unclear"]) == sum(t["scenario"] == "unclear" for t in DEMO_THREADS)
    assert page.bars["chart-reply"]["0"].endswith(
        f"({quarter.reply_rate[0].numerator}/{quarter.reply_rate[0].denominator})")
    assert "Sin respuesta (seguimiento vencido)" in marta.html and "Nadie" in marta.html
    assert page.bar_widths and all(0 < int(w.rstrip("%")) <= 100 for w in page.bar_widths)
    assert "▲" in marta.html or "▼" in marta.html


def test_one_set_of_numbers_per_named_period(team, marta):
    """Issue 14: "last week" and "this week" showed different numbers under the same
    labels (the trend's "this week" counted 90 days). Now each period has one column,
    named by its dates, and the previous week is the same figures as they read then."""
    _, info, settings, engine = team
    page = Page(marta.html)
    assert page.headers["numbers"] == ["", "Semana del 19 al 25 de nov", "Semana del 12 al 18 de nov",
                                       "Cambio"]
    assert "90 días: del 28 de ago al 25 de nov" in marta.html
    for label in ("Última semana", "Esta semana", "Semana anterior", "Tendencia"):
        assert label not in marta.html and label not in marta.text
    # the previous week: the threads quoted 12-18 Nov, as they stood on Thu 19 Nov
    from assistant.services.rules import rules_from_settings

    before = D.past_moment(engine, rules_from_settings(settings), info.now - timedelta(days=7),
                           since=None)
    cohort = _quoted_between(before.reports, date(2026, 11, 12), date(2026, 11, 18))
    assert cohort and page.metrics["quotes_sent"][2] == str(len(cohort))
    assert page.metrics["debt"][2] == str(sum(r.status == "silent" for r in cohort))
    # every metric: exactly one figure per period, and the arrow compares those two
    for key, row in page.metrics.items():
        assert len(row) == 4, key
    quotes = page.metrics["quotes_sent"]
    assert quotes[3] == ("▲" if int(quotes[1]) > int(quotes[2]) else "▼" if int(quotes[1]) < int(quotes[2]) else "=")
    # the text part: the same figures, in aligned columns under the same period names
    lines = marta.text.splitlines()
    assert "Semana del 19 al 25 de nov · Semana del 12 al 18 de nov" in lines
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["19–25", "nov"])
    assert lines[header].split() == ["19–25", "nov", "12–18", "nov"]
    row = next(line for line in lines[header:] if line.startswith("Cotizaciones enviadas"))
    assert row.split()[-3:-1] == [quotes[1], quotes[2]]
    english = D.render(settings, marta.recipient, marta.current, marta.previous, language="en")
    headers = Page(english.html).headers["numbers"]
    assert headers == ["", "Week of 19–25 Nov", "Week of 12–18 Nov", "Change"]
    assert "90 days: 28 Aug – 25 Nov" in english.html


def test_period_names_across_months():
    from assistant.wording import period_name

    assert period_name(date(2026, 11, 30), date(2026, 12, 6), "es") == "Semana del 30 de nov al 6 de dic"
    assert period_name(date(2026, 11, 30), date(2026, 12, 6), "en") == "Week of 30 Nov–6 Dec"
    assert period_name(date(2026, 11, 23), date(2026, 11, 29), "es") == "Semana del 23 al 29 de nov"


def test_text_part_columns_stay_apart():
    """A long subject or address wraps inside its column (after @ or a dot), never into
    the next one; a number column stays right-aligned."""
    lines = D.text_table(["Cotización", "Responsable", "Atraso"],
                         [["Cotización varilla corrugada 1/2\"\nfsaldana@grupoconstruye.example",
                           "Ana Pérez", "12"]], (20, 12, 6), right=(2,), links=["https://f.example/t/1"])
    assert lines[0] == "Cotización            Responsable   Atraso"
    assert lines[1] == "--------------------  ------------  ------"
    assert lines[2] == "Cotización varilla    Ana Pérez         12"
    assert all(len(line) <= 20 + 2 + 12 + 2 + 6 for line in lines)
    body = [line[:20].rstrip() for line in lines[2:-1]]
    assert body == ["Cotización varilla", 'corrugada 1/2"', "fsaldana@", "grupoconstruye.", "example"]
    assert all(len(line) <= 20 or line[20:22] == "  " for line in lines[2:-1])
    assert lines[-1] == "  https://f.example/t/1"


def test_the_text_digest_shows_each_contacts_address_whole_on_its_own_line(marta):
    """Under each thread: the contact's name in the subject's column, the address whole on
    a line of its own (never cut after its @ into a narrow column), then the link."""
    import re

    text = marta.text
    addresses = re.findall(r"^  (\S+@\S+)$", text, re.M)
    assert addresses, text[:2000]
    assert all("\n" not in a and a.count("@") == 1 and not a.endswith("@") for a in addresses)
    assert not re.search(r"^\S+@ *$", text, re.M)  # no address broken after its @


def test_digest_is_email_safe_html_with_a_plain_text_twin(marta):
    page = Page(marta.html)
    assert page.lang == "es"
    assert not page.tags & {"img", "script", "style", "link", "iframe"}
    assert "display:flex" not in marta.html and "<div class" not in marta.html
    for t in SILENT:  # the subject column wraps: its words come first on the row's lines
        assert " ".join(t["subject"].split()[:2]) in marta.text
    assert "Seguimientos vencidos" in marta.text and "Semana del 12 al 18 de nov" in marta.text
    html = marta.html
    assert 'width="680"' not in html.replace("<!--[if mso]><table role=\"presentation\" width=\"680\"", "")
    assert "max-width:680px" in html and "width:100%" in html
    # the cells' styles reach the mail client (an escaped style="..." left the columns
    # without padding: they ran together)
    assert "style=&#34;" not in html and html.count('style="padding:8px 6px;') > 3 * len(SILENT)
    assert ";width:680px" not in html and '"width:680px' not in html  # fluid, not fixed


def test_english_digest(team):
    _, info, settings, engine = team
    [digest] = D.build_digests(settings, engine, info.now)
    english = D.render(settings, digest.recipient, digest.current, digest.previous, language="en")
    page = Page(english.html)
    assert page.lang == "en"
    assert english.subject.startswith(
        f"Quote follow-up (whole company): overdue {len(SILENT)} · clients waiting {len(WAITING)}")
    share = digest.current.quarter.team.abandoned
    assert page.quarter["abandoned"][1] == f"{round(100 * share.value)}% ({share.numerator}/{share.denominator})"
    assert "Overdue follow-ups" in english.html and "Seguimientos" not in english.html
    assert "Unclear ownership" in english.text


def test_team_digests_follow_the_reporting_lines(tmp_path):
    text = (Path(__file__).parent / "fixtures" / "basic-team-settings.toml").read_text(encoding="utf-8")
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    settings = load_settings(path)
    found = {r.email: r.scope for r in D.recipients(settings)}
    tops = [m.email for m in settings.team.members if m.manager is None and m.email in found]
    assert tops and all(found[email] is None for email in tops)
    for email, scope in found.items():
        if scope is not None:
            assert email in scope
            assert all(m.email in scope for m in settings.team.reports_of(email))


def test_a_template_mistake_fails_loudly(team, marta, tmp_path):
    _, _, settings, _ = team
    folder = tmp_path / "templates"
    shutil.copytree(D.TEMPLATES, folder)
    html = folder / "digest.html.j2"
    html.write_text(html.read_text(encoding="utf-8").replace("{{ t.title }}", "{{ t.titel }}"),
                    encoding="utf-8")
    with pytest.raises(D.DigestError, match="titel"):
        D.render(settings, marta.recipient, marta.current, marta.previous, folder=folder)


def test_smtp_settings_are_validated(tmp_path, team):
    dest, *_ = team
    base = (dest / "settings.toml").read_text(encoding="utf-8")
    bad = tmp_path / "settings.toml"
    bad.write_text(base + '\n[digest.smtp]\nhost = "smtp.example.com"\nsecurity = "none"\n',
                   encoding="utf-8")
    with pytest.raises(SettingsError, match="digest.smtp.security"):
        load_settings(bad)


# --- A real SMTP server on loopback ----------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"digest" and auth_data.password == b"s3cret"
        return AuthResult(success=ok)

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port(),
                            authenticator=authenticate, auth_require_tls=False)
    controller.start()
    yield inbox, controller.port
    controller.stop()


def _settings_with_smtp(team, tmp_path, port: int) -> object:
    dest, *_ = team
    text = (dest / "settings.toml").read_text(encoding="utf-8")
    text = text.replace("[storage]", f'[digest.smtp]\nhost = "127.0.0.1"\nport = {port}\n'
                        'security = "none"\nusername = "digest"\npassword_env = "TEST_SMTP_PW"\n\n'
                        "[storage]")
    path = dest / f"settings-{tmp_path.name}.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path)


def test_digest_received_by_a_loopback_smtp_server(team, tmp_path, smtp_server):
    inbox, port = smtp_server
    _, info, _, _ = team
    settings = _settings_with_smtp(team, tmp_path, port)
    engine = open_store(settings)
    sender = D.SmtpSender(settings.digest.smtp, environ={"TEST_SMTP_PW": "s3cret"})
    results = D.send_digests(settings, engine, info.now, sender, period="2026-11-23")
    assert [(r.recipient, r.status) for r in results] == [("marta@aceros.example", "sent")]
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["marta@aceros.example"]
    message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert message["To"] == "Marta Garza <marta@aceros.example>"
    assert message["Subject"].startswith(
        f"Seguimiento de cotizaciones (toda la empresa): vencidos {len(SILENT)}")
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Seguimientos vencidos" in plain
    page = Page(html)
    assert sorted(subjects(page.rows["overdue"])) == sorted(t["subject"] for t in SILENT)

    # the same period again (a second worker, a cron rerun): not sent twice
    again = D.send_digests(settings, engine, info.now, sender, period="2026-11-23")
    assert [r.status for r in again] == ["skipped"]
    assert len(inbox.envelopes) == 1
    assert [row for row in D.digest_log(engine) if row[1] == "2026-11-23"] == [
        ("marta@aceros.example", "2026-11-23", "sent")]


class Broken:
    """A sender whose server is down."""

    def send(self, message):
        raise D.DigestError("SMTP 127.0.0.1:1: connection refused")


def test_a_failed_send_is_recorded_and_retried(team, tmp_path, smtp_server):
    inbox, port = smtp_server
    _, info, _, _ = team
    settings = _settings_with_smtp(team, tmp_path, port)
    engine = open_store(settings)
    [failed] = D.send_digests(settings, engine, info.now, Broken(), period="2026-11-30")
    assert failed.status == "failed" and "connection refused" in failed.error
    assert ("marta@aceros.example", "2026-11-30", "failed") in D.digest_log(engine)
    right = D.SmtpSender(settings.digest.smtp, environ={"TEST_SMTP_PW": "s3cret"})
    [sent] = D.send_digests(settings, engine, info.now, right, period="2026-11-30")
    assert sent.status == "sent" and len(inbox.envelopes) == 1
    with pytest.raises(D.DigestError, match="TEST_SMTP_PW"):
        D.SmtpSender(settings.digest.smtp, environ={}).send(email.message.EmailMessage())


def test_digest_command_writes_files_and_refuses_an_unknown_manager(team, tmp_path):
    from click.testing import CliRunner

    from assistant.cli import main

    _, info, settings, _ = team
    cli = CliRunner()
    base = ["--config", str(info.settings_path), "digest", "--now", info.now.isoformat()]
    out = tmp_path / "digest.html"
    result = cli.invoke(main, base + ["--out", str(out), "--manager", "marta@aceros.example"])
    assert result.exit_code == 0, result.output
    assert "base_url" in result.output  # no [web] base_url: the digest has no links, and says so
    assert sorted(subjects(Page(out.read_text(encoding="utf-8")).rows["overdue"])) == \
        sorted(t["subject"] for t in SILENT)
    eml = tmp_path / "digest.eml"
    assert cli.invoke(main, base + ["--out", str(eml)]).exit_code == 0
    parsed = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    printed = cli.invoke(main, base)
    assert printed.exit_code == 0 and "Asunto: Seguimiento de cotizaciones" in printed.output
    unknown = cli.invoke(main, base + ["--manager", "nadie@aceros.example"])
    assert unknown.exit_code == 1 and "no recibe resumen" in unknown.output  # team.language
    no_smtp = cli.invoke(main, base + ["--send"])
    assert no_smtp.exit_code == 1 and "[digest.smtp]" in no_smtp.output
    # A file the digest cannot be (a PDF) is refused before anything is written, exit 2,
    # in the team's language: it used to get the HTML under a .pdf name.
    pdf = tmp_path / "resumen.pdf"
    refused = cli.invoke(main, base + ["--out", str(pdf)])
    assert refused.exit_code == 2 and "el resumen se escribe como .html, .htm, .txt, .eml" \
        in refused.output, refused.output
    assert not pdf.exists()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (made by the openssl command)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed")
    folder = tmp_path_factory.mktemp("tls")
    import subprocess

    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem"),
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return folder / "cert.pem", folder / "key.pem"


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_digest_sent_over_tls_with_login(team, tmp_path, certificate, security):
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from assistant.settings import Smtp

    cert, key = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cafile=str(cert))
    inbox = Inbox()
    logins = []

    def authenticate(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret")

    options = ({"tls_context": server_tls, "require_starttls": True} if security == "starttls"
               else {"ssl_context": server_tls, "auth_require_tls": False})  # TLS from the start
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=authenticate,
                            server_hostname="127.0.0.1", **options)
    controller.start()
    try:
        _, info, settings, engine = team
        smtp = Smtp(host="127.0.0.1", port=port, security=security, username="digest",
                    password_env="PW")
        sender = D.SmtpSender(smtp, environ={"PW": "s3cret"}, tls_context=client_tls)
        results = D.send_digests(settings, engine, info.now, sender, period=f"tls-{security}")
        assert [r.status for r in results] == ["sent"]
        untrusting = D.SmtpSender(smtp, environ={"PW": "s3cret"})  # the system CAs only
        with pytest.raises(D.DigestError, match="CERTIFICATE_VERIFY_FAILED|certificate verify"):
            untrusting.send(email.message.EmailMessage())
    finally:
        controller.stop()
    assert logins == [(b"digest", b"s3cret")]
    [envelope] = inbox.envelopes
    message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert message["Subject"].startswith("Seguimiento de cotizaciones")


def test_a_team_manager_gets_only_their_teams_threads(team):
    dest, info, _, engine = team
    text = (dest / "settings.toml").read_text(encoding="utf-8")
    luis = 'name = "Luis Herrera"\nrole = "account_executive"\nmanager = "marta@aceros.example"'
    assert luis in text
    text = text.replace(luis, luis.replace("marta@", "jefe@")).replace(
        "[[accounts]]", '[[team.members]]\nemail = "jefe@aceros.example"\nname = "Jorge Fernández"\n'
        'role = "manager"\nmanager = "marta@aceros.example"\n\n[[accounts]]', 1)
    path = dest / "settings-jefe.toml"
    path.write_text(text, encoding="utf-8")
    settings = load_settings(path)
    assert {r.email: r.scope for r in D.recipients(settings)} == {
        "marta@aceros.example": None,
        "jefe@aceros.example": frozenset({"jefe@aceros.example", "luis@aceros.example"})}
    [digest] = D.build_digests(settings, engine, info.now, manager="jefe@aceros.example")
    page = Page(digest.html)
    luis_silent = {t["subject"] for t in SILENT if t["owner"] == "luis@aceros.example"}
    assert luis_silent and set(subjects(page.rows["overdue"])) == luis_silent
    assert set(subjects(page.rows.get("waiting", []))) == {
        t["subject"] for t in WAITING if t["owner"] == "luis@aceros.example"}
    assert "equipo de Jorge Fernández" in digest.subject
    assert page.quarter["quotes_sent"][1] == str(
        sum(t["owner"] == "luis@aceros.example" for t in DEMO_THREADS))
