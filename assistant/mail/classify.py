"""What kind of message a :class:`ParsedMessage` is (DESIGN.md "real reply", ``inspect``).

Order matters: reports first (complaint, read receipt, delivery status), then other
bounces and delay warnings, and only then auto-replies — Exim bounces carry
``Auto-Submitted: auto-replied`` and must stay bounces.

Failed recipients and permanent-vs-temporary come from the DSN report when there is one
(RFC 3464 ``Final-Recipient``/``Action``/``Status``), from ``X-Failed-Recipients``, and
for non-standard bounces (qmail, Exim, Yahoo, GroupWise, free text) from ``flufl.bounce``'s
detectors run over the decoded text, then from status codes found in the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from assistant.mail.message import ParsedMessage
from assistant.mail.subject import has_reply_prefix
from assistant.mail.text import contains_phrase, normalize

__all__ = ["Classification", "classify"]


@dataclass(frozen=True, slots=True)
class Classification:
    kind: str
    """One of :data:`assistant.mail.message.KINDS`."""
    bounced_recipients: tuple[str, ...] = ()
    bounce_permanent: bool | None = None


MESSAGE = Classification("message")

_ADDR_RE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_STATUS_RE = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_SMTP_CODE_RE = re.compile(r"(?<![\d.-])([45])[0-5]\d(?:[ -]|$)", re.M)

_DAEMON_LOCALPARTS = ("mailer-daemon", "postmaster", "mail-daemon", "maildaemon", "mailerdaemon",
                      "bounce", "bounces", "mail.daemon", "mdaemon", "post_master", "post-master")
_DAEMON_NAMES = ("mail delivery subsystem", "mail delivery system", "mailer-daemon", "postmaster",
                 "mail administrator", "mail delivery service", "microsoft outlook",
                 "mail transport system", "internet mail delivery", "mail system")

BOUNCE_SUBJECTS = (
    "undeliverable", "undelivered mail", "undeliverable mail", "mail delivery failed",
    "delivery status notification", "delivery failure", "delivery failed", "failure notice",
    "returned mail", "mail system error", "delivery notification", "nondeliverable",
    "non-deliverable", "non delivery", "non-delivery", "undelivered", "could not be delivered",
    "not delivered", "delivery problem", "mail delivery problem", "message not delivered",
    "message status - undeliverable", "permanent error", "returned to sender", "delivery report",
    "mail failure", "unable to deliver", "rejected", "message you sent blocked", "bounce",
    "no se pudo entregar", "no se puede entregar", "error de entrega", "correo no entregado",
    "mensaje no entregado", "notificacion de estado de entrega", "devolucion de correo",
    "unzustellbar", "non remis", "non recapitabile", "delivery has failed",
    "mail could not be delivered", "message delivery failure", "email delivery error",
    "mail returned", "returned message", "delivery error", "undeliverable message", "mail error",
    "failed mail",
    "your message couldn't be delivered", "nondelivery", "mail delivery error",
)
STRONG_BOUNCE_SUBJECTS = (
    "undeliverable", "undelivered mail", "mail delivery failed", "could not be delivered",
    "delivery status notification", "failure notice", "returned mail", "delivery failure",
    "non-delivery", "nondeliverable", "no se pudo entregar", "mensaje no entregado",
)
DELAY_SUBJECTS = (
    "delayed mail", "delivery delayed", "delivery status notification (delay)", "still being retried",
    "warning: message", "delivery delay", "message delayed", "delayed message", "delay notification",
    "mail delivery delayed", "not yet been delivered", "delivery is delayed", "retrasado",
    "entrega retrasada", "entrega demorada", "temporary failure", "delayed:", "delayed delivery",
    "warning: delayed", "delivery warning", "still trying", "warning - delayed",
    "could not send message for past", "could not send mail for past", "mail delivery warning",
    "delivery status notification: warning", "delivery status notification: delayed",
)
WARNING_ONLY_TEXT = (
    "this is a warning only", "this is a warning message only", "you do not need to resend",
    "no action is required on your part", "this is an advisory-only email", "warning message only",
)
DELAY_TEXT = (
    "will keep trying", "will continue trying", "will continue to try", "will be retried",
    "will retry", "still being retried", "has not yet been delivered", "have not yet been delivered",
    "has not been delivered yet", "no action is required", "you do not need to resend",
    "you don't need to resend", "will try again", "will keep on trying", "has been delayed",
    "is delayed", "delayed for", "continuing to try", "still trying", "continue attempting",
    "will attempt to deliver", "not been able to deliver your message for", "temporarily deferred",
    "seguiremos intentando", "se seguira intentando", "no es necesario que reenvie",
    "attempts will continue", "will continue to be made", "has been postponed",
)
GIVE_UP_TEXT = (
    "giving up", "gave up", "permanent error", "permanent failure", "permanently",
    "will not retry", "will not be retried", "no further attempts", "has been rejected",
    "could not be delivered to one or more", "delivery has failed", "failed permanently",
    "undeliverable", "has been returned", "returned to sender", "i'm afraid i wasn't able to deliver",
    "message could not be delivered", "unable to deliver", "delivery to the following recipient failed",
    "cannot be delivered", "fatal error", "following addresses had permanent fatal errors",
    "unknown user", "user unknown", "does not exist", "no such user", "mailbox unavailable",
    "mailbox not found", "address rejected", "i'm sorry to have to inform you",
    "could not be delivered to", "this is a permanent error", "was not delivered",
    "message was not accepted", "delivery failed", "cannot be delivered", "permanent errors",
    "did not reach the following recipient", "rejected", "no longer valid", "has been disabled",
)
BOUNCE_TEXT = GIVE_UP_TEXT + (
    "delivery to the following recipients failed", "the following addresses had",
    "this is the mail system at host", "this is the qmail-send program", "returned mail",
    "the original message was received", "failed recipient", "delivery status notification",
    "mail delivery failed", "could not deliver", "message was undeliverable", "undelivered",
    "delivery error", "non-delivery report", "remote host said", "smtp error",
    "trouble delivering", "error sending your mail", "could not be sent", "mail error",
)

EMBEDDED_PART_TYPES = frozenset(("message/rfc822", "text/rfc822-headers", "message/global",
                                 "message/global-headers"))
_RETURNED_ORIGINAL_TEXT = (
    "could not be delivered", "was not delivered", "unable to deliver", "delivery has failed",
    "delivery to the following recipient failed", "user unknown", "no such user",
    "mailbox unavailable", "mailbox is full", "no se pudo entregar", "no pudo ser entregado",
)
"""Plain statements of failure, for robots that return the original without a DSN."""
_FAILURE_TEXT = GIVE_UP_TEXT + DELAY_TEXT + (
    "failure", "failed", "delayed", "not delivered", "could not", "unable to", "not been delivered",
    "no se pudo", "no pudo", "fallo", "nao foi possivel",
)
"""Any of these in a delivery report means some recipient did not get the message."""
_QUOTE_START_RE = re.compile(
    r"(?im)^[ \t]*>|^[ \t]*-{2,}[ \t]*(?:original message|mensaje original|forwarded message|"
    r"mensaje reenviado|mensagem original|mensagem encaminhada|message d'origine|"
    r"weitergeleitete nachricht|urspr\w+ngliche nachricht)[ \t]*-{2,}|^[ \t]*begin forwarded message|"
    r"^[ \t]*_{10,}[ \t]*$|"
    r"^[ \t]*\*?(?:from|de|von)[ \t]*:[^\n]*\n(?:[^\n]*\n){0,2}?"
    r"[ \t]*\*?(?:sent|enviado|date|fecha|gesendet|to|para|envoy\w*|subject|asunto)[ \t]*:|"
    r"^[ \t]*(?:on|el|em|am|le)\b[^\n]{0,200}(?:wrote|escribi\w|escreveu|schrieb|a \w+crit)[ \t]*:[ \t]*$"
)
"""Where the quoted or forwarded original starts in a person's reply or forward."""
_ROBOT_NOTICE_TEXT = (
    "your message could not be delivered", "your message was not delivered",
    "your message cannot be delivered", "your email could not be delivered",
    "this is an automatically generated", "created automatically", "mail delivery software",
    "this is the mail system", "this is the qmail-send program", "i'm sorry to have to inform you",
    "could not be delivered to one or more", "delivery to the following recipients failed",
    "delivery to the following recipient failed", "the following addresses had permanent",
    "we were unable to deliver your message", "unable to deliver your message",
    "unable to deliver message to the following",
    "the following message to", "message was undeliverable", "delivery has failed to these recipients",
    "could not be delivered to the following",
    "su mensaje no pudo ser entregado", "su mensaje no se pudo entregar",
    "sua mensagem nao pode ser entregue", "votre message n'a pas pu",
)
"""How a bounce notice speaks of itself, which a person writing about a bounce does not."""
_ROBOT_FAILURE_TEXT = _ROBOT_NOTICE_TEXT + _RETURNED_ORIGINAL_TEXT + (
    "this is a permanent error", "permanent fatal errors", "message could not be delivered",
    "delivery has failed", "failed permanently", "non remis", "returned to sender",
    "smtp error from remote", "remote host said", "i'm afraid i wasn't able to deliver",
    "message was undeliverable", "was not delivered to",
)
"""A delivery failure stated as a robot states it, for a text that quotes nothing."""

# DESIGN.md rule 6: an out-of-office subject counts only at the very start of the raw
# subject (after gateway tags such as "[EXTERNAL]"): "RE: Automatic reply: ..." is a person
# answering one. Matched on the accent- and case-folded subject.
_OOO_PHRASES = (
    "automatic reply", "automatic response", "automated reply", "automated response",
    "auto reply", "auto-reply", "autoreply", "auto response", "auto-response", "autoresponse",
    "autoresponder", "autorespond", "out of office", "out of the office", "out-of-office",
    "fuera de la oficina", "fuera de oficina", "respuesta automatica", "respuesta autom",
    "autorespuesta", "resposta automatica", "resposta autom", "fora do escritorio",
    "ausencia temporal", "reponse automatique", "absence du bureau", "automatische antwort",
    "abwesenheitsnotiz", "risposta automatica", "fuori ufficio", "autosvar",
    "automatisch antwoord", "vacation reply", "vacation alert", "vacation auto", "on vacation",
    "on holiday", "de vacaciones", "away from the office", "away from my desk",
    "i am out of the office", "i am out of office", "i'm out of the office",
    # robot mail that says so at the start ("[AUTO GENERATED] ...", "Auto-generated: ...")
    "auto generated", "auto-generated", "autogenerated", "automatically generated",
    "estoy fuera de la oficina", "automatyczna odpowiedz", "automaattinen vastaus",
)
# Single words that begin an out-of-office subject only when nothing but a colon, a dash or
# a return date follows ("Ausente hasta el lunes", "Vacaciones", "Away until May 5"), so
# that "Ausencia de stock en el pedido" stays a person's subject.
_OOO_WORDS = ("ausente", "ausencia", "vacaciones", "vacation", "away", "abwesend", "afwezig",
              "ferias", "absent", "ooo", "oof")
_OOO_DATE_WORDS = ("hasta", "until", "till", "desde", "del", "from", "back", "regreso",
                   "returning", "ate", "bis", "jusqu", "por", "today", "hoy")
_OOO_SUBJECT_RE = re.compile(
    r"(?:" + "|".join(re.escape(p) for p in _OOO_PHRASES) + r")(?![a-z0-9])"
    r"|(?:" + "|".join(_OOO_WORDS) + r")\s*(?:$|[:\-!(]|(?:" + "|".join(_OOO_DATE_WORDS) + r")\b)"
    r"|auto\s*:"
)
_SUBJECT_TAG_RE = re.compile(r"^\s*(?:\[[^\[\]]{1,60}\]\s*)+")

# Challenge-response notices (DESIGN.md rule 6): the recipient's filter holds the message
# until the sender proves to be a person. Such a notice is an auto-reply even when it comes
# as a multipart/report whose DSN says "failed" (Boxbe: "Action: failed", "Diagnostic-Code:
# X-Boxbe-Notice; Sender not pre-approved"). Only phrases no bounce reason uses: Exim's
# "sender verify failed" and Postfix's "unverified address" are bounces.
CHALLENGE_PHRASES = (
    "verify you are human", "verify that you are human", "verify you are a human",
    "verify that you are a human", "prove you are human", "prove that you are human",
    "prove you are a human", "prove that you are a human", "confirm you are human",
    "confirm that you are human", "confirm you are a human", "confirm that you are a human",
    "you are a real person", "you are a person and not", "prove you are not a robot",
    "human sender", "please verify your message", "verify your email address to deliver",
    "challenge-response", "challenge response", "challenge/response",
    "added to my list of approved senders", "my approved senders list", "senders i have approved",
    "allowed sender request", "recipient's allowed list", "to have your address added",
    "add yourself to my", "guest list so your messages", "has been waitlisted",
    "sender not pre-approved", "x-boxbe-notice", "i use a spam filter", "spam arrest",
    "spamarrest", "boxbe", "bluebottle", "choicemail", "mailinblack", "mailblocks", "tmda",
    "sendio", "antispam uol",
    # A recipient's server that holds mail until the sending server is confirmed through a
    # link ("550 Your server requires confirmation. Visit ... to confirm this mail server").
    "server requires confirmation", "confirm this mail server", "confirm this server",
    "anti-spam uol", "to complete this verification", "complete the verification process",
    "has been held pending verification", "type the characters you see",
    "enter the characters you see", "verificar que eres humano", "verifique que es humano", "confirme que es humano",
    "verificar que es humano", "que usted es una persona", "que eres una persona",
    "que voce e uma pessoa", "escriba los caracteres", "digite os caracteres",
)
# Plain lower-case substrings, one of which every challenge phrase contains before accents
# are folded: a cheap test that spares normalising the text of almost every message.
_CHALLENGE_HINTS = ("verif", "human", "challenge", "approved", "allowed", "spam", "boxbe",
                    "bluebottle", "choicemail", "mailinblack", "mailblocks", "tmda", "sendio",
                    "guest list", "waitlisted", "characters", "caracteres",
                    "robot", "real person", "a person and", "una persona", "uma pessoa",
                    "address added", "add yourself", "requires confirmation", "confirm this")
# Senders (From, Return-Path, Reply-To, Sender) at the challenge services themselves, and
# the headers Bluebottle adds to its notices.
_CHALLENGE_DOMAIN_RE = re.compile(
    r"[@.](?:boxbe\.com|bluebottle\.com|spamarrest\.com|mailinblack\.com|antispam\.uol\.com\.br)\b", re.I)
_CHALLENGE_HEADERS = frozenset(("x-bluebottle-request", "x-bluebottle-address"))

# DESIGN.md rule 7: Exchange's and Outlook's delivery and relay reports ("Delivered: Quote",
# "Entregado: Cotización", "Relayed: ...", and their Portuguese and Spanish relay forms).
RECEIPT_PREFIX_RE = re.compile(
    r"^\s*(?:\[[^\[\]]{1,60}\]\s*)*(?:delivered|entregado|entregue|relayed|retransmitid[oa]s?|expanded|expandido)\s*[:：]",
    re.I)
# A delivery report that says every recipient got the message, or that it was handed on to
# a server that sends no further notice.
SUCCESS_TEXT = (
    "successfully relayed", "has been relayed", "have been relayed", "relayed to non-dsn-aware",
    "expect no further notifications", "delivery has been successful", "delivery was successful",
    "successfully delivered", "was delivered to", "were delivered to", "has been delivered to",
    "have been delivered to", "had successful delivery", "successful delivery notification",
    "successful mail delivery", "delivery to the following recipients was complete",
    "delivery to the following recipients succeeded", "delivery to the following recipient succeeded",
    "delivery to the following recipient has been completed", "delivery to these recipients or groups is complete",
    "delivery to these recipients or distribution lists is complete",
    "se entrego correctamente", "ha sido entregado", "fue entregado", "entrega correcta",
    "entregado correctamente", "se ha entregado a los siguientes", "se entrego a los siguientes",
    "foi entregue", "entregue com sucesso",
)
_SUCCESS_HINTS = ("success", "succeeded", "relayed", "delivered to", "entreg", "complete",
                  "expect no further")
RECEIPT_SUBJECT_RE = re.compile(
    r"^\s*(?:read|le[ií]do|gelesen|lu|letto|read receipt|return receipt|confirmaci[oó]n de lectura|"
    r"leído|displayed|visualizado)\s*:", re.I
)
_PRECEDENCE_AUTO = frozenset(("auto_reply", "bulk", "junk"))


def classify(msg: ParsedMessage) -> Classification:
    """Kind of ``msg``, with failed recipients and permanence for bounces and delays."""
    try:
        return _classify(msg)
    except Exception:  # pragma: no cover - the rules never crash a scan
        return MESSAGE


def _classify(msg: ParsedMessage) -> Classification:
    h = msg.headers
    report_type = msg.report_type or ""
    parts = msg.part_types
    subject = normalize(msg.subject)

    if report_type == "feedback-report" or "message/feedback-report" in parts or "feedback-type" in h:
        return Classification("complaint")
    if _is_complaint(msg, subject):
        return Classification("complaint")
    if report_type in ("disposition-notification", "global-disposition-notification") or (
        "message/disposition-notification" in parts or "message/global-disposition-notification" in parts
    ):
        return _from_mdn(msg)
    ses = _from_ses(msg)
    if ses is not None:
        return ses
    # Rule 6: a challenge-response notice, even one dressed as a failed DSN.
    if _is_challenge(msg):
        return Classification("auto_reply")
    # Rule 7: Exchange's "Delivered:" / "Relayed:" reports.
    if RECEIPT_PREFIX_RE.match(msg.subject or ""):
        return Classification("receipt")
    dsn = report_type in ("delivery-status", "global-delivery-status") or (
        "message/delivery-status" in parts or "message/global-delivery-status" in parts
    )
    bounce_like = dsn or _looks_like_bounce(msg, subject)
    if msg.report or bounce_like:
        # Rule 7: a person who replies to or forwards a bounce wrote a message; the
        # report inside what they forward is not theirs.
        if _is_person_quoting(msg):
            return Classification("auto_reply") if _is_auto_reply(msg, subject) else MESSAGE
        if msg.report:
            result = _from_dsn(msg)
            if result is not None:
                return result
        if bounce_like:
            if _reports_only_success(msg):
                return Classification("receipt")
            return _non_dsn_bounce(msg, subject)

    if _is_auto_reply(msg, subject):
        return Classification("auto_reply")
    if RECEIPT_SUBJECT_RE.match(msg.subject or "") and (
        "disposition-notification-to" not in h and (msg.content_type.startswith("multipart/report") or _is_daemonish(msg))
    ):
        return Classification("receipt")
    return MESSAGE


def _is_challenge(msg: ParsedMessage) -> bool:
    """A challenge-response notice (rule 6): its sender is a challenge service, it carries
    that service's headers, or its text asks the sender to prove to be a person."""
    h = msg.headers
    if not _CHALLENGE_HEADERS.isdisjoint(h):
        return True
    senders = " ".join((msg.from_addr or "", h.get("return-path", ""), h.get("reply-to", ""),
                        h.get("sender", "")))
    if _CHALLENGE_DOMAIN_RE.search(senders):
        return True
    sample = msg.subject + "\n" + msg.text[:2000] + "\n" + msg.report[:1500]
    # Cheap plain-text hints first: every challenge phrase contains one of them, and
    # normalising 3,500 characters for the full phrase match costs more than all of it.
    lowered = sample.lower()
    return any(hint in lowered for hint in _CHALLENGE_HINTS) and bool(contains_phrase(sample, CHALLENGE_PHRASES))


def _is_person_quoting(msg: ParsedMessage) -> bool:
    """A person's reply to or forward of a bounce (rule 7): a reply or forward prefix, no
    ``multipart/report``, nothing a mail robot sends (MAILER-DAEMON or postmaster, a null
    return path, ``X-Failed-Recipients``), and a text of its own that is not a robot's
    notice ("Your message could not be delivered ..."): what such a message quotes, after
    ``>`` lines, a forwarded-message separator or a ``From:/Sent:`` block, is not its own."""
    if msg.content_type == "multipart/report" or not has_reply_prefix(msg.subject):
        return False
    h = msg.headers
    if "x-failed-recipients" in h or h.get("return-path", "").strip() in ("<>", "< >"):
        return False
    if _is_daemonish(msg):
        return False
    text = msg.text[:4000]
    m = _QUOTE_START_RE.search(text)
    if m is not None:
        return not contains_phrase(text[: m.start()], _ROBOT_NOTICE_TEXT)
    if any(t in EMBEDDED_PART_TYPES for t in msg.part_types):
        return not contains_phrase(text, _ROBOT_NOTICE_TEXT)
    # Nothing quoted or forwarded: a text that states a delivery failure is the notice itself
    # (a gateway's "RE: ...: non remis"), not a person writing about one.
    return not contains_phrase(text, _ROBOT_FAILURE_TEXT)


def _reports_only_success(msg: ParsedMessage) -> bool:
    """A delivery report whose text says the message was delivered or relayed and names no
    failure or delay (rule 7): a receipt. Reports that mix delivered and failed recipients
    (Courier, sendmail) stay bounces."""
    if "x-failed-recipients" in msg.headers:
        return False
    sample = msg.subject + "\n" + msg.text[:3000]
    lowered = sample.lower()
    if not any(hint in lowered for hint in _SUCCESS_HINTS) or not contains_phrase(sample, SUCCESS_TEXT):
        return False
    return not contains_phrase(sample, _FAILURE_TEXT)


# ------------------------------------------------------------------------------ reports

COMPLAINT_SUBJECTS = ("complaint about message", "abuse report", "spam report", "spam complaint",
                      "email feedback report", "feedback report", "abuse complaint")


def _is_complaint(msg: ParsedMessage, subject: str) -> bool:
    embedded = any(t in ("message/rfc822", "text/rfc822-headers") for t in msg.part_types)
    if embedded and contains_phrase(subject, COMPLAINT_SUBJECTS):
        return True
    # Apple Mail's one-click unsubscribe (an opt-out, reported like a complaint)
    return "sent this email to unsubscribe" in msg.text[:500].lower()


_MDN_FAILURE_RE = re.compile(r"(?im)^disposition:[^\n]*\b(deleted|denied|failed|failure|error|rejected)\b")


def _from_mdn(msg: ParsedMessage) -> Classification:
    """A read receipt, unless the "disposition" says the message was refused (Sieve reject,
    RFC 5429, reports ``deleted``): then it is a bounce."""
    if _MDN_FAILURE_RE.search(msg.report) or "rejected" in msg.headers.get("auto-submitted", "").lower():
        recipients = [a for a in (_addr_of(v) for v in re.findall(r"(?im)^final-recipient:(.*)$", msg.report)) if a]
        return Classification("bounce", tuple(_dedupe(recipients)), _text_permanence(msg))
    return Classification("receipt")


_SES_TYPE_RE = re.compile(r'"notificationType"\s*:\s*"(\w+)"')
_SES_BOUNCE_TYPE_RE = re.compile(r'"bounceType"\s*:\s*"(\w+)"')
_SES_ADDR_RE = re.compile(r'"emailAddress"\s*:\s*"([^"]+)"')


def _from_ses(msg: ParsedMessage) -> Classification | None:
    """Amazon SES notifications (JSON in the body, via SNS or e-mail feedback)."""
    head = msg.text[:200].lstrip()
    if not head.startswith("{") or '"notificationType"' not in msg.text[:4000]:
        return None
    m = _SES_TYPE_RE.search(msg.text)
    kind = (m.group(1).lower() if m else "")
    if kind == "bounce":
        bt = _SES_BOUNCE_TYPE_RE.search(msg.text)
        permanent = None if bt is None else bt.group(1).lower() == "permanent"
        recipients = _dedupe(a.lower() for a in _SES_ADDR_RE.findall(msg.text))
        return Classification("bounce" if permanent is not False else "delay", tuple(recipients), permanent)
    if kind == "complaint":
        return Classification("complaint")
    if kind == "delivery":
        return Classification("receipt")
    return None


# ------------------------------------------------------------------------------ DSN

def _dsn_fields(report: str) -> list[dict[str, str]]:
    """Per-recipient field groups of a delivery-status report (unfolded, lower-cased names)."""
    groups: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last = None
    for line in report.replace("\r", "").split("\n"):
        if not line.strip():
            if current:
                groups.append(current)
                current = {}
            last = None
            continue
        if line[0] in " \t" and last:
            current[last] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        if not colon:
            continue
        name = name.strip().lower()
        if name in ("final-recipient", "original-recipient", "x-actual-recipient") and "final-recipient" in current and name == "final-recipient":
            groups.append(current)
            current = {}
        current.setdefault(name, value.strip())
        last = name
    if current:
        groups.append(current)
    return groups


def _addr_of(value: str) -> str | None:
    value = value.split(";", 1)[1] if ";" in value else value
    m = _ADDR_RE.search(value)
    return m.group(0).lower().strip(".") if m else None


def _from_dsn(msg: ParsedMessage) -> Classification | None:
    groups = _dsn_fields(msg.report)
    failed: list[str] = []
    delayed: list[str] = []
    other: list[str] = []
    statuses: list[str] = []
    failed_status: list[str] = []
    for g in groups:
        action = g.get("action", "").strip().lower().split()[0] if g.get("action", "").strip() else ""
        rcpt = g.get("final-recipient") or g.get("original-recipient") or ""
        status = g.get("status", "")
        sm = _STATUS_RE.search(status)
        if not rcpt and not action and not sm:
            continue
        addr = _addr_of(rcpt) if rcpt else None
        if sm:
            statuses.append(sm.group(1))
        if action.startswith("fail"):
            failed.append(addr or "")
            if sm:
                failed_status.append(sm.group(1))
        elif action.startswith("delay"):
            delayed.append(addr or "")
        elif action in ("delivered", "relayed", "expanded"):
            other.append(addr or "")
        elif rcpt and sm:
            (failed if sm.group(1) == "5" else delayed if sm.group(1) == "4" else other).append(addr or "")
            if sm.group(1) == "5":
                failed_status.append("5")
    if failed:
        recipients = _dedupe([a for a in failed if a] + _x_failed(msg))
        if not recipients:
            recipients = _flufl_recipients(msg)[0]
        permanent = _permanence(failed_status, msg)
        return Classification("bounce", tuple(recipients), permanent)
    if delayed:
        return Classification("delay", tuple(_dedupe(a for a in delayed if a)), False)
    if other:
        return Classification("receipt")
    if statuses:
        worst = "5" if "5" in statuses else "4" if "4" in statuses else "2"
        if worst == "2":
            return Classification("receipt")
        return _non_dsn_bounce(msg, normalize(msg.subject), status_hint=worst)
    return None


def _permanence(status_classes: list[str], msg: ParsedMessage) -> bool | None:
    if "5" in status_classes:
        return True
    if status_classes and all(c == "4" for c in status_classes):
        return False
    return _text_permanence(msg)


def _text_permanence(msg: ParsedMessage) -> bool | None:
    text = msg.text[:4000] + "\n" + msg.report
    m = _STATUS_RE.search(text)
    if m and m.group(1) in "45":
        return m.group(1) == "5"
    m = _SMTP_CODE_RE.search(text)
    if m:
        return m.group(1) == "5"
    if contains_phrase(text, GIVE_UP_TEXT):
        return True
    return None


# ------------------------------------------------------------------------------ other bounces

def _is_daemonish(msg: ParsedMessage) -> bool:
    addr = (msg.from_addr or "").lower()
    local = addr.split("@", 1)[0]
    if local in _DAEMON_LOCALPARTS or local.startswith("mailer-daemon") or local.startswith("postmaster"):
        return True
    name = (msg.from_name or "").lower()
    if any(n in name for n in _DAEMON_NAMES):
        return True
    raw_from = msg.headers.get("from", "").lower()
    if "mailer-daemon" in raw_from or (not addr and "<>" in raw_from):
        return True
    return False


def _looks_like_bounce(msg: ParsedMessage, subject: str) -> bool:
    h = msg.headers
    if "x-failed-recipients" in h:
        return True
    rp = h.get("return-path", "").strip().lower()
    null_sender = rp in ("<>", "< >") or "mailer-daemon" in rp
    if contains_phrase(subject, DELAY_SUBJECTS) and (null_sender or _is_daemonish(msg) or contains_phrase(msg.text[:3000], DELAY_TEXT)):
        return True
    subj_hit = contains_phrase(subject, BOUNCE_SUBJECTS)
    daemon = _is_daemonish(msg) or null_sender
    if subj_hit and (daemon or contains_phrase(msg.text[:3000], BOUNCE_TEXT)):
        return True
    if daemon and (subj_hit or contains_phrase(msg.text[:3000], BOUNCE_TEXT) or not msg.subject):
        return True
    if "mailer-daemon" in h.get("from", "").lower():
        return True
    embedded = any(t in ("message/rfc822", "text/rfc822-headers") for t in msg.part_types)
    if embedded and contains_phrase(subject, STRONG_BOUNCE_SUBJECTS):
        return True
    # A notice that returns the original and says in plain words that it failed, from a
    # sender that is neither MAILER-DAEMON nor a null path (provider "no-reply" robots).
    return bool(embedded and contains_phrase(msg.text[:3000], _RETURNED_ORIGINAL_TEXT))


def _is_delay(msg: ParsedMessage, subject: str) -> bool:
    if contains_phrase(subject, DELAY_SUBJECTS):
        return True
    text = msg.text[:4000]
    if contains_phrase(text, WARNING_ONLY_TEXT):
        return True
    return bool(contains_phrase(text, DELAY_TEXT)) and not contains_phrase(
        text, ("giving up", "gave up", "permanent error", "permanent failure", "failed permanently",
               "could not be delivered to one or more", "will not retry", "no further attempts",
               "this is a permanent error", "user unknown", "unknown user", "does not exist")
    )


def _non_dsn_bounce(msg: ParsedMessage, subject: str, status_hint: str | None = None) -> Classification:
    recipients, perm_flufl, temp_flufl = _flufl_recipients(msg)
    recipients = _dedupe(_x_failed(msg) + recipients)
    delay = status_hint == "4" or _is_delay(msg, subject)
    if delay and (not perm_flufl or contains_phrase(subject, DELAY_SUBJECTS)
                  or contains_phrase(msg.text[:4000], WARNING_ONLY_TEXT)):
        return Classification("delay", tuple(recipients), False)
    if not recipients:
        recipients = _text_recipients(msg)
    permanent: bool | None
    if perm_flufl:
        permanent = True
    elif status_hint == "5":
        permanent = True
    else:
        permanent = _text_permanence(msg)
        if permanent is None and temp_flufl:
            permanent = False
    return Classification("bounce", tuple(recipients), permanent)


def _x_failed(msg: ParsedMessage) -> list[str]:
    value = msg.headers.get("x-failed-recipients", "")
    return [a.lower() for a in _ADDR_RE.findall(value)]


def _flufl_recipients(msg: ParsedMessage) -> tuple[list[str], bool, bool]:
    """Recipients found by flufl.bounce's detectors over the decoded text."""
    try:
        from flufl.bounce import all_failures
    except ImportError:  # pragma: no cover
        return [], False, False
    m = Message()
    m["From"] = msg.headers.get("from", "").replace("\n", " ") or "<>"
    for name in ("to", "subject", "x-failed-recipients", "x-mailer", "message-id"):
        if name in msg.headers:
            m[name] = msg.headers[name].replace("\n", " ")
    body = msg.text
    if msg.report:
        body += "\n\n" + msg.report
    m["Content-Type"] = "text/plain"
    m.set_payload(body)
    try:
        temporary, permanent = all_failures(m)
    except Exception:
        return [], False, False
    own = {msg.from_addr or ""}
    out = [_b2s(a) for a in sorted(permanent)] + [_b2s(a) for a in sorted(temporary)]
    out = [a for a in out if a and "@" in a and a not in own]
    return out, bool(permanent), bool(temporary)


def _b2s(value: bytes | str) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    value = value.strip().strip("<>").lower()
    m = _ADDR_RE.search(value)
    return m.group(0).strip(".") if m else ""


_RCPT_LINE_RE = re.compile(
    r"(?im)^\s*(?:<([^<>\s]+@[^<>\s]+)>|([^\s<>:]+@[^\s<>:]+))\s*(?::|\.\.\.|\(|$)"
)


def _text_recipients(msg: ParsedMessage) -> list[str]:
    """Addresses standing alone (or as ``<addr>:``) on a line of the bounce text, before any
    copy of the original message."""
    text = msg.text[:4000]
    cut = re.search(r"(?im)^(?:-+\s*)?(?:original message|below this line|the original message|"
                    r"content-type: message/rfc822|received:|return-path:)", text)
    if cut:
        text = text[: cut.start()]
    own = {msg.from_addr or ""}
    out = []
    for m in _RCPT_LINE_RE.finditer(text):
        addr = (m.group(1) or m.group(2)).lower().strip(".")
        if _ADDR_RE.fullmatch(addr) and addr not in own:
            out.append(addr)
    return _dedupe(out)


def _dedupe(items) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


# ------------------------------------------------------------------------------ auto-replies

def _is_list_mail(msg: ParsedMessage) -> bool:
    """Mailing-list traffic (``Precedence: bulk`` there marks the list, not an auto-reply)."""
    h = msg.headers
    if any(k in h for k in ("list-id", "list-post", "mailing-list", "x-mailing-list", "list-help")):
        return True
    sender = (h.get("sender", "") + " " + h.get("return-path", "") + " " + h.get("errors-to", "")).lower()
    return any(mark in sender for mark in ("owner-", "-owner", "-request@", "-bounces", "-admin@"))


def _is_auto_reply(msg: ParsedMessage, subject: str) -> bool:
    h = msg.headers
    auto = h.get("auto-submitted", "").strip().lower()
    if auto and auto.split(";", 1)[0].strip() != "no":
        return True
    for name in ("x-autoreply", "x-autorespond", "x-autoresponder", "x-autogenerated"):
        value = h.get(name)
        if value is not None and value.strip().lower() not in ("no", "false", "0"):
            return True
    precedence = h.get("precedence", "").strip().lower()
    if precedence == "auto_reply" or (precedence in _PRECEDENCE_AUTO and not _is_list_mail(msg)):
        return True
    if "x-ms-exchange-inbox-rules-loop" in h or "x-ms-exchange-generated-message-source" in h and (
        "mailbox rules" in h["x-ms-exchange-generated-message-source"].lower()
    ):
        return True
    if _ooo_subject(msg.subject):
        return True
    suppress = h.get("x-auto-response-suppress", "").lower()
    if suppress and "all" in suppress and not has_reply_prefix(msg.subject) and contains_phrase(msg.text[:1500], (
            "out of office", "out of the office", "fuera de la oficina", "automatic reply",
            "respuesta automatica", "on vacation", "de vacaciones", "limited access to email",
            "acceso limitado al correo", "regresare", "i will be back", "i'll be back", "will return")):
        return True
    return False


def _ooo_subject(raw_subject: str) -> bool:
    """An out-of-office subject: the raw subject starts with an out-of-office phrase
    (rule 6), after any gateway tags ("[EXTERNAL] Automatic reply: ..."), or its first
    bracketed tag is one ("[Auto-Reply] ...", "[Automatyczna odpowiedź] ...")."""
    if not raw_subject:
        return False
    m = _SUBJECT_TAG_RE.match(raw_subject)
    if m is None:
        return _OOO_SUBJECT_RE.match(normalize(raw_subject)) is not None
    first_tag = raw_subject.lstrip()[1:]
    return (_OOO_SUBJECT_RE.match(normalize(raw_subject[m.end():])) is not None
            or _OOO_SUBJECT_RE.match(normalize(first_tag)) is not None)
