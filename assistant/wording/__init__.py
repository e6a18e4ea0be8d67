"""The message catalogue: every user-facing sentence, in each language, in one place.

The pure core (``mail/``, ``domain/``, ``drafting/``) returns *codes and values* — a
status, a reason code such as ``"promised"`` with its day — never sentences. Whoever
shows them to a person (the CLI, the web app, the digest, the planner's hold notes)
words them here, in the *reader's* language: :func:`say` looks a code up, falling back to
English, and formats it with the values.

Whose language: the web app's user (their choice, else the browser's), the digest's
manager (their web choice, else ``digest.language``), the CLI's ``team.language``.
Reasons kept in the database (why a follow-up is held, why it closed) are stored as a
code and its values (:func:`stored`) and worded when read (:func:`reason_words`).

Where new text goes: one dict per area below (``_TERMS`` for identifiers shown as words,
``_WEB``, ``_CLI``, ``_REVIEW``, ``_PLANNING``, ``_DIGEST`` ...), each entry
``"area.name": {"en": ..., "es": ...}`` with the same ``{placeholders}`` (a test checks).
What the command line prints (each command's lines, error labels, the services' errors a
command reports: database, digest, web secret) is in :mod:`assistant.wording.commands`.
The web templates call ``_("English text")``: the English of a ``web.``/``review.`` entry
(:func:`web_text`); an English text missing from the catalogue is an error (a test walks
every page). Spanish: Mexican business Spanish, "tú" in the UI.
"""

from __future__ import annotations

import json
import re
import string
from datetime import date, datetime, timedelta

from assistant.domain.calendar import business_days_between, local_date
from assistant.domain.model import ThreadReport
from assistant.wording.commands import COMMANDS

__all__ = ["CATALOGUE", "LANGUAGES", "TERM_KINDS", "Worded", "both", "closed_reason", "coded",
           "coded_words",
           "closed_words", "day_month", "day_time", "digest_strings", "due_words",
           "every_language", "hold_reason", "period_name", "reason_code", "reason_words", "say",
           "settlement_reason", "short_day", "snoozed_words", "stored", "stored_reason",
           "stored_words", "term", "web_text", "why_waiting", "words_of"]

LANGUAGES = ("en", "es")

_DAYS = {"en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
         "es": ("lun", "mar", "mié", "jue", "vie", "sáb", "dom")}
_MONTHS = {"en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
           "es": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic")}

# --- Terms: the identifiers people see as words (never shown raw) ---------------------------
# ``term(kind, value, language)``: a thread's status, a follow-up's status, a channel, a
# scenario, a team role, the protocol's responsible role, a timeline event's kind.
_TERMS: dict[str, dict[str, str]] = {
    "status.silent": {"en": "silent", "es": "sin respuesta"},
    "status.waiting": {"en": "waiting", "es": "en espera"},
    "status.awaiting_us": {"en": "client waiting on us", "es": "el cliente espera respuesta"},
    "status.closed": {"en": "closed", "es": "cerrada"},
    "status.bounced": {"en": "bounced", "es": "rebotada"},
    "status.exhausted": {"en": "protocol completed", "es": "protocolo agotado"},
    "followup.held": {"en": "held", "es": "retenido"},
    "followup.drafted": {"en": "ready for review", "es": "por revisar"},
    "followup.approved": {"en": "approved", "es": "aprobado"},
    "followup.sent": {"en": "sent", "es": "enviado"},
    "followup.done": {"en": "done", "es": "hecho"},
    "followup.skipped": {"en": "skipped", "es": "omitido"},
    "followup.cancelled": {"en": "cancelled", "es": "cancelado"},
    "channel.email": {"en": "email", "es": "correo"},
    "channel.phone": {"en": "call", "es": "llamada"},
    "channel.whatsapp": {"en": "WhatsApp", "es": "WhatsApp"},
    "scenario.rep": {"en": "rep", "es": "representante"},
    "scenario.manager": {"en": "manager", "es": "gerente"},
    "scenario.nobody": {"en": "nobody", "es": "nadie"},
    "scenario.unclear": {"en": "unclear", "es": "no está claro"},
    "role.account_executive": {"en": "account executive", "es": "ejecutivo de cuenta"},
    "role.sdr": {"en": "sales development rep", "es": "representante de prospección"},
    "role.customer_success": {"en": "customer success", "es": "atención a clientes"},
    "role.manager": {"en": "manager", "es": "gerente"},
    "responsible.owner": {"en": "the thread's owner", "es": "el responsable de la conversación"},
    "responsible.sdr": {"en": "sales development reps", "es": "representantes de prospección"},
    "responsible.customer_success": {"en": "customer success", "es": "atención a clientes"},
    "event.quote": {"en": "quote", "es": "cotización"},
    "event.sent": {"en": "our email", "es": "correo nuestro"},
    "event.reply": {"en": "client's reply", "es": "respuesta del cliente"},
    "event.auto_reply": {"en": "auto-reply", "es": "respuesta automática"},
    "event.bounce": {"en": "bounce", "es": "rebote"},
    "event.delay": {"en": "delivery delay", "es": "retraso de entrega"},
    "event.complaint": {"en": "spam complaint", "es": "queja de spam"},
    "event.receipt": {"en": "read receipt", "es": "acuse de lectura"},
    "event.internal": {"en": "internal", "es": "interno"},
    "event.touch_phone": {"en": "call logged", "es": "llamada registrada"},
    "event.touch_whatsapp": {"en": "WhatsApp logged", "es": "WhatsApp registrado"},
    "event.followup": {"en": "follow-up", "es": "seguimiento"},
    "event.reply_phone": {"en": "answer by phone", "es": "respuesta por teléfono"},
    "event.reply_whatsapp": {"en": "answer on WhatsApp", "es": "respuesta por WhatsApp"},
}
TERM_KINDS = ("status", "followup", "channel", "scenario", "role", "responsible", "event")

# --- Why a thread waits (DESIGN.md rules 9-11): scan, thread page, digest -------------------
_WAITING = {
    "waiting.promised": {"en": "promised: {day}", "es": "prometido: {day}"},
    "waiting.back": {"en": "back on {day}", "es": "de regreso el {day}"},
}

# --- Planning: hold and cancel reasons (stored as codes, worded when read) ------------------
_PLANNING: dict[str, dict[str, str]] = {
    # Why a follow-up is held for a person (``followups.hold_reason``).
    "hold.other_contact": {"en": "{who} wrote to {recipient} on {day}",
                           "es": "{who} escribió a {recipient} el {day}"},
    "hold.no_mailbox": {
        "en": 'no mailbox for {who}: add owner = "{who}" to their [[accounts]] entry in settings.toml',
        "es": 'no hay buzón de {who}: agrega owner = "{who}" a su entrada [[accounts]] en settings.toml'},
    "hold.no_assignee": {
        "en": "no one to assign: add team members of the responsible role",
        "es": "no hay a quién asignarlo: agrega al equipo personas con el rol responsable"},
    "hold.no_template": {
        "en": "no template named {template!r} (see `followup templates list`)",
        "es": "no hay una plantilla llamada {template!r} (consulta `followup templates list`)"},
    "hold.template_error": {"en": "template error: {error}",
                            "es": "error en la plantilla: {error}"},
    # Why a follow-up closed (``followups.closed_reason``).
    "settle.step_taken": {"en": "step taken", "es": "paso hecho"},
    "settle.moved_on": {"en": "thread moved on after sending",
                        "es": "la conversación avanzó después del envío"},
    "cancel.closed": {"en": "thread closed: {reason}", "es": "cerrado: {reason}"},
    "cancel.bounced": {"en": "bounced: {who} (fix the address)",
                       "es": "rebotó: {who} (corrige la dirección)"},
    "cancel.replied_on": {"en": "the client replied on {day}",
                          "es": "el cliente respondió el {day}"},
    "cancel.replied": {"en": "the client replied", "es": "el cliente respondió"},
    "skip.by_rep": {"en": "skipped by the rep", "es": "omitido por el representante"},
    # Appended to a call or WhatsApp follow-up when no phone number was found.
    "note.no_phone": {
        "en": "(No phone number found in {contact}'s emails: no link. Look it up in your CRM.)",
        "es": "(No se encontró teléfono en los correos de {contact}: sin enlace. Búscalo en tu CRM.)"},
    # Why a thread is closed (ThreadReport.closed_code, with closed_value): the scan, the
    # follow-ups a closed thread cancels ("thread closed: marked lost").
    "closed.marked.won": {"en": "marked won", "es": "marcado como ganado"},
    "closed.marked.lost": {"en": "marked lost", "es": "marcado como perdido"},
    "closed.declined": {"en": 'reply says "{phrase}"', "es": 'la respuesta dice "{phrase}"'},
    "closed.other": {"en": "closed", "es": "cerrada"},
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

# --- Review: approving, skipping, editing, logging (CLI and web) ----------------------------
_REVIEW: dict[str, dict[str, str]] = {
    "review.draft_in_mailbox": {
        "en": "the draft is in the {account} mailbox's Drafts folder; send it from your mail client",
        "es": "el borrador está en la carpeta Borradores del buzón {account}; envíalo desde tu correo"},
    "review.auto_send_cannot": {
        "en": "auto_send is on, but {account} is a {kind} account with no way to send mail: the "
              "draft is in its Drafts folder; send it from your mail client",
        "es": "auto_send está activado, pero {account} es una cuenta {kind} que no puede enviar "
              "correo: el borrador está en su carpeta Borradores; envíalo desde tu correo"},
    "review.sent_from": {"en": "sent from {account}", "es": "enviado desde {account}"},
    "review.do_it_now": {"en": "do it now: {link}", "es": "hazlo ahora: {link}"},
    "review.no_link": {"en": "no link: no phone number found",
                       "es": "sin enlace: no se encontró teléfono"},
    "review.thread_gone": {"en": "the thread of this follow-up ({thread}) is gone",
                           "es": "la conversación de este seguimiento ({thread}) ya no existe"},
    "review.no_followup": {"en": "no follow-up with id {fid} (see `followup drafts list`)",
                           "es": "no hay un seguimiento con id {fid} (consulta `followup drafts list`)"},
    "review.wrong_state": {"en": "follow-up {fid} is {status}: it cannot be {verb}",
                           "es": "el seguimiento {fid} está {status}: no se puede {verb}"},
    "review.no_text": {
        "en": "follow-up {fid} has no text ({reason}); fix the template, then run `followup drafts plan` again",
        "es": "el seguimiento {fid} no tiene texto ({reason}); corrige la plantilla y vuelve a "
              "correr `followup drafts plan`"},
    "review.no_mailbox": {"en": "follow-up {fid}: {reason}", "es": "seguimiento {fid}: {reason}"},
    "review.no_mailbox_to_draft": {"en": "no mailbox to draft in",
                                   "es": "no hay buzón donde guardar el borrador"},
    "review.being_drafted": {
        "en": "follow-up {fid} is being drafted right now; try again in a moment",
        "es": "el borrador del seguimiento {fid} se está guardando ahora; vuelve a intentarlo en un momento"},
    "review.not_sent": {
        "en": "follow-up {fid} was not sent ({error}); it is still a draft in {account}: approve it again to retry",
        "es": "el seguimiento {fid} no se envió ({error}); sigue como borrador en {account}: "
              "apruébalo otra vez para reintentar"},
    "review.not_saved": {"en": "not saved: {error}", "es": "no se guardó: {error}"},
    "review.cannot_replace": {
        "en": "the {kind} connector cannot replace drafts: edit the draft in your mail client",
        "es": "el conector {kind} no puede reemplazar borradores: edita el borrador en tu correo"},
    "review.bad_channel": {"en": "channel must be phone or whatsapp",
                           "es": "el canal debe ser phone o whatsapp"},
    "review.no_thread": {"en": "no quote thread matches {thread!r} (see `followup scan --json`)",
                         "es": "ninguna conversación de cotización coincide con {thread!r} "
                               "(consulta `followup scan --json`)"},
    "review.ambiguous_thread": {
        "en": "{thread!r} matches {n} threads; give more of the Message-ID",
        "es": "{thread!r} coincide con {n} conversaciones; da más caracteres del Message-ID"},
    "verb.approved": {"en": "approved", "es": "aprobar"},
    "verb.skipped": {"en": "skipped", "es": "omitir"},
    "verb.edited": {"en": "edited", "es": "editar"},
    "verb.sent": {"en": "sent", "es": "enviar"},
    "verb.reverted": {"en": "reverted", "es": "revertir"},
}

# --- Digest ---------------------------------------------------------------------------------
# The digest templates' ``t`` table (``t.title``, ``t.status.silent``): ``digest.<key>`` and
# ``digest.<table>.<key>``; ``subject``, ``and_more`` and ``footer`` are rendered with their
# values. Admins change keys with digest/strings.<language>.toml in their templates folder.
_DIGEST: dict[str, dict[str, str]] = {
    # Counts after their label: "1 vencidos" / "1 clients" never read right for one.
    "digest.subject": {"en": 'Quote follow-up ({scope}): overdue {overdue} · clients waiting {waiting} — {date}',
                       "es": 'Seguimiento de cotizaciones ({scope}): vencidos {overdue} · clientes esperando {waiting} — {date}'},
    "digest.title": {"en": 'Weekly follow-up digest', "es": 'Resumen semanal de seguimiento'},
    "digest.company_wide": {"en": 'whole company', "es": 'toda la empresa'},
    "digest.team_of": {"en": 'team of', "es": 'equipo de'},
    "digest.greeting": {"en": 'Hello', "es": 'Hola'},
    "digest.intro": {"en": 'Here is what is leaking and what to do about it this week.',
                     "es": 'Esto es lo que se está quedando sin seguimiento y lo que conviene hacer esta semana.'},
    "digest.act_now": {"en": 'Act on these today', "es": 'Para actuar hoy'},
    "digest.overdue_title": {"en": 'Overdue follow-ups (most overdue first)',
                             "es": 'Seguimientos vencidos (los más atrasados primero)'},
    "digest.overdue_none": {"en": 'No follow-up is overdue. Well done!',
                            "es": 'No hay seguimientos vencidos. ¡Bien hecho!'},
    "digest.unclear_title": {"en": 'Unclear ownership: assign someone',
                             "es": 'Sin responsable claro: asigna a alguien'},
    "digest.unclear_none": {"en": 'Every quote has a clear owner.',
                            "es": 'Todas las cotizaciones tienen un responsable claro.'},
    "digest.waiting_title": {"en": 'Clients waiting on us',
                             "es": 'Clientes esperando nuestra respuesta'},
    "digest.waiting_none": {"en": 'No client is waiting for an answer.',
                            "es": 'Ningún cliente está esperando respuesta.'},
    "digest.promised_title": {"en": 'Clients who said when they will answer',
                              "es": 'Clientes que dijeron cuándo responden'},
    "digest.promised_col": {"en": 'Why it waits', "es": 'Por qué espera'},
    "digest.next_col": {"en": 'Next step due', "es": 'Próximo paso'},
    "digest.and_more": {"en": 'and {n} more', "es": 'y {n} más'},
    "digest.subject_col": {"en": 'Quote', "es": 'Cotización'},
    "digest.contact_col": {"en": 'Client', "es": 'Cliente'},
    "digest.owner_col": {"en": 'Owner', "es": 'Responsable'},
    "digest.step_col": {"en": 'Step', "es": 'Paso'},
    "digest.due_col": {"en": 'Was due', "es": 'Vencía'},
    "digest.late_col": {"en": 'Business days late', "es": 'Días hábiles de atraso'},
    "digest.candidates_col": {"en": 'Written by', "es": 'Escribieron'},
    "digest.since_col": {"en": 'Replied', "es": 'Respondió'},
    "digest.wait_col": {"en": 'Business days waiting', "es": 'Días hábiles esperando'},
    "digest.nobody": {"en": 'no owner', "es": 'sin responsable'},
    "digest.numbers": {"en": 'The numbers', "es": 'Los números'},
    "digest.quotes_sent": {"en": 'Quotes sent', "es": 'Cotizaciones enviadas'},
    "digest.debt": {"en": 'Overdue steps (follow-up debt)',
                    "es": 'Pasos vencidos (deuda de seguimiento)'},
    "digest.debt_days": {"en": 'Total lateness (business days)',
                         "es": 'Atraso acumulado (días hábiles)'},
    "digest.waiting_on_us": {"en": 'Clients waiting', "es": 'Clientes esperando'},
    "digest.abandoned": {"en": 'Abandoned after one follow-up or fewer',
                         "es": 'Abandonadas tras un seguimiento o menos'},
    "digest.abandoned_benchmark": {"en": 'industry figure: 44% of reps give up after the first attempt',
                                   "es": 'referencia del sector: 44 % de los vendedores se rinde tras el primer intento'},
    "digest.reached_five": {"en": 'Closed after five follow-ups or more',
                            "es": 'Cerradas con cinco seguimientos o más'},
    "digest.reached_five_benchmark": {"en": '80% of sales need at least five',
                                      "es": 'el 80 % de las ventas necesita al menos cinco'},
    "digest.first_followup": {"en": 'Median business days to the first follow-up',
                              "es": 'Mediana de días hábiles hasta el primer seguimiento'},
    "digest.not_followed_up": {"en": 'Quotes with no follow-up yet',
                               "es": 'Cotizaciones aún sin ningún seguimiento'},
    "digest.duplicate_holds": {"en": 'Follow-ups held for duplicate contact',
                               "es": 'Seguimientos retenidos por contacto duplicado'},
    "digest.duplicate_holds_note": {"en": '(the follow-ups log does not exist in this database yet)',
                                    "es": '(el registro de seguimientos aún no existe en esta base)'},
    "digest.bounces": {"en": "Bounces (fix the client's address)",
                       "es": 'Rebotes (corrige la dirección del cliente)'},
    "digest.by_status": {"en": 'Quotes by status (90 days)',
                         "es": 'Cotizaciones por estado (90 días)'},
    "digest.by_scenario": {"en": 'Who follows up? (90 days)',
                           "es": '¿Quién da seguimiento? (90 días)'},
    "digest.reply_rate": {"en": 'Reply rate by attempt (90 days)',
                          "es": 'Tasa de respuesta por intento (90 días)'},
    "digest.touch_0": {"en": 'Quote', "es": 'Cotización'},
    "digest.touch_n": {"en": 'Follow-up', "es": 'Seguimiento'},
    "digest.by_owner": {"en": 'By owner (90 days)', "es": 'Por responsable (90 días)'},
    "digest.none": {"en": '—', "es": '—'},
    "digest.footer": {"en": 'Sent by Followup. Figures computed on {time} ({timezone}).',
                      "es": 'Enviado por Followup. Cifras calculadas el {time} ({timezone}).'},
    "digest.why.snoozed": {"en": "snoozed until {day}", "es": "pospuesto hasta el {day}"},
    "digest.status.silent": {"en": 'Silent (follow-up due)',
                             "es": 'Sin respuesta (seguimiento vencido)'},
    "digest.status.awaiting_us": {"en": 'Client waiting on us', "es": 'El cliente espera'},
    "digest.status.waiting": {"en": 'Waiting for the next step',
                              "es": 'En espera del siguiente paso'},
    "digest.status.bounced": {"en": 'Bounced', "es": 'Rebotadas'},
    "digest.status.exhausted": {"en": 'Protocol exhausted', "es": 'Protocolo agotado'},
    "digest.status.closed": {"en": 'Closed', "es": 'Cerradas'},
    "digest.scenario.rep": {"en": 'Rep', "es": 'Representante'},
    "digest.scenario.manager": {"en": 'Manager (bottleneck)', "es": 'Gerente (cuello de botella)'},
    "digest.scenario.nobody": {"en": 'Nobody', "es": 'Nadie'},
    "digest.scenario.unclear": {"en": 'Unclear', "es": 'No está claro'},
    "digest.channel.email": {"en": 'email', "es": 'correo'},
    "digest.channel.phone": {"en": 'call', "es": 'llamada'},
    "digest.channel.whatsapp": {"en": 'WhatsApp', "es": 'WhatsApp'},
    # digest v2: the numbers per named period, the lists' short columns
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
    "digest.col_silent": {"en": "Silent", "es": "Sin respuesta"},
    "digest.col_waiting": {"en": "Waiting", "es": "Esperando"},
    "digest.col_debt_days": {"en": "Days late", "es": "Días de atraso"},
    "digest.col_abandoned": {"en": "Abandoned", "es": "Abandonadas"},
}

# Values the digest formats itself (not in its ``t`` table).
_DIGEST_VALUES: dict[str, dict[str, str]] = {
    "digest_max": {"en": "{n} (max {days} bus. days)", "es": "{n} (máx. {days} días háb.)"},
    # A named period: :func:`period_name`.
    "period.week": {"en": "Week of {start}–{end}", "es": "Semana del {start} al {end}"},
    "period.days": {"en": "{days} days: {start} – {end}", "es": "{days} días: del {start} al {end}"},
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
        "en": "You get this email each business morning you have follow-ups due. To stop it, "
              "turn it off in My settings in Followup's web app.",
        "es": "Recibes este correo cada mañana hábil en que tienes seguimientos pendientes. "
              "Para dejar de recibirlo, desactívalo en Mis ajustes de la aplicación web de Followup."},
    "morning.footer": {"en": "Sent by Followup · {company}", "es": "Enviado por Followup · {company}"},
    # CLI: ``followup morning``.
    "morning.cli.none": {"en": "Nobody has follow-ups due by {time}.",
                         "es": "Nadie tiene seguimientos pendientes para el {time}."},
    "morning.cli.wrote": {"en": "{email}: wrote {path}", "es": "{email}: se escribió {path}"},
    "morning.cli.result.sent": {"en": "{email}: sent (follow-ups: {n})",
                                "es": "{email}: enviado (seguimientos: {n})"},
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
# Templates call ``_("English")`` (the ``en`` below); views call ``t("English")``.
_WEB: dict[str, dict[str, str]] = {
    "web.and_more": {"en": "and {n} more", "es": "y {n} más"},
    # layout
    "web.my_follow_ups": {"en": "My follow-ups", "es": "Mis seguimientos"},
    "web.team": {"en": "Team", "es": "Equipo"},
    "web.templates": {"en": "Templates", "es": "Plantillas"},
    "web.protocol_and_team": {"en": "Protocol and team", "es": "Protocolo y equipo"},
    "web.protocol": {"en": "Protocol", "es": "Protocolo"},
    "web.sign_out": {"en": "Sign out", "es": "Cerrar sesión"},
    "web.language": {"en": "Language", "es": "Idioma"},
    "web.skip_to_content": {"en": "Skip to content", "es": "Ir al contenido"},
    # my settings (/me)
    "web.my_settings": {"en": "My settings", "es": "Mis ajustes"},
    "web.morning_email": {"en": "Morning email", "es": "Correo matutino"},
    "web.morning_email_about": {
        "en": "Each business morning you have follow-ups due, an email lists them with links "
              "to call, write on WhatsApp or review the draft.",
        "es": "Cada mañana hábil en que tienes seguimientos pendientes, un correo te los lista "
              "con enlaces para llamar, escribir por WhatsApp o revisar el borrador."},
    "web.send_morning_email": {"en": "Send me the morning email", "es": "Enviarme el correo matutino"},
    "web.save": {"en": "Save", "es": "Guardar"},
    "web.morning_email_on": {"en": "Morning email on.", "es": "Correo matutino activado."},
    "web.morning_email_off": {"en": "Morning email off.", "es": "Correo matutino desactivado."},
    "web.morning_email_team_off": {
        "en": "Your admin turned the morning email off for the whole team.",
        "es": "Tu administrador desactivó el correo matutino para todo el equipo."},
    # sign-in
    "web.sign_in": {"en": "Sign in", "es": "Iniciar sesión"},
    "web.email": {"en": "Email", "es": "Correo"},
    "web.password": {"en": "Password", "es": "Contraseña"},
    "web.wrong_password": {"en": "Wrong email or password.",
                           "es": "Correo o contraseña incorrectos."},
    "web.locked": {"en": "Too many wrong passwords. Try again after {time}.",
                   "es": "Demasiadas contraseñas incorrectas. Vuelve a intentarlo después de las {time}."},
    "web.sign_in_proxy": {"en": "Sign in through your company's sign-in page.",
                          "es": "Inicia sesión en la página de acceso de tu empresa."},
    "web.ask_for_password": {"en": "Ask your admin for a password (followup users set-password).",
                             "es": "Pide una contraseña a tu administrador (followup users set-password)."},
    # errors
    "web.not_found": {"en": "Page not found, or not yours to see.",
                      "es": "Página no encontrada, o no te corresponde verla."},
    "web.forbidden": {"en": "You may not do this.", "es": "No tienes permiso para hacer esto."},
    "web.form_expired": {"en": "The form expired. Go back, reload the page and try again.",
                         "es": "El formulario caducó. Regresa, recarga la página e inténtalo de nuevo."},
    "web.managers_only": {"en": "Only managers and admins see this page.",
                          "es": "Solo gerentes y administradores ven esta página."},
    "web.admins_only": {"en": "Only admins see this page.",
                        "es": "Solo los administradores ven esta página."},
    "web.back_to_start": {"en": "Back to the start", "es": "Volver al inicio"},
    "web.error": {"en": "Error", "es": "Error"},
    # queue
    "web.nothing_due": {"en": "Nothing to follow up right now.",
                        "es": "Por ahora no hay nada a qué dar seguimiento."},
    "web.due": {"en": "Due", "es": "Vence"},
    "web.step": {"en": "Step", "es": "Paso"},
    "web.channel": {"en": "Channel", "es": "Canal"},
    "web.contact": {"en": "Contact", "es": "Contacto"},
    "web.copied": {"en": "Cc", "es": "Con copia a"},
    "web.subject": {"en": "Subject", "es": "Asunto"},
    "web.status": {"en": "Status", "es": "Estado"},
    "web.open": {"en": "Open", "es": "Abrir"},
    "web.call": {"en": "Call", "es": "Llamar"},
    "web.keyboard": {
        "en": "Keyboard: j / k move, o or Enter open; on a follow-up: a approve, s skip, e edit, c log a call.",
        "es": "Teclado: j / k para moverte, o o Intro para abrir; en un seguimiento: a aprobar, "
              "s omitir, e editar, c registrar llamada."},
    "web.held": {"en": "Held:", "es": "Retenido:"},
    # follow-up page
    "web.follow_up": {"en": "Follow-up", "es": "Seguimiento"},
    "web.draft": {"en": "Draft", "es": "Borrador"},
    "web.approve": {"en": "Approve", "es": "Aprobar"},
    "web.skip": {"en": "Skip", "es": "Omitir"},
    "web.why_skip": {"en": "Why skip it?", "es": "¿Por qué lo omites?"},
    "web.say_why_skip": {"en": "Say why you skip it.", "es": "Di por qué lo omites."},
    "web.save_changes": {"en": "Save changes", "es": "Guardar cambios"},
    "web.edit": {"en": "Edit", "es": "Editar"},
    "web.body": {"en": "Body", "es": "Mensaje"},
    "web.log_call": {"en": "Log a call", "es": "Registrar llamada"},
    "web.log_whatsapp": {"en": "Log a WhatsApp message", "es": "Registrar mensaje de WhatsApp"},
    "web.note_optional": {"en": "Note (optional)", "es": "Nota (opcional)"},
    "web.approved": {"en": "Approved.", "es": "Aprobado."},
    "web.skipped": {"en": "Skipped.", "es": "Omitido."},
    "web.saved": {"en": "Saved.", "es": "Guardado."},
    "web.call_logged": {"en": "Call logged.", "es": "Llamada registrada."},
    "web.whatsapp_logged": {"en": "WhatsApp message logged.",
                            "es": "Mensaje de WhatsApp registrado."},
    "web.open_whatsapp": {"en": "Open WhatsApp", "es": "Abrir WhatsApp"},
    "web.thread": {"en": "Thread", "es": "Conversación"},
    "web.timeline": {"en": "Timeline", "es": "Historial"},
    "web.owner": {"en": "Owner", "es": "Responsable"},
    "web.scenario": {"en": "Scenario", "es": "Quién da seguimiento"},
    "web.touches": {"en": "Touches", "es": "Seguimientos hechos"},
    "web.next_step": {"en": "Next step", "es": "Siguiente paso"},
    "web.thread_followups": {"en": "Follow-ups of this thread",
                             "es": "Seguimientos de esta conversación"},
    "web.approved_in_drafts": {
        "en": "Approved: the draft is in the {account} mailbox's Drafts folder; send it from "
              "your mail client.",
        "es": "Aprobado: el borrador está en la carpeta Borradores del buzón {account}; "
              "envíalo desde tu correo."},
    "web.nothing_left": {"en": "This follow-up is {status}: nothing left to do.",
                         "es": "Este seguimiento está {status}: no queda nada por hacer."},
    "web.nobody": {"en": "nobody", "es": "nadie"},
    # team
    "web.silent_by_owner": {"en": "Silent threads by owner",
                            "es": "Conversaciones sin respuesta por responsable"},
    "web.no_silent": {"en": "No silent threads.", "es": "No hay conversaciones sin respuesta."},
    "web.unassigned": {"en": "Unassigned", "es": "Sin responsable"},
    "web.scenario_mix": {"en": "Scenario mix", "es": "Quién da seguimiento"},
    "web.of_open_threads": {"en": "of open threads", "es": "de las conversaciones abiertas"},
    "web.clients_waiting": {"en": "Clients waiting on us",
                            "es": "Clientes esperando nuestra respuesta"},
    "web.no_client_waiting": {"en": "No client is waiting.",
                              "es": "Ningún cliente está esperando."},
    "web.replied": {"en": "Replied", "es": "Respondió"},
    "web.unclear_threads": {"en": "Unclear and unowned threads",
                            "es": "Conversaciones sin responsable claro"},
    "web.all_clear": {"en": "None: every thread has a clear owner.",
                      "es": "Ninguna: todas tienen un responsable claro."},
    "web.candidates": {"en": "Candidates", "es": "Posibles responsables"},
    "web.assign_owner": {"en": "Assign owner", "es": "Asignar responsable"},
    "web.assign": {"en": "Assign", "es": "Asignar"},
    "web.owner_set": {"en": "Owner of “{subject}” set to {owner}.",
                      "es": "Responsable de «{subject}»: {owner}."},
    "web.compliance": {"en": "Protocol compliance (quotes of the last 90 days)",
                       "es": "Cumplimiento del protocolo (cotizaciones de los últimos 90 días)"},
    "web.quotes_sent": {"en": "Quotes sent", "es": "Cotizaciones enviadas"},
    "web.abandoned": {"en": "Abandoned after one follow-up",
                      "es": "Abandonadas tras un seguimiento"},
    "web.reached_five": {"en": "Reached five follow-ups", "es": "Llegaron a cinco seguimientos"},
    "web.overdue_steps": {"en": "Overdue steps", "es": "Pasos vencidos"},
    "web.not_followed_up": {"en": "Not followed up yet", "es": "Todavía sin seguimiento"},
    "web.median_first": {"en": "Median business days to the first follow-up",
                         "es": "Mediana de días hábiles al primer seguimiento"},
    "web.by_status": {"en": "Threads by status", "es": "Conversaciones por estado"},
    # templates
    "web.template": {"en": "Template", "es": "Plantilla"},
    "web.used_by": {"en": "Used by", "es": "Usada en"},
    "web.version": {"en": "Version", "es": "Versión"},
    "web.shipped": {"en": "shipped", "es": "original"},
    "web.unused": {"en": "not used by the protocol", "es": "el protocolo no la usa"},
    "web.preview": {"en": "Preview", "es": "Vista previa"},
    "web.preview_against": {"en": "Preview against", "es": "Vista previa con"},
    "web.save_version": {"en": "Save as a new version", "es": "Guardar como nueva versión"},
    "web.history": {"en": "History", "es": "Historial"},
    "web.saved_version": {"en": "Saved as version {n}.", "es": "Guardada como versión {n}."},
    "web.rolled_back": {"en": "Version {old} is current again (saved as version {n}).",
                        "es": "La versión {old} vuelve a estar vigente (guardada como versión {n})."},
    "web.line": {"en": "Line {n}", "es": "Línea {n}"},
    "web.rendered_against": {"en": "Rendered against the thread",
                             "es": "Generada con la conversación"},
    "web.sample_values": {"en": "sample values", "es": "valores de ejemplo"},
    "web.compare": {"en": "Compare", "es": "Comparar"},
    "web.with": {"en": "with", "es": "con"},
    "web.roll_back": {"en": "Roll back to this version", "es": "Volver a esta versión"},
    "web.by": {"en": "by", "es": "por"},
    "web.author": {"en": "Author", "es": "Autor"},
    "web.date": {"en": "Date", "es": "Fecha"},
    "web.no_differences": {"en": "No differences.", "es": "Sin diferencias."},
    "web.edit_template": {"en": "Edit the template", "es": "Editar la plantilla"},
    # settings
    "web.read_only": {"en": "Read-only: edit settings.toml and restart to change these.",
                      "es": "Solo lectura: para cambiarlos, edita settings.toml y reinicia."},
    "web.after_days": {"en": "Business days after the previous touch",
                       "es": "Días hábiles desde el contacto anterior"},
    "web.time_zone": {"en": "Time zone", "es": "Zona horaria"},
    "web.holidays_of": {"en": "Holidays of", "es": "Días festivos de"},
    "web.send_window": {"en": "Send window starts", "es": "Hora de inicio de envíos"},
    "web.belong_to": {"en": "Who follows up", "es": "Quién da los seguimientos"},
    "web.auto_send": {"en": "Automatic sending", "es": "Envío automático"},
    "web.yes": {"en": "yes", "es": "sí"},
    "web.no": {"en": "no", "es": "no"},
    "web.name": {"en": "Name", "es": "Nombre"},
    "web.role": {"en": "Role", "es": "Puesto"},
    "web.manager": {"en": "Manager", "es": "Gerente"},
    "web.admin": {"en": "Admin", "es": "Administrador"},
    # refusals of the web's own
    "web.only_managers_assign": {"en": "only managers and admins assign owners",
                                 "es": "solo gerentes y administradores asignan responsables"},
    "web.not_in_team": {"en": "{owner} is not a member of your team",
                        "es": "{owner} no es parte de tu equipo"},
    "web.only_admins_edit": {"en": "only admins edit templates",
                             "es": "solo los administradores editan plantillas"},
    # outcomes (issue 14): the thread page's forms and history, the queue's buttons
    "web.thread_id": {"en": "Thread ID", "es": "ID de la conversación"},
    "web.outcome": {"en": "Outcome", "es": "Resultado"},
    "web.reason_optional": {"en": "Reason (optional)", "es": "Motivo (opcional)"},
    "web.mark_won": {"en": "Mark won", "es": "Marcar como ganada"},
    "web.mark_lost": {"en": "Mark lost", "es": "Marcar como perdida"},
    "web.won": {"en": "Won", "es": "Ganada"},
    "web.lost": {"en": "Lost", "es": "Perdida"},
    "web.client_said": {"en": "What the client said (optional)",
                        "es": "Qué dijo el cliente (opcional)"},
    "web.answered_phone_long": {"en": "The client answered by phone",
                                "es": "El cliente respondió por teléfono"},
    "web.answered_whatsapp_long": {"en": "The client answered on WhatsApp",
                                   "es": "El cliente respondió por WhatsApp"},
    "web.answered_phone": {"en": "Answered by phone", "es": "Respondió por teléfono"},
    "web.answered_whatsapp": {"en": "Answered on WhatsApp", "es": "Respondió por WhatsApp"},
    "web.no_followup_before": {"en": "No follow-up before", "es": "Sin seguimiento antes del"},
    "web.snooze": {"en": "Snooze", "es": "Posponer"},
    "web.undo": {"en": "Undo", "es": "Deshacer"},
    "web.undo_mark": {"en": "Undo the mark", "es": "Deshacer la marca"},
    "web.undo_snooze": {"en": "Undo the snooze", "es": "Deshacer la posposición"},
    "web.undo_reply": {"en": "Undo the client's answer", "es": "Deshacer la respuesta del cliente"},
    "web.recorded_outcomes": {"en": "Recorded outcomes", "es": "Resultados registrados"},
}

# --- CLI ------------------------------------------------------------------------------------
# ``team.language`` chooses it. Column headings and the lines scan / drafts print.
_CLI: dict[str, dict[str, str]] = {
    "cli.scan.title": {"en": "{n} quote threads at {time} ({zone})",
                       "es": "{n} conversaciones de cotización al {time} ({zone})"},
    "cli.scan.group.silent": {"en": "Silent — a follow-up is due",
                              "es": "Sin respuesta — toca dar seguimiento"},
    "cli.scan.group.awaiting_us": {"en": "Awaiting us — the client answered",
                                   "es": "Nos toca — el cliente respondió"},
    "cli.scan.group.waiting": {"en": "Waiting — next step not due yet",
                               "es": "En espera — el siguiente paso aún no vence"},
    "cli.scan.group.bounced": {"en": "Bounced — fix the contact's address",
                               "es": "Rebotada — corrige la dirección del contacto"},
    "cli.scan.group.exhausted": {"en": "Exhausted — protocol completed without answer",
                                 "es": "Agotada — protocolo completo sin respuesta"},
    "cli.scan.group.closed": {"en": "Closed", "es": "Cerradas"},
    "cli.col.subject": {"en": "Subject", "es": "Asunto"},
    "cli.col.contact": {"en": "Contact", "es": "Contacto"},
    "cli.col.owner": {"en": "Owner", "es": "Responsable"},
    "cli.col.scenario": {"en": "Scenario", "es": "Quién sigue"},
    "cli.col.touches": {"en": "Touches", "es": "Intentos"},
    "cli.col.next_step": {"en": "Next step", "es": "Siguiente paso"},
    "cli.col.due": {"en": "Due", "es": "Vence"},
    "cli.col.why": {"en": "Why", "es": "Por qué"},
    "cli.col.id": {"en": "ID", "es": "ID"},
    "cli.col.thread": {"en": "Thread", "es": "Conversación"},
    "cli.col.status": {"en": "Status", "es": "Estado"},
    "cli.col.step": {"en": "Step", "es": "Paso"},
    "cli.col.channel": {"en": "Channel", "es": "Canal"},
    "cli.col.assignee": {"en": "Assignee", "es": "Asignado a"},
    "cli.col.note": {"en": "Link / note", "es": "Enlace / nota"},
    "cli.no_subject": {"en": "(no subject)", "es": "(sin asunto)"},
    "cli.nobody": {"en": "nobody", "es": "nadie"},
    "cli.drafts.title": {"en": "Follow-ups ({n})", "es": "Seguimientos ({n})"},
    "cli.drafts.in_drafts": {"en": "{account} Drafts", "es": "Borradores de {account}"},
    "cli.drafts.trashed": {
        "en": "draft: moved to the Trash of the {account} mailbox when the follow-up closed "
              "(it can be taken back from there)",
        "es": "borrador: se movió a la Papelera del buzón {account} al cerrarse el seguimiento "
              "(ahí se puede recuperar)"},
    "cli.drafts.gone": {
        "en": "draft: no longer in the {account} Drafts when the follow-up closed "
              "(already sent or deleted)",
        "es": "borrador: ya no estaba en Borradores de {account} al cerrarse el seguimiento "
              "(ya se había enviado o eliminado)"},
    "cli.drafts.links": {
        "en": "Links (open on the phone or computer that makes the call / sends the message):",
        "es": "Enlaces (ábrelos en el teléfono o la computadora con la que llamas o escribes):"},
    "cli.plan.problem": {"en": "template problem: {problem}",
                         "es": "problema de plantilla: {problem}"},
    "cli.approve.done": {"en": "#{fid} {status}: {note}", "es": "#{fid} {status}: {note}"},
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
                     "es": "Seguimientos planeados: {created}; retenidos: {held}"},
    "plan.replanned": {"en": " ({n} of them held before, now ready)",
                       "es": " (antes retenidos y ya listos para revisar: {n})"},
    "plan.adopted": {"en": ", adopted {n} drafts already in a mailbox",
                     "es": "; borradores que ya estaban en un buzón: {n}"},
    "plan.closed": {"en": ", closed {n}", "es": "; cerrados: {n}"},
    "plan.held_line": {"en": "  held #{id}: {reason}", "es": "  retenido #{id}: {reason}"},
    # Planning waits for a mailbox that could not be read or opened (a reply may be unread).
    "plan.unread": {
        "en": "not planned: {n} due threads in the {account} mailbox, whose last sync failed "
              "(a client's answer may be unread there); they are planned once it syncs again: "
              "see `followup accounts list`",
        "es": "sin planear: {n} conversaciones pendientes en el buzón {account}, cuya última "
              "sincronización falló (puede haber una respuesta del cliente sin leer); se planean "
              "cuando vuelva a sincronizar: consulta `followup accounts list`"},
    "plan.mailbox_error": {
        "en": "a mailbox to draft in could not be opened ({error}); its follow-ups wait for the "
              "next plan",
        "es": "no se pudo abrir un buzón para guardar borradores ({error}); sus seguimientos "
              "esperan al siguiente plan"},
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
    "crm.phones_not_read": {
        "en": "the contacts' phone numbers were not read from the CRM ({error}); WhatsApp chats are matched on the ones read before",
        "es": "no se leyeron del CRM los teléfonos de los contactos ({error}); los chats de WhatsApp se relacionan con los leídos antes"},
    "crm.phones_read": {
        "en": "Phone numbers read from the CRM for the WhatsApp chats: {phones}",
        "es": "Teléfonos leídos del CRM para los chats de WhatsApp: {phones}"},
    "crm.phones_status": {
        "en": "Phone numbers from the CRM: {phones} (read {read_at})",
        "es": "Teléfonos del CRM: {phones} (leídos {read_at})"},
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
                             "es": "sin respuesta (toca dar seguimiento)"},
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

CATALOGUE: dict[str, dict[str, str]] = {**_TERMS, **_WAITING, **_PLANNING, **_DUE, **_REVIEW,
                                        **_DIGEST, **_DIGEST_VALUES, **_MORNING, **_WEB, **_CLI,
                                        **_CRM, **_OUTCOMES, **COMMANDS}


def say(code: str, language: str | None = "en", /, **values) -> str:
    """``code`` worded in ``language`` (English when the catalogue lacks it), with
    ``values`` filled in. An unknown code is a programming error (``KeyError``).
    A value given as ``{"en": ..., "es": ...}`` is taken in ``language`` too."""
    entry = CATALOGUE[code]
    language = language if language in LANGUAGES else "en"
    text = entry.get(language) or entry["en"]
    return text.format(**{k: _in(v, language) for k, v in values.items()})


def _in(value, language: str):
    if isinstance(value, dict) and "en" in value:
        return value.get(language) or value["en"]
    return value


def term(kind: str, value: str | None, language: str | None = "en") -> str:
    """An identifier shown as a word: ``term("status", "awaiting_us", "es")``. Unknown
    values are a programming error (``KeyError``): nothing is ever shown raw."""
    if not value:
        return "—"
    return say(f"{kind}.{value}", language)


def both(code: str, **values) -> dict[str, str]:
    """``code`` worded in every language (a value kept for a reader not known yet)."""
    return {language: say(code, language, **values) for language in LANGUAGES}


_BY_ENGLISH: dict[str, str] = {}


def web_text(text: str, language: str | None, **values) -> str:
    """The web templates' ``_("English")``: the catalogue entry whose English is ``text``
    (a ``web.`` entry first), in ``language``. Text not in the catalogue is a
    programming error (``KeyError``)."""
    if not _BY_ENGLISH:
        for code in (*_REVIEW, *_PLANNING, *_WEB):
            _BY_ENGLISH.setdefault(CATALOGUE[code]["en"], code)
    return say(_BY_ENGLISH[text], language, **values)


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
    if code == "marked" and f"closed.marked.{value}" in CATALOGUE:
        return say(f"closed.marked.{value}", language)
    if code == "declined":
        return say("closed.declined", language, phrase=value or "")
    return say("closed.other", language) if code else None


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
    return _worded(reason.code, dict(reason.values), language)


def settlement_reason(outcome, language: str | None = "en") -> str:
    """Why a follow-up closed (:class:`assistant.domain.followups.Settlement`), worded."""
    return _worded(outcome.code, dict(outcome.values), language)


def _worded(code: str, values: dict, language: str | None) -> str:
    if code == "cancel.closed":
        values = {"reason": closed_words(values.get("closed_code"), values.get("closed_value"),
                                         language) or say("closed.other", language)}
    for key, value in values.items():
        if isinstance(value, date):
            values[key] = day_month(value, language)
        elif isinstance(value, dict) and "code" in value:  # a reason inside a reason
            values[key] = _worded(value["code"], dict(value.get("values") or {}), language)
    return say(code, language, **values)


# --- Reasons kept in the database: a code and its values, worded when read -------------------

_STORED = re.compile(r"^@(?P<code>[a-z_]+(?:\.[a-z_]+)+)(?P<values> \{.*\})?$", re.S)


def stored(code: str, /, **values) -> str:
    """A reason for a text column (``followups.hold_reason``, ``closed_reason``): the code
    and its values (dates as ISO days, a value worded ahead as ``{"en": .., "es": ..}``,
    another reason as ``{"code": .., "values": ..}``), worded by :func:`reason_words`."""
    if code not in CATALOGUE:
        raise KeyError(code)
    plain = {k: {"day": v.isoformat()} if isinstance(v, date) else v for k, v in values.items()}
    return f"@{code}" + (" " + json.dumps(plain, ensure_ascii=False, sort_keys=True) if plain else "")


def stored_words(value) -> str:
    """A worded error or result (a catalogue ``code`` and its ``values``, e.g. a
    :class:`Worded`) for a text column, worded again when read (:func:`reason_words`);
    anything else as its text."""
    code = getattr(value, "code", None)
    if code in CATALOGUE:
        return stored(code, **dict(getattr(value, "values", {}) or {}))
    return str(value)


def stored_reason(reason) -> str:
    """A domain reason (``.code``, ``.values``) for a text column."""
    return stored(reason.code, **dict(reason.values))


def reason_code(text: str | None) -> tuple[str, dict] | None:
    """``(code, values)`` of a stored reason; ``None`` for text typed by a person or a
    sentence a database kept before the codes."""
    match = _STORED.match(text or "")
    if not match or match["code"] not in CATALOGUE:
        return None
    values = json.loads(match["values"]) if match["values"] else {}
    for key, value in values.items():
        if isinstance(value, dict) and set(value) == {"day"}:
            values[key] = date.fromisoformat(value["day"])
    return match["code"], values


def reason_words(text: str | None, language: str | None = "en") -> str | None:
    """A stored reason worded in the reader's ``language`` (a person's own text, or an
    old stored sentence, as it is)."""
    if not text:
        return text
    found = reason_code(text)
    if found is None:
        return text
    return _worded(found[0], found[1], language)


class Worded(Exception):
    """An error a person reads: a catalogue ``code`` and its values (``str()`` is the
    English, :meth:`words` the reader's language). Given a plain sentence instead (no
    values, not a code), it keeps it as it is."""

    def __init__(self, code: str, /, **values) -> None:
        self.code, self.values = (code, values) if code in CATALOGUE else (None, {})
        super().__init__(say(code, "en", **values) if self.code else code)

    def words(self, language: str | None = "en") -> str:
        return say(self.code, language, **self.values) if self.code else str(self)


def words_of(value, language: str | None = "en") -> str:
    """What a person reads of ``value``: a worded error or result (its ``words``), a
    stored reason (:func:`reason_words`), or plain text as it is (a provider's or a
    driver's own message)."""
    if hasattr(value, "words"):
        return value.words(language)
    if isinstance(value, dict) and "en" in value:
        return _in(value, language if language in LANGUAGES else "en")
    return reason_words(str(value), language) or ""


def coded(value) -> dict | str:
    """A connector's error or skip reason (``.code``, ``.values``) as a value a stored
    reason can hold (``{"code": .., "values": ..}``, worded when read); else its text."""
    code = getattr(value, "code", None)
    if code in CATALOGUE:
        return {"code": code, "values": dict(getattr(value, "values", {}) or {})}
    return str(value)


def coded_words(value, language: str | None = "en") -> str:
    """A connector's skip reason (or error) in the reader's ``language``; its English
    sentence when it carries no code the catalogue knows."""
    found = coded(value)
    return _worded(found["code"], found["values"], language) if isinstance(found, dict) else found


def every_language(value) -> dict[str, str]:
    """``value`` (as :func:`words_of` reads it) in every language: a value of another
    message, worded with it."""
    return {language: words_of(value, language) for language in LANGUAGES}


def figure(value, language: str | None = "en") -> str:
    """A number as a reader writes it: ``20`` for 20.0, ``2,5`` (Spanish) / ``2.5``
    (English) with one decimal otherwise; ``—`` for none."""
    if value is None:
        return "—"
    if float(value).is_integer():
        return str(int(value))
    shown = f"{value:.1f}"
    return shown.replace(".", ",") if language == "es" else shown


def day_time(moment, language: str | None = "en") -> str:
    """A local time as the CLI tables show it: ``Fri 04 Dec 09:00`` / ``vie 04 dic 09:00``."""
    language = language if language in _DAYS else "en"
    return (f"{_DAYS[language][moment.weekday()]} {moment.day:02d} "
            f"{_MONTHS[language][moment.month - 1]} {moment:%H:%M}")


def digest_strings(language: str | None) -> dict:
    """The digest templates' ``t`` table in ``language``: ``digest.title`` as ``t.title``,
    ``digest.status.silent`` as ``t.status.silent``; a ``{value}`` becomes ``{{ value }}``
    (the digest renders those strings as templates); ``t.why`` and ``t.dates`` too."""
    language = language if language in LANGUAGES else "en"
    table: dict = {"why": {reason: CATALOGUE[f"waiting.{reason}"][language]
                           for reason in ("promised", "back")},
                   "dates": {"days": list(_DAYS[language]), "months": list(_MONTHS[language])}}
    for code, entry in _DIGEST.items():
        *tables, key = code.split(".")[1:]
        where = table
        for name in tables:
            where = where.setdefault(name, {})
        # ``t.why`` keeps ``{day}`` (the digest fills it in itself, like ``waiting.*``).
        where[key] = entry[language] if tables == ["why"] else \
            re.sub(r"\{(\w+)\}", r"{{ \1 }}", entry[language])
    return table


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
