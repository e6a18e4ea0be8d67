"""The same message in several mailboxes, recognised from its bytes
(assistant/mail/copies.py): byte literals in the shapes servers deliver (trace fields
prepended, RFC 5321 §4.4), and the promise sync relies on, checked over every message
file of the test fixtures (real public mail among them): two files with the same identity
parse to the same Message-ID and fingerprint."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.mail.copies import delivered_identity
from assistant.mail.parse import parse_message
from assistant.services.ingest import SYNTHETIC_DOMAIN, fingerprint

SENT = (b"From: =?utf-8?q?Ana_P=C3=A9rez?= <ana@acme.example>\n"
        b"To: Diego <diego@cliente.example>\n"
        b"Cc: marta@acme.example\n"
        b"Subject: =?utf-8?q?Cotizaci=C3=B3n?= CN-0412\n"
        b"Date: Tue, 03 Nov 2026 10:00:00 -0600\n"
        b"Message-ID: <cot-0412@acme.example>\n"
        b"MIME-Version: 1.0\n"
        b"Content-Type: text/plain; charset=utf-8\n"
        b"\n"
        b"Hola Diego, te env\xc3\xado la cotizaci\xc3\xb3n.\n")

# What a recipient's server prepends on delivery (Dovecot LMTP, Postfix, Gmail): one
# Received folded with a tab, as most are.
DELIVERED = (b"Return-Path: <ana@acme.example>\n"
             b"Delivered-To: marta@acme.example\n"
             b"Received: from mx.acme.example (mx.acme.example [192.0.2.7])\n"
             b"\tby imap.acme.example with LMTP id 4kQb; Tue, 03 Nov 2026 10:00:02 -0600\n"
             b"Authentication-Results: imap.acme.example; dkim=pass header.d=acme.example\n")


def test_a_delivered_copy_is_the_sent_message_with_trace_fields_on_top():
    assert delivered_identity(SENT) is not None
    assert delivered_identity(DELIVERED + SENT) == delivered_identity(SENT)
    assert delivered_identity(SENT.replace(b"\n", b"\r\n")) == delivered_identity(SENT)  # CRLF


def test_another_message_has_another_identity():
    other = SENT.replace(b"CN-0412", b"CN-0413")
    assert delivered_identity(other) not in (None, delivered_identity(SENT))
    body = SENT.replace(b"Hola Diego", b"Hola Diego!")
    assert delivered_identity(body) != delivered_identity(SENT)


@pytest.mark.parametrize("data", [
    b"Received: from a (\xe9t\xe9)\n" + SENT,  # 8-bit bytes in a trace field
    b"Received: from a\x01b\n" + SENT,  # a control byte in a trace field
    b"Received: from a\nnot a field\n" + SENT,  # an unindented line inside the trace run
    b"From ana@acme.example Tue Nov  3 10:00:00 2026\n" + SENT,  # an mbox separator
    b"\n" + SENT,  # a blank line before the headers
    b"\xef\xbb\xbf" + SENT,  # a byte-order mark
    b"Received: from a\n\nbody only\n",  # nothing but trace fields before the body
    SENT.replace(b"\n\n", b"\n"),  # no blank line after the headers
    SENT.replace(b"\nTo:", b"\rTo:"),  # a lone CR: the parser's rules decide
    b"X Bad Name: 1\n" + SENT,  # not a plain field name
])
def test_an_unusual_shape_has_no_identity_and_is_parsed_as_usual(data):
    assert delivered_identity(data) is None


def test_the_first_field_the_sender_wrote_starts_the_identity():
    # A field that is not a trace field stops the run: it belongs to the message.
    assert delivered_identity(b"X-Mailer: Outlook\n" + SENT) != delivered_identity(SENT)
    assert delivered_identity(DELIVERED + b"X-Mailer: Outlook\n" + SENT) == delivered_identity(
        b"X-Mailer: Outlook\n" + SENT)


def _stored_as(data: bytes) -> tuple[str, str]:
    parsed = parse_message(data)
    fp = fingerprint(parsed)
    return (f"<{fp[:40]}@{SYNTHETIC_DOMAIN}>" if parsed.synthetic_id else parsed.message_id), fp


FIXTURES = Path(__file__).parent / "fixtures"
MESSAGE_FILES = sorted(p for p in FIXTURES.rglob("*") if p.is_file()
                       and p.suffix.lower() in (".eml", ".msg", ".txt", "")
                       and p.name not in ("SOURCES.txt", "UPSTREAM-LICENSE", "LICENSE", "README"))


def test_every_fixture_message_parses_the_same_delivered_as_sent():
    """The equivalence sync relies on, over every fixture file: when a file with trace
    fields prepended has the identity of the file itself, both parse to the same
    Message-ID and fingerprint (what a copy is stored under)."""
    checked = 0
    for path in MESSAGE_FILES:
        data = path.read_bytes()
        identity = delivered_identity(data)
        if identity is None:
            continue
        for prefix in (DELIVERED, DELIVERED.replace(b"\n", b"\r\n")):
            copy = prefix + (data.replace(b"\n", b"\r\n") if b"\r" in prefix else data)
            if delivered_identity(copy) == identity:
                assert _stored_as(copy) == _stored_as(data), path
                checked += 1
    assert checked >= 140, checked  # 77 fixture files are whole messages, each checked twice
