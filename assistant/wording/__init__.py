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
from datetime import date, datetime, timedelta

from assistant.domain.calendar import business_days_between, local_date
from assistant.domain.model import ThreadReport

__all__ = ["CATALOGUE", "LANGUAGES", "closed_reason", "day_month", "due_words", "hold_reason",
           "period_name", "say", "settlement_reason", "short_day", "snoozed_words", "why_waiting"]

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

# --- When a step is due, for people (CLI tables, web queue, thread and team pages) ----------
_DUE: dict[str, dict[str, str]] = {
    "due.today": {"en": "due today", "es": "vence hoy"},
    "due.tomorrow": {"en": "due tomorrow", "es": "vence mañana"},
    "due.in_one": {"en": "due in 1 business day", "es": "vence en 1 día hábil"},
    "due.in_days": {"en": "due in {n} business days", "es": "vence en {n} días hábiles"},
    "due.late_one": {"en": "1 business day overdue", "es": "1 día hábil de atraso"},
    "due.late_days": {"en": "{n} business days overdue", "es": "{n} días hábiles de atraso"},
    "due.late_since": {"en": "overdue since {day}", "es": "vencido desde el {day}"},
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
    "cli.error": {"en": "Error", "es": "Error"},
    # ``accounts list``: the table's title and headers.
    "accounts.title": {"en": "Accounts ({n})", "es": "Cuentas ({n})"},
    "accounts.name": {"en": "Name", "es": "Nombre"},
    "accounts.kind": {"en": "Kind", "es": "Tipo"},
    "accounts.mailbox": {"en": "Mailbox", "es": "Buzón"},
    "accounts.status": {"en": "Status", "es": "Estado"},
    "accounts.last_sync": {"en": "Last sync", "es": "Última sincronización"},
    "accounts.problem": {"en": "Problem", "es": "Problema"},
    "serve.now": {"en": "Every page shows the team as of {now} (--now), as scan --now does.",
                  "es": "Cada página muestra al equipo al {now} (--now), igual que scan --now."},
    # ``run``: the weekly digest is due but nothing can send it (``init``'s settings).
    "run.digest_skipped": {
        "en": "digest skipped: no way to send it (nor the reps' morning lists). Add a "
              "[digest.smtp] section to {file}, or send_with = \"<account name>\" under [digest] "
              "to send through a connected Gmail or Microsoft 365 account (sync and follow-up "
              "planning go on).",
        "es": "resumen omitido: no hay cómo enviarlo (ni las listas matutinas de los "
              "representantes). Añade una sección [digest.smtp] a {file}, "
              "o send_with = \"<nombre de la cuenta>\" en [digest] para enviarlo con una cuenta "
              "de Gmail o Microsoft 365 conectada (la sincronización y los seguimientos siguen)."},
    "run.skipped": {"en": "{job}: skipped (see the warning above)",
                    "es": "{job}: omitido (ver el aviso de arriba)"},
    # ``drafts plan``: what one planning run did, then one line per held follow-up.
    "plan.summary": {"en": "Planned {created} follow-ups, held {held}",
                     "es": "Se prepararon {created} seguimientos, {held} retenidos"},
    "plan.replanned": {"en": " ({n} of them held before, now ready)",
                       "es": " ({n} estaban retenidos y ya están listos para revisar)"},
    "plan.adopted": {"en": ", adopted {n} drafts already in a mailbox",
                     "es": ", {n} borradores ya estaban en un buzón"},
    "plan.closed": {"en": ", closed {n}", "es": ", {n} cerrados"},
    "plan.held_line": {"en": "  held #{id}: {reason}", "es": "  retenido #{id}: {reason}"},
    "cli.invalid_settings": {"en": "Invalid settings", "es": "Configuración no válida"},
    # A protocol step names a template that exists nowhere (checked before plan, serve, run).
    "settings.step_template": {
        "en": "protocol.steps[{index}] (step {number}, {channel}) in {file}: no template named "
              "{template!r}. Templates that exist: {names}. Fix: set template to one of them, "
              "or add {template}.es.txt / {template}.en.txt to the templates folder ({folder}), "
              "or save one with `followup templates save {template} FILE --lang es --author EMAIL`.",
        "es": "protocol.steps[{index}] (paso {number}, {channel}) en {file}: no hay plantilla "
              "llamada {template!r}. Plantillas que existen: {names}. Solución: usa una de ellas "
              "en template, o añade {template}.es.txt / {template}.en.txt a la carpeta de "
              "plantillas ({folder}), o guarda una con `followup templates save {template} "
              "FILE --lang es --author EMAIL`."},
    "settings.names_shipped": {"en": "shipped: {names}", "es": "incluidas: {names}"},
    "settings.names_folder": {"en": "your folder: {names}", "es": "tu carpeta: {names}"},
    "settings.names_saved": {"en": "saved versions: {names}", "es": "versiones guardadas: {names}"},
    "settings.no_folder": {"en": "[templates] folder not set", "es": "[templates] folder sin definir"},
    "demo.folder_in_use": {
        "en": "{folder} already holds files the demo did not create ({entries}); the demo "
              "would overwrite settings.toml, followup.db and mail/ there. Choose an empty or "
              "new folder with --dir, or add --force to write there anyway.",
        "es": "{folder} ya contiene archivos que la demostración no creó ({entries}); la "
              "demostración sobrescribiría ahí settings.toml, followup.db y mail/. Elige una "
              "carpeta vacía o nueva con --dir, o añade --force para escribir ahí de todos modos."},
    # Why a thread is closed (ThreadReport.closed_code, with closed_value): the scan, the
    # follow-ups a closed thread cancels ("thread closed: marked lost").
    "closed.marked.won": {"en": "marked won", "es": "marcado como ganado"},
    "closed.marked.lost": {"en": "marked lost", "es": "marcado como perdido"},
    "closed.declined": {"en": 'reply says "{phrase}"', "es": 'la respuesta dice "{phrase}"'},
    # Why a WhatsApp chat export is set aside (`sync`, `accounts list`); read again at the
    # next sync, once the settings say more.
    "whatsapp.no_contact": {
        "en": "no contact matches this chat ({who}): add a [[contacts]] entry with its phone "
              "or name to settings.toml",
        "es": "ningún contacto coincide con este chat ({who}): añade a settings.toml una "
              "entrada [[contacts]] con su teléfono o nombre"},
    "whatsapp.several": {
        "en": "this chat ({who}) matches several contacts ({emails}): keep its phone or name "
              "on one [[contacts]] entry only",
        "es": "este chat ({who}) coincide con varios contactos ({emails}): deja su teléfono o "
              "nombre en una sola entrada [[contacts]]"},
    "whatsapp.no_rep": {
        "en": "none of this chat's senders ({senders}) is the rep ({me}): write the rep's "
              'WhatsApp name as me = "..." in the account\'s [[accounts]] entry',
        "es": "ninguno de los remitentes de este chat ({senders}) es el representante ({me}): "
              'escribe su nombre de WhatsApp como me = "..." en la entrada [[accounts]] de la cuenta'},
    "whatsapp.unreadable": {
        "en": "not read as a WhatsApp chat export: {error}",
        "es": "no se pudo leer como exportación de chat de WhatsApp: {error}"},
    # `templates list`, "In protocol": a step's formal ("usted") variant (people by name).
    "templates.formal_variant": {"en": "yes, on formal threads (usted)",
                                 "es": "sí, en hilos formales (de usted)"},
}

# --- CRM sync (followup crm test | sync | status) ------------------------------------------
_CRM: dict[str, dict[str, str]] = {
    "crm.not_configured": {
        "en": "no [crm] section in {file}: add one (README, \"Connecting your CRM\")",
        "es": "no hay sección [crm] en {file}: añade una (README, \"Connecting your CRM\")"},
    "crm.kind_not_connected": {
        "en": 'kind = "{kind}" in [crm] of {file} is not connected yet: use kind = "tryton", "odoo" or "hubspot"',
        "es": 'kind = "{kind}" en [crm] de {file} aún no está conectado: usa kind = "tryton", "odoo" o "hubspot"'},
    "crm.secret_missing": {
        "en": "the environment variable {variable} is not set: set it to the CRM user's password or API key",
        "es": "la variable de entorno {variable} no está definida: ponle la contraseña o la clave API del usuario del CRM"},
    "crm.connected": {"en": "Connected to {kind}: {who}", "es": "Conectado a {kind}: {who}"},
    "crm.synced": {
        "en": "CRM sync: {queued} queued, {pushed} written, {failed} refused; {closed} thread(s) closed and {reassigned} reassigned from the CRM",
        "es": "Sincronización con el CRM: {queued} en cola, {pushed} escritos, {failed} rechazados; {closed} hilo(s) cerrados y {reassigned} reasignados desde el CRM"},
    "crm.stopped": {
        "en": "The CRM stopped this sync: {error} (the rest waits in the outbox and is retried later)",
        "es": "El CRM detuvo esta sincronización: {error} (lo demás espera en la bandeja de salida y se reintenta después)"},
    "crm.reauthenticate": {
        "en": "Re-authenticate: check [crm] username and the secret in {variable}, then run `followup crm test`",
        "es": "Vuelve a autenticarte: revisa username en [crm] y el secreto en {variable}, luego ejecuta `followup crm test`"},
    "crm.waiting": {
        "en": "Next try after {until} (`followup crm sync --retry` tries now)",
        "es": "Siguiente intento después de {until} (`followup crm sync --retry` lo intenta ya)"},
    "crm.warning": {"en": "Note: {warning}", "es": "Aviso: {warning}"},
    "crm.status": {
        "en": "Last sync: {last_sync}; last success: {last_success}; deals: {deals}; outbox: {pending} pending ({failing} failing), {done} written",
        "es": "Última sincronización: {last_sync}; último éxito: {last_success}; tratos: {deals}; bandeja de salida: {pending} pendientes ({failing} con error), {done} escritos"},
    "crm.never": {"en": "never", "es": "nunca"},
    "crm.last_error": {"en": "Last error: {error}", "es": "Último error: {error}"},
    "crm.entry_error": {"en": "  {key}: {error} ({attempts} attempts)",
                        "es": "  {key}: {error} ({attempts} intentos)"},
}

# --- Outcomes (issue 14): mark, snooze, the client's answer outside email; CLI and web ------
_OUTCOMES: dict[str, dict[str, str]] = {
    "thread.unknown": {
        "en": "no quote thread matches {thread!r} (see the ID column of `followup scan`)",
        "es": "ninguna conversación de cotización coincide con {thread!r} "
              "(ve la columna ID de `followup scan`)"},
    "thread.ambiguous": {
        "en": "{thread!r} matches {n} threads: {candidates}; give more of the id",
        "es": "{thread!r} coincide con {n} conversaciones: {candidates}; escribe más caracteres del id"},
    "thread.status.closed": {"en": "closed", "es": "cerrada"},
    "thread.status.bounced": {"en": "bounced", "es": "rebotada"},
    "thread.status.awaiting_us": {"en": "waiting on us", "es": "esperando nuestra respuesta"},
    "thread.status.exhausted": {"en": "exhausted (protocol completed)",
                                "es": "agotada (protocolo completo)"},
    "thread.status.silent": {"en": "silent (a follow-up is due)",
                             "es": "en silencio (toca dar seguimiento)"},
    "thread.status.waiting": {"en": "waiting (next step not due yet)",
                              "es": "en espera (el siguiente paso aún no vence)"},
    "outcome.won": {"en": "won", "es": "ganada"},
    "outcome.lost": {"en": "lost", "es": "perdida"},
    "outcome.bad_outcome": {"en": "{value!r} is not an outcome: say won or lost",
                            "es": "{value!r} no es un resultado: indica won (ganada) o lost (perdida)"},
    "outcome.channel.phone": {"en": "phone", "es": "teléfono"},
    "outcome.channel.whatsapp": {"en": "WhatsApp", "es": "WhatsApp"},
    "outcome.bad_channel": {"en": "channel must be phone or whatsapp, not {value!r}",
                            "es": "el canal debe ser phone (teléfono) o whatsapp, no {value!r}"},
    "outcome.marked": {"en": "“{subject}” ({id}) marked {outcome}.",
                       "es": "«{subject}» ({id}) marcada como {outcome}."},
    "outcome.unmarked": {"en": "Mark undone on “{subject}” ({id}): it is {status} now.",
                         "es": "Marca deshecha en «{subject}» ({id}): ahora está {status}."},
    "outcome.snoozed": {
        "en": "“{subject}” ({id}) snoozed until {day}: the next follow-up is due {due}.",
        "es": "«{subject}» ({id}) pospuesta hasta el {day}: el siguiente seguimiento vence el {due}."},
    "outcome.unsnoozed": {"en": "Snooze undone on “{subject}” ({id}): it is {status} now.",
                          "es": "Posposición deshecha en «{subject}» ({id}): ahora está {status}."},
    "outcome.replied": {
        "en": "Logged the client's answer by {channel} on “{subject}” ({id}): the client is waiting on us.",
        "es": "Registrada la respuesta del cliente por {channel} en «{subject}» ({id}): "
              "el cliente espera nuestra respuesta."},
    "outcome.unreplied": {
        "en": "Answer by {channel} undone on “{subject}” ({id}): it is {status} now.",
        "es": "Respuesta por {channel} deshecha en «{subject}» ({id}): ahora está {status}."},
    "outcome.cancelled": {"en": "Pending follow-ups cancelled: {n}.",
                          "es": "Seguimientos pendientes cancelados: {n}."},
    "outcome.restored": {"en": "Follow-ups back in the queue: {n}.",
                         "es": "Seguimientos de vuelta en la cola: {n}."},
    "outcome.nothing_to_undo.mark": {"en": "“{subject}” ({id}) has no mark to undo.",
                                     "es": "«{subject}» ({id}) no tiene marca que deshacer."},
    "outcome.nothing_to_undo.snooze": {"en": "“{subject}” ({id}) has no snooze to undo.",
                                       "es": "«{subject}» ({id}) no tiene posposición que deshacer."},
    "outcome.nothing_to_undo.reply": {
        "en": "“{subject}” ({id}) has no answer outside email to undo.",
        "es": "«{subject}» ({id}) no tiene respuesta fuera del correo que deshacer."},
    "outcome.bad_date": {"en": "{value!r} is not a date: write it as YYYY-MM-DD (e.g. 2027-01-15)",
                         "es": "{value!r} no es una fecha: escríbela como AAAA-MM-DD (p. ej. 2027-01-15)"},
    "outcome.snooze_past": {"en": "{day} is before today ({today}): snooze until today or later",
                            "es": "{day} es anterior a hoy ({today}): pospón hasta hoy o después"},
    "outcome.snooze_nothing_due": {
        "en": "“{subject}” ({id}) has no follow-up to snooze: it is {status}.",
        "es": "«{subject}» ({id}) no tiene seguimiento que posponer: está {status}."},
    "outcome.snoozed_why": {"en": "snoozed until {day}", "es": "pospuesta hasta el {day}"},
    # The thread page's history of outcomes.
    "history.mark": {"en": "{who} marked it {outcome}", "es": "{who} la marcó como {outcome}"},
    "history.snooze": {"en": "{who} snoozed it until {day}", "es": "{who} la pospuso hasta el {day}"},
    "history.reply": {"en": "{who} logged the client's answer by {channel}",
                      "es": "{who} registró la respuesta del cliente por {channel}"},
    "history.undone": {"en": "undone by {who} on {when}", "es": "deshecho por {who} el {when}"},
    "history.someone": {"en": "someone", "es": "alguien"},
}

CATALOGUE: dict[str, dict[str, str]] = {**_WAITING, **_PLANNING, **_DUE, **_DIGEST, **_MORNING,
                                         **_WEB, **_CLI, **_CRM, **_OUTCOMES}


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


def snoozed_words(report: ThreadReport, language: str = "en") -> str | None:
    """``snoozed until Fri 15 Jan`` when a user's snooze set the next step's date."""
    if report.snoozed_until is None:
        return None
    return say("outcome.snoozed_why", language, day=short_day(report.snoozed_until, language))


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


def due_words(due_at: datetime, now: datetime, *, timezone: str, country: str,
              language: str | None = "en") -> str:
    """When a step is due, as a person says it: ``vence hoy``, ``vence mañana``, ``vence en
    3 días hábiles``, ``3 días hábiles de atraso`` / ``due today``, ``3 business days
    overdue`` -- local dates in ``timezone``, business days of ``country``'s calendar
    (weekends and public holidays skipped; :mod:`assistant.domain.calendar`)."""
    due, today = local_date(due_at, timezone), local_date(now, timezone)
    if due == today:
        return say("due.today", language)
    if due > today:
        if due == today + timedelta(days=1):
            return say("due.tomorrow", language)
        n = business_days_between(today, due, country)
        return say("due.in_one", language) if n <= 1 else say("due.in_days", language, n=n)
    n = business_days_between(due, today, country)
    if n == 0:  # due on a weekend or holiday just past: no business day gone by yet
        return say("due.late_since", language, day=day_month(due, language))
    return say("due.late_one", language) if n == 1 else say("due.late_days", language, n=n)
