"""Issue 11, point 1, end to end: a spoofed From never closes a quote thread.

A real `followup sync` of a Maildir into a real SQLite database, then `followup scan
--json`, through the installed console script. The client's own "no nos interesa"
(a headerless reply, joined by its subject: DESIGN.md rule 4) closes the thread; the same
message from an attacker who writes the client's address into the display name, an
encoded word, a quoted string or a comment, or who lists several authors, does not: it is
stored as the attacker (or as nobody), with a warning, and never joins the thread.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

FOLLOWUP = str(Path(sys.executable).with_name("followup"))
NOW = "2026-12-10T20:00:00+00:00"
CLIENT = "cliente@cliente.example"
QUOTE_ID = "<quote-ct7@acme.example>"
DECLINE_ID = "<decline-ct7@mx.example>"

SETTINGS = """\
[company]
name = "Acme"
domains = ["acme.example"]

[team]
timezone = "America/Bogota"

[[team.members]]
email = "ana@acme.example"
name = "Ana Pérez"
role = "account_executive"

[[accounts]]
name = "ana"
kind = "maildir"
path = "mail/ana"

[protocol]
holidays_country = "CO"
send_window_start = "09:00"

[[protocol.steps]]
after_days = 3
channel = "email"
template = "followup_1"

[[protocol.steps]]
after_days = 3
channel = "phone"
template = "call_1"

[storage]
url = "sqlite:///followup.db"
"""

QUOTE = (
    b"Message-ID: " + QUOTE_ID.encode() + b"\n"
    b"From: Ana =?utf-8?q?P=C3=A9rez?= <ana@acme.example>\n"
    b"To: Cliente <" + CLIENT.encode() + b">\n"
    b"Subject: =?utf-8?q?Cotizaci=C3=B3n?= CT-7\n"
    b"Date: Mon, 30 Nov 2026 10:00:00 -0500\n"
    b"Content-Type: text/plain; charset=utf-8\n\n"
    b"Adjunto la cotizaci\xc3\xb3n CT-7.\n"
)


def decline(from_lines: bytes, *, thread_headers: bytes = b"") -> bytes:
    """The client's decline as a fresh email (no thread headers), From as given."""
    return (
        b"Message-ID: " + DECLINE_ID.encode() + b"\n" + from_lines + b"\n"
        b"To: ana@acme.example\n" + thread_headers +
        b"Subject: RE: =?utf-8?q?Cotizaci=C3=B3n?= CT-7\n"
        b"Date: Tue, 1 Dec 2026 09:00:00 -0500\n"
        b"Content-Type: text/plain; charset=utf-8\n\n"
        b"Gracias Ana, pero no nos interesa por ahora.\n"
    )


def team(tmp_path: Path, *messages: bytes) -> Path:
    (tmp_path / "settings.toml").write_text(SETTINGS, encoding="utf-8")
    maildir = tmp_path / "mail" / "ana"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for i, data in enumerate((QUOTE, *messages), 1):
        (maildir / "cur" / f"17960000{i:02d}.M1P1.test:2,S").write_bytes(data)
    return tmp_path / "settings.toml"


def run(settings: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("FOLLOWUP_CONFIG", "FOLLOWUP_DATABASE_URL")}
    proc = subprocess.run([FOLLOWUP, "--config", str(settings), *args], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc


def sync_and_scan(settings: Path) -> tuple[dict, sqlite3.Row | None]:
    run(settings, "sync")
    scan = json.loads(run(settings, "scan", "--now", NOW, "--json").stdout)
    threads = [t for t in scan["threads"] if t["quote_message_id"] == QUOTE_ID]
    assert len(threads) == 1, scan
    db = sqlite3.connect(settings.parent / "followup.db")
    db.row_factory = sqlite3.Row
    row = db.execute("SELECT from_addr, from_name, warnings FROM messages WHERE message_id = ?",
                     (DECLINE_ID,)).fetchone()
    db.close()
    return threads[0], row


def test_the_clients_own_decline_closes_the_thread(tmp_path):
    """The control: the rule these tests lean on (a headerless decline from the contact
    closes the thread) does work, so the spoofing tests below can fail."""
    thread, row = sync_and_scan(team(tmp_path, decline(b"From: Cliente <" + CLIENT.encode() + b">")))
    assert thread["status"] == "closed"
    assert thread["last_reply_at"] is not None
    assert row["from_addr"] == CLIENT


SPOOFS = {
    "encoded-word name (the issue)": (b"From: =?utf-8?q?cliente=40cliente.example?= <attacker@evil.example>",
                                      "attacker@evil.example"),
    "base64 encoded-word name": (b"From: =?UTF-8?B?Y2xpZW50ZUBjbGllbnRlLmV4YW1wbGU=?= <attacker@evil.example>",
                                 "attacker@evil.example"),
    "encoded word in a quoted name": (b'From: "=?utf-8?q?cliente=40cliente.example?=" <attacker@evil.example>',
                                      "attacker@evil.example"),
    "encoded angle brackets": (b"From: =?utf-8?q?=3Ccliente=40cliente.example=3E?= <attacker@evil.example>",
                               "attacker@evil.example"),
    "quoted name": (b'From: "cliente@cliente.example" <attacker@evil.example>', "attacker@evil.example"),
    "comment": (b"From: attacker@evil.example (cliente@cliente.example)", "attacker@evil.example"),
    "fullwidth at sign": ('From: "cliente\uff20cliente.example" <attacker@evil.example>'.encode(),
                          "attacker@evil.example"),
    "only an encoded word": (b"From: =?utf-8?q?cliente=40cliente.example?=", None),
    "unquoted address before <>": (b"From: cliente@cliente.example <attacker@evil.example>", None),
    "two authors": (b"From: cliente@cliente.example, attacker@evil.example", None),
    "two From headers": (b"From: cliente@cliente.example\nFrom: attacker@evil.example", None),
    "stray parenthesis": (b"From: attacker@evil.example)<cliente@cliente.example>", None),
}


@pytest.mark.parametrize("from_lines,stored", list(SPOOFS.values()), ids=list(SPOOFS))
def test_a_spoofed_decline_does_not_close_the_thread(tmp_path, from_lines, stored):
    thread, row = sync_and_scan(team(tmp_path, decline(from_lines)))
    assert thread["status"] != "closed", thread
    assert thread["last_reply_at"] is None       # the spoof did not join the thread
    assert thread["next_step"] is not None        # its follow-ups are still planned
    assert row["from_addr"] == stored
    warnings = json.loads(row["warnings"])
    assert any(w.startswith("From") for w in warnings), warnings


def test_posing_as_the_rep_is_not_a_follow_up_touch(tmp_path):
    """A reply in the thread 'from Ana' written by an attacker is the attacker's message:
    not an outbound touch that would advance (and so silence) the cadence."""
    spoof = decline(b"From: =?utf-8?q?ana=40acme.example?= <attacker@evil.example>",
                    thread_headers=b"In-Reply-To: " + QUOTE_ID.encode() + b"\n")
    spoof = spoof.replace(b"To: ana@acme.example", b"To: " + CLIENT.encode())
    spoof = spoof.replace(b"no nos interesa por ahora", b"te escribo la semana que viene")
    thread, row = sync_and_scan(team(tmp_path, spoof))
    assert row["from_addr"] == "attacker@evil.example"
    # before the fix: Ana's "follow-up" of Dec 1 (touches 1, step 1 skipped)
    assert thread["last_outbound_at"].startswith("2026-11-30")  # the quote, nothing after
    assert thread["touches"] == 0
    assert thread["owner_candidates"] == ["ana@acme.example"]


def test_inspect_shows_the_warning(tmp_path):
    path = tmp_path / "spoof.eml"
    path.write_bytes(decline(SPOOFS["encoded-word name (the issue)"][0]))
    env = {k: v for k, v in os.environ.items() if k != "FOLLOWUP_CONFIG"}
    proc = subprocess.run([FOLLOWUP, "inspect", str(path), "--json"], capture_output=True, text=True,
                          env=env, timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (msg,) = json.loads(proc.stdout)["messages"]
    assert any("display name" in w and "attacker@evil.example" in w for w in msg["warnings"])
