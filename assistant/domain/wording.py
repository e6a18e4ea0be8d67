"""Why a thread waits, in the reader's language (DESIGN.md rules 9–11). Pure.

``scan``'s table, the web thread page and the digest say the day behind a step's due
date when a client set it: "promised: Fri 4 Dec" (a holding reply, rule 9) or "back on
Mon 14 Dec" (an out-of-office, rule 10).
"""

from __future__ import annotations

from datetime import date

from .model import ThreadReport

__all__ = ["short_day", "why_waiting"]

_DAYS = {"en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
         "es": ("lun", "mar", "mié", "jue", "vie", "sáb", "dom")}
_MONTHS = {"en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
           "es": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic")}
_WHY = {"en": {"promised": "promised: {day}", "back": "back on {day}"},
        "es": {"promised": "prometido: {day}", "back": "de regreso el {day}"}}


def short_day(day: date, language: str = "en") -> str:
    """``Fri 4 Dec`` / ``vie 4 dic``."""
    language = language if language in _DAYS else "en"
    return f"{_DAYS[language][day.weekday()]} {day.day} {_MONTHS[language][day.month - 1]}"


def why_waiting(report: ThreadReport, language: str = "en") -> str | None:
    """The client's reason the next step waits, or ``None`` when it is the protocol's own
    cadence."""
    if report.promised_date is None or report.promised_reason is None:
        return None
    language = language if language in _WHY else "en"
    return _WHY[language][report.promised_reason].format(day=short_day(report.promised_date, language))
