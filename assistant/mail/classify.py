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

_RETURNED_ORIGINAL_TEXT = (
    "could not be delivered", "was not delivered", "unable to deliver", "delivery has failed",
    "delivery to the following recipient failed", "user unknown", "no such user",
    "mailbox unavailable", "mailbox is full", "no se pudo entregar", "no pudo ser entregado",
)
"""Plain statements of failure, for robots that return the original without a DSN."""

AUTO_REPLY_SUBJECTS = (
    "fuera de la oficina", "fuera de oficina", "respuesta automatica", "respuesta automatica de",
    "out of office", "out of the office", "out-of-office", "automatic reply", "automatic response",
    "auto reply", "auto-reply", "autoreply", "auto response", "auto-response", "autoresponse",
    "autorespuesta", "respuesta autom", "ausente", "ausencia", "vacaciones", "de vacaciones",
    "on vacation", "on holiday", "away from the office", "away from my desk", "vacation reply",
    "abwesend", "abwesenheitsnotiz", "automatische antwort", "risposta automatica",
    "resposta automatica", "reponse automatique", "absence du bureau", "out of the office until",
    "i am out", "i'm out", "estoy fuera", "autosvar", "afwezig", "automatisch antwoord",
)
AUTO_PREFIX_RE = re.compile(r"^\s*(?:(?:re|fw|fwd|rv|aw|r|tr)\s*:\s*)*(?:auto|autoreply|auto-reply|automatic reply|ooo|oof)\s*:", re.I)
CHALLENGE_PHRASES = (
    "verify you are human", "verify that you are human", "verify you are a human",
    "prove you are human", "verify your email address to deliver", "please verify your message",
    "challenge-response", "approved senders list", "i use a spam filter", "spam arrest",
    "boxbe", "verificar que eres humano", "verifique que es humano", "confirme que es humano",
    "request to verify", "sender verification", "has been held pending verification",
)
_CHALLENGE_HINTS = ("verif", "human", "challenge", "approved senders", "spam filter",
                    "spam arrest", "boxbe")
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

    dsn = report_type in ("delivery-status", "global-delivery-status") or (
        "message/delivery-status" in parts or "message/global-delivery-status" in parts
    )
    if msg.report:
        result = _from_dsn(msg)
        if result is not None:
            return result

    if dsn or _looks_like_bounce(msg, subject):
        return _non_dsn_bounce(msg, subject)

    if _is_auto_reply(msg, subject):
        return Classification("auto_reply")
    if RECEIPT_SUBJECT_RE.match(msg.subject or "") and (
        "disposition-notification-to" not in h and (msg.content_type.startswith("multipart/report") or _is_daemonish(msg))
    ):
        return Classification("receipt")
    return MESSAGE


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
    suppress = h.get("x-auto-response-suppress", "").lower()
    if AUTO_PREFIX_RE.match(msg.subject or ""):
        return True
    if contains_phrase(subject, AUTO_REPLY_SUBJECTS):
        return True
    if suppress and "all" in suppress and contains_phrase(msg.text[:1500], (
            "out of office", "out of the office", "fuera de la oficina", "automatic reply",
            "respuesta automatica", "on vacation", "de vacaciones", "limited access to email",
            "acceso limitado al correo", "regresare", "i will be back", "i'll be back", "will return")):
        return True
    sample = msg.subject + "\n" + msg.text[:2000]
    # Cheap plain-text hints first: every challenge phrase contains one of them, and
    # normalising 2,000 characters for the full phrase match costs more than all of it.
    lowered = sample.lower()
    if any(hint in lowered for hint in _CHALLENGE_HINTS) and contains_phrase(sample, CHALLENGE_PHRASES):
        return True
    return False
