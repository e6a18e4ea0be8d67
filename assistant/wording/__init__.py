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

__all__ = ["CATALOGUE", "LANGUAGES", "closed_reason", "day_month", "hold_reason", "say",
           "settlement_reason", "short_day", "why_waiting"]

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
    # Why a follow-up is held for a person (``followups.hold_reason``).
    "hold.other_contact": {"en": "{who} wrote to {recipient} on {day}",
                           "es": "{who} escribió a {recipient} el {day}"},
    "hold.no_mailbox": {
        "en": 'no mailbox for {who}: add owner = "{who}" to their [[accounts]] entry in settings.toml',
        "es": 'no hay buzón para {who}: añade owner = "{who}" a su entrada [[accounts]] en settings.toml'},
    "hold.no_assignee": {
        "en": "no one to assign: add team members of the responsible role",
        "es": "no hay a quién asignarlo: añade miembros del equipo con el rol responsable"},
    "hold.no_template": {
        "en": "no template named {template!r} (see `followup templates list`)",
        "es": "no hay plantilla llamada {template!r} (ver `followup templates list`)"},
    "hold.template_error": {"en": "template error: {error}", "es": "error de plantilla: {error}"},
    # Why a follow-up closed (``followups.closed_reason``).
    "settle.step_taken": {"en": "step taken", "es": "paso hecho"},
    "settle.moved_on": {"en": "thread moved on after sending",
                        "es": "el hilo avanzó tras el envío"},
    "cancel.closed": {"en": "thread closed: {reason}", "es": "hilo cerrado: {reason}"},
    "cancel.bounced": {"en": "bounced: {who} (fix the address)",
                       "es": "rebotó: {who} (corrige la dirección)"},
    "cancel.replied_on": {"en": "the client replied on {day}", "es": "el cliente respondió el {day}"},
    "cancel.replied": {"en": "the client replied", "es": "el cliente respondió"},
    "skip.by_rep": {"en": "skipped by the rep", "es": "omitido por el representante"},
    # Appended to a call or WhatsApp follow-up when no phone number was found.
    "note.no_phone": {
        "en": "(No phone number found in {contact}'s emails: no link. Look it up in your CRM.)",
        "es": "(No se encontró teléfono en los correos de {contact}: sin enlace. Búscalo en tu CRM.)"},
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
    # Why a thread is closed (ThreadReport.closed_code, with closed_value): the scan, the
    # follow-ups a closed thread cancels ("thread closed: marked lost").
    "closed.marked.won": {"en": "marked won", "es": "marcado como ganado"},
    "closed.marked.lost": {"en": "marked lost", "es": "marcado como perdido"},
    "closed.declined": {"en": 'reply says "{phrase}"', "es": 'la respuesta dice "{phrase}"'},
    # `templates list`, "In protocol": a step's formal ("usted") variant (people by name).
    "templates.formal_variant": {"en": "yes, on formal threads (usted)",
                                 "es": "sí, en hilos formales (de usted)"},
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


def closed_reason(report: ThreadReport, language: str = "en") -> str | None:
    """Why a closed thread is closed (``marked lost``, ``reply says "..."``); ``None`` for
    a thread that is not."""
    return closed_words(report.closed_code, report.closed_value, language)


def closed_words(code: str | None, value: str | None, language: str | None = "en") -> str | None:
    """A closed code and its value (``marked``/``lost``, ``declined``/phrase) worded."""
    if code == "marked":
        return say(f"closed.marked.{value}", language)
    if code == "declined":
        return say("closed.declined", language, phrase=value or "")
    return None


def day_month(day: date, language: str | None = "en") -> str:
    """``9 Nov`` / ``9 nov``."""
    language = language if language in _MONTHS else "en"
    return f"{day.day} {_MONTHS[language][day.month - 1]}"


def hold_reason(reason, language: str | None = "en") -> str:
    """A planner's hold reason (a code with ``values``, e.g.
    :class:`assistant.domain.followups.OtherContact`) worded in ``language``."""
    values = dict(reason.values)
    if isinstance(values.get("day"), date):
        values["day"] = day_month(values["day"], language)
    return say(reason.code, language, **values)


def settlement_reason(outcome, language: str | None = "en") -> str:
    """Why a follow-up closed (:class:`assistant.domain.followups.Settlement`), worded
    (stored in English, as ``closed_reason``)."""
    values = dict(outcome.values)
    if outcome.code == "cancel.closed":
        values = {"reason": closed_words(values.get("closed_code"), values.get("closed_value"),
                                         language) or "closed"}
    if isinstance(values.get("day"), date):
        values["day"] = day_month(values["day"], language)
    return say(outcome.code, language, **values)
