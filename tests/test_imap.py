"""The IMAP connector against a live Dovecot on loopback (fixture in tests/dovecot.py).

Every test makes its own Dovecot user, so tests share one server but no mail. Syncs run
through the real ``sync_account`` into a real SQLite file.
"""

from __future__ import annotations

import base64
import imaplib
import json
import os
import re
import ssl
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select

from assistant.services.ingest import sync_account
from assistant.storage.db import open_database
from assistant.storage.models import Account, Message, MessageLocation
from connectors.base import (AuthenticationError, ConfigurationError, DraftMessage,
                             TransientError)
from connectors.imap import ImapConnector
from tests.dovecot import Proxy, make_certificates

pytestmark = pytest.mark.imap

FOLLOWUP = str(Path(sys.executable).with_name("followup"))
PDF_BYTES = b"%PDF-1.4 " + bytes(range(256)) * 400  # ~100 KB: must never be fetched


def mail(n: int, *, sender="cliente@uno.example", to="ana@acme.example", subject=None,
         attachment: str | None = None, reply_to: str | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject or f"Mensaje {n}"
    msg["Date"] = f"Mon, {1 + n % 27:02d} Nov 2026 10:00:00 -0600"
    msg["Message-ID"] = f"<m{n}-{sender.split('@')[0]}@test.example>"
    if reply_to:
        msg["In-Reply-To"] = reply_to
        msg["References"] = reply_to
    msg.set_content(f"Hola, este es el mensaje número {n}.\nSaludos.\n")
    if attachment:
        msg.add_attachment(PDF_BYTES, maintype="application", subtype="pdf", filename=attachment)
    return bytes(msg)


BOUNCE = (
    b"From: Mail Delivery System <MAILER-DAEMON@mx.acme.example>\r\n"
    b"To: ana@acme.example\r\n"
    b"Subject: Undelivered Mail Returned to Sender\r\n"
    b"Date: Tue, 03 Nov 2026 10:00:00 -0600\r\n"
    b"Message-ID: <bounce-1@mx.acme.example>\r\n"
    b"Auto-Submitted: auto-replied\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="BND"\r\n'
    b"\r\n"
    b"--BND\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
    b"I'm sorry to have to inform you that your message could not be delivered.\r\n\r\n"
    b"--BND\r\nContent-Type: message/delivery-status\r\n\r\n"
    b"Reporting-MTA: dns; mx.acme.example\r\n\r\n"
    b"Final-Recipient: rfc822; nadie@dos.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
    b"Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
    b"--BND\r\nContent-Type: text/rfc822-headers\r\n\r\n"
    b"From: ana@acme.example\r\nTo: nadie@dos.example\r\nSubject: Cotizacion 12\r\n"
    b"Message-ID: <quote-12@acme.example>\r\n\r\n"
    b"--BND--\r\n")


@pytest.fixture
def engine(tmp_path):
    return open_database(f"sqlite:///{tmp_path / 'followup.db'}")


def connector(server, user, *, host=None, port=None, **options) -> ImapConnector:
    options.setdefault("backoff", 0.01)
    return ImapConnector(host or server.host, user, password=options.pop("password", "secret"),
                         port=port or server.port, tls="none", **options)


def run_sync(engine, conn, name="acct", **options):
    try:
        return sync_account(engine, name, "imap", conn, workers=0, **options)
    finally:
        conn.close()


def counts(engine, name="acct") -> tuple[int, int]:
    """(message rows, location rows of the account)."""
    with engine.connect() as c:
        messages = c.scalar(select(func.count()).select_from(Message))
        locations = c.scalar(select(func.count()).select_from(MessageLocation)
                             .join(Account, Account.id == MessageLocation.account_id)
                             .where(Account.name == name))
    return messages, locations


def cursor_of(engine, name="acct") -> dict:
    with engine.connect() as c:
        return json.loads(c.scalar(select(Account.cursor).where(Account.name == name)))


def test_first_sync_reads_inbox_and_sent_without_attachments_or_seen_flags(dovecot, engine):
    user = dovecot.new_user()
    dovecot.append(user, "INBOX", [mail(1), mail(2, reply_to="<q1@acme.example>"), BOUNCE])
    dovecot.append(user, "Sent", [mail(10, sender="ana@acme.example", to="cliente@uno.example",
                                       subject="Cotización 10", attachment="Cotización-10.pdf")])
    conn = connector(dovecot, user, batch_size=2)
    raws = [m for b in conn.fetch(None) for m in b.messages]
    conn.close()
    assert sorted(r.folder for r in raws) == ["INBOX", "INBOX", "INBOX", "Sent"]
    quote = next(r for r in raws if r.folder == "Sent")
    # the 100 KB attachment is described (name, type) but its content is not fetched
    assert len(quote.data) < 4000 and b"Cotizaci" in quote.data
    assert base64.b64encode(PDF_BYTES[:300])[:40] not in quote.data

    per_folder: dict[str, int] = {}
    result = run_sync(engine, connector(dovecot, user, batch_size=2),
                      folder_progress=lambda f, n: per_folder.__setitem__(f, per_folder.get(f, 0) + n))
    assert (result.read, result.stored, result.error) == (4, 4, None)
    assert per_folder == {"INBOX": 3, "Sent": 1}  # what the CLI's per-folder bars show
    with engine.connect() as c:
        rows = {r.message_id: r for r in c.execute(select(Message))}
    assert rows["<m10-ana@test.example>"].attachment_names == ["Cotización-10.pdf"]
    assert rows["<m10-ana@test.example>"].subject == "Cotización 10"
    assert "número 10" in rows["<m10-ana@test.example>"].body_text
    assert rows["<m2-cliente@test.example>"].in_reply_to == "<q1@acme.example>"
    bounce = rows["<bounce-1@mx.acme.example>"]
    assert (bounce.kind, bounce.bounced_recipients, bounce.original_message_id) == (
        "bounce", ["nadie@dos.example"], "<quote-12@acme.example>")
    state = cursor_of(engine)["folders"]
    assert set(state) == {"INBOX", "Sent"} and state["INBOX"]["uid"] == 3 and state["Sent"]["uid"] == 1
    with dovecot.client(user) as imap:  # read with BODY.PEEK: still unread
        imap.select("INBOX", readonly=True)
        typ, data = imap.fetch("1:*", "(FLAGS)")
        assert typ == "OK" and not any(b"\\Seen" in line for line in data)


def _large_messages() -> list[bytes]:
    """Messages past MESSAGE_PREFIX, read part by part: an alternative body with a big
    attachment (RFC 2231 name), a long single-part text, and a bounce returning the whole
    original with its attachment."""
    alt = EmailMessage()
    alt["From"], alt["To"] = "ana@acme.example", "cliente@uno.example"
    alt["Subject"], alt["Message-ID"] = "Propuesta técnica", "<alt-1@acme.example>"
    alt["Date"] = "Mon, 02 Nov 2026 10:00:00 -0600"
    alt.set_content("Adjunto la propuesta. " * 50)
    alt.add_alternative("<p>Adjunto <b>la propuesta</b>.</p>", subtype="html")
    alt.add_attachment(PDF_BYTES, maintype="application", subtype="pdf",
                       filename="Propuesta técnica ñandú 2026.pdf")
    long_text = mail(50, subject="Texto largo")
    long_text = long_text.replace(b"Saludos.", ("línea de texto con acentos áé\n" * 10000).encode())
    original = bytes(alt).replace(b"\n", b"\r\n")
    bounce = BOUNCE.replace(b'report-type=delivery-status; boundary="BND"',
                            b'report-type=delivery-status; boundary="BND"').replace(
        b"--BND\r\nContent-Type: text/rfc822-headers\r\n\r\n",
        b"--BND\r\nContent-Type: message/rfc822\r\n\r\n" + original + b"\r\n"
        b"--BND\r\nContent-Type: text/rfc822-headers\r\n\r\n")
    return [bytes(alt), long_text, bounce]


def test_large_messages_are_read_part_by_part_and_parse_like_the_originals(dovecot):
    from assistant.mail.classify import classify
    from assistant.mail.parse import parse_message
    from connectors.imap import MESSAGE_PREFIX

    originals = _large_messages()
    assert all(len(m) > MESSAGE_PREFIX for m in originals)
    user = dovecot.new_user()
    dovecot.append(user, "INBOX", originals)
    conn = connector(dovecot, user)
    raws = [m for b in conn.fetch(None) for m in b.messages]
    conn.close()
    assert len(raws) == 3
    fields = ("message_id", "from_addr", "to", "subject", "date", "content_type", "report_type",
              "part_types", "attachment_names", "text", "report", "original_message_id")
    for original, raw in zip(originals, raws):
        want, got = parse_message(original), parse_message(raw.data)
        assert {f: getattr(got, f) for f in fields} == {f: getattr(want, f) for f in fields}
        assert classify(got) == classify(want)
        assert len(raw.data) < len(original) / 3  # attachments were not downloaded
    assert parse_message(raws[0].data).attachment_names == ("Propuesta técnica ñandú 2026.pdf",)
    assert classify(parse_message(raws[2].data)).kind == "bounce"


def test_noop_rerun_costs_the_same_few_commands_whatever_the_mailbox_size(dovecot, engine, imap_proxy):
    user = dovecot.new_user()
    dovecot.append(user, "INBOX", [mail(n) for n in range(3)])
    proxy_conn = lambda: connector(dovecot, user, host=imap_proxy.host, port=imap_proxy.port)  # noqa: E731
    run_sync(engine, proxy_conn())
    imap_proxy.reset()
    assert run_sync(engine, proxy_conn()).read == 0
    small = list(imap_proxy.commands)
    assert not {"SELECT", "EXAMINE", "UID FETCH", "UID SEARCH", "FETCH"} & set(small), small
    assert small.count("STATUS") == 2  # INBOX and Sent

    dovecot.append(user, "INBOX", [mail(n) for n in range(3, 203)])
    assert run_sync(engine, proxy_conn()).read == 200
    imap_proxy.reset()
    assert run_sync(engine, proxy_conn()).read == 0
    assert imap_proxy.commands == small  # 3 or 203 messages: the same commands
    assert len(small) <= 6


def test_new_mail_between_runs_is_read_once(dovecot, engine):
    user = dovecot.new_user()
    dovecot.append(user, "INBOX", [mail(1), mail(2)])
    assert run_sync(engine, connector(dovecot, user)).stored == 2
    dovecot.append(user, "INBOX", [mail(3)])
    dovecot.append(user, "Sent", [mail(4, sender="ana@acme.example", to="x@uno.example")])
    second = run_sync(engine, connector(dovecot, user))
    assert (second.read, second.stored) == (2, 2)
    assert counts(engine) == (4, 4)
    assert run_sync(engine, connector(dovecot, user)).read == 0


def test_uidvalidity_change_rereads_the_folder_without_duplicates(dovecot, engine):
    user = dovecot.new_user()
    sent = [mail(n, sender="ana@acme.example", to="c@uno.example") for n in range(1, 4)]
    dovecot.append(user, "Sent", sent)
    run_sync(engine, connector(dovecot, user))
    before = cursor_of(engine)["folders"]["Sent"]["validity"]
    with dovecot.client(user) as imap:  # delete and recreate: a new UIDVALIDITY
        assert imap.delete("Sent")[0] == "OK"
        assert imap.create("Sent")[0] == "OK"
    dovecot.append(user, "Sent", sent + [mail(4, sender="ana@acme.example", to="c@uno.example")])
    again = run_sync(engine, connector(dovecot, user))
    assert again.read == 4 and again.stored == 1  # all re-read, only the new one stored
    after = cursor_of(engine)["folders"]["Sent"]
    assert after["validity"] != before and after["uid"] == 4
    with engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(Message)) == 4
        assert c.scalar(select(func.count(func.distinct(Message.message_id)))) == 4


def test_connection_killed_mid_fetch_then_rerun_loses_and_duplicates_nothing(dovecot, engine):
    user = dovecot.new_user()
    dovecot.append(user, "INBOX", [mail(n) for n in range(30)])
    killed = []

    def kill_after_first_batch(count: int) -> None:
        if not killed:
            killed.append(dovecot.kill_imap(user))  # the server's imap process dies

    conn = connector(dovecot, user, batch_size=10, retries=0)
    with pytest.raises(TransientError):
        run_sync(engine, conn, progress=kill_after_first_batch)
    assert killed == [1]
    stored, _ = counts(engine)
    assert 10 <= stored < 30
    assert cursor_of(engine)["folders"]["INBOX"]["uid"] == stored  # cursor = last stored batch
    rerun = run_sync(engine, connector(dovecot, user, batch_size=10))
    assert rerun.read == 30 - stored
    assert counts(engine) == (30, 30)


def test_dropped_connection_is_retried_within_the_same_sync(dovecot, engine, imap_proxy):
    user = dovecot.new_user()
    dovecot.append(user, "INBOX", [mail(n) for n in range(25)])
    cuts = []

    def cut_once(count: int) -> None:
        if not cuts:
            cuts.append(count)
            imap_proxy.cut()

    conn = connector(dovecot, user, host=imap_proxy.host, port=imap_proxy.port, batch_size=5,
                     retries=3)
    result = run_sync(engine, conn, progress=cut_once)
    assert cuts and result.error is None
    assert (result.read, result.stored) == (25, 25)
    assert imap_proxy.commands.count("LOGIN") == 2  # reconnected once
    assert counts(engine) == (25, 25)


def test_server_down_is_a_transient_error(dovecot):
    conn = ImapConnector("127.0.0.1", "nobody", password="x", port=_closed_port(), tls="none",
                         retries=1, backoff=0.01)
    with pytest.raises(TransientError, match="failed 2 times"):
        list(conn.fetch(None))


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_wrong_password_is_an_authentication_error(dovecot):
    user = dovecot.new_user()
    with pytest.raises(AuthenticationError, match=f"as {user} was refused"):
        list(connector(dovecot, user, password="wrong").fetch(None))


def test_token_provider_is_used_for_xoauth2_and_its_refusal_is_an_authentication_error(dovecot):
    user = dovecot.new_user()
    calls = []

    def provider() -> str:
        calls.append(1)
        return "ya29.not-a-real-token"

    conn = ImapConnector(dovecot.host, user, token_provider=provider, port=dovecot.port,
                         tls="none", backoff=0.01)
    with pytest.raises(AuthenticationError):  # this Dovecot offers no XOAUTH2
        list(conn.fetch(None))
    assert calls == [1]


def test_localized_folders_without_special_use(dovecot, engine):
    user = dovecot.new_user("maria", folders=("Enviados", "Borradores", "Papelera"))
    dovecot.append(user, "Enviados", [mail(1, sender="maria@acme.example", to="c@uno.example")])
    dovecot.append(user, "INBOX", [mail(2)])
    conn = connector(dovecot, user)
    assert conn.folders() == ["INBOX", "Enviados"]
    assert conn.drafts_folder() == "Borradores"
    result = run_sync(engine, conn)
    assert result.stored == 2
    with engine.connect() as c:
        assert sorted(c.scalars(select(MessageLocation.folder))) == ["Enviados", "INBOX"]


def test_folders_setting_overrides_and_a_missing_folder_is_a_configuration_error(dovecot, engine):
    user = dovecot.new_user(folders=("Sent", "Drafts", "Archivo"))
    dovecot.append(user, "Archivo", [mail(1)])
    dovecot.append(user, "INBOX", [mail(2)])
    result = run_sync(engine, connector(dovecot, user, folders=["Archivo"]))
    assert result.read == 1 and set(cursor_of(engine)["folders"]) == {"Archivo"}
    with pytest.raises(ConfigurationError, match="'Nope' not found"):
        list(connector(dovecot, user, folders=["Nope"]).fetch(None))


def test_draft_is_appended_threaded_and_found_again_by_its_key(dovecot):
    user = dovecot.new_user()
    draft = EmailMessage()
    draft["From"] = "ana@acme.example"
    draft["To"] = "cliente@uno.example"
    draft["Subject"] = "Re: Cotización 10"
    draft["In-Reply-To"] = "<m10-ana@test.example>"
    draft["References"] = "<m10-ana@test.example>"
    draft.set_content("¿Pudo revisar la cotización?\n")
    conn = connector(dovecot, user)
    try:
        assert conn.find_draft("fu-7-1") is None
        saved = conn.save_draft(DraftMessage("fu-7-1", bytes(draft)))
        assert re.fullmatch(r"Drafts:\d+:1", saved)
        assert conn.find_draft("fu-7-1") == saved
        assert conn.find_draft("fu-7") is None  # a prefix of a key is another key
        other = conn.save_draft(DraftMessage("fu-7-10", bytes(draft)))
        assert other != saved and conn.find_draft("fu-7-10") == other
        assert conn.find_draft("fu-7-1") == saved
    finally:
        conn.close()
    with dovecot.client(user) as imap:
        imap.select("Drafts", readonly=True)
        typ, data = imap.uid("FETCH", "1", "(FLAGS BODY.PEEK[HEADER])")
        flags, header = data[0][0], data[0][1]
        assert b"\\Draft" in flags
        assert b"X-Followup-Id: fu-7-1\r\n" in header
        assert b"In-Reply-To: <m10-ana@test.example>" in header
    # a rerun after a crash between "saved" and "recorded" finds it instead of saving twice
    again = connector(dovecot, user)
    try:
        assert again.find_draft("fu-7-1") == saved
    finally:
        again.close()


def test_a_draft_is_moved_to_the_trash_only_while_it_carries_its_key(dovecot):
    user = dovecot.new_user()  # Sent and Drafts; Trash is the server's \\Trash special use
    draft = EmailMessage()
    draft["From"], draft["To"], draft["Subject"] = "ana@acme.example", "cliente@uno.example", "Re: Cotización 11"
    draft.set_content("¿Te llegó la cotización?\n")
    conn = connector(dovecot, user)
    try:
        saved = conn.save_draft(DraftMessage("fu-8-1", bytes(draft)))
        kept = conn.save_draft(DraftMessage("fu-8-2", bytes(draft)))
        assert conn.trash_draft(saved, "fu-8-2") is False  # another follow-up's key: left alone
        assert conn.trash_draft(saved, "fu-8-1") is True
        assert conn.find_draft("fu-8-1") is None and conn.find_draft("fu-8-2") == kept
        assert conn.trash_draft(saved, "fu-8-1") is False  # gone: not an error
        assert conn.trash_draft("Drafts:1:999", "fu-8-2") is False  # another UIDVALIDITY
    finally:
        conn.close()
    with dovecot.client(user) as imap:
        imap.select("Trash", readonly=True)
        typ, data = imap.uid("SEARCH", None, "HEADER", "X-Followup-Id", "fu-8-1")
        assert typ == "OK" and len(data[0].split()) == 1  # moved, recoverable
        imap.select("Drafts", readonly=True)
        typ, data = imap.uid("SEARCH", None, "ALL")
        assert len(data[0].split()) == 1  # only fu-8-2, and nothing left flagged \\Deleted


# ------------------------------------------------------------------ through the CLI

def _followup(*args: str, env: dict) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in ("FOLLOWUP_CONFIG", "FOLLOWUP_DATABASE_URL")}
    return subprocess.run([FOLLOWUP, *args], capture_output=True, text=True, env={**full, **env},
                          timeout=120)


def _imap_account(name: str, server, user: str, env_var: str) -> str:
    return "\n".join(["[[accounts]]", f'name = "{name}"', 'kind = "imap"', f'host = "{server.host}"',
                      f"port = {server.port}", 'tls = "none"', f'username = "{user}"',
                      f'password_env = "{env_var}"'])


def test_sample_team_over_imap_scans_exactly_like_the_maildir_import(dovecot, tmp_path):
    from assistant.demo.sample import ACCOUNTS, generate_sample
    from assistant.mail.parse import parse_message

    info = generate_sample(tmp_path / "maildir")
    maildir_settings = info.settings_path
    assert _followup("--config", str(maildir_settings), "sync", env={}).returncode == 0
    now = info.now.isoformat()
    expected = json.loads(_followup("--config", str(maildir_settings), "scan", "--now", now, "--json",
                                    env={}).stdout)
    assert len(expected["threads"]) >= 10

    # The same mailboxes in Dovecot: each member's own mail in Sent, the rest in INBOX.
    owner_of = {acct: email for email, acct in ACCOUNTS.items()}
    text = maildir_settings.read_text(encoding="utf-8")
    env, loaded_sent = {}, 0
    for acct in sorted({p.name for p in (tmp_path / "maildir" / "mail").iterdir()}):
        user = dovecot.new_user(acct)
        inbox, sent = [], []
        for path in sorted((tmp_path / "maildir" / "mail" / acct).glob("*/*")):
            data = path.read_bytes()
            (sent if parse_message(data).from_addr == owner_of.get(acct) else inbox).append(data)
        assert inbox or sent
        loaded_sent += len(sent)
        dovecot.append(user, "INBOX", inbox)
        dovecot.append(user, "Sent", sent)
        var = f"FOLLOWUP_TEST_IMAP_{acct.upper()}"
        env[var] = "secret"
        old = f'name = "{acct}"\nkind = "maildir"\npath = "mail/{acct}"'
        assert old in text
        text = text.replace(old, _imap_account(acct, dovecot, user, var).split("\n", 1)[1])
    assert loaded_sent >= 10
    imap_dir = tmp_path / "imap"
    imap_dir.mkdir()
    (imap_dir / "settings.toml").write_text(text, encoding="utf-8")
    settings = str(imap_dir / "settings.toml")
    # a terminal for rich (its progress bars are drawn only there)
    first = _followup("--config", settings, "sync", env={**env, "FORCE_COLOR": "1", "COLUMNS": "150"})
    assert first.returncode == 0, first.stdout + first.stderr
    assert "ana › Sent" in first.stderr and "ana › INBOX" in first.stderr  # progress per folder
    got = json.loads(_followup("--config", settings, "scan", "--now", now, "--json", env=env).stdout)
    assert got == expected
    rerun = _followup("--config", settings, "sync", env=env)
    assert rerun.returncode == 0 and rerun.stdout.count("leídos 0, nuevos 0") == len(env)


def test_failed_login_marks_the_account_needs_reauth_and_the_others_sync(dovecot, basic_team):
    good, bad = dovecot.new_user("good"), dovecot.new_user("bad")
    dovecot.append(good, "INBOX", [mail(1), mail(2)])
    settings = basic_team / "settings.toml"
    settings.write_text(settings.read_text(encoding="utf-8").replace(
        "[protocol]", _imap_account("good", dovecot, good, "FOLLOWUP_TEST_GOOD") + "\n\n"
        + _imap_account("bad", dovecot, bad, "FOLLOWUP_TEST_BAD") + "\n\n[protocol]"), encoding="utf-8")
    env = {"FOLLOWUP_TEST_GOOD": "secret", "FOLLOWUP_TEST_BAD": "wrong"}
    run = _followup("--config", str(settings), "sync", env=env)
    assert run.returncode == 1
    assert "good: leídos 2, nuevos 2" in run.stdout and "camila: leídos 8, nuevos 8" in run.stdout
    assert re.search(rf"bad: FALLÓ \(vuelve a autenticar esta cuenta de correo\): el servidor IMAP "
                     rf"127.0.0.1 rechazó el inicio de sesión de {bad}", run.stdout), run.stdout
    assert "IMAP login" not in run.stdout + run.stderr  # one line, in the team's language
    engine = open_database(f"sqlite:///{basic_team / 'followup.db'}")
    with engine.connect() as c:
        status = dict(c.execute(select(Account.name, Account.status)).all())
        error = c.scalar(select(Account.last_error).where(Account.name == "bad"))
    assert status["bad"] == "needs_reauth" and status["good"] == "ok" and "wrong" not in error
    missing = _followup("--config", str(settings), "sync", "--account", "good", env={})
    assert "FOLLOWUP_TEST_GOOD" in missing.stdout and "no está definida" in missing.stdout


@pytest.mark.parametrize("ci", ["1", None])
def test_without_dovecot_ci_fails_and_a_local_run_skips_naming_make_dovecot(tmp_path, ci):
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PATH"] = str(Path(sys.executable).parent) + ":/bin"  # no /usr/sbin: no dovecot
    if ci:
        env["CI"] = ci
    root = Path(__file__).resolve().parent.parent
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider",
                          "-rs", f"{Path(__file__)}::test_wrong_password_is_an_authentication_error"],
                         capture_output=True, text=True, env=env, cwd=root, timeout=120)
    if ci:
        assert run.returncode != 0 and "IMAP tests need Dovecot in CI" in run.stdout, run.stdout
    else:
        assert run.returncode == 0 and "1 skipped" in run.stdout and "make dovecot" in run.stdout, run.stdout


# ------------------------------------------------------------------ TLS

def tls_connector(server, user, tls, *, host=None, port=None, **options) -> ImapConnector:
    options.setdefault("backoff", 0.01)
    return ImapConnector(host or server.host, user, password="secret", tls=tls,
                         port=port or (server.ssl_port if tls == "ssl" else server.port), **options)


def _peer(conn: ImapConnector) -> dict:
    """The verified certificate of the live connection (only a TLS socket has one)."""
    sock = conn.client.socket()
    assert isinstance(sock, ssl.SSLSocket), type(sock)
    return sock.getpeercert()


def test_ssl_sync_and_drafts_with_the_private_ca_trusted(dovecot, engine):
    user = dovecot.new_user()
    dovecot.append(user, "INBOX", [mail(1), mail(2)])
    dovecot.append(user, "Sent", [mail(3, sender="ana@acme.example", to="c@uno.example")])
    conn = tls_connector(dovecot, user, "ssl", ca_file=str(dovecot.ca_file))
    assert ("IP Address", "127.0.0.1") in _peer(conn)["subjectAltName"]
    result = run_sync(engine, conn)
    assert (result.read, result.stored, result.error) == (3, 3, None)
    assert set(cursor_of(engine)["folders"]) == {"INBOX", "Sent"}
    draft = DraftMessage("fu-9-1", bytes(mail(4, sender="ana@acme.example", to="c@uno.example")))
    conn = tls_connector(dovecot, user, "ssl", ca_file=str(dovecot.ca_file))
    try:
        saved = conn.save_draft(draft)
        assert re.fullmatch(r"Drafts:\d+:1", saved) and conn.find_draft("fu-9-1") == saved
    finally:
        conn.close()


def test_starttls_upgrades_before_the_password_is_sent(dovecot, engine):
    user = dovecot.new_user()
    dovecot.append(user, "INBOX", [mail(1)])
    proxy = Proxy(dovecot.host, dovecot.port)
    try:
        # "localhost": the certificate's DNS name (127.0.0.1 is its IP address)
        conn = tls_connector(dovecot, user, "starttls", host="localhost", port=proxy.port,
                             ca_file=str(dovecot.ca_file))
        assert ("DNS", "localhost") in _peer(conn)["subjectAltName"]
        assert run_sync(engine, conn).stored == 1
        assert proxy.commands[-1] == "STARTTLS"  # the last command readable on the wire
        assert b"secret" not in proxy.sent and b"LOGIN" not in proxy.sent.upper()
    finally:
        proxy.close()


def test_a_server_without_starttls_is_refused_never_used_in_plain_text(dovecot):
    user = dovecot.new_user()
    stripping = Proxy(dovecot.host, dovecot.port, strip_starttls=True)  # a downgrade attacker
    try:
        conn = tls_connector(dovecot, user, "starttls", port=stripping.port, ca_file=str(dovecot.ca_file))
        with pytest.raises(ConfigurationError, match="does not offer STARTTLS.*never falls back"):
            list(conn.fetch(None))
        assert "STARTTLS" not in stripping.commands and "LOGIN" not in stripping.commands
        assert b"secret" not in stripping.sent
    finally:
        stripping.close()


@pytest.mark.parametrize("tls", ["ssl", "starttls"])
def test_an_untrusted_certificate_is_a_configuration_error_naming_the_problem(dovecot, tls, tmp_path):
    user = dovecot.new_user()
    conn = tls_connector(dovecot, user, tls, retries=3)  # no ca_file: the system's CAs only
    with pytest.raises(ConfigurationError) as info:  # not retried: retrying cannot fix it
        list(conn.fetch(None))
    message = str(info.value)
    assert re.search(r"certificate of IMAP 127\.0\.0\.1:\d+ does not verify against the system's "
                     r"trusted CAs: (self-signed certificate in certificate chain|unable to get local "
                     r"issuer certificate)", message), message
    assert "set ca_file" in message
    # another CA than the server's (a second throw-away one): refused, naming that file
    make_certificates(tmp_path)
    with pytest.raises(ConfigurationError, match=r"against the CAs in ca_file .*ca\.pem: .*does not hold the CA"):
        list(tls_connector(dovecot, user, tls, ca_file=str(tmp_path / "ca.pem")).fetch(None))


@pytest.mark.parametrize("tls", ["ssl", "starttls"])
def test_a_host_name_the_certificate_does_not_cover_is_named(dovecot, tls):
    user = dovecot.new_user()
    # both listeners also answer on 127.0.0.2, an address the certificate does not name
    conn = tls_connector(dovecot, user, tls, host="127.0.0.2", ca_file=str(dovecot.ca_file))
    with pytest.raises(ConfigurationError) as info:
        list(conn.fetch(None))
    assert "issued for another host name" in str(info.value), info.value
    assert "certificate is not valid for '127.0.0.2'" in str(info.value), info.value


def test_ca_file_in_settings_trusts_the_private_ca_and_an_untrusted_account_is_reported(dovecot, basic_team):
    good, bad = dovecot.new_user("trusted"), dovecot.new_user("untrusted")
    dovecot.append(good, "INBOX", [mail(1)])
    dovecot.append(bad, "INBOX", [mail(2)])
    (basic_team / "certs").mkdir()
    (basic_team / "certs" / "company-ca.pem").write_bytes(dovecot.ca_file.read_bytes())

    def account(name, user, extra):
        return "\n".join(["[[accounts]]", f'name = "{name}"', 'kind = "imap"', f'host = "{dovecot.host}"',
                          f"port = {dovecot.ssl_port}", 'tls = "ssl"', f'username = "{user}"',
                          'password_env = "FOLLOWUP_TEST_TLS"', *extra]) + "\n\n"

    settings = basic_team / "settings.toml"
    settings.write_text(settings.read_text(encoding="utf-8").replace(
        "[protocol]", account("trusted", good, ['ca_file = "certs/company-ca.pem"'])  # settings folder
        + account("untrusted", bad, []) + "[protocol]"), encoding="utf-8")
    run = _followup("--config", str(settings), "sync", env={"FOLLOWUP_TEST_TLS": "secret"})
    assert run.returncode == 1
    assert "trusted: leídos 1, nuevos 1" in run.stdout and "camila: leídos 8, nuevos 8" in run.stdout, run.stdout
    assert re.search(r"untrusted: FALLÓ \(revisa esta cuenta de correo en settings.toml\): the TLS certificate of "
                     r"IMAP 127\.0\.0\.1:\d+ does not verify against the system's trusted CAs: .*set ca_file",
                     run.stdout), run.stdout
    engine = open_database(f"sqlite:///{basic_team / 'followup.db'}")
    with engine.connect() as c:
        status = dict(c.execute(select(Account.name, Account.status)).all())
    assert status["untrusted"] == "needs_attention" and status["trusted"] == "ok"


@pytest.mark.parametrize("line, tls, message", [
    ('ca_file = "certs/missing.pem"', "ssl", r"cannot read .*certs/missing\.pem"),
    ('ca_file = "settings.toml"', "ssl", r"settings\.toml holds no PEM certificate"),
    ('ca_file = "certs/ca.pem"', "none", r'ca_file does not apply with tls = "none"'),
    ('ca_file = 7', "ssl", r"expected text in quotes"),
])
def test_ca_file_setting_is_validated(basic_team, line, tls, message):
    from assistant.settings import load_settings
    from assistant.settings import SettingsError

    (basic_team / "certs").mkdir()
    ca_pem = basic_team / "certs" / "ca.pem"
    make_certificates(basic_team / "certs")
    assert ca_pem.exists()
    settings = basic_team / "settings.toml"
    entry = "\n".join(["[[accounts]]", 'name = "x"', 'kind = "imap"', 'host = "127.0.0.1"',
                       f'tls = "{tls}"', 'username = "x"', 'password_env = "X"'])
    base = settings.read_text(encoding="utf-8")
    settings.write_text(base.replace("[protocol]", entry + '\nca_file = "certs/ca.pem"\n\n[protocol]'),
                        encoding="utf-8")
    if tls != "none":  # the valid form loads, resolved against the settings folder
        assert load_settings(settings, environ={}).account("x").ca_file == str(ca_pem)
    settings.write_text(base.replace("[protocol]", entry + f"\n{line}\n\n[protocol]"), encoding="utf-8")
    with pytest.raises(SettingsError, match=message) as info:
        load_settings(settings, environ={})
    assert "accounts[" in str(info.value) and "ca_file" in str(info.value)
