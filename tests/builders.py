"""Build raw RFC 5322 messages for tests, and read them the way sync does.

Messages are written as bytes by hand (not with ``EmailMessage``) so tests control every
header exactly, as real mailers produce them.
"""

from __future__ import annotations

import base64
from datetime import datetime, time
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from assistant.domain.model import Mail, Rules, StepRule
from assistant.domain.parsed import mail_from_parsed
from assistant.mail.classify import classify
from assistant.mail.parse import parse_message
from assistant.settings import (
    DEFAULT_EXCLUDE_PHRASES, DEFAULT_HOLDING_PHRASES, DEFAULT_PUBLIC_DOMAINS, DEFAULT_REQUEST_PHRASES,
)

MX = ZoneInfo("America/Mexico_City")

DEFAULT_STEPS = (
    StepRule(2, "email", "followup_1"),
    StepRule(3, "phone", "call_1"),
    StepRule(4, "email", "followup_2"),
    StepRule(5, "whatsapp", "whatsapp_1"),
    StepRule(7, "email", "followup_3"),
)


def team_rules(**overrides) -> Rules:
    values = dict(
        domains=frozenset({"acme.example"}),
        members={
            "ana@acme.example": "account_executive",
            "luis@acme.example": "account_executive",
            "sofia@acme.example": "sdr",
            "marta@acme.example": "manager",
        },
        steps=DEFAULT_STEPS,
        timezone="America/Mexico_City",
        holidays_country="MX",
        send_window_start=time(9, 0),
        quote_keywords=("cotización", "cotizacion", "presupuesto", "propuesta", "oferta",
                        "quote", "quotation", "proposal", "estimate"),
        quote_phrases=("adjunto nuestra propuesta económica",),
        decline_phrases=("no nos interesa", "not interested", "unsubscribe", "dar de baja"),
        request_phrases=DEFAULT_REQUEST_PHRASES,
        exclude_phrases=DEFAULT_EXCLUDE_PHRASES,
        holding_phrases=DEFAULT_HOLDING_PHRASES,
        public_domains=frozenset(DEFAULT_PUBLIC_DOMAINS),
    )
    values.update(overrides)
    return Rules(**values)


def local(year: int, month: int, day: int, hour: int = 10, minute: int = 0,
          zone: ZoneInfo = MX) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def raw_message(*, frm: str, to: str | list[str], subject: str, date: datetime, mid: str | None,
                cc: list[str] = (), in_reply_to: str | None = None,
                references: list[str] = (), body: str = "Hola.",
                headers: dict[str, str] | None = None,
                attachment: str | None = None) -> bytes:
    to_list = [to] if isinstance(to, str) else list(to)
    lines = [f"From: {frm}", f"To: {', '.join(to_list)}"]
    if cc:
        lines.append(f"Cc: {', '.join(cc)}")
    lines += [f"Subject: {subject}", f"Date: {format_datetime(date)}"]
    if mid:
        lines.append(f"Message-ID: {mid}")
    if in_reply_to:
        lines.append(f"In-Reply-To: {in_reply_to}")
    if references:
        lines.append(f"References: {' '.join(references)}")
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    lines.append("MIME-Version: 1.0")
    if attachment:
        boundary = "==b0undary=="
        lines.append(f'Content-Type: multipart/mixed; boundary="{boundary}"')
        payload = base64.b64encode(b"%PDF-1.4 test").decode()
        text = "\n".join([
            f"--{boundary}", 'Content-Type: text/plain; charset="utf-8"',
            "Content-Transfer-Encoding: 8bit", "", body, "",
            f"--{boundary}", "Content-Type: application/pdf",
            f'Content-Disposition: attachment; filename="{attachment}"',
            "Content-Transfer-Encoding: base64", "", payload, "", f"--{boundary}--", ""])
    else:
        lines += ['Content-Type: text/plain; charset="utf-8"', "Content-Transfer-Encoding: 8bit"]
        text = body + "\n"
    return ("\n".join(lines) + "\n\n" + text).encode("utf-8")


def dsn_bounce(*, to: str, date: datetime, mid: str, original_mid: str, failed: str,
               original_subject: str, status: str = "5.1.1", action: str = "failed") -> bytes:
    """A RFC 3464 delivery status notification, as raw bytes (the stdlib generator cannot
    build one)."""
    boundary = "dsn-boundary-1"
    return f"""From: Mail Delivery System <MAILER-DAEMON@mx.acme.example>
To: {to}
Subject: Undelivered Mail Returned to Sender
Date: {format_datetime(date)}
Message-ID: {mid}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"

--{boundary}
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.acme.example.
I'm sorry to have to inform you that your message could not be delivered.

<{failed}>: host mx.client.example said: 550 5.1.1 User unknown

--{boundary}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.acme.example

Final-Recipient: rfc822; {failed}
Original-Recipient: rfc822;{failed}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; 550 {status} User unknown

--{boundary}
Content-Type: text/rfc822-headers

From: {to}
To: {failed}
Subject: {original_subject}
Message-ID: {original_mid}

--{boundary}--
""".encode()


def read(data: bytes, key: int) -> Mail:
    """The Mail value sync would store for these bytes."""
    parsed = parse_message(data)
    return mail_from_parsed(parsed, classify(parsed), key=key)


class Thread:
    """Accumulates messages; ``mails`` gives the domain values."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []

    def add(self, data: bytes) -> bytes:
        self.raw.append(data)
        return data

    @property
    def mails(self) -> list[Mail]:
        return [read(data, key) for key, data in enumerate(self.raw, start=1)]
