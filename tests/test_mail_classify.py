"""assistant.mail.classify: kinds, traps, failed recipients, permanence."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.mail.classify import classify
from assistant.mail.parse import parse_message

FIX = Path(__file__).parent / "fixtures" / "corpus"


def kind_of(raw: bytes):
    return classify(parse_message(raw))


def mail(subject: str, body: str = "Gracias.\n", frm: str = "cliente@client.example", extra: str = "") -> bytes:
    return (f"Message-ID: <r@client.example>\nFrom: Cliente <{frm}>\nTo: ana@acme.example\n"
            f"Subject: {subject}\n{extra}Content-Type: text/plain; charset=utf-8\n\n{body}").encode("utf-8")


def test_ordinary_reply_is_message() -> None:
    c = kind_of(mail("Re: Cotización CT-12", "Hola Ana, nos interesa. ¿Podemos hablar el lunes?\n"))
    assert c.kind == "message" and c.bounced_recipients == () and c.bounce_permanent is None


@pytest.mark.parametrize("subject", [
    "Fuera de la oficina", "Respuesta automática: Cotización CT-12", "RE: Fuera de la oficina: Cotización",
    "Ausente hasta el lunes", "Vacaciones", "Out of Office", "Automatic reply: Quote A-778",
    "Re: Out of Office: your quote", "Autoreply: Quote", "Auto: Quote A-778", "AUTO-REPLY",
])
def test_out_of_office_subjects(subject: str) -> None:
    assert kind_of(mail(subject)).kind == "auto_reply"


@pytest.mark.parametrize("header", [
    "Auto-Submitted: auto-replied\n", "Auto-Submitted: auto-generated\n", "X-Autoreply: yes\n",
    "X-Autorespond: Hola\n", "Precedence: auto_reply\n", "Precedence: bulk\n", "Precedence: junk\n",
])
def test_auto_reply_headers(header: str) -> None:
    assert kind_of(mail("Re: Quote A-778", "Thanks for your message.\n", extra=header)).kind == "auto_reply"


def test_auto_submitted_no_is_a_message() -> None:
    assert kind_of(mail("Re: Quote", extra="Auto-Submitted: no\n")).kind == "message"


def test_precedence_bulk_from_a_mailing_list_is_not_auto_reply() -> None:
    raw = mail("Re: design question", extra="Precedence: bulk\nList-Id: <dev.lists.example>\n")
    assert kind_of(raw).kind == "message"


def test_outlook_english_automatic_reply_with_suppress_header() -> None:
    raw = mail("Automatic reply: Quote A-778", "I am out of the office until Monday.\n",
               extra="X-Auto-Response-Suppress: All\n")
    assert kind_of(raw).kind == "auto_reply"
    raw = mail("Quote A-778", "I am out of the office until Monday with limited access to email.\n",
               extra="X-Auto-Response-Suppress: All\n")
    assert kind_of(raw).kind == "auto_reply"


def test_suppress_header_alone_does_not_make_auto_reply() -> None:
    raw = mail("RE: Quote A-778", "Looks good, please send the PO form.\n", extra="X-Auto-Response-Suppress: All\n")
    assert kind_of(raw).kind == "message"


def test_challenge_response() -> None:
    raw = mail("Please verify your message", "To deliver your message, please click below to verify you are human.\n")
    assert kind_of(raw).kind == "auto_reply"


def test_corpus_rfc3834_auto_reply() -> None:
    assert classify(parse_message((FIX / "sisimai" / "rfc3834-01.eml").read_bytes())).kind == "auto_reply"


def test_trap_exim_bounce_with_auto_submitted_is_bounce() -> None:
    raw = (FIX / "sisimai" / "lhost-exim-01.eml").read_bytes()
    assert b"Auto-Submitted: auto-replied" in raw
    c = classify(parse_message(raw))
    assert c.kind == "bounce"
    assert c.bounced_recipients == ("kijitora@example.ed.jp",)
    assert c.bounce_permanent is True


@pytest.mark.parametrize("path,recipient", [
    ("flufl-bounce/simple_03.txt", "userx@example.za"),   # Exim "Warning: message ... delayed 24 hours"
    ("flufl-bounce/dsn_08.txt", "userx@example.de"),      # "Delayed Mail (still being retried)"
    ("sisimai/rfc3464-09.eml", "kijitora-cat@mx4.gr3.example.jp"),  # DSN Action: delayed
])
def test_trap_delay_warnings_are_delay(path: str, recipient: str) -> None:
    c = classify(parse_message((FIX / path).read_bytes()))
    assert c.kind == "delay"
    assert recipient in c.bounced_recipients
    assert c.bounce_permanent is False


@pytest.mark.parametrize("path,recipient,permanent", [
    ("flufl-bounce/qmail_01.txt", "userx@example.de", True),
    ("flufl-bounce/yahoo_01.txt", "userx@example.com", True),
    ("flufl-bounce/groupwise_01.txt", "userx@example.edu", True),
    ("flufl-bounce/dsn_15.txt", "userx@example.com", True),          # UTF-7 text part
    ("flufl-bounce/simple_33.txt", "userx@example.com", True),       # charset "UFT-8"
    ("flanker/office365.eml", "noname@example.com", True),           # "Undeliverable:"
    ("mimekit/delivery-status.txt", "newsletter-request@imusic.com", True),
    ("sisimai/lhost-sendmail-54.eml", "kijitora@neko.example.jp", False),  # failed, status 4.4.7
])
def test_corpus_bounces(path: str, recipient: str, permanent: bool) -> None:
    c = classify(parse_message((FIX / path).read_bytes()))
    assert c.kind == "bounce"
    assert recipient in c.bounced_recipients
    assert c.bounce_permanent is permanent


def test_sieve_reject_mdn_is_bounce() -> None:
    c = classify(parse_message((FIX / "flufl-bounce" / "simple_38.txt").read_bytes()))
    assert c.kind == "bounce" and c.bounced_recipients == ("userx@example.com",)


def test_trap_arf_is_complaint() -> None:
    assert classify(parse_message((FIX / "sisimai" / "arf-01.eml").read_bytes())).kind == "complaint"


def test_trap_mdn_is_receipt() -> None:
    assert classify(parse_message((FIX / "flanker" / "disposition-notification.eml").read_bytes())).kind == "receipt"


def dsn(action: str, status: str, subject: str = "Delivery Status Notification") -> bytes:
    return (
        "Message-ID: <dsn@mx.example>\nFrom: Mail Delivery Subsystem <mailer-daemon@mx.example>\n"
        f"Subject: {subject}\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
        "--b\nContent-Type: text/plain\n\nSee report.\n"
        "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n\n"
        f"Final-Recipient: rfc822; Cliente@Client.example\nAction: {action}\nStatus: {status}\n"
        "--b\nContent-Type: text/rfc822-headers\n\nMessage-ID: <quote-9@acme.example>\n--b--\n"
    ).encode()


@pytest.mark.parametrize("action,status,kind,permanent", [
    ("failed", "5.1.1", "bounce", True),
    ("failed", "4.4.7", "bounce", False),
    ("delayed", "4.4.1", "delay", False),
    ("delivered", "2.0.0", "receipt", None),
    ("relayed", "2.0.0", "receipt", None),
    ("expanded", "2.0.0", "receipt", None),
])
def test_dsn_actions(action: str, status: str, kind: str, permanent: bool | None) -> None:
    m = parse_message(dsn(action, status))
    c = classify(m)
    assert c.kind == kind
    assert c.bounce_permanent is permanent
    if kind in ("bounce", "delay"):
        assert c.bounced_recipients == ("cliente@client.example",)
    assert m.original_message_id == "<quote-9@acme.example>"


def test_read_receipt_subjects() -> None:
    raw = (b"Message-ID: <rr@x.example>\nFrom: cliente@client.example\nSubject: Le\xc3\xaddo: Cotizaci\xc3\xb3n\n"
           b'Content-Type: multipart/report; report-type=disposition-notification; boundary="b"\n\n'
           b"--b\nContent-Type: text/plain\n\nSu mensaje fue le\xc3\xaddo.\n"
           b"--b\nContent-Type: message/disposition-notification\n\n"
           b"Final-Recipient: rfc822; cliente@client.example\nDisposition: manual-action/MDN-sent-manually; displayed\n--b--\n")
    assert kind_of(raw).kind == "receipt"


def test_free_text_bounce_from_mailer_daemon() -> None:
    raw = mail("Mail delivery failed: returning message to sender",
               "This message was created automatically by mail delivery software.\n\n"
               "A message that you sent could not be delivered to one or more of its\n"
               "recipients. This is a permanent error. The following address(es) failed:\n\n"
               "  nadie@client.example\n    SMTP error from remote mail server after RCPT TO:<nadie@client.example>:\n"
               "    550 5.1.1 User unknown\n",
               frm="mailer-daemon@mx.acme.example", extra="Auto-Submitted: auto-replied\nX-Failed-Recipients: nadie@client.example\n")
    c = kind_of(raw)
    assert c == type(c)("bounce", ("nadie@client.example",), True)


def test_spanish_bounce_subject_from_postmaster() -> None:
    raw = mail("No se pudo entregar: Cotización", "El mensaje no se pudo entregar a cliente@client.example.\n"
               "El buzón no existe. 550 5.1.1\n", frm="postmaster@acme.example")
    c = kind_of(raw)
    assert c.kind == "bounce" and c.bounce_permanent is True


def test_robot_notice_returning_the_original_with_a_plain_failure_is_a_bounce():
    # A provider's "no-reply" robot (not MAILER-DAEMON, no DSN) that returns the original
    # and says it could not be delivered, like au one net's mailbox-full notices.
    data = (b"From: no-reply@mail.provider.example\r\nTo: ana@acme.example\r\n"
            b"Subject: =?utf-8?b?44Oh44O844Or44Ko44Op44O86YCa55+l?=\r\n"
            b"Message-ID: <n1@provider.example>\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
            b"Content-Type: text/plain; charset=us-ascii\r\n\r\n"
            b"Your mail sent on: Thu, 29 Apr 2013\r\n"
            b"     Could not be delivered to: <kijitora@client.example>\r\n"
            b"     As their mailbox is full.\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n"
            b"From: ana@acme.example\r\nTo: kijitora@client.example\r\nSubject: Cotizacion\r\n"
            b"Message-ID: <q1@acme.example>\r\n\r\nHola\r\n--b--\r\n")
    parsed = parse_message(data)
    result = classify(parsed)
    assert result.kind == "bounce"
    assert parsed.original_message_id == "<q1@acme.example>"


def test_a_forwarded_email_attached_to_a_human_reply_is_not_a_bounce():
    data = (b"From: Diego <diego@cliente.example>\r\nTo: ana@acme.example\r\n"
            b"Subject: RE: Cotizacion 1042\r\nMessage-ID: <h1@cliente.example>\r\n"
            b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
            b"Content-Type: text/plain\r\n\r\nAna, te reenvio el correo de compras. Seguimos.\r\n"
            b"--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: compras@cliente.example\r\n"
            b"Subject: presupuesto\r\n\r\nAprobado.\r\n--b--\r\n")
    assert classify(parse_message(data)).kind == "message"


def test_postmaster_failed_mail_notice_is_a_bounce_even_with_autogenerated_header():
    data = (b"From: postmaster@lab.example (Automated response from postmaster)\n"
            b"To: ana@acme.example\nSubject: FAILED MAIL to \"trotts1\" regarding \"Cotizacion\"\n"
            b"X-Autogenerated: Mirror\nMessage-ID: <p1@lab.example>\n\n"
            b"The standard form of email address at LAB is lastnameNumber@lab.example\n")
    assert classify(parse_message(data)).kind == "bounce"
