"""The plain value a raw message is read into, and what the rules are computed from.

Parsing (``assistant.mail.parse``) turns RFC 5322 bytes into a :class:`ParsedMessage`;
classification (``assistant.mail.classify``) adds what kind of message it is. Both are
pure: bytes in, values out, no I/O. Storage keeps these fields as columns so a scan never
re-parses mail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

KINDS = ("message", "auto_reply", "bounce", "delay", "complaint", "receipt")
"""``message`` is the only kind that can be a real reply (DESIGN.md, "real reply")."""


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    message_id: str
    """``<...>`` form. When the message has none (or an empty one), a stable synthetic id
    derived from its content: ``<sha256-hex@synthetic.followup.invalid>``."""
    synthetic_id: bool
    from_addr: str | None
    """Lower-cased addr-spec of ``From``, read from the raw header (never from a display
    name or an encoded word). ``None`` when missing, unparseable, or when From names no
    single author (several mailboxes, disagreeing From headers, an ambiguous mailbox)."""
    from_name: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    bcc: tuple[str, ...]
    subject: str
    """Decoded (RFC 2047), unfolded, stripped."""
    date: datetime | None
    """Timezone-aware, normalised to UTC; ``None`` when missing or unparseable."""
    in_reply_to: str | None
    references: tuple[str, ...]
    headers: dict[str, str]
    """The headers the rules look at, lower-cased names, decoded values (first occurrence):
    auto-submitted, x-autoreply, x-autorespond, precedence, x-auto-response-suppress,
    x-failed-recipients, return-path, content-type, list-id, list-unsubscribe,
    x-mailer, feedback-type, x-loop, x-ms-exchange-* autoreply markers, ...
    Address headers (from, to, cc, bcc, reply-to, sender, resent-*) hold the addresses
    parsed from the raw header, re-written with quoted names (``"Name" <addr>, addr``),
    so that any reader parses them back to the same addresses; one with no address
    keeps its raw, undecoded value. No value holds a control character."""
    content_type: str
    """Top-level ``type/subtype``, lower-cased (``text/plain`` when absent)."""
    report_type: str | None
    """The ``report-type`` parameter of a ``multipart/report`` (RFC 6522), lower-cased."""
    part_types: tuple[str, ...]
    """``type/subtype`` of every MIME part, depth-first, top level included."""
    attachment_names: tuple[str, ...]
    text: str
    """The first ``text/plain`` part (else ``text/html`` reduced to text), decoded,
    truncated to a few thousand characters: enough for the rules, never whole bodies."""
    report: str
    """Decoded text of the machine-readable report part, if any
    (``message/delivery-status``, ``message/feedback-report``,
    ``message/disposition-notification``), truncated."""
    original_message_id: str | None
    """Message-ID of the message a report or bounce returns (from an embedded
    ``message/rfc822`` or ``text/rfc822-headers`` part, or the body's quoted headers)."""
    original_headers: dict[str, str] = field(default_factory=dict)
    """From, To, Subject, Message-ID of the returned original, when present."""
    warnings: tuple[str, ...] = ()
    """Human-readable parse problems; the message is still stored."""
    recipient_names: tuple[str, ...] = ()
    """``"Name" <addr>`` for each To and Cc recipient the message gives a display name
    (first name per address, whitespace folded, never the address itself as its name):
    the names a rep wrote clients under (``messages.recipient_names``)."""

    @property
    def reads_as_mail(self) -> bool:
        """Whether the bytes were mail at all: a From, Subject, Date or Message-ID header,
        or at least a Content-Type (a delivery report's header-only part saved on its own).
        ``followup inspect`` reports the others as "not an email message"."""
        return not (self.from_addr is None and not self.subject and self.date is None
                    and self.synthetic_id and "content-type" not in self.headers)
