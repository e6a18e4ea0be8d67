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


# ------------------------------------------------------------------ address headers
#
# Byte-literal cases in the style of imapclient's response-parser tests: one raw header
# in, the stored values out. Addresses are read from the raw header (RFC 5322 §3.4);
# only display names and comments are RFC 2047-decoded, afterwards (RFC 2047 §5: "an
# 'encoded-word' MUST NOT appear in any portion of an 'addr-spec'").

from email.utils import getaddresses  # noqa: E402

ADDR_RE = re.compile(r'^(?:[^\s@"\\]+|"[^"\\@]+")@[^\s@"\\]+$')


def _with(header: bytes, rest: bytes = b"") -> bytes:
    return (b"Message-ID: <m@x.example>\n" + header + b"\n" + rest
            + b"Subject: Re: Cotizaci\xc3\xb3n CT-7\n\nno nos interesa\n")


def _from(value: bytes):
    m = parse_message(_with(b"From: " + value))
    return m.from_addr, m.from_name, m


def _has(m, *words: str) -> bool:
    return any(all(w in warning for w in words) for warning in m.warnings)


SPOOFED_FROM = [
    # the message: an address encoded into the display name
    (b"=?utf-8?q?client=40their.example?= <attacker@evil.example>", "client@their.example"),
    (b"=?UTF-8?B?Y2xpZW50QHRoZWlyLmV4YW1wbGU=?= <attacker@evil.example>", "client@their.example"),
    (b"=?utf-8?q?client=40their.example?=<attacker@evil.example>", "client@their.example"),
    # an encoded word inside a quoted string (RFC 2047 §5 forbids it; clients decode it)
    (b'"=?utf-8?q?client=40their.example?=" <attacker@evil.example>', "client@their.example"),
    # decoded specials that would split or close the list if decoded first
    (b"=?utf-8?q?client=40their.example=2C?= <attacker@evil.example>", "client@their.example,"),
    (b"=?utf-8?q?client=40their.example=3E?= <attacker@evil.example>", "client@their.example>"),
    (b"=?utf-8?q?=22_=3Cclient=40their.example=3E_=22?= <attacker@evil.example>",
     '" <client@their.example> "'),
    # no encoded words at all: a quoted display name holding an address
    (b'"client@their.example" <attacker@evil.example>', "client@their.example"),
    # a comment holding an address (the old `addr (Name)` form)
    (b"attacker@evil.example (client@their.example)", "client@their.example"),
    (b"attacker@evil.example (=?utf-8?q?client=40their.example?=)", "client@their.example"),
    # Unicode look-alikes of '@' in a display name
    (b'"client\xef\xbc\xa0their.example" <attacker@evil.example>', "client\uff20their.example"),
    (b'"client\xef\xb9\xabtheir.example" <attacker@evil.example>', "client\ufe6btheir.example"),
]


@pytest.mark.parametrize("value,name", SPOOFED_FROM)
def test_spoofed_from_is_the_attacker_with_a_warning(value: bytes, name: str) -> None:
    addr, from_name, m = _from(value)
    assert addr == "attacker@evil.example"
    assert from_name == name
    assert _has(m, "From", "display name", "holds an address", "attacker@evil.example")
    # what the headers keep parses back to the attacker with any RFC 5322 reader
    assert getaddresses([m.headers["from"]]) == [(name, "attacker@evil.example")]


NO_SENDER = [
    # the only "address" is inside an encoded word: not an address
    (b"=?utf-8?q?=3Cclient=40their.example=3E?=", "only a name"),
    (b"=?utf-8?q?client=40their.example?=", "only a name"),
    (b'"client@their.example"', "only a name"),
    # two mailboxes, two readings: parseaddr takes the first, mail clients the second
    (b"client@their.example <attacker@evil.example>", "ambiguous"),
    (b"attacker@evil.example <client@their.example>", "ambiguous"),
    (b"<client@their.example> <attacker@evil.example>", "two '<...>'"),
    # CVE-2023-27043 shape: a stray ')' before '<'
    (b"attacker@evil.example)<client@their.example>", "unbalanced ')'"),
    (b"client@their.example(<attacker@evil.example>", "unclosed comment"),
    # several authors: which one did the receiving server check?
    (b"client@their.example, attacker@evil.example", "2 different addresses"),
    (b"Client <client@their.example>, Me <attacker@evil.example>", "2 different addresses"),
    # not one '@'
    (b"attacker@evil.example@their.example", "more than one '@'"),
    (b'"client@their.example"@evil.example', "invalid local part"),
    (b"client\\@their.example@evil.example", "more than one '@'"),
    (b"attacker@evil.example\x00client@their.example", "more than one '@'"),
    # groups name nobody
    (b"undisclosed-recipients:;", "unparseable From"),
    (b"client@their.example <>", "unparseable From"),
]


@pytest.mark.parametrize("value,why", NO_SENDER)
def test_unusable_from_leaves_the_sender_unknown(value: bytes, why: str) -> None:
    addr, name, m = _from(value)
    assert (addr, name) == (None, None)
    assert _has(m, why), m.warnings


def test_encoded_word_in_the_local_part_is_kept_as_written() -> None:
    addr, _, m = _from(b"=?utf-8?q?client=40their.example?=@evil.example")
    assert addr == "=?utf-8?q?client=40their.example?=@evil.example"
    assert addr.count("@") == 1 and addr.endswith("@evil.example")
    assert _has(m, "encoded word in the address", "RFC 2047")
    addr, _, _ = _from(b"=?utf-8?q?client?=@their.example")
    assert addr == "=?utf-8?q?client?=@their.example"  # never decoded to client@...


def test_group_in_from_names_its_member() -> None:
    addr, name, m = _from(b"=?utf-8?q?client=40their.example?=: attacker@evil.example;")
    assert (addr, name) == ("attacker@evil.example", None)


def test_obsolete_route_is_dropped_not_read_as_the_address() -> None:
    addr, name, m = _from(b"Client <@their.example,@relay.example:attacker@evil.example>")
    assert (addr, name) == ("attacker@evil.example", "Client")
    assert _has(m, "obsolete route")
    assert _from(b"<@their.example:attacker@evil.example>")[0] == "attacker@evil.example"


def test_comments_anywhere_are_dropped_from_the_address() -> None:
    # RFC 5322 Appendix A.5
    m = parse_message(_with(b"From: Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>"))
    assert (m.from_addr, m.from_name) == ("pete@silly.test", "Pete")
    assert _from(b"client(x)@their.example")[:2] == ("client@their.example", "x")


def test_lookalike_domain_is_a_different_address_with_a_warning() -> None:
    addr, _, m = _from("Client <client@th\u0435ir.example>".encode())  # Cyrillic е
    assert addr == "client@th\u0435ir.example" and addr != "client@their.example"
    assert _has(m, "non-ASCII")


def test_invisible_characters_make_no_address() -> None:
    for bad in ("cli\u200bent@their.example", "client@their.exam\u202eple", "cli\u00a0ent@their.example"):
        addr, _, m = _from(f"<{bad}>".encode())
        assert addr is None, bad
        assert _has(m, "invisible or control")


def test_control_characters_never_reach_stored_values() -> None:
    m = parse_message(_with(b"From: =?utf-8?q?Ana=00=0D=0AX-Evil=3A_1?= <ana@acme.example>",
                            b"Subject2: =?utf-8?q?a=00b=0Dc?=\nIn-Reply-To: <a\x00b@x.example>\n"))
    assert m.from_addr == "ana@acme.example"
    assert m.from_name == "Ana X-Evil: 1"
    for value in (m.from_name, *m.headers.values(), *m.warnings):
        assert not re.search(r"[\x00-\x1f\x7f]", value), value
    assert m.in_reply_to is None  # a NUL is no Message-ID character


def test_same_address_as_name_is_fine() -> None:
    addr, name, m = _from(b"jose@client.example <Jose@Client.example>")
    assert (addr, name) == ("jose@client.example", "jose@client.example")
    assert not _has(m, "From")


def test_multiple_from_headers_that_disagree_leave_the_sender_unknown() -> None:
    m = parse_message(_with(b"From: client@their.example\nFrom: attacker@evil.example"))
    assert m.from_addr is None
    assert _has(m, "2 From headers") and _has(m, "2 different addresses")
    m = parse_message(_with(b"From: Ana <ana@acme.example>\nFrom: ana@acme.example"))
    assert (m.from_addr, m.from_name) == ("ana@acme.example", "Ana")


@pytest.mark.parametrize("header", [b"Reply-To", b"Sender", b"To", b"Cc"])
def test_other_address_headers_are_read_the_same_way(header: bytes) -> None:
    m = parse_message(_with(header + b": =?utf-8?q?client=40their.example?= <attacker@evil.example>",
                            b"From: ana@acme.example\n"))
    label = header.decode()
    assert _has(m, f"{label}: display name", "attacker@evil.example")
    assert getaddresses([m.headers[label.lower()]]) == [("client@their.example", "attacker@evil.example")]
    if header in (b"To", b"Cc"):
        assert getattr(m, label.lower()) == ("attacker@evil.example",)


def test_quoted_names_with_commas_and_encoded_commas() -> None:
    m = parse_message(_with(b'To: "Perez, Jose" <jose@client.example>, =?utf-8?b?Rm9vLCBCYXI=?= <foo@x.example>'))
    assert m.to == ("jose@client.example", "foo@x.example")
    assert not _has(m, "To")


def test_groups_in_recipients() -> None:
    m = parse_message(_with(b"To: undisclosed-recipients:;"))
    assert m.to == () and not _has(m, "To")
    m = parse_message(_with(b"To: Team: a@x.example, B <b@y.example>;, c@z.example"))
    assert m.to == ("a@x.example", "b@y.example", "c@z.example")


def test_recipient_with_an_address_as_name_is_the_delivered_address() -> None:
    m = parse_message(_with(b"To: jose@old.example <jose@new.example>"))
    assert m.to == ("jose@new.example",)
    assert _has(m, "To", "the '<...>' address is kept")


def test_quoted_local_part() -> None:
    assert _from(b'"john"@x.example')[0] == "john@x.example"
    assert _from(b'<"System Administrator"@example.com>')[0] == '"system administrator"@example.com'


def test_several_to_and_cc_headers_are_merged() -> None:
    m = parse_message(_with(b"To: a@x.example\nTo: b@x.example\nCc: c@x.example\nCc: d@x.example"))
    assert (m.to, m.cc) == (("a@x.example", "b@x.example"), ("c@x.example", "d@x.example"))
    assert _has(m, "2 To headers")


def test_to_beyond_2000_characters_is_kept() -> None:
    recipients = [f"Persona Número {i} <persona{i}@cliente{i}.example>" for i in range(150)]
    value = ", ".join(recipients).encode()
    assert len(value) > 2000 * 3
    m = parse_message(_with(b"From: ana@acme.example\nTo: " + value))
    assert len(m.to) == 150 and m.to[-1] == "persona149@cliente149.example"
    assert m.to == tuple(f"persona{i}@cliente{i}.example" for i in range(150))
    assert not _has(m, "To")
    # folded over many lines, as mail clients write long lists
    folded = ",\r\n\t".join(r for r in recipients).encode()
    assert parse_message(_with(b"From: ana@acme.example\r\nTo: " + folded)).to == m.to


def test_more_than_1000_recipients_keeps_1000_with_a_warning() -> None:
    value = b", ".join(b"p%d@c.example" % i for i in range(1500))
    m = parse_message(_with(b"To: " + value))
    assert len(m.to) == 1000 and m.to[999] == "p999@c.example"
    assert _has(m, "To", "more than 1,000 addresses")


def test_huge_address_header_is_bounded_in_time() -> None:
    import time
    for value in (b"a" * 3_000_000, b"(" * 1_000_000, b'"' + b"x," * 1_000_000,
                  b"<" * 1_000_000, b"a@b.example " * 200_000, b":" * 1_000_000):
        t0 = time.perf_counter()
        m = parse_message(_with(b"To: " + value + b"\nFrom: " + value))
        assert time.perf_counter() - t0 < 5, value[:10]
        assert m.from_addr is None
        assert len(m.headers["to"]) <= 2000
        assert _has(m, "only the first 262,144 are read")


def test_address_headers_through_the_stdlib_fallback(monkeypatch) -> None:
    import assistant.mail.parse as parse_module

    def broken(*args, **kwargs):
        raise ValueError("forced")

    monkeypatch.setattr(parse_module, "_fast_parse", broken)
    m = parse_message(_with(b"From: =?utf-8?q?client=40their.example?= <attacker@evil.example>",
                            b"To: " + b", ".join(b"p%d@c.example" % i for i in range(400)) + b"\n"))
    assert any("standard library" in w for w in m.warnings)
    assert m.from_addr == "attacker@evil.example"
    assert _has(m, "From", "display name", "holds an address")
    assert len(m.to) == 400


@pytest.mark.parametrize("path", sorted(p for p in FIX.rglob("*") if p.is_file()), ids=lambda p: p.name)
def test_every_fixture_address_is_one_lower_case_addr_spec(path: Path) -> None:
    m = parse_message(path.read_bytes())
    for addr in (m.from_addr, *m.to, *m.cc, *m.bcc):
        if addr is not None:
            assert ADDR_RE.match(addr) and addr.count("@") == 1 and addr == addr.lower(), addr


# ------------------------------------------------------------------ found by `make fuzz`

@pytest.mark.parametrize("line", [b"\x08From: attacker@evil.example", b"=?utf-8?q?\xc2\xa0Date: x",
                                  b"Fr\x00om: a@b.example", b"X\tY: 1"])
def test_header_names_with_control_space_or_non_ascii_are_not_headers(line: bytes) -> None:
    m = parse_message(b"From: ana@acme.example\n" + line + b"\n\nx\n")
    assert list(m.headers) == ["from"]
    assert m.from_addr == "ana@acme.example"
    assert _has(m, "malformed header line")


@pytest.mark.parametrize("value", [b"?=\t@", b"a@b\x00c", b"a\x7f@b"])
def test_message_id_without_brackets_holds_no_whitespace_or_control(value: bytes) -> None:
    m = parse_message(b"Message-ID:" + value + b"\n\n\n")
    assert m.synthetic_id and SYNTH_RE.match(m.message_id)


def test_a_lone_cr_among_lf_lines_adds_no_header() -> None:
    m = parse_message(b"Message-ID: <cr@x.example>\r\nX-Note: a\rFrom: client@their.example\r\n"
                      b"To: ana@acme.example\r\n\r\nno nos interesa\r\n")
    assert m.from_addr is None
    assert m.headers["x-note"] == "a From: client@their.example"
    # a file whose only line ending is CR (old Mac) is still read line by line
    assert parse_message(b"From: ana@acme.example\rTo: b@x.example\r\rhola\r").from_addr == "ana@acme.example"


@pytest.mark.parametrize("disposition", [b'attachment; filename=\x00"signature.asc"',
                                         b"attachment; filename==?utf-8?q?a=00b=0D=0A.pdf?=",
                                         b"attachment; filename*=utf-8''a%00b%0D%0A.pdf"])
def test_attachment_names_hold_no_control_characters(disposition: bytes) -> None:
    m = parse_message(b"From: a@b.example\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
                      b"Content-Type: text/plain\n\nhola\n--b\nContent-Type: application/pdf\n"
                      b"Content-Disposition: " + disposition + b"\n\n%PDF\n--b--\n")
    (name,) = m.attachment_names
    assert not re.search(r"[\x00-\x1f\x7f]", name), name


def test_warnings_hold_no_control_characters() -> None:
    m = parse_message(b"From: a@b.example\nContent-Type: multipart/\x00 boundary=\"b\"\n\n--b\n\nx\n--b--\n")
    assert m.warnings and not any(re.search(r"[\x00-\x1f\x7f]", w) for w in m.warnings), m.warnings


def test_a_quoted_original_message_id_with_a_nul_is_not_read() -> None:
    m = parse_message(b"From: Mail Delivery System <Mailer-Daemon@x.example>\nTo: a@b.example\n"
                      b"Subject: Mail delivery failed\n\n------ This is a copy of the message ------\n\n"
                      b"Message-Id: <\x00E1X58pB@x.example>\nFrom: a@b.example\n\ntest\n")
    assert m.original_message_id is None
    for value in m.original_headers.values():
        assert "\x00" not in value


def test_recipient_names_come_from_the_parsed_to_and_cc_pairs() -> None:
    """The names a rep wrote clients under: one per address (the first), encoded words
    decoded, whitespace folded, quotes kept readable; a bare address or a name that is the
    address itself gives none."""
    raw = (b"From: Ana <ana@aceros.example>\r\n"
           b"To: =?utf-8?q?Ra=C3=BAl_Quiroga?= <RQuiroga@Barandales.example>, bare@uno.example,\r\n"
           b" \"x@dos.example\" <x@dos.example>\r\n"
           b"Cc: \"Lic.  Pedro \\\"Pepe\\\" Ruiz\" <pruiz@tres.example>, Otro <rquiroga@barandales.example>\r\n"
           b"Subject: Cotizacion\r\nMessage-ID: <n1@aceros.example>\r\n\r\nHola\r\n")
    parsed = parse_message(raw)
    assert parsed.recipient_names == ('"Raúl Quiroga" <rquiroga@barandales.example>',
                                      '"Lic. Pedro \\"Pepe\\" Ruiz" <pruiz@tres.example>')
    assert parse_message(b"To: nadie@uno.example\r\nSubject: x\r\n\r\n").recipient_names == ()
