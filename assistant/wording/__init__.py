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

__all__ = ["CATALOGUE", "LANGUAGES", "closed_reason", "day_month", "hold_reason", "period_name", "say",
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
# Codes ``digest.<key>`` without values are also the digest templates' ``t.<key>`` (an
# admin's ``strings.<language>.toml`` may override them); those with values are worded here.
_DIGEST: dict[str, dict[str, str]] = {
    "period.week": {"en": "Week of {start}–{end}", "es": "Semana del {start} al {end}"},
    "period.days": {"en": "{days} days: {start} – {end}", "es": "{days} días: del {start} al {end}"},
    "digest.change_col": {"en": "Change", "es": "Cambio"},
    "digest.numbers_intro": {
        "en": "Each period counts the quotes sent in it; the previous week is shown as it "
              "stood a week ago, so the change is the team's progress.",
        "es": "Cada periodo cuenta las cotizaciones enviadas en él; la semana anterior se "
              "muestra como estaba hace una semana, así el cambio es el avance del equipo."},
    "digest.open": {"en": "Open", "es": "Abrir"},
    "digest.late_short": {"en": "Late", "es": "Atraso"},
    "digest.business_days": {"en": "business days", "es": "días hábiles"},
    "digest.step_due_col": {"en": "Step · was due", "es": "Paso · vencía"},
    "digest.col_quotes": {"en": "Quotes", "es": "Cotizaciones"},
    "digest.col_silent": {"en": "Silent", "es": "Silenciosas"},
    "digest.col_waiting": {"en": "Waiting", "es": "Esperando"},
    "digest.col_debt_days": {"en": "Days late", "es": "Días de atraso"},
    "digest.col_abandoned": {"en": "Abandoned", "es": "Abandonadas"},
    "digest.no_links": {
        "en": "note: the digest links no thread to the web app: set base_url under [web] in "
              "{path} (for example base_url = \"https://followup.acme.example\")",
        "es": "nota: el resumen no enlaza las conversaciones con la aplicación web: define "
              "base_url en [web] de {path} (por ejemplo base_url = \"https://followup.acme.example\")"},
}

# --- Reps' morning list (services/morning.py) -----------------------------------------------
_MORNING: dict[str, dict[str, str]] = {
    "morning.subject": {"en": "Your follow-ups for today: {n} — {date}",
                        "es": "Tus seguimientos de hoy: {n} — {date}"},
    "morning.greeting": {"en": "Good morning, {name}:", "es": "Buenos días, {name}:"},
    "morning.intro": {
        "en": "These follow-ups are waiting for you today. Review each one and approve, edit or skip it.",
        "es": "Estos seguimientos te esperan hoy. Revisa cada uno y apruébalo, edítalo u omítelo."},
    "morning.channel.email": {"en": "Email", "es": "Correo"},
    "morning.channel.phone": {"en": "Call", "es": "Llamada"},
    "morning.channel.whatsapp": {"en": "WhatsApp", "es": "WhatsApp"},
    "morning.step": {"en": "step {step}", "es": "paso {step}"},
    "morning.due_today": {"en": "due today", "es": "vence hoy"},
    "morning.late": {"en": "{n} business days late", "es": "{n} días hábiles de atraso"},
    "morning.late_one": {"en": "1 business day late", "es": "1 día hábil de atraso"},
    "morning.review": {"en": "Review the draft", "es": "Revisar el borrador"},
    "morning.call": {"en": "Call {phone}", "es": "Llamar al {phone}"},
    "morning.whatsapp": {"en": "Message on WhatsApp", "es": "Escribir por WhatsApp"},
    "morning.no_phone": {"en": "no phone number found", "es": "sin teléfono registrado"},
    "morning.all": {"en": "All your follow-ups: {url}", "es": "Todos tus seguimientos: {url}"},
    "morning.opt_out": {
        "en": "You get this email each business morning you have follow-ups due. To stop it, "
              "turn it off in My settings: {url}",
        "es": "Recibes este correo cada mañana hábil en que tienes seguimientos pendientes. "
              "Para dejar de recibirlo, desactívalo en Mis ajustes: {url}"},
    "morning.opt_out_no_link": {
        "en": "You get this email each business morning you have follow-ups due; ask your "
              "admin to turn it off for you.",
        "es": "Recibes este correo cada mañana hábil en que tienes seguimientos pendientes; "
              "pide a tu administrador que lo desactive."},
    "morning.footer": {"en": "Sent by Followup · {company}", "es": "Enviado por Followup · {company}"},
    # CLI: ``followup morning``.
    "morning.cli.none": {"en": "Nobody has follow-ups due at {time}.",
                         "es": "Nadie tiene seguimientos pendientes a las {time}."},
    "morning.cli.wrote": {"en": "{email}: wrote {path}", "es": "{email}: se escribió {path}"},
    "morning.cli.result.sent": {"en": "{email}: sent ({n} follow-ups)",
                                "es": "{email}: enviado ({n} seguimientos)"},
    "morning.cli.result.skipped": {"en": "{email}: already sent today",
                                   "es": "{email}: ya se envió hoy"},
    "morning.cli.result.opted_out": {"en": "{email}: turned off (not sent)",
                                     "es": "{email}: desactivado (no se envió)"},
    "morning.cli.result.unknown": {
        "en": "{email}: the connection was lost while sending ({error}); it may have arrived, "
              "so it is not sent again today",
        "es": "{email}: se perdió la conexión al enviar ({error}); pudo haber llegado, así que "
              "no se vuelve a enviar hoy"},
    "morning.cli.result.failed": {"en": "{email}: failed ({error})",
                                  "es": "{email}: falló ({error})"},
    "morning.no_links": {
        "en": "note: the morning lists link no follow-up to the web app: set base_url under "
              "[web] in {path} (for example base_url = \"https://followup.acme.example\")",
        "es": "nota: las listas matutinas no enlazan los seguimientos con la aplicación web: "
              "define base_url en [web] de {path} (por ejemplo base_url = \"https://followup.acme.example\")"},
    "morning.cli.off": {
        "en": "the morning list is off for the team (morning_list = false under [digest] in {path})",
        "es": "la lista matutina está desactivada para el equipo (morning_list = false en [digest] de {path})"},
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
}

CATALOGUE: dict[str, dict[str, str]] = {**_WAITING, **_PLANNING, **_DIGEST, **_MORNING,
                                         **_WEB, **_CLI}


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


def period_name(first: date, last: date, language: str | None = "en", *,
                days: int | None = None, short: bool = False) -> str:
    """A named period from ``first`` to ``last`` (both included): "Week of 23–29 Nov" /
    "Semana del 23 al 29 de nov"; with ``days``, "90 days: 1 Sep – 29 Nov" / "90 días: del
    1 de sep al 29 de nov"."""
    language = language if language in _MONTHS else "en"
    months = _MONTHS[language]

    def dm(day: date) -> str:
        return f"{day.day} de {months[day.month - 1]}" if language == "es" else \
            f"{day.day} {months[day.month - 1]}"

    if short:  # "19–25 nov", "30 nov–6 dic": a column's heading
        if (first.month, first.year) == (last.month, last.year):
            return f"{first.day}–{last.day} {months[last.month - 1]}"
        return f"{first.day} {months[first.month - 1]}–{last.day} {months[last.month - 1]}"
    if days is not None:
        return say("period.days", language, days=days, start=dm(first), end=dm(last))
    start = str(first.day) if (first.month, first.year) == (last.month, last.year) else dm(first)
    return say("period.week", language, start=start, end=dm(last))


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
