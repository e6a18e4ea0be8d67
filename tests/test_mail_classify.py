"""assistant.mail.classify: kinds, traps, failed recipients, permanence."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.mail import classify as classify_module
from assistant.mail.classify import classify
from assistant.mail.parse import parse_message

FIX = Path(__file__).parent / "fixtures" / "corpus"
SHAPES = Path(__file__).parent / "fixtures" / "shapes"
PUBLIC = Path(__file__).parent / "fixtures" / "public"
REPLIES = Path(__file__).parent / "fixtures" / "replies"


def kind_of(raw: bytes):
    return classify(parse_message(raw))


def mail(subject: str, body: str = "Gracias.\n", frm: str = "cliente@client.example", extra: str = "") -> bytes:
    return (f"Message-ID: <r@client.example>\nFrom: Cliente <{frm}>\nTo: ana@acme.example\n"
            f"Subject: {subject}\n{extra}Content-Type: text/plain; charset=utf-8\n\n{body}").encode("utf-8")


def test_ordinary_reply_is_message() -> None:
    c = kind_of(mail("Re: Cotización CT-12", "Hola Ana, nos interesa. ¿Podemos hablar el lunes?\n"))
    assert c.kind == "message" and c.bounced_recipients == () and c.bounce_permanent is None


@pytest.mark.parametrize("subject", [
    "Fuera de la oficina", "Respuesta automática: Cotización CT-12",
    "Ausente hasta el lunes", "Vacaciones", "Out of Office", "Automatic reply: Quote A-778",
    "Autoreply: Quote", "Auto: Quote A-778", "AUTO-REPLY",
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



# ------------------------------------------------------------------ DESIGN.md "Real mail", rule 6

def _shape_labels(base: Path) -> list[tuple[str, str]]:
    rows = []
    for line in (base / "labels.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, kind = line.split("\t")[:2]
            rows.append((name, kind))
    return rows


@pytest.mark.parametrize("name,kind", _shape_labels(SHAPES))
def test_rules6_and_7_labelled_shape_fixtures(name: str, kind: str) -> None:
    # Each fixture is written in a shape public mail showed (labels.tsv names the file
    # that showed it and gives the reason for the label).
    assert classify(parse_message((SHAPES / name).read_bytes())).kind == kind


@pytest.mark.parametrize("name,kind", _shape_labels(PUBLIC / "rgl-MailBounceDetector"))
def test_real_public_bounce_files_keep_their_kinds(name: str, kind: str) -> None:
    assert classify(parse_message((PUBLIC / "rgl-MailBounceDetector" / name).read_bytes())).kind == kind


@pytest.mark.parametrize("subject", [
    "RE: Automatic reply: Cotización CT-12", "Re: Out of Office: your quote",
    "RE: Fuera de la oficina: Cotización", "RV: Respuesta automática: Cotización CT-12",
    "Fwd: Autoreply: Quote", "AW: Automatische Antwort: Angebot", "RE: [2] Out of Office: Quote",
    "RE：Automatic reply: Quote", "[EXTERNAL] RE: Automatic reply: Quote A-778",
])
def test_rule6_automatic_reply_prefix_only_at_start_of_raw_subject(subject: str) -> None:
    body = "Laura is out; I can approve it. Please send the PO.\n\n> I am out of the office until Monday.\n"
    assert kind_of(mail(subject, body)).kind == "message"


@pytest.mark.parametrize("subject", [
    "Cotización paquete de vacaciones 2027", "Quote for the out of office retreat",
    "Ausencia de stock en el pedido 77", "Auto parts quote", "Automatic replies setup: quote for consulting",
])
def test_rule6_out_of_office_words_inside_a_persons_subject_do_not_count(subject: str) -> None:
    assert kind_of(mail(subject, "¿Nos puedes cotizar esto?\n")).kind == "message"


@pytest.mark.parametrize("subject", [
    "[EXTERNAL] Automatic reply: Quote A-778", "[Auto-Reply] Quote A-778",
    "Resposta automática: Proposta 2027", "Out of Office AutoReply: Quote", "Away until May 5",
])
def test_rule6_out_of_office_subject_after_gateway_tags_or_as_first_tag(subject: str) -> None:
    assert kind_of(mail(subject, "I am away.\n")).kind == "auto_reply"


@pytest.mark.parametrize("header", [
    "Auto-Submitted: auto-replied\n", "X-Autoreply: yes\n", "Precedence: auto_reply\n",
    "X-MS-Exchange-Inbox-Rules-Loop: laura@client.example\n",
])
def test_rule6_header_evidence_makes_auto_reply_whatever_the_subject(header: str) -> None:
    assert kind_of(mail("RE: Automatic reply: Quote A-778", "I am out of the office.\n", extra=header)).kind == "auto_reply"


def test_rule6_suppress_header_and_quoted_ooo_text_under_a_reply_prefix_is_a_person() -> None:
    raw = mail("RE: Quote A-778", "Fine by me.\n\n-----Original Message-----\nI am out of the office until Monday.\n",
               extra="X-Auto-Response-Suppress: All\n")
    assert kind_of(raw).kind == "message"


def _challenge_report(text: str, sender: str = "guard@filter.client.example", subject: str = "Re: Cotización CT-12") -> bytes:
    return (f"From: {sender}\nTo: ana@acme.example\nSubject: {subject}\nMessage-ID: <c@filter.example>\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
            f"--b\nContent-Type: text/plain; charset=utf-8\n\n{text}\n"
            "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; filter.client.example\n\n"
            "Final-Recipient: rfc822; compras@client.example\nAction: failed\nStatus: 5.7.1\n--b--\n").encode("utf-8")


@pytest.mark.parametrize("text", [
    "To deliver your message, please verify you are a human sender by clicking below.",
    "I use a challenge-response filter. Please prove that you are a human: http://x.example/c",
    "Your message was held. To be added to my list of approved senders, fill out this form: http://x.example",
    "Para entregar su mensaje, confirme que usted es una persona: http://x.example",
    "Para que sua mensagem seja entregue, confirme que você é uma pessoa.",
])
def test_rule6_challenge_response_inside_multipart_report_is_auto_reply(text: str) -> None:
    c = classify(parse_message(_challenge_report(text)))
    assert c.kind == "auto_reply" and c.bounced_recipients == ()


@pytest.mark.parametrize(("name", "kind"), [
    ("ooo-auto-generated-tag-no-headers.eml", "auto_reply"),
    ("ooo-re-auto-generated-person.eml", "message"),
])
def test_rule6_auto_generated_tag_at_the_start_of_the_subject(name: str, kind: str) -> None:
    # discourse/discourse spec/fixtures/emails/auto_generated_subject.eml: "[AUTO GENERATED] ..."
    # with no RFC 3834 header is robot mail; under a reply prefix it is a person answering it.
    assert classify(parse_message((SHAPES / name).read_bytes())).kind == kind


@pytest.mark.parametrize("subject", ["Auto generators for the plant: cotización", "Cotización auto-generated by our ERP?"])
def test_rule6_auto_generated_words_inside_a_person_subject_are_not_an_auto_reply(subject: str) -> None:
    assert kind_of(mail(subject, "Hola Ana, ¿nos mandas el detalle?\n")).kind == "message"


def test_rule6_recipient_server_asking_to_confirm_the_sending_server_is_a_challenge() -> None:
    # The shape of rjbs/Mail-DeliveryStatus-BounceParser t/corpus/whitelist.msg (a
    # challenge/response there, not a bounce): a Postfix DSN, Action failed, whose 550 asks
    # the sender to confirm its mail server through a link.
    raw = (SHAPES / "cr-server-confirmation-in-failed-dsn.eml").read_bytes()
    c = classify(parse_message(raw))
    assert c.kind == "auto_reply" and c.bounced_recipients == ()


@pytest.mark.parametrize("diagnostic", [
    "550 5.1.1 Please confirm the recipient address and send your message again",
    "554 5.7.1 Service unavailable; client host blocked. To request removal, confirm at http://x.example",
])
def test_rule6_bounces_that_ask_to_confirm_an_address_stay_bounces(diagnostic: str) -> None:
    raw = dsn("failed", "5.1.1").replace(b"See report.", diagnostic.encode("utf-8"))
    assert classify(parse_message(raw)).kind == "bounce"


def test_rule6_challenge_service_sender_even_without_a_phrase_is_auto_reply() -> None:
    raw = _challenge_report("Your message about \"Cotización\" is waiting.", sender="noreply@boxbe.com")
    assert kind_of(raw).kind == "auto_reply"


@pytest.mark.parametrize("diagnostic", [
    "550 5.7.1 Sender verify failed",                       # Exim callout: a real rejection
    "550 5.1.1 <x@client.example>: Recipient address rejected: unverified address",
    "550 5.7.1 Message rejected as spam by Content Filtering",
])
def test_rule6_bounces_that_mention_verification_or_spam_stay_bounces(diagnostic: str) -> None:
    raw = dsn("failed", "5.7.1").replace(b"See report.", f"Delivery failed: {diagnostic}".encode())
    assert classify(parse_message(raw)).kind == "bounce"


def test_rule6_every_challenge_phrase_is_reachable_through_a_cheap_hint() -> None:
    # The hints are a plain-text pre-filter; a phrase with no hint could never match.
    missing = [p for p in classify_module.CHALLENGE_PHRASES
               if not any(h in p or h.replace("ô", "o") in p for h in classify_module._CHALLENGE_HINTS)]
    assert missing == []


# ------------------------------------------------------------------ DESIGN.md "Real mail", rule 7

@pytest.mark.parametrize("actions", [
    ("delivered",), ("relayed",), ("expanded",), ("delivered", "relayed"), ("relayed (to non-DSN-aware mailer)",),
])
def test_rule7_delivery_report_where_no_recipient_failed_is_receipt(actions: tuple[str, ...]) -> None:
    groups = "".join(f"Final-Recipient: rfc822; r{i}@client.example\nAction: {a}\nStatus: 5.4.0\n\n"
                     for i, a in enumerate(actions))   # Exchange's "delivered" with Status 5.4.0
    raw = ("From: postmaster@client.example\nSubject: Delivery Status Notification\nMessage-ID: <d@x>\n"
           'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
           "--b\nContent-Type: text/plain\n\nReport.\n--b\nContent-Type: message/delivery-status\n\n"
           f"Reporting-MTA: dns; mx.client.example\n\n{groups}--b--\n").encode()
    assert classify(parse_message(raw)) == classify_module.Classification("receipt")


def test_rule7_delivery_report_with_one_failed_recipient_is_bounce() -> None:
    raw = ("From: postmaster@client.example\nSubject: Delivery Status Notification\nMessage-ID: <d@x>\n"
           'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
           "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n"
           "Final-Recipient: rfc822; ok@client.example\nAction: relayed\nStatus: 2.0.0\n\n"
           "Final-Recipient: rfc822; nadie@client.example\nAction: failed\nStatus: 5.1.1\n--b--\n").encode()
    c = classify(parse_message(raw))
    assert c.kind == "bounce" and c.bounced_recipients == ("nadie@client.example",)


@pytest.mark.parametrize("text", [
    "Your message has been successfully relayed to the following recipients, but the requested "
    "delivery status notifications may not be generated by the destination.\n\n   compras@client.example\n",
    "Your message to compras@client.example: delivery has been successful.\n",
    "Delivery to these recipients or groups is complete, but no delivery notification was sent by the "
    "destination server:\n\ncompras@client.example\n",
])
def test_rule7_success_report_without_dsn_part_is_receipt(text: str) -> None:
    raw = mail("Delivery Status Notification (Relay)", text, frm="postmaster@acme.example", extra="Return-Path: <>\n")
    assert kind_of(raw).kind == "receipt"


def test_rule7_success_text_next_to_a_failure_stays_bounce() -> None:
    raw = mail("Returned mail: see transcript for details",
               "----- The following addresses had successful delivery notifications -----\n<ok@client.example>\n\n"
               "----- The following addresses had permanent fatal errors -----\n<nadie@client.example>\n"
               "    (reason: 550 5.1.1 User unknown)\n", frm="MAILER-DAEMON@mx.acme.example")
    assert kind_of(raw).kind == "bounce"


@pytest.mark.parametrize("subject", [
    "Delivered: Cotización CT-12", "Entregado: Cotización CT-12", "Relayed: Quote A-778",
    "Entregue: Proposta 2027", "Expanded: Quote A-778", "[EXTERNAL] Delivered: Quote A-778",
])
def test_rule7_delivered_entregado_relayed_subject_prefix_is_receipt(subject: str) -> None:
    assert kind_of(mail(subject, "Your message has been delivered.\n", frm="postmaster@client.example")).kind == "receipt"


@pytest.mark.parametrize("subject", ["RE: Delivered: Cotización CT-12", "Delivery of the goods: Cotización CT-12"])
def test_rule7_delivered_prefix_only_at_start_counts(subject: str) -> None:
    assert kind_of(mail(subject, "Ana, recibimos el material, gracias.\n")).kind == "message"


@pytest.mark.parametrize("subject,body", [
    ("FW: Undeliverable: Cotización CT-12", "Ana, this address is gone; use mine.\n\n-----Original Message-----\n"
     "From: postmaster@client.example\nSent: Monday\nSubject: Undeliverable\n\nDelivery has failed to these recipients: "
     "laura@client.example 550 5.1.1 User unknown\n"),
    ("Re: Mail delivery failed: returning message to sender", "Fixed on our side, please resend.\n\n"
     "On Mon, Nov 23, 2026 at 10:00 AM Mail Delivery System <mailer-daemon@mx.example> wrote:\n"
     "> A message that you sent could not be delivered to one or more of its recipients.\n> 550 5.1.1 User unknown\n"),
    ("RV: No se pudo entregar: Cotización", "Ana, usa mi correo.\n\nDe: Postmaster\nEnviado: lunes\nPara: Ana\n"
     "Asunto: No se pudo entregar\n\nEl mensaje no se pudo entregar. 550 5.1.1 El buzón no existe.\n"),
    ("Fwd: Returned mail: see transcript for details", "---------- Forwarded message ---------\n"
     "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example>\nDate: Mon\nSubject: Returned mail\n\n"
     "----- The following addresses had permanent fatal errors -----\n<x@client.example>\n"),
])
def test_rule7_person_quoting_or_forwarding_a_bounce_is_message(subject: str, body: str) -> None:
    assert kind_of(mail(subject, body)).kind == "message"


def test_rule7_person_forwarding_a_bounce_as_attachment_is_message() -> None:
    raw = (b"From: Carlos <carlos@client.example>\nTo: ana@acme.example\nSubject: Fwd: Undelivered Mail Returned to Sender\n"
           b'Message-ID: <f@client.example>\nContent-Type: multipart/mixed; boundary="o"\n\n'
           b"--o\nContent-Type: text/plain\n\nSee below, please fix the address.\n"
           b"--o\nContent-Type: message/rfc822\n\nFrom: MAILER-DAEMON@mx.example\nSubject: Undelivered Mail\n"
           b'Content-Type: multipart/report; report-type=delivery-status; boundary="i"\n\n'
           b"--i\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; x@client.example\n"
           b"Action: failed\nStatus: 5.1.1\n--i--\n--o--\n")
    assert classify(parse_message(raw)).kind == "message"


@pytest.mark.parametrize("frm,extra", [
    ("MAILER-DAEMON@mx.client.example", ""), ("postmaster@client.example", ""),
    ("robot@client.example", "X-Failed-Recipients: x@client.example\n"), ("robot@client.example", "Return-Path: <>\n"),
])
def test_rule7_bounce_with_reply_prefix_from_a_mail_robot_stays_bounce(frm: str, extra: str) -> None:
    raw = mail("Re: Cotización CT-12", "Sorry, we were unable to deliver your message to x@client.example.\n"
               "550 5.1.1 mailbox unavailable\n\n> Adjunto la cotización.\n", frm=frm, extra=extra)
    assert kind_of(raw).kind == "bounce"


def test_rule7_robot_notice_under_a_reply_prefix_with_nothing_quoted_stays_bounce() -> None:
    # flufl.bounce's simple_20 shape: a gateway's own notice, "RE: ...: non remis".
    raw = mail("RE: Cotización CT-12 : non remis", "Your message could not be delivered to\nx@client.example\n",
               frm="gateway@client.example")
    assert kind_of(raw).kind == "bounce"


@pytest.mark.parametrize("lead", [b"\n", b"\n\n\n", b"\n" + b" " * 255 + b"\n", b"\r\n\r\n", b" \t\n\n"])
def test_rule7_blank_lines_before_first_header_still_read_as_mail(lead: bytes) -> None:
    raw = lead + dsn("failed", "5.1.1", subject="Delivery Status Notification (Failure)")
    m = parse_message(raw)
    assert m.from_addr == "mailer-daemon@mx.example" and m.message_id == "<dsn@mx.example>"
    assert m.subject == "Delivery Status Notification (Failure)"
    assert classify(m).kind == "bounce"


def test_rule7_blank_lines_before_a_body_without_headers_stay_a_body() -> None:
    m = parse_message(b"\n\nJust some text: not a header line\nmore\n")
    assert m.from_addr is None and m.subject == "" and "Just some text" in m.text


def test_rule7_blank_lines_before_headers_after_an_mbox_separator() -> None:
    m = parse_message(b"From MAILER-DAEMON Mon Nov 23 10:00:00 2026\n\n\n" + dsn("delivered", "2.0.0"))
    assert m.from_addr == "mailer-daemon@mx.example" and classify(m).kind == "receipt"


# ------------------------------------------------------------------ the reply corpora stay people

def _reply_bodies() -> list[Path]:
    return sorted(p for p in REPLIES.rglob("*.txt") if p.name != "SOURCES.txt")


@pytest.mark.parametrize("subject", ["RE: Cotización CT-12", "RE: Automatic reply: Cotización CT-12",
                                     "FW: Undeliverable: Cotización CT-12"])
def test_no_human_reply_of_the_reply_corpora_becomes_bounce_or_auto_reply(subject: str) -> None:
    bodies = _reply_bodies()
    assert len(bodies) > 150
    wrong = []
    for n, path in enumerate(bodies):
        raw = (f"From: Cliente <cliente@client.example>\nTo: ana@acme.example\nSubject: {subject}\n"
               f"Message-ID: <r{n}@client.example>\nContent-Type: text/plain; charset=utf-8\n\n").encode() + path.read_bytes()
        kind = classify(parse_message(raw)).kind
        if kind != "message":
            wrong.append((path.name, kind))
    assert wrong == []


def test_no_talon_reply_becomes_bounce_or_auto_reply() -> None:
    files = sorted((FIX / "talon").glob("*.eml"))
    assert files
    assert {p.name: classify(parse_message(p.read_bytes())).kind for p in files} == {p.name: "message" for p in files}


@pytest.mark.parametrize("diagnostic", [
    "550 5.7.1 Your address is not in the list of authorised senders of this mailbox",
    "554 5.7.1 Rejected as spam. If you are not a spammer, contact postmaster@client.example",
    "550 5.7.1 Mensaje rechazado: su dirección no está en la lista de remitentes autorizados",
])
def test_rule6_policy_rejections_that_hold_nothing_are_bounces_not_challenges(diagnostic: str) -> None:
    # A challenge holds the message until the sender answers; these refuse it outright.
    raw = dsn("failed", "5.7.1").replace(b"See report.", diagnostic.encode("utf-8"))
    assert classify(parse_message(raw)).kind == "bounce"


@pytest.mark.parametrize("lead", [b"\n\nFrom MAILER-DAEMON Mon Nov 23 10:00:00 2026\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\n\r\n"])
def test_rule7_blank_lines_or_a_byte_order_mark_before_an_mbox_line_or_the_headers(lead: bytes) -> None:
    m = parse_message(lead + dsn("failed", "5.1.1"))
    assert m.from_addr == "mailer-daemon@mx.example" and classify(m).kind == "bounce"


def test_rule7_robot_notice_with_reply_prefix_and_attached_original_stays_bounce() -> None:
    raw = (b"From: notices@mail.client.example\nTo: ana@acme.example\nSubject: Re: Cotizacion CT-12\n"
           b'Message-ID: <n@client.example>\nContent-Type: multipart/mixed; boundary="o"\n\n'
           b"--o\nContent-Type: text/plain\n\nSorry, we were unable to deliver your message to the following address.\n"
           b"<compras@client.example>: 550 5.1.1 mailbox unavailable\n"
           b"--o\nContent-Type: message/rfc822\n\nFrom: ana@acme.example\nSubject: Cotizacion CT-12\n\nHola\n--o--\n")
    assert classify(parse_message(raw)).kind == "bounce"
