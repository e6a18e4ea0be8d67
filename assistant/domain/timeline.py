"""One thread's timeline: its messages (each labelled with what it is to us), the touches
reps logged, and its follow-ups, oldest first (pure: plain values in, plain values out).

Message kinds: a message of a kind other than ``message`` keeps it (``auto_reply``,
``bounce``, ``delay``, ``complaint``, ``receipt``); else ``quote`` (the thread's quote, or
an outbound quote), ``sent`` (our other outbound mail), ``reply`` (from outside) or
``internal``. Logged touches are ``touch_phone`` / ``touch_whatsapp``, the client's answers outside email ``reply_phone`` /
``reply_whatsapp``; follow-ups are
``followup`` (at their due time, or when they were decided once they are).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .model import Mail, Rules
from .quotes import is_quote
from .words import is_inbound, is_outbound

__all__ = ["Event", "TouchEntry", "FollowupEntry", "message_kind", "timeline", "excerpt"]


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str
    """quote | sent | reply | auto_reply | bounce | delay | complaint | receipt | internal |
    touch_phone | touch_whatsapp | reply_phone | reply_whatsapp | followup"""
    who: str | None
    subject: str
    text: str


@dataclass(frozen=True)
class TouchEntry:
    """A logged call or WhatsApp message, with the rep's note."""

    at: datetime
    channel: str
    by: str | None
    note: str | None = None


@dataclass(frozen=True)
class FollowupEntry:
    """A follow-up of the thread (a protocol step turned into a draft or a task)."""

    at: datetime
    step: int
    channel: str
    status: str
    assignee: str | None
    subject: str = ""


def message_kind(mail: Mail, rules: Rules, quote_message_id: str) -> str:
    """What a message of the thread is to us (see the module doc)."""
    if mail.kind != "message":
        return mail.kind
    outbound = is_outbound(mail, rules)
    if mail.message_id == quote_message_id or (outbound and is_quote(mail, rules, outbound=True)):
        return "quote"
    if outbound:
        return "sent"
    if is_inbound(mail, rules):
        return "reply"
    return "internal"


def excerpt(text: str | None, limit: int = 600) -> str:
    """A message's text for a timeline: blank runs squeezed, at most ``limit`` characters."""
    text = re.sub(r"\n{3,}", "\n\n", (text or "").strip())
    return text if len(text) <= limit else text[:limit].rstrip() + " …"


def timeline(mails: Iterable[Mail], rules: Rules, quote_message_id: str, *,
             touches: Iterable[TouchEntry] = (),
             followups: Iterable[FollowupEntry] = (),
             replies: Iterable[TouchEntry] = ()) -> list[Event]:
    """The thread's events, oldest first (``mails``: the thread's messages; ``replies``:
    the client's answers outside email, logged by a rep)."""
    events = [Event(mail.date, message_kind(mail, rules, quote_message_id), mail.from_addr,
                    mail.subject, excerpt(mail.text)) for mail in mails]
    events += [Event(touch.at, f"touch_{touch.channel}", touch.by, "", touch.note or "")
               for touch in touches]
    events += [Event(reply.at, f"reply_{reply.channel}", reply.by, "", reply.note or "")
               for reply in replies]
    events += [Event(f.at, "followup", f.assignee, f.subject, f"{f.step} · {f.channel} · {f.status}")
               for f in followups]
    return sorted(events, key=lambda e: e.at)
