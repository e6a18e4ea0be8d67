"""assistant.mail.parse: raw bytes -> ParsedMessage, never raising."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from assistant.mail.parse import parse_message

FIX = Path(__file__).parent / "fixtures" / "corpus"
SYNTH_RE = re.compile(r"^<[0-9a-f]{64}@synthetic\.followup\.invalid>$")

PLAIN = (
    b"Message-ID: <quote-1@acme.example>\n"
    b"From: =?utf-8?q?Ana_Ru=C3=ADz?= <Ana@ACME.example>\n"
    b'To: "Perez, Jose" <Jose@Client.example>, otro@client.example\n'
    b"Cc: ventas@acme.example\n"
    b"Subject: =?utf-8?q?Cotizaci=C3=B3n?=\n CT-12 para su\n\tproyecto\n"
    b"Date: Tue, 3 Mar 2026 10:15:00 +0100\n"
    b"In-Reply-To: <a@b.example>\n"
    b"References: <x@y.example> <a@b.example>\n"
    b"Content-Type: text/plain; charset=utf-8\n"
    b"\n"
    b"Hola Jos\xc3\xa9, adjunto la cotizaci\xc3\xb3n.\n"
)


def test_plain_message_fields() -> None:
    m = parse_message(PLAIN)
    assert m.message_id == "<quote-1@acme.example>"
    assert m.synthetic_id is False
    assert m.from_addr == "ana@acme.example"
    assert m.from_name == "Ana Ruíz"
    assert m.to == ("jose@client.example", "otro@client.example")
    assert m.cc == ("ventas@acme.example",)
    assert m.subject == "Cotización CT-12 para su proyecto"
    assert m.date == datetime(2026, 3, 3, 9, 15, tzinfo=timezone.utc)
    assert m.in_reply_to == "<a@b.example>"
    assert m.references == ("<x@y.example>", "<a@b.example>")
    assert m.content_type == "text/plain"
    assert m.text.startswith("Hola José")
    assert m.warnings == ()


@pytest.mark.parametrize("sep", [b"\r\n", b"\r", b"\n"])
def test_line_endings_give_same_values(sep: bytes) -> None:
    m = parse_message(PLAIN.replace(b"\n", sep))
    assert m == parse_message(PLAIN)


def test_missing_message_id_is_synthetic_and_stable_across_line_endings() -> None:
    raw = b"From: a@b.example\nSubject: hola\n\nbody\n"
    m1 = parse_message(raw)
    m2 = parse_message(raw.replace(b"\n", b"\r\n"))
    assert m1.synthetic_id and SYNTH_RE.match(m1.message_id)
    assert m1.message_id == m2.message_id
    assert m1.message_id != parse_message(raw + b"more\n").message_id
    assert any("Message-ID" in w for w in m1.warnings)


@pytest.mark.parametrize("value", [b"", b"   ", b"<>", b"garbage without brackets"])
def test_empty_or_invalid_message_id(value: bytes) -> None:
    m = parse_message(b"Message-ID: " + value + b"\nFrom: a@b.example\n\nx\n")
    assert m.synthetic_id and SYNTH_RE.match(m.message_id)
    assert m.warnings


def test_duplicate_message_id_uses_first_with_warning() -> None:
    m = parse_message(b"Message-ID: <one@x.example>\nMessage-ID: <two@x.example>\n\nx\n")
    assert m.message_id == "<one@x.example>"
    assert any("duplicate" in w for w in m.warnings)


def test_unparseable_date() -> None:
    m = parse_message(b"Message-ID: <d@x.example>\nDate: the day after tomorrow\n\nx\n")
    assert m.date is None
    assert any("Date" in w for w in m.warnings)


def test_date_other_formats_are_utc_aware() -> None:
    m = parse_message(b"Date: 3 Mar 2026 10:15 -0500 (EST)\n\nx\n")
    assert m.date == datetime(2026, 3, 3, 15, 15, tzinfo=timezone.utc)
    m = parse_message(b"Date: Tue, 03 Mar 2026 10:15:00 GMT\n\nx\n")
    assert m.date == datetime(2026, 3, 3, 10, 15, tzinfo=timezone.utc)


@pytest.mark.parametrize("irt", [b"", b"   ", b"garbage", b"<>"])
def test_empty_or_garbage_in_reply_to(irt: bytes) -> None:
    m = parse_message(b"Message-ID: <d@x.example>\nIn-Reply-To: " + irt + b"\nReferences: junk <r1@x> <r2@x>\n\nx\n")
    assert m.in_reply_to is None
    assert m.references == ("<r1@x>", "<r2@x>")


@pytest.mark.parametrize("charset", ["uft-8", "unknown-8bit", "x-nonsense"])
def test_unknown_charsets(charset: str) -> None:
    raw = (f"Message-ID: <c@x.example>\nContent-Type: text/plain; charset={charset}\n\n").encode() + "día\n".encode()
    m = parse_message(raw)
    assert "d" in m.text and "a" in m.text
    if charset != "uft-8":
        assert any("charset" in w for w in m.warnings)


def test_utf7_body_and_encoded_subject() -> None:
    raw = (b"Subject: =?utf-7?B?" + __import__("base64").b64encode("Año".encode("utf-7")) + b"?=\n"
           b"Content-Type: text/plain; charset=utf-7\n\nA+AOE-\n")
    m = parse_message(raw)
    assert m.subject == "Año"
    assert m.text.strip() == "Aá"


def test_raw_8bit_headers() -> None:
    m = parse_message("Subject: Cotización rápida\nFrom: José <jose@x.example>\n\nx\n".encode("latin-1"))
    assert m.subject == "Cotización rápida"
    assert m.from_addr == "jose@x.example"
    assert any("8-bit" in w for w in m.warnings)


@pytest.mark.parametrize("data", [b"", b"\n\n", b"\x00\xff\xfe", b"no colon here at all", b"From \n",
                                  b"Content-Type: multipart/mixed; boundary=\n\n--\n", b":\n:\n\n"])
def test_garbage_never_raises(data: bytes) -> None:
    m = parse_message(data)
    assert m.message_id.startswith("<") and m.message_id.endswith(">")
    assert m.warnings


def test_cut_mid_way_multipart() -> None:
    raw = (b"Message-ID: <cut@x.example>\nContent-Type: multipart/mixed; boundary=\"XX\"\n\n"
           b"--XX\nContent-Type: text/plain\n\nhello there\n--XX\nContent-Type: application/pdf; name=a.pdf\n"
           b"Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK")
    m = parse_message(raw)
    assert m.text.strip() == "hello there"
    assert m.attachment_names == ("a.pdf",)
    assert any("truncated" in w for w in m.warnings)
    m = parse_message(b"Message-ID: <cut@x.example>\nSubject: half")
    assert m.subject == "half"
    assert any("blank line" in w for w in m.warnings)


MULTI = (
    b"Message-ID: <m@x.example>\nMIME-Version: 1.0\n"
    b'Content-Type: multipart/mixed; boundary="outer"\n\npreamble\n'
    b'--outer\nContent-Type: multipart/alternative; boundary="inner"\n\n'
    b"--inner\nContent-Type: text/html; charset=utf-8\n\n<p>html &amp; only</p>\n"
    b"--inner\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n"
    b"Precio en =E9uros\n--inner--\n"
    b"--outer\nContent-Type: application/pdf\n"
    b"Content-Disposition: attachment; filename*=utf-8''Cotizaci%C3%B3n%20CT-12.pdf\n"
    b"Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n"
    b"--outer\nContent-Type: application/vnd.ms-excel; name=\"=?utf-8?q?Presupuesto_n=C2=BA3.xls?=\"\n\nxx\n"
    b"--outer--\nepilogue\n"
)


def test_multipart_text_and_attachment_names() -> None:
    m = parse_message(MULTI)
    assert m.content_type == "multipart/mixed"
    assert m.part_types == ("multipart/mixed", "multipart/alternative", "text/html", "text/plain",
                            "application/pdf", "application/vnd.ms-excel")
    assert m.text.strip() == "Precio en éuros"
    assert m.attachment_names == ("Cotización CT-12.pdf", "Presupuesto nº3.xls")
    assert m.warnings == ()


def test_html_only_is_reduced_to_text() -> None:
    raw = MULTI.replace(b"Content-Type: text/plain; charset=iso-8859-1", b"Content-Type: image/png")
    m = parse_message(raw)
    assert m.text == "html & only"


def test_max_text_truncates() -> None:
    m = parse_message(b"Subject: x\n\n" + b"a" * 10000, max_text=100)
    assert len(m.text) == 100


def test_bounce_original_message_id_from_embedded_part() -> None:
    raw = (b"Message-ID: <dsn-1@mx.example>\nFrom: MAILER-DAEMON@mx.example\n"
           b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n"
           b"--b\nContent-Type: text/plain\n\nsorry\n"
           b"--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n\n"
           b"Final-Recipient: rfc822; cliente@client.example\nAction: failed\nStatus: 5.1.1\n"
           b"--b\nContent-Type: message/rfc822\n\nMessage-ID: <quote-1@acme.example>\n"
           b"From: ana@acme.example\nSubject: =?utf-8?q?Cotizaci=C3=B3n?=\n\nbody\n--b--\n")
    m = parse_message(raw)
    assert m.report_type == "delivery-status"
    assert "Action: failed" in m.report
    assert m.original_message_id == "<quote-1@acme.example>"
    assert m.original_headers["subject"] == "Cotización"


def test_corpus_bounce_original_id_text_rfc822_headers() -> None:
    m = parse_message((FIX / "sisimai" / "rfc3464-09.eml").read_bytes())
    assert m.original_message_id == "<00000000000000000000000000000000000000000@example.org>"
    assert "message/delivery-status" in m.part_types


def test_corpus_non_mime_bounce_original_id_from_body() -> None:
    m = parse_message((FIX / "flufl-bounce" / "groupwise_01.txt").read_bytes())
    assert m.original_message_id == "<20010720085308.H17468@magic.example.org>"


def test_corpus_line_endings_same_message() -> None:
    lf = parse_message((FIX / "sisimai" / "rfc3834-01.eml").read_bytes())
    for name in ("rfc3834-01-crlf.eml", "rfc3834-01-cr.eml"):
        other = parse_message((FIX / "sisimai" / name).read_bytes())
        assert (other.message_id, other.subject, other.date, other.text) == (lf.message_id, lf.subject, lf.date, lf.text)


@pytest.mark.parametrize("path", sorted(p for p in FIX.rglob("*") if p.is_file()), ids=lambda p: p.name)
def test_every_fixture_parses(path: Path) -> None:
    m = parse_message(path.read_bytes())
    assert m.message_id.startswith("<")
