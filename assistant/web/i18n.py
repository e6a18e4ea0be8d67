"""Spanish and English for the web UI: the user's choice (kept in their session and in
``web_users.language``), else the browser's ``Accept-Language``, else Spanish.

Texts are written in English in the templates (``{{ _("Sign in") }}``); this catalog
gives the Spanish. A text missing here shows in English (a test checks there is none).
"""

from __future__ import annotations

LANGUAGES = ("es", "en")
DEFAULT = "es"

ES = {
    # layout
    "My follow-ups": "Mis seguimientos",
    "Team": "Equipo",
    "Templates": "Plantillas",
    "Protocol and team": "Protocolo y equipo",
    "Protocol": "Protocolo",
    "Sign out": "Cerrar sesión",
    "Language": "Idioma",
    "Skip to content": "Ir al contenido",
    # my settings (/me)
    "My settings": "Mis ajustes",
    "Morning email": "Correo matutino",
    "Each business morning you have follow-ups due, an email lists them with links to call, write on WhatsApp or review the draft.":
        "Cada mañana hábil en que tienes seguimientos pendientes, un correo te los lista con enlaces para llamar, escribir por WhatsApp o revisar el borrador.",
    "Send me the morning email": "Enviarme el correo matutino",
    "Save": "Guardar",
    "Morning email on.": "Correo matutino activado.",
    "Morning email off.": "Correo matutino desactivado.",
    "Your admin turned the morning email off for the whole team.":
        "Tu administrador desactivó el correo matutino para todo el equipo.",
    # sign-in
    "Sign in": "Iniciar sesión",
    "Email": "Correo",
    "Password": "Contraseña",
    "Wrong email or password.": "Correo o contraseña incorrectos.",
    "Too many wrong passwords. Try again after {time}.":
        "Demasiadas contraseñas incorrectas. Vuelve a intentarlo después de las {time}.",
    "Sign in through your company's sign-in page.":
        "Inicia sesión en la página de acceso de tu empresa.",
    "Ask your admin for a password (followup users set-password).":
        "Pide una contraseña a tu administrador (followup users set-password).",
    # errors
    "Page not found, or not yours to see.": "Página no encontrada, o no te corresponde verla.",
    "You may not do this.": "No tienes permiso para hacer esto.",
    "The form expired. Go back, reload the page and try again.":
        "El formulario caducó. Vuelve atrás, recarga la página e inténtalo de nuevo.",
    "Only managers and admins see this page.": "Solo gerentes y administradores ven esta página.",
    "Only admins see this page.": "Solo los administradores ven esta página.",
    "Back to the start": "Volver al inicio",
    "Error": "Error",
    # queue
    "Nothing to follow up right now.": "Nada que dar seguimiento por ahora.",
    "Due": "Vence",
    "Step": "Paso",
    "Channel": "Canal",
    "Contact": "Contacto",
    "Subject": "Asunto",
    "Status": "Estado",
    "Open": "Abrir",
    "Call": "Llamar",
    "Keyboard: j / k move, o or Enter open; on a follow-up: a approve, s skip, e edit, c log a call.":
        "Teclado: j / k para moverse, o o Intro para abrir; en un seguimiento: a aprobar, s omitir, e editar, c registrar llamada.",
    "held": "retenido",
    "drafted": "listo",
    "approved": "aprobado",
    "sent": "enviado",
    "done": "hecho",
    "skipped": "omitido",
    "cancelled": "cancelado",
    "email": "correo",
    "phone": "llamada",
    "whatsapp": "WhatsApp",
    "Held:": "Retenido:",
    # follow-up page
    "Follow-up": "Seguimiento",
    "Draft": "Borrador",
    "Approve": "Aprobar",
    "Skip": "Omitir",
    "Why skip it?": "¿Por qué lo omites?",
    "Say why you skip it.": "Di por qué lo omites.",
    "Save changes": "Guardar cambios",
    "Edit": "Editar",
    "Body": "Texto",
    "Log a call": "Registrar llamada",
    "Log a WhatsApp message": "Registrar mensaje de WhatsApp",
    "Note (optional)": "Nota (opcional)",
    "Approved.": "Aprobado.",
    "Skipped.": "Omitido.",
    "Saved.": "Guardado.",
    "Call logged.": "Llamada registrada.",
    "WhatsApp message logged.": "Mensaje de WhatsApp registrado.",
    "Open WhatsApp": "Abrir WhatsApp",
    "Thread": "Conversación",
    "Timeline": "Historial",
    "Owner": "Responsable",
    "Scenario": "Escenario",
    "Touches": "Toques",
    "Next step": "Siguiente paso",
    "Follow-ups of this thread": "Seguimientos de esta conversación",
    "This follow-up is {status}: nothing left to do.": "Este seguimiento está {status}: no queda nada por hacer.",
    "quote": "cotización",
    "reply": "respuesta",
    "auto_reply": "respuesta automática",
    "bounce": "rebote",
    "delay": "retraso de entrega",
    "complaint": "queja de spam",
    "receipt": "acuse de lectura",
    "internal": "interno",
    "touch_phone": "llamada registrada",
    "touch_whatsapp": "WhatsApp registrado",
    "nobody": "nadie",
    # statuses & scenarios
    "silent": "en silencio",
    "waiting": "en espera",
    "awaiting_us": "cliente esperando",
    "closed": "cerrado",
    "bounced": "rebotado",
    "exhausted": "agotado",
    "rep": "ejecutivo",
    "manager": "gerente",
    "unclear": "poco claro",
    # outcomes (issue 14)
    "Thread ID": "ID de la conversación",
    "Outcome": "Resultado",
    "Reason (optional)": "Motivo (opcional)",
    "Mark won": "Marcar como ganada",
    "Mark lost": "Marcar como perdida",
    "Won": "Ganada",
    "Lost": "Perdida",
    "What the client said (optional)": "Qué dijo el cliente (opcional)",
    "The client answered by phone": "El cliente respondió por teléfono",
    "The client answered on WhatsApp": "El cliente respondió por WhatsApp",
    "Answered by phone": "Respondió por teléfono",
    "Answered on WhatsApp": "Respondió por WhatsApp",
    "No follow-up before": "Sin seguimiento antes del",
    "Snooze": "Posponer",
    "Undo": "Deshacer",
    "Undo the mark": "Deshacer la marca",
    "Undo the snooze": "Deshacer la posposición",
    "Undo the client's answer": "Deshacer la respuesta del cliente",
    "Recorded outcomes": "Resultados registrados",
    "reply_phone": "respuesta por teléfono",
    "reply_whatsapp": "respuesta por WhatsApp",
    # team
    "Silent threads by owner": "Conversaciones en silencio por responsable",
    "No silent threads.": "Sin conversaciones en silencio.",
    "Unassigned": "Sin responsable",
    "Scenario mix": "Mezcla de escenarios",
    "of open threads": "de las conversaciones abiertas",
    "Clients waiting on us": "Clientes esperando respuesta",
    "No client is waiting.": "Ningún cliente está esperando.",
    "Replied": "Respondió",
    "Unclear and unowned threads": "Conversaciones sin responsable claro",
    "None: every thread has a clear owner.": "Ninguna: todas tienen un responsable claro.",
    "Candidates": "Candidatos",
    "Assign owner": "Asignar responsable",
    "Assign": "Asignar",
    "Owner of “{subject}” set to {owner}.": "Responsable de «{subject}» asignado: {owner}.",
    "Protocol compliance (quotes of the last 90 days)":
        "Cumplimiento del protocolo (cotizaciones de los últimos 90 días)",
    "Quotes sent": "Cotizaciones enviadas",
    "Abandoned after one follow-up": "Abandonadas tras un seguimiento",
    "Reached five follow-ups": "Llegaron a cinco seguimientos",
    "Overdue steps": "Pasos vencidos",
    "Not followed up yet": "Sin seguimiento todavía",
    "Median business days to the first follow-up": "Mediana de días hábiles al primer seguimiento",
    "Threads by status": "Conversaciones por estado",
    # templates
    "Template": "Plantilla",
    "Used by": "Usada en",
    "Version": "Versión",
    "shipped": "original",
    "not used by the protocol": "no la usa el protocolo",
    "Preview": "Vista previa",
    "Preview against": "Vista previa con",
    "Save as a new version": "Guardar como nueva versión",
    "History": "Historial",
    "Saved as version {n}.": "Guardada como versión {n}.",
    "Version {old} is current again (saved as version {n}).":
        "La versión {old} vuelve a estar vigente (guardada como versión {n}).",
    "Line {n}": "Línea {n}",
    "Rendered against the thread": "Generada con la conversación",
    "sample values": "valores de ejemplo",
    "Compare": "Comparar",
    "with": "con",
    "Roll back to this version": "Volver a esta versión",
    "by": "por",
    "Author": "Autor",
    "Date": "Fecha",
    "No differences.": "Sin diferencias.",
    "Edit the template": "Editar la plantilla",
    # settings
    "Read-only: edit settings.toml and restart to change these.":
        "Solo lectura: edita settings.toml y reinicia para cambiarlos.",
    "Business days after the previous touch": "Días hábiles desde el toque anterior",
    "Time zone": "Zona horaria",
    "Holidays of": "Feriados de",
    "Send window starts": "La ventana de envío empieza",
    "Follow-ups belong to": "Los seguimientos son de",
    "Automatic sending": "Envío automático",
    "yes": "sí",
    "no": "no",
    "Name": "Nombre",
    "Role": "Rol",
    "Manager": "Gerente",
    "Admin": "Admin",
    "account_executive": "ejecutivo de cuenta",
    "sdr": "SDR",
    "customer_success": "éxito del cliente",
    "owner": "responsable",
}


def choose(chosen: str | None, accept_languages) -> str:
    if chosen in LANGUAGES:
        return chosen
    best = accept_languages.best_match(LANGUAGES) if accept_languages else None
    return best or DEFAULT


def translate(lang: str, text: str, **kwargs) -> str:
    if lang == "es":
        text = ES.get(text, text)
    return text.format(**kwargs) if kwargs else text
