"""Which client a WhatsApp chat is with, and which of its messages are the rep's (pure).

A chat export names people as the rep's phone shows them: a saved contact's name, or
the phone number of one who is not saved. :func:`match_chat` matches the chat to exactly
one known contact -- by phone number (E.164, numbers without a country code read in the
team's country), else by name (case, accents and spacing ignored) -- from the chat's
senders who are not the rep and from the chat's own name (its file name). A chat that
matches no contact, or several, is not guessed at: it is set aside with a reason.

A number may be known from three places, in this order of precedence: an explicit
``[[contacts]]`` entry, the team's CRM, the signature of the contact's own mail. A number
is the contact's (or contacts') of the first place that knows it: a ``[[contacts]]`` entry
naming a number settles whose it is even when the CRM or a signature says another
contact's, and the CRM settles it over a signature.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable

from assistant.drafting.contacts import normalise_phone

__all__ = ["KnownContact", "ChatMatch", "match_chat", "fold_name", "is_phone_like"]

_PHONE_LIKE = re.compile(r"^[\s\u200e\u200f\u202a-\u202e\u2066-\u2069]*\+?[\d\s().\-\u00a0]{7,}"
                         r"[\s\u200e\u200f\u202a-\u202e\u2066-\u2069]*$")


def fold_name(text: str | None) -> str:
    """A name as chats compare them: no accents, lower case, one space between words."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c) and c.isprintable())
    return " ".join(text.lower().split())


def is_phone_like(text: str | None) -> bool:
    return bool(text) and _PHONE_LIKE.match(text) is not None


@dataclass(frozen=True, slots=True)
class KnownContact:
    """A client the team knows, with what a chat can be matched on."""

    email: str
    names: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    """E.164, from ``[[contacts]]``: an explicit mapping, which wins over the two below."""
    crm_phones: tuple[str, ...] = ()
    """E.164, as the team's CRM holds them: win over a signature's."""
    signature_phones: tuple[str, ...] = ()
    """E.164, from the signature of the contact's own mail."""


@dataclass(frozen=True, slots=True)
class ChatMatch:
    contact: str | None
    """The matched contact's email; ``None`` when the chat is set aside."""
    reason: str | None = None
    """Why it is set aside: a wording code (``whatsapp.no_contact``, ``whatsapp.several``,
    ``whatsapp.no_rep``), worded with ``values``."""
    values: dict = field(default_factory=dict)
    rep_senders: frozenset[str] = frozenset()
    """The senders that are the rep (their messages are WhatsApp touches)."""


def match_chat(title: str | None, senders: Iterable[str], *, me: Iterable[str],
               contacts: Iterable[KnownContact], region: str) -> ChatMatch:
    """The contact of one chat. ``senders``: the chat's distinct senders (system notices
    left out); ``me``: the rep's names as the exports may write them."""
    senders = list(senders)
    mine = {fold_name(name) for name in me if name}
    rep = frozenset(s for s in senders if fold_name(s) in mine)
    others = [s for s in senders if s not in rep]
    if not rep and len(others) >= 2:
        return ChatMatch(None, "whatsapp.no_rep",
                         {"me": ", ".join(sorted(n for n in me if n)) or "-",
                          "senders": ", ".join(others[:5])})
    tiers: tuple[dict[str, set[str]], ...] = ({}, {}, {})  # [[contacts]], the CRM, signatures
    by_name: dict[str, set[str]] = {}
    for contact in contacts:
        for tier, phones in zip(tiers, (contact.phones, contact.crm_phones,
                                        contact.signature_phones)):
            for phone in phones:
                tier.setdefault(phone, set()).add(contact.email)
        for name in contact.names:
            if fold_name(name):
                by_name.setdefault(fold_name(name), set()).add(contact.email)
    found: set[str] = set()
    clues = others + ([title] if title and fold_name(title) not in mine else [])
    for clue in clues:
        if is_phone_like(clue):
            phone = normalise_phone(clue, region)
            found |= next((tier[phone] for tier in tiers if phone in tier), set())
        else:
            found |= by_name.get(fold_name(clue), set())
    who = ", ".join(dict.fromkeys(c.strip() for c in clues if c)) or "-"
    if not found:
        return ChatMatch(None, "whatsapp.no_contact", {"who": who}, rep)
    if len(found) > 1:
        return ChatMatch(None, "whatsapp.several", {"who": who, "emails": ", ".join(sorted(found))},
                         rep)
    return ChatMatch(found.pop(), None, {}, rep)
