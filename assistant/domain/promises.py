"""Dates a client names: when they promise to answer (rule 9) and when they are back
(rule 10). Pure: text and the local date it was written on in, a date out.

A small grammar over the normalised text (case, accents and runs of white space folded,
:func:`assistant.mail.text.normalize`), Spanish and English, resolved exactly as
DESIGN.md rule 9 says, from the message's local date ``day`` in ``team.timezone``:

- ``mañana`` — the next day (``pasado mañana`` the day after; ``esta mañana``, ``por
  la mañana`` are mornings, not dates);
- a weekday, with or without ``próximo`` / ``next`` — its first occurrence strictly after
  ``day``; a weekday with a date means the date (``el lunes 14 de diciembre``);
- ``el 15 de diciembre``, ``December 15``, ``15 December``, ``15/12`` (day first in
  Spanish, month first in English; a numeric date needs a word before it such as ``el``,
  ``para el``, ``on``, ``by``, or a year, so that ``3/4`` of an inch is not March) — the
  first such date strictly after ``day``; with a year, that date;
- ``la próxima semana`` / ``la semana que entra`` / ``next week`` — the first Monday
  strictly after ``day``;
- ``fin de mes`` / ``end of the month`` — the month's last business day.

Ranges of weekdays (``de lunes a viernes``, ``Monday to Friday``: office hours in a
signature) name no date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from assistant.mail.text import normalize

from .calendar import is_business_day

__all__ = ["DateMention", "date_mentions", "promised_date", "return_date", "month_end_business_day"]

_MONTHS = {
    # Spanish
    "enero": 1, "ene": 1, "febrero": 2, "feb": 2, "marzo": 3, "mar": 3, "abril": 4, "abr": 4,
    "mayo": 5, "may": 5, "junio": 6, "jun": 6, "julio": 7, "jul": 7, "agosto": 8, "ago": 8,
    "septiembre": 9, "setiembre": 9, "sep": 9, "sept": 9, "set": 9, "octubre": 10, "oct": 10,
    "noviembre": 11, "nov": 11, "diciembre": 12, "dic": 12,
    # English
    "january": 1, "jan": 1, "february": 2, "march": 3, "april": 4, "apr": 4, "june": 6,
    "july": 7, "august": 8, "aug": 8, "september": 9, "october": 10, "november": 11,
    "december": 12, "dec": 12,
}
_WEEKDAYS = {
    "lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5, "domingo": 6,
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6,
}

_MONTH = "(?P<{name}>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = "(?:" + "|".join(_WEEKDAYS) + ")"
_DAY = r"(?P<{name}>[0-3]?\d)(?:st|nd|rd|th|ro|º|°)?"
_YEAR = r"(?P<{name}>20\d\d)"

# One alternation, so the earliest mention in the text wins and longer forms beat the
# shorter ones they contain (``lunes 14 de diciembre`` before ``lunes``).
_GRAMMAR = re.compile(
    "|".join([
        # 14 de diciembre [de 2026] / 15 December [2026] / the 15th of December
        r"(?<![\w/])(?:" + _WEEKDAY + r",?\s+)?(?:el\s+|the\s+)?" + _DAY.format(name="d1") + r"\s+(?:de\s+|of\s+)?"
        + _MONTH.format(name="m1") + r"(?:,?\s+(?:de(?:l)?\s+)?" + _YEAR.format(name="y1") + r")?(?!\w)",
        # December 15[th][, 2026]
        r"(?<!\w)(?:" + _WEEKDAY + r",?\s+)?" + _MONTH.format(name="m2") + r"\s+" + _DAY.format(name="d2")
        + r"(?:,?\s+" + _YEAR.format(name="y2") + r")?(?![\w/])",
        # 15/12[/2026] after a word that introduces a date, or with a year
        r"(?:(?<=\bel )|(?<=\bdel )|(?<=\bal )|(?<=\bon )|(?<=\bby )|(?<=\buntil )|(?<=\bbefore )"
        r"|(?<=\bhasta )|(?<=\bantes )|(?<=\bpara )|(?<=\bdia )|(?<=\bthe )|(?<=, )|"
        + "|".join(f"(?<={name} )" for name in _WEEKDAYS)
        + r")(?P<n1>[0-3]?\d)/(?P<n2>[01]?\d)(?:/(?P<ny>(?:20)?\d\d))?(?![\w/])",
        r"(?<![\w/.])(?P<n3>[0-3]?\d)/(?P<n4>[01]?\d)/(?P<ny2>20\d\d)(?![\w/])",
        r"(?P<after_tomorrow>(?<!\w)pasado\s+manana(?!\w))",
        r"(?P<tomorrow>(?<!\bla )(?<!\besta )(?<!\buna )(?<!\bcada )(?<!\bmedia )(?<!\w)manana(?!\w))",
        r"(?P<next_week>(?<!\w)(?:(?:la\s+)?proxima\s+semana|la\s+semana\s+(?:que\s+entra|proxima)"
        r"|next\s+week)(?!\w))",
        r"(?P<month_end>(?<!\w)(?:fin(?:al(?:es)?)?\s+de(?:l)?\s+mes|end\s+of\s+(?:the\s+)?month)(?!\w))",
        r"(?<!\w)(?P<weekday>" + _WEEKDAY + r")(?!\w)",
    ])
)
_WEEKDAY_RANGE = re.compile(
    r"(?<!\w)(?:de\s+)?" + _WEEKDAY + r"\s*(?:a|al|to|through|thru|-|–|y|and)\s*" + _WEEKDAY + r"(?!\w)"
)


@dataclass(frozen=True, slots=True)
class DateMention:
    start: int
    """Where the mention starts in the normalised text."""
    end: int
    day: date


def month_end_business_day(day: date, country: str) -> date:
    """The last business day of ``day``'s month."""
    nxt = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    current = nxt - timedelta(days=1)
    while not is_business_day(current, country):
        current -= timedelta(days=1)
    return current


def _next_weekday(day: date, weekday: int) -> date:
    """The first ``weekday`` strictly after ``day``."""
    return day + timedelta(days=(weekday - day.weekday() - 1) % 7 + 1)


def _next_date(day: date, month: int, dom: int, year: int | None) -> date | None:
    """``dom``/``month`` of ``year``, or the first such date strictly after ``day``."""
    try:
        if year is not None:
            return date(year, month, dom)
        candidate = date(day.year, month, dom)
        if candidate <= day:
            candidate = date(day.year + 1, month, dom)
        return candidate
    except ValueError:
        if year is None and month == 2 and dom == 29:  # the next 29 February
            for y in range(day.year, day.year + 8):
                try:
                    if (candidate := date(y, 2, 29)) > day:
                        return candidate
                except ValueError:
                    continue
        return None


def _resolve(m: re.Match[str], day: date, language: str | None, country: str) -> date | None:
    g = m.groupdict()
    if g.get("m1"):
        return _next_date(day, _MONTHS[g["m1"]], int(g["d1"]), int(g["y1"]) if g.get("y1") else None)
    if g.get("m2"):
        return _next_date(day, _MONTHS[g["m2"]], int(g["d2"]), int(g["y2"]) if g.get("y2") else None)
    if g.get("n1") or g.get("n3"):
        a, b = (int(g["n1"]), int(g["n2"])) if g.get("n1") else (int(g["n3"]), int(g["n4"]))
        raw_year = g.get("ny") or g.get("ny2")
        year = None if not raw_year else int(raw_year) + (2000 if len(raw_year) == 2 else 0)
        dom, month = (b, a) if language == "en" else (a, b)
        if not 1 <= month <= 12:  # the other reading is the only valid one
            dom, month = month, dom
        if not (1 <= month <= 12 and 1 <= dom <= 31):
            return None
        return _next_date(day, month, dom, year)
    if g.get("after_tomorrow"):
        return day + timedelta(days=2)
    if g.get("tomorrow"):
        return day + timedelta(days=1)
    if g.get("next_week"):
        return _next_weekday(day, 0)
    if g.get("month_end"):
        return month_end_business_day(day, country)
    if g.get("weekday"):
        return _next_weekday(day, _WEEKDAYS[g["weekday"]])
    return None  # pragma: no cover - every alternative has a group


def date_mentions(text: str, day: date, *, country: str, language: str | None = None,
                  normalized: bool = False) -> tuple[DateMention, ...]:
    """Every date the text names, in text order, resolved from ``day``."""
    norm = text if normalized else normalize(text)
    return _mentions(norm, day, country, language)


@lru_cache(maxsize=2048)
def _mentions(norm: str, day: date, country: str, language: str | None) -> tuple[DateMention, ...]:
    masked = _WEEKDAY_RANGE.sub(lambda m: " " * len(m.group(0)), norm)
    out: list[DateMention] = []
    weekday_only: list[bool] = []
    for m in _GRAMMAR.finditer(masked):
        resolved = _resolve(m, day, language, country)
        if resolved is None:
            continue
        if out and weekday_only[-1] and m.start() - out[-1].end <= 2:
            # a weekday with a date means the date ("el martes 15/12")
            out.pop()
            weekday_only.pop()
        out.append(DateMention(m.start(), m.end(), resolved))
        weekday_only.append(m.group("weekday") is not None)
    return tuple(out)


_SENTENCE_END = re.compile(r"[.!?;\n]\s|[!?;\n]")


def promised_date(own: str, phrase_at: int, day: date, *, country: str,
                  language: str | None = None) -> date | None:
    """Rule 9: the date a holding reply names. ``own`` is the reply's own text, already
    normalised; ``phrase_at`` where its holding phrase starts. The date in the sentence of
    the holding phrase wins ("Recibí la cotización del 2 de diciembre. Te confirmo el
    viernes." promises Friday); else the first the reply names; ``None`` when it names
    none. A date written with its year that is not after ``day`` is a reference, not a
    promise, and is passed over."""
    mentions = [m for m in date_mentions(own, day, country=country, language=language,
                                         normalized=True) if m.day > day or not _has_year(own, m)]
    if not mentions:
        return None
    start, end = _sentence_around(own, phrase_at)
    for mention in mentions:
        if start <= mention.start < end:
            return mention.day
    return mentions[0].day


def _has_year(norm: str, mention: DateMention) -> bool:
    return re.search(r"20\d\d", norm[mention.start:mention.end]) is not None


def _sentence_around(norm: str, at: int) -> tuple[int, int]:
    start = 0
    for m in _SENTENCE_END.finditer(norm, 0, at):
        start = m.end()
    m = _SENTENCE_END.search(norm, at)
    return start, (m.start() if m else len(norm))


_BACK = re.compile(
    r"(?<!\w)(?:de\s+regreso|regres(?:o|are|aremos|ara|amos)|estare\s+de\s+vuelta|volvere|vuelvo|hasta"
    r"|until|till|back|returning|return|will\s+return)(?!\w)"
)
_BACK_WINDOW = 80
"""How far after ``hasta`` / ``until`` / ``back on`` … the day back may be named (in
characters of normalised text): the same clause, not the office hours further down."""


def return_date(own: str, day: date, *, country: str, language: str | None = None) -> date | None:
    """Rule 10: the day an out-of-office says its sender is back — the first date or
    weekday after ``hasta``, ``regreso``, ``de regreso``, ``until``, ``back on``,
    ``returning`` (and their forms ``regresaré``, ``volveré``, ``will return``), read from
    the auto-reply's local date ``day``. ``own`` is normalised text."""
    mentions = date_mentions(own, day, country=country, language=language, normalized=True)
    if not mentions:
        return None
    for trigger in _BACK.finditer(own):
        for mention in mentions:
            if trigger.end() <= mention.start <= trigger.end() + _BACK_WINDOW:
                return mention.day
    return None
