"""What a client's message means for the thread (DESIGN.md "Thread status", rules 8–10).
Pure.

- a **decline** (rule "closed"): a decline phrase in the reply's own text;
- a **holding reply** (rule 9): a holding phrase in its own text, no question (``?`` or
  ``¿`` outside URLs) and no decline — the client promised to answer; the thread waits
  until the promised date (:func:`assistant.domain.promises.promised_date`), else
  ``protocol.holding_days`` business days;
- an **out-of-office that names the day back** (rule 10): the contact's auto-reply after
  our last outbound event; the next step is due no earlier than the first business day
  after it.

"Own text" is rule 8 (:func:`assistant.mail.text.own_text`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from assistant.mail.text import contains_phrase, detect_language, normalize, own_text

from .calendar import add_business_days
from .model import Mail, Rules
from .promises import promised_date, return_date

__all__ = ["Holding", "decline_phrase", "holding", "day_back"]

_URL_RE = re.compile(r"(?i)\b(?:https?://|www\.)\S+")


def decline_phrase(mail: Mail, rules: Rules) -> str | None:
    """The decline / opt-out phrase in the reply's *own* text (the quoted original a
    client leaves below their answer is not their answer)."""
    if contains_phrase(mail.text, rules.decline_phrases) is None:
        return None  # nowhere in the message, so not in its own text: skip the trimming
    return contains_phrase(own_text(mail.text), rules.decline_phrases)


@dataclass(frozen=True, slots=True)
class Holding:
    """A holding reply and the date it buys."""

    phrase: str
    promised: date
    """The date named in the reply, else its local date plus ``holding_days``."""
    named: bool
    """The reply named the date (``False``: the ``holding_days`` fallback)."""


def holding(mail: Mail, rules: Rules, local_day: date) -> Holding | None:
    """Rule 9 for one real reply written on ``local_day`` (team time zone); ``None`` when
    it is not a holding reply. The caller has already ruled out a decline."""
    if not rules.holding_phrases or contains_phrase(mail.text, rules.holding_phrases) is None:
        return None  # cheap: nowhere in the message, so not in its own text
    own = own_text(mail.text)
    phrase = contains_phrase(own, rules.holding_phrases)
    if phrase is None or asks_something(own):
        return None
    if contains_phrase(own, rules.decline_phrases):
        return None
    norm = normalize(own)
    at = _phrase_at(norm, phrase)
    named = promised_date(norm, at, local_day, country=rules.holidays_country,
                          language=detect_language(own))
    if named is not None:
        return Holding(phrase, named, True)
    return Holding(phrase, add_business_days(local_day, rules.holding_days, rules.holidays_country),
                   False)


def asks_something(own: str) -> bool:
    """A ``?`` or ``¿`` in the text, URLs left out (``?id=7`` asks nothing)."""
    if "?" not in own and "¿" not in own:
        return False
    without_urls = _URL_RE.sub(" ", own)
    return "?" in without_urls or "¿" in without_urls


def day_back(mail: Mail, rules: Rules, local_day: date) -> date | None:
    """Rule 10: the day an auto-reply written on ``local_day`` says its sender is back
    (its own text; its subject when the text names none)."""
    own = own_text(mail.text)
    found = return_date(normalize(own), local_day, country=rules.holidays_country,
                        language=detect_language(own))
    if found is None and mail.subject:
        found = return_date(normalize(mail.subject), local_day, country=rules.holidays_country,
                            language=detect_language(own))
    return found


@lru_cache(maxsize=1024)
def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    words = normalize(phrase).split(" ")
    return re.compile(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)")


def _phrase_at(norm: str, phrase: str) -> int:
    m = _phrase_pattern(phrase).search(norm)
    return m.start() if m else 0
