"""Which outbound message is a quote (DESIGN.md "Words", rule 3). Pure.

A quote is an outbound message (:func:`~assistant.domain.words.is_outbound`) whose
content offers a price: a quote keyword in its subject or an attachment's file name, or a
configured quote phrase in its body.
"""

from __future__ import annotations

from assistant.mail.text import contains_phrase, has_keyword

from .model import Mail, Rules
from .words import is_outbound

__all__ = ["is_quote", "mentions_quote"]


def mentions_quote(mail: Mail, keywords: tuple[str, ...], phrases: tuple[str, ...] = ()) -> bool:
    """The content half of "quote": a keyword in the subject or an attachment's file name
    (accent- and case-insensitive), or a configured phrase in the body."""
    if has_keyword(mail.subject, keywords):
        return True
    if any(has_keyword(name, keywords) for name in mail.attachment_names):
        return True
    return bool(phrases) and contains_phrase(mail.text, phrases) is not None


def is_quote(mail: Mail, rules: Rules, *, outbound: bool | None = None) -> bool:
    """An outbound message that mentions a quote (:func:`mentions_quote`). ``outbound``:
    the caller's already known answer of ``is_outbound`` (a scan asks it once)."""
    if outbound is None:
        outbound = is_outbound(mail, rules)
    return outbound and mentions_quote(mail, rules.quote_keywords, rules.quote_phrases)
