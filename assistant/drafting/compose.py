"""Turn a rendered template into what the rep gets (pure, no I/O): an RFC 5322 reply
draft, a ``tel:`` link, a ``wa.me`` link."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Callable, Iterable
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from urllib.parse import quote

_RE_PREFIX = re.compile(r"^\s*(re|rv|fw|fwd|aw|sv)\s*:\s*", re.I)


def reply_subject(subject: str, thread_subject: str) -> str:
    """The rendered subject, made a reply: "Re: <thread subject>" unless it already is one."""
    subject = subject.strip() or thread_subject
    if subject.lower().startswith("re:"):
        return subject
    return "Re: " + _RE_PREFIX.sub("", subject)


def email_draft(*, key: str, sender: str, sender_name: str | None, to: str, to_name: str | None,
                subject: str, body: str, in_reply_to: str | None, references: tuple[str, ...],
                date: datetime, message_domain: str,
                cc: Iterable[tuple[str | None, str]] = ()) -> bytes:
    """A reply draft in the thread, carrying ``X-Followup-Id`` (the idempotency key) and a
    Message-ID derived from it (a mail client that keeps it lets sync recognise the sent
    follow-up; one that does not is fine too: any outbound touch closes the step).
    ``cc``: ``(name or None, address)`` of each person copied (:func:`reply_cc`)."""
    msg = EmailMessage()
    msg["From"] = formataddr((sender_name or "", sender)) if sender_name else sender
    msg["To"] = formataddr((to_name or "", to)) if to_name else to
    copied = [formataddr((name, address)) if name else address for name, address in cc]
    if copied:
        msg["Cc"] = ", ".join(copied)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = f"<{key}@{message_domain}>"
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    refs = [r for r in references if r]
    if in_reply_to and in_reply_to not in refs:
        refs.append(in_reply_to)
    if refs:
        msg["References"] = " ".join(refs)
    msg["X-Followup-Id"] = key
    msg.set_content(body, charset="utf-8")
    return msg.as_bytes()


def reply_target(mails, seen_by_client=lambda mail: True):
    """The message a follow-up replies to (``In-Reply-To`` / ``References``): the latest
    person-written message of the thread (kind ``message``: ours or the client's) that the
    client saw (``seen_by_client``: not a forward between colleagues), never an
    auto-reply, a bounce, a delay warning or a receipt; None when there is none."""
    real = [m for m in mails if m.kind == "message" and seen_by_client(m)]
    return max(real, key=lambda m: m.date, default=None)


CC_MAX = 10
"""At most this many people are copied on a follow-up."""

_ROBOT_RE = re.compile(r"(?:no-?reply|do-?not-?reply|mailer-daemon|postmaster|bounces?)(?:[+._-].*)?",
                       re.I)
"""A robot's local part (``noreply``, ``no-reply+abc``, ``bounces-123``)."""


def reply_cc(mail, contact: str | None, *, external: Callable[[str], bool],
             left_out: Iterable[str] = ()) -> tuple[str, ...]:
    """Who a follow-up copies: "reply all" to the message it answers (:func:`reply_target`)
    -- that message's sender, then its To and Cc recipients (never its Bcc) -- keeping
    the client's side only. Each address once (case folded), in that order, without: our
    own and malformed addresses (``external`` false), the contact (the draft's To), any
    of ``left_out`` (addresses that bounced in the thread), and a robot's (``noreply@``,
    ``mailer-daemon@``, ``postmaster@``, ``bounce@``); at most :data:`CC_MAX`.

    Real quotes go to a buyer with the buyer's boss or a colleague in copy, and the
    client's answer may come from that colleague: a follow-up to the contact alone would
    drop them from the conversation."""
    if mail is None:
        return ()
    skip = {a.lower() for a in left_out if a}
    if contact:
        skip.add(contact.lower())
    found: list[str] = []
    for address in (mail.from_addr, *mail.to, *mail.cc):
        if not address or "@" not in address:
            continue
        folded = address.lower()
        if folded in skip or not external(folded) or _ROBOT_RE.fullmatch(folded.partition("@")[0]):
            continue
        skip.add(folded)
        found.append(folded)
    return tuple(found[:CC_MAX])


def tel_link(e164: str | None) -> str | None:
    return f"tel:{e164}" if e164 else None


def whatsapp_link(digits: str | None, text: str) -> str | None:
    """``https://wa.me/<digits>?text=<message>`` (digits: country code and number only)."""
    if not digits:
        return None
    return f"https://wa.me/{digits}?text={quote(text.strip(), safe='')}"
