"""The message catalogue: every user-facing sentence, in each language, in one place.

The pure core (``mail/``, ``domain/``, ``drafting/``) returns *codes and values* — a
status, a reason code such as ``"promised"`` with its day — never sentences. Whoever
shows them to a person (the CLI, the web app, the digest, the planner's hold notes)
words them here: :func:`say` looks a code up in the reader's language, falling back to
English, and formats it with the values.

The catalogue is grouped by who reads it (one block per area); a test checks that every
code has an English and a Spanish wording with the same placeholders.
"""

from __future__ import annotations

import string
from datetime import date

from assistant.domain.model import ThreadReport

__all__ = ["CATALOGUE", "LANGUAGES", "say", "short_day", "why_waiting"]

LANGUAGES = ("en", "es")

_DAYS = {"en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
         "es": ("lun", "mar", "mié", "jue", "vie", "sáb", "dom")}
_MONTHS = {"en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
           "es": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic")}

# --- Why a thread waits (DESIGN.md rules 9-11): scan, thread page, digest -------------------
_WAITING = {
    "waiting.promised": {"en": "promised: {day}", "es": "prometido: {day}"},
    "waiting.back": {"en": "back on {day}", "es": "de regreso el {day}"},
}

# --- Planning: hold and cancel reasons ------------------------------------------------------
_PLANNING: dict[str, dict[str, str]] = {
}

# --- Digest ---------------------------------------------------------------------------------
_DIGEST: dict[str, dict[str, str]] = {
}

# --- Web app --------------------------------------------------------------------------------
_WEB: dict[str, dict[str, str]] = {
    "web.and_more": {"en": "and {n} more", "es": "y {n} más"},
}

# --- CLI ------------------------------------------------------------------------------------
_CLI: dict[str, dict[str, str]] = {
}

CATALOGUE: dict[str, dict[str, str]] = {**_WAITING, **_PLANNING, **_DIGEST, **_WEB, **_CLI}


def say(code: str, language: str | None = "en", /, **values) -> str:
    """``code`` worded in ``language`` (English when the catalogue lacks it), with
    ``values`` filled in. An unknown code is a programming error (``KeyError``)."""
    entry = CATALOGUE[code]
    text = entry.get(language or "en") or entry["en"]
    return text.format(**values)


def placeholders(text: str) -> set[str]:
    """The ``{names}`` a wording uses (for the catalogue's own test)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def short_day(day: date, language: str = "en") -> str:
    """``Fri 4 Dec`` / ``vie 4 dic``."""
    language = language if language in _DAYS else "en"
    return f"{_DAYS[language][day.weekday()]} {day.day} {_MONTHS[language][day.month - 1]}"


def why_waiting(report: ThreadReport, language: str = "en") -> str | None:
    """The client's reason the next step waits, or ``None`` when it is the protocol's own
    cadence."""
    if report.promised_date is None or report.promised_reason is None:
        return None
    return say(f"waiting.{report.promised_reason}", language,
               day=short_day(report.promised_date, language))
