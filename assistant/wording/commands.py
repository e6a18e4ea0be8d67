"""The command line's words: what ``followup`` prints, each entry ``{"en": ..., "es": ...}``
with the same ``{placeholders}`` (merged into :data:`assistant.wording.CATALOGUE`).

The CLI speaks ``[team] language``; before the settings load it is not known and English
is used (``assistant.cli.context.UNKNOWN_LANGUAGE``). Error labels (``cli.*``) come first,
then one block per command, then the services' errors a command prints (database, digest,
web secret, users). Spanish: Mexican business Spanish, "tú".
"""

from __future__ import annotations

__all__ = ["COMMANDS"]

# --- The labels of error lines (``Label: message`` on standard error) ------------------
_LABELS: dict[str, dict[str, str]] = {
    "cli.database_error": {"en": "Database error", "es": "Error de base de datos"},
    # A command that reads the team's data, on a SQLite file that does not exist (a moved
    # file, a typo in storage.url): never a new empty database that forgets every mark.
    "cli.empty_database": {
        "en": "the database file {path} is empty (0 bytes): restore it from a backup, run "
              "`followup sync` to build it anew from the mail, or fix [storage] url in {file}",
        "es": "el archivo de base de datos {path} está vacío (0 bytes): restáuralo de un respaldo, "
              "ejecuta `followup sync` para crearlo de nuevo a partir del correo, o corrige "
              "[storage] url en {file}"},
    "cli.no_database": {
        "en": "no database at {path}: run `followup sync` to create it from the mail, or fix "
              "[storage] url in {file} if the file is elsewhere",
        "es": "no hay base de datos en {path}: ejecuta `followup sync` para crearla a partir "
              "del correo, o corrige [storage] url en {file} si el archivo está en otro lugar"},
    "cli.template_error": {"en": "Template error", "es": "Error de plantilla"},
    "cli.unknown_account": {"en": "Unknown account", "es": "Cuenta de correo desconocida"},
    "cli.authentication_error": {"en": "Authentication error", "es": "Error de autenticación"},
    "cli.configuration_error": {"en": "Configuration error", "es": "Error de configuración"},
    "cli.transient_error": {"en": "Transient error", "es": "Falla pasajera"},
    "cli.crm_settings": {"en": "CRM settings", "es": "Configuración del CRM"},
    "cli.crm": {"en": "CRM", "es": "CRM"},
    "crm.refused_sign_in": {"en": "{error}. {fix}", "es": "{error}. {fix}"},
    "cli.digest": {"en": "Digest", "es": "Resumen"},
    "cli.morning": {"en": "Morning list", "es": "Lista matutina"},
    "cli.not_overwritten": {"en": "Not overwritten", "es": "No se sobrescribió"},
    "cli.not_set": {"en": "Not set", "es": "No se guardó"},
    "cli.unsafe_secret": {"en": "Unsafe secret", "es": "Clave secreta insegura"},
    "cli.already_running": {"en": "Already running", "es": "Ya está en marcha"},
    "cli.unknown": {"en": "(unknown)", "es": "(desconocida)"},
    "cli.yes": {"en": "yes", "es": "sí"},
}

# --- drafts show | skip | edit, touch ---------------------------------------------------
_DRAFTS: dict[str, dict[str, str]] = {
    "cli.show.head": {"en": "#{id} · step {step} · {what} · {status} · assignee {assignee}",
                      "es": "#{id} · paso {step} · {what} · {status} · asignado a {assignee}"},
    "cli.show.kind.email": {"en": "email draft", "es": "borrador de correo"},
    "cli.show.kind.phone": {"en": "call task", "es": "llamada por hacer"},
    "cli.show.kind.whatsapp": {"en": "WhatsApp message", "es": "mensaje de WhatsApp"},
    "cli.show.thread": {"en": "thread: {thread}  contact: {contact}",
                        "es": "conversación: {thread}  contacto: {contact}"},
    "cli.show.cc": {"en": "copied: {cc}", "es": "con copia a: {cc}"},
    "cli.show.template": {"en": "template: {template} ({language}, version {version})",
                          "es": "plantilla: {template} ({language}, versión {version})"},
    "cli.show.held": {"en": "held: {reason}", "es": "retenido: {reason}"},
    "cli.show.closed": {"en": "closed: {reason}", "es": "cerrado: {reason}"},
    "cli.show.skipped": {"en": "skipped: {reason}", "es": "omitido: {reason}"},
    "cli.show.draft": {"en": "draft: {account} mailbox, {ref}",
                       "es": "borrador: buzón {account}, {ref}"},
    "cli.show.link": {"en": "link: {link}", "es": "enlace: {link}"},
    "cli.show.subject": {"en": "Subject: {subject}", "es": "Asunto: {subject}"},
    "cli.email.to": {"en": "To: {to}", "es": "Para: {to}"},
    "cli.skip.done": {"en": "#{fid} skipped", "es": "#{fid} omitido"},
    "cli.skip.done_why": {"en": "#{fid} skipped: {reason}", "es": "#{fid} omitido: {reason}"},
    "cli.edit.unchanged": {"en": "Not changed.", "es": "Sin cambios."},
    "cli.edit.saved": {"en": "#{fid} saved.", "es": "#{fid} guardado."},
    "cli.touch.done": {"en": "Logged a {channel} touch on {thread}.",
                       "es": "Se registró un contacto por {channel} en {thread}."},
    "cli.touch.done_closed": {
        "en": "Logged a {channel} touch on {thread}; follow-ups done: {n}.",
        "es": "Se registró un contacto por {channel} en {thread}; seguimientos hechos: {n}."},
}

# --- drafts plan: what a run could not do -------------------------------------------------
_PLAN: dict[str, dict[str, str]] = {
    "plan.draft_lost_thread": {
        "en": "follow-up {fid}: its draft was never saved, and its thread is gone",
        "es": "seguimiento {fid}: su borrador nunca se guardó, y su conversación ya no existe"},
    "plan.draft_lost_account": {
        "en": "follow-up {fid}: its draft was never saved, and account {account!r} is not in "
              "settings.toml any more",
        "es": "seguimiento {fid}: su borrador nunca se guardó, y la cuenta de correo {account!r} "
              "ya no está en settings.toml"},
}

# --- scan, rebuild, inspect -----------------------------------------------------------
_THREADS: dict[str, dict[str, str]] = {
    "cli.scan.storage_warning": {
        "en": "warning: {problem} (these answers are those of the mail indexed before)",
        "es": "aviso: {problem} (estas respuestas son las del correo indexado antes)"},
    "cli.rebuild.done": {"en": "Rebuilt the read model: {n} lead threads.",
                         "es": "Se recalcularon todas las conversaciones: {n} conversaciones de cotización."},
    "cli.inspect.col.file": {"en": "File", "es": "Archivo"},
    "cli.inspect.col.kind": {"en": "Kind", "es": "Tipo"},
    "cli.inspect.col.quote": {"en": "Quote", "es": "Cotización"},
    "cli.inspect.col.language": {"en": "Lang", "es": "Idioma"},
    "cli.inspect.col.notes": {"en": "Notes", "es": "Notas"},
    "cli.inspect.kind.message": {"en": "message", "es": "mensaje"},
    "cli.inspect.unreadable": {"en": "unreadable", "es": "ilegible"},
    "cli.inspect.bounced": {"en": "bounced: {who}", "es": "rebotó: {who}"},
    "cli.inspect.bounced_permanent": {"en": "bounced: {who} (permanent)",
                                      "es": "rebotó: {who} (permanente)"},
    "inspect.unreadable_file": {"en": "cannot read file: {error}",
                                "es": "no se puede leer el archivo: {error}"},
    "inspect.not_mail": {
        "en": "not an email message: no From, Subject, Date, Message-ID or Content-Type header",
        "es": "no es un correo: no tiene encabezado From, Subject, Date, Message-ID ni Content-Type"},
}

# --- sync, accounts list | test | add -----------------------------------------------------
_ACCOUNTS: dict[str, dict[str, str]] = {
    "sync.progress_messages": {"en": "messages", "es": "mensajes"},
    "sync.root_folder": {"en": "(root)", "es": "(raíz)"},
    "digest.bad_suffix": {"en": "{path}: a digest is written as {suffixes} (HTML, plain text or "
                                "the whole message); name the file with one of them",
                          "es": "{path}: el resumen se escribe como {suffixes} (HTML, texto o el "
                                "mensaje completo); nombra el archivo con una de ellas"},
    "sync.indexing": {"en": "indexing threads", "es": "indexando conversaciones"},
    "sync.done": {"en": "{account}: read {read}, new {new}",
                  "es": "{account}: leídos {read}, nuevos {new}"},
    # Counts after their label, as "read {read}": "1 omitidos" never reads right for one.
    "sync.touches": {"en": "WhatsApp touches {n}", "es": "contactos por WhatsApp {n}"},
    "sync.parse_warnings": {"en": "with parse warnings {n}", "es": "con avisos al leerlos {n}"},
    "sync.skipped": {"en": "skipped {n}", "es": "omitidos {n}"},
    "sync.skipped_line": {"en": "  skipped: {reason}", "es": "  omitido: {reason}"},
    "sync.skipped_more": {"en": "  … and {n} more skipped (run `followup -v sync` to see each)",
                          "es": "  … y {n} omitidos más (corre `followup -v sync` para verlos todos)"},
    "sync.skipped_note": {"en": "{n} files could not be read at the last sync, e.g. {first}",
                          "es": "{n} archivos no se pudieron leer en la última sincronización, "
                                "p. ej. {first}"},
    "sync.skipped_note_one": {"en": "a file could not be read at the last sync: {first}",
                              "es": "un archivo no se pudo leer en la última sincronización: {first}"},
    "sync.set_aside": {
        "en": "set aside {n} (refused by the database; see `followup accounts list`)",
        "es": "apartados {n} (la base de datos los rechazó; consulta `followup accounts list`)"},
    "sync.chats_set_aside": {"en": "{n} chats set aside (see `followup accounts list`)",
                             "es": "{n} chats apartados (consulta `followup accounts list`)"},
    "sync.failed": {"en": "{account}: FAILED ({hint}): {error}",
                    "es": "{account}: FALLÓ ({hint}): {error}"},
    "sync.hint.needs_reauth": {"en": "re-authenticate this account",
                               "es": "vuelve a autenticar esta cuenta de correo"},
    "sync.hint.retrying": {"en": "a passing fault: the next sync retries",
                           "es": "falla pasajera: la próxima sincronización lo reintenta"},
    "sync.hint.needs_attention": {"en": "check this account in settings.toml",
                                  "es": "revisa esta cuenta de correo en settings.toml"},
    "sync.hint.storage_error": {"en": "database error", "es": "error de base de datos"},
    "sync.unknown_account": {"en": 'no account named "{name}" in {file} (accounts: {names})',
                             "es": 'no hay una cuenta de correo llamada "{name}" en {file} '
                                   "(cuentas: {names})"},
    "sync.not_recorded": {"en": "{error} (the account's status could not be recorded either)",
                          "es": "{error} (tampoco se pudo registrar el estado de la cuenta)"},
    # A connector's error (connectors/base.py: ``code`` and ``values``, the code prefixed
    # "connector."): what a person meets setting an account up, in their language.
    "connector.maildir.missing": {"en": "Maildir not found: {path}",
                                  "es": "no se encontró el Maildir: {path}"},
    "connector.eml.missing": {"en": ".eml folder not found: {path}",
                              "es": "no se encontró la carpeta de archivos .eml: {path}"},
    "connector.mbox.missing": {"en": "mbox file not found: {path}",
                               "es": "no se encontró el archivo mbox: {path}"},
    "connector.whatsapp.missing": {"en": "WhatsApp export folder not found: {path}",
                                   "es": "no se encontró la carpeta de exportaciones de WhatsApp: {path}"},
    "connector.path.not_folder": {"en": "{kind} path is not a folder: {path}",
                                  "es": "la ruta de {kind} no es una carpeta: {path}"},
    "connector.maildir.not_maildir": {"en": "not a Maildir (no cur/ or new/ folder): {path}",
                                      "es": "no es un Maildir (no tiene carpeta cur/ ni new/): {path}"},
    "connector.path.unreadable": {"en": "cannot read the folder {path}: {error}",
                                  "es": "no se puede leer la carpeta {path}: {error}"},
    "connector.mbox.not_file": {"en": "mbox path is not a file: {path}",
                                "es": "la ruta del mbox no es un archivo: {path}"},
    "connector.token.missing": {"en": "token file {path} not found",
                                "es": "no se encontró el archivo de token {path}"},
    "connector.token.missing_run": {"en": "token file {path} not found; run `{command}` to sign in",
                                    "es": "no se encontró el archivo de token {path}; corre "
                                          "`{command}` para iniciar sesión"},
    "connector.token.readable": {"en": "token file {path} is readable by other users (mode {mode}); "
                                       "run `chmod 600 {path}`",
                                 "es": "otros usuarios pueden leer el archivo de token {path} "
                                       "(modo {mode}); corre `chmod 600 {path}`"},
    "connector.secret.unset": {"en": 'account "{account}": the environment variable {variable} '
                                     "(its password_env) is not set; set it to the account's "
                                     "(app) password",
                               "es": 'cuenta "{account}": la variable de entorno {variable} (su '
                                     "password_env) no está definida; ponle la contraseña (de "
                                     "aplicación) de la cuenta"},
    "connector.signin.refused": {"en": "{provider} refused the saved sign-in ({detail}); run "
                                       "`{command}` to sign in again",
                                 "es": "{provider} rechazó el inicio de sesión guardado ({detail}); "
                                       "corre `{command}` para volver a iniciar sesión"},
    "connector.signin.unreachable": {"en": "cannot reach {provider}'s sign-in service: {detail}",
                                     "es": "no se pudo contactar el servicio de inicio de sesión "
                                           "de {provider}: {detail}"},
    "connector.retry.exhausted": {"en": "{what}: still failing after {tries} tries; the next sync "
                                        "will retry",
                                  "es": "{what}: sigue fallando después de {tries} intentos; el "
                                        "siguiente sync lo volverá a intentar"},
    "connector.skip.unreadable": {"en": "{path}: cannot read: {error}",
                                  "es": "{path}: no se puede leer: {error}"},
    "connector.skip.empty": {"en": "{path}: empty file", "es": "{path}: archivo vacío"},
    "connector.skip.not_mbox": {"en": "{path}: {bytes} bytes at offset {offset} are not mbox data "
                                      "(no 'From ' line)",
                                "es": "{path}: {bytes} bytes en la posición {offset} no son datos "
                                      "mbox (sin línea 'From ')"},
    "connector.imap.unknown_host": {"en": "cannot resolve IMAP host {host}",
                                    "es": "no se encuentra el servidor IMAP {host} (revisa el nombre)"},
    "connector.imap.login_refused": {"en": "IMAP login to {host} as {user} was refused: {error}",
                                     "es": "el servidor IMAP {host} rechazó el inicio de sesión de "
                                           "{user}: {error}"},
    "connector.imap.failed": {"en": "IMAP {host}: failed {times} times: {error}",
                              "es": "IMAP {host}: falló {times} veces: {error}"},
    "connector.imap.no_folder": {"en": "IMAP folder {folder!r} not found on {host} for {user} "
                                       "(folders there: {folders})",
                                 "es": "la carpeta IMAP {folder!r} no existe en {host} para {user} "
                                       "(carpetas que hay: {folders})"},
    "sync.unexpected": {"en": "unexpected error: {kind}: {error}",
                        "es": "error inesperado: {kind}: {error}"},
    "accounts.state.ok": {"en": "ok", "es": "al día"},
    "accounts.state.never_synced": {"en": "never synced", "es": "nunca sincronizada"},
    "accounts.state.needs_reauth": {"en": "needs re-authentication",
                                    "es": "hay que volver a autenticarla"},
    "accounts.state.retrying": {"en": "retrying", "es": "reintentando"},
    "accounts.state.needs_attention": {"en": "needs attention", "es": "requiere atención"},
    "accounts.state.storage_error": {"en": "database error", "es": "error de base de datos"},
    "accounts.set_aside": {"en": "  set aside: {id}: {reason}", "es": "  apartado: {id}: {reason}"},
    "accounts.more_set_aside": {"en": "  … and {n} more set aside",
                                "es": "  … y {n} apartados más"},
    "accounts.first_batch": {"en": "first batch: {n} messages", "es": "primer lote: {n} mensajes"},
    "accounts.test_ok": {"en": "{name}: ok — {report}", "es": "{name}: funciona — {report}"},
    "accounts.add.service_account": {
        "en": 'Service account key stored; add username = "rep@your-domain" to the account '
              "(the mailbox it acts as, by domain-wide delegation).",
        "es": 'Clave de la cuenta de servicio guardada; agrega username = "rep@tu-dominio" a '
              "la cuenta (el buzón en cuyo nombre actúa, por delegación en todo el dominio)."},
    "accounts.add.open_address": {
        "en": "Open this address in a browser (on this machine, or tunnel the port): {url}",
        "es": "Abre esta dirección en un navegador (en esta máquina, o con un túnel al puerto): {url}"},
    "accounts.add.refused": {"en": "Microsoft refused the sign-in: {error}",
                             "es": "Microsoft rechazó el inicio de sesión: {error}"},
    "accounts.add.failed": {"en": "sign-in failed: {error}",
                            "es": "falló el inicio de sesión: {error}"},
    "accounts.add.secret_first": {
        "en": "set the environment variable {variable} to the client secret first",
        "es": "primero define la variable de entorno {variable} con el secreto del cliente"},
    "accounts.add.wrote": {"en": "Wrote {path} (mode 0600).", "es": "Se escribió {path} (modo 0600)."},
    "accounts.add.settings": {
        "en": 'In settings.toml: [[accounts]] name = "{name}", kind = "{kind}", oauth = "{path}"',
        "es": 'En settings.toml: [[accounts]] name = "{name}", kind = "{kind}", oauth = "{path}"'},
    "accounts.add.then": {"en": "Then: followup accounts test {name}",
                          "es": "Después: followup accounts test {name}"},
}

# --- templates list | preview | validate | save ------------------------------------------
_TEMPLATES: dict[str, dict[str, str]] = {
    "templates.title": {"en": "Templates", "es": "Plantillas"},
    "templates.col.name": {"en": "Name", "es": "Nombre"},
    "templates.col.language": {"en": "Language", "es": "Idioma"},
    "templates.col.version": {"en": "Version", "es": "Versión"},
    "templates.col.source": {"en": "Source", "es": "Origen"},
    "templates.col.in_protocol": {"en": "In protocol", "es": "En el protocolo"},
    "templates.in_protocol": {"en": "yes", "es": "sí"},
    "templates.source.shipped": {"en": "{file} (shipped)", "es": "{file} (incluida)"},
    "templates.source.saved": {"en": "{name}.{language} (version {version} by {author})",
                               "es": "{name}.{language} (versión {version}, de {author})"},
    "templates.where": {
        "en": "Template files: yours in {folder} ({state}), then the shipped ones in {shipped}; "
              "the digest's are in digest/ of each.",
        "es": "Archivos de plantillas: los tuyos en {folder} ({state}), luego los incluidos en "
              "{shipped}; los del resumen están en digest/ de cada carpeta."},
    "templates.found_first": {"en": "found first", "es": "se buscan primero"},
    "templates.none_yet": {"en": "none yet", "es": "aún no hay"},
    "templates.folder_unset": {"en": "named by [templates] folder",
                               "es": "la que indique [templates] folder"},
    "templates.step_missing": {
        "en": "protocol step {number}: no template named {template!r} (add {template}.es.txt "
              "and {template}.en.txt to the templates folder {folder})",
        "es": "paso {number} del protocolo: no hay plantilla llamada {template!r} (agrega "
              "{template}.es.txt y {template}.en.txt a la carpeta de plantillas {folder})"},
    "templates.all_render": {"en": "All templates render.",
                             "es": "Todas las plantillas se generan bien."},
    "templates.saved": {"en": "Saved {name}.{language} version {version}.",
                        "es": "Se guardó {name}.{language}, versión {version}."},
}

# --- digest (its sending; the digest itself is in its reader's language) ----------------
_DIGEST: dict[str, dict[str, str]] = {
    "digest.cli.result.sent": {"en": "{email}: sent", "es": "{email}: enviado"},
    "digest.cli.result.skipped": {"en": "{email}: skipped (already sent for this period)",
                                  "es": "{email}: omitido (ya se envió en este periodo)"},
    "digest.cli.result.failed": {"en": "{email}: failed ({error})", "es": "{email}: falló ({error})"},
    "digest.err.wording": {"en": "cannot read the digest wording {path}: {error}",
                           "es": "no se pudo leer el texto del resumen {path}: {error}"},
    "digest.err.template": {"en": "digest template error: {error}",
                            "es": "error en la plantilla del resumen: {error}"},
    "digest.err.not_a_recipient": {"en": "{manager} receives no digest (recipients: {names})",
                                   "es": "{manager} no recibe resumen (lo reciben: {names})"},
    "digest.err.nobody": {
        "en": 'nobody receives a digest: give a team member role = "manager" or name them as '
              "others' manager in settings.toml",
        "es": 'nadie recibe el resumen: da a alguien del equipo role = "manager" o ponlo como '
              "manager de otros en settings.toml"},
    "digest.err.smtp_password": {
        "en": "digest.smtp.password_env: the environment variable {variable} is not set",
        "es": "digest.smtp.password_env: la variable de entorno {variable} no está definida"},
    "digest.err.cannot_send": {"en": "account {account} ({kind}) cannot send mail",
                               "es": "la cuenta de correo {account} ({kind}) no puede enviar correo"},
    "digest.err.account": {"en": "account {account}: {error}",
                           "es": "cuenta de correo {account}: {error}"},
    "digest.err.send_with": {"en": "digest.send_with: no account named {name!r}",
                             "es": "digest.send_with: no hay una cuenta de correo llamada {name!r}"},
    "digest.err.no_sender": {
        "en": 'no way to send the digest: add a [digest.smtp] section to {file}, or send_with = '
              '"<account name>" under [digest] to send through a connected Gmail or Microsoft '
              "365 account",
        "es": 'no hay cómo enviar el resumen: agrega una sección [digest.smtp] a {file}, o '
              'send_with = "<nombre de la cuenta>" en [digest] para enviarlo con una cuenta de '
              "Gmail o Microsoft 365 conectada"},
}

# --- init, run, serve, users set-password ---------------------------------------------------
_START: dict[str, dict[str, str]] = {
    "init.exists": {"en": "{path} already exists; edit it, or run `followup init --force` to start over",
                    "es": "{path} ya existe; edítalo, o corre `followup init --force` para empezar de nuevo"},
    "init.wrote": {"en": "Wrote {path} and created the database ({url}).",
                   "es": "Se escribió {path} y se creó la base de datos ({url})."},
    "init.kept": {"en": "The settings that were there are kept in {backup}.",
                  "es": "La configuración que había se guardó en {backup}."},
    "init.next": {"en": "Next: edit the company, team and [[accounts]] sections, then run `followup sync`.",
                  "es": "Sigue: edita las secciones company, team y [[accounts]], y luego corre "
                        "`followup sync`."},
    "run.job.sync": {"en": "sync", "es": "sincronización"},
    "run.job.plan": {"en": "plan", "es": "planeación"},
    "run.job.morning": {"en": "morning", "es": "lista matutina"},
    "run.job.digest": {"en": "digest", "es": "resumen"},
    "run.done": {"en": "{job}: done", "es": "{job}: hecho"},
    "run.failed": {"en": "{job}: FAILED (see the log above)", "es": "{job}: FALLÓ (ver el registro de arriba)"},
    "run.nothing_due": {"en": "nothing due", "es": "nada pendiente"},
    "run.next": {"en": "next {job} {at}", "es": "{job} el {at}"},
    "run.started": {
        "en": "followup run: worker {worker}, syncing every {minutes} min; {next} ({zone}). "
              "Stop with Ctrl-C or SIGTERM.",
        "es": "followup run: proceso {worker}, sincroniza cada {minutes} min; lo siguiente: "
              "{next} ({zone}). Detenlo con Ctrl-C o SIGTERM."},
    "run.another_worker": {
        "en": "another `followup run` is already working on this SQLite database (lock file "
              "{path}); run one worker per SQLite database, or use PostgreSQL for several",
        "es": "ya hay otro `followup run` trabajando con esta base de datos SQLite (archivo de "
              "bloqueo {path}); corre un solo proceso por base SQLite, o usa PostgreSQL para varios"},
    "serve.started": {"en": "Followup web app on {url} (Ctrl+C to stop); sign-in: {auth}.",
                      "es": "Aplicación web de Followup en {url} (Ctrl+C para detenerla); "
                            "inicio de sesión: {auth}."},
    "serve.auth.password": {"en": "password", "es": "contraseña"},
    "serve.auth.proxy": {"en": "through the company's proxy", "es": "con el proxy de la empresa"},
    "serve.beyond": {"en": "Listening beyond this machine: put a TLS proxy in front of it.",
                     "es": "Escucha más allá de esta máquina: pon un proxy TLS delante."},
    "users.password": {"en": "Password", "es": "Contraseña"},
    "users.repeat_password": {"en": "Repeat for confirmation", "es": "Repítela para confirmar"},
    "users.password_set": {"en": "Password set for {email}.",
                           "es": "Contraseña guardada para {email}."},
    "users.not_member": {
        "en": "{email} is not a team member in {file}; add a [[team.members]] entry first",
        "es": "{email} no es del equipo en {file}; primero agrega una entrada [[team.members]]"},
    "users.too_short": {"en": "the password is too short (at least {n} characters)",
                        "es": "la contraseña es demasiado corta (mínimo {n} caracteres)"},
    "secret.symlink": {
        "en": "{path} is a symbolic link, not the key file Followup made: delete it (a new key "
              "is made) or set {variable}",
        "es": "{path} es un enlace simbólico, no el archivo de clave que creó Followup: bórralo "
              "(se crea una clave nueva) o define {variable}"},
    "secret.unreadable": {
        "en": "cannot read {path}: {error}; delete it (a new key is made) or set {variable}",
        "es": "no se puede leer {path}: {error}; bórralo (se crea una clave nueva) o define {variable}"},
    "secret.not_a_file": {
        "en": "{path} is not a regular file: delete it (a new key is made) or set {variable}",
        "es": "{path} no es un archivo normal: bórralo (se crea una clave nueva) o define {variable}"},
    "secret.readable": {
        "en": "{path} can be read by other users: run `chmod 600 {path}` (or set {variable})",
        "es": "otros usuarios pueden leer {path}: corre `chmod 600 {path}` (o define {variable})"},
    "secret.no_key": {
        "en": "{path} holds no usable key: delete it (a new one is made) or set {variable}",
        "es": "{path} no tiene una clave que sirva: bórralo (se crea una nueva) o define {variable}"},
}

# --- demo ------------------------------------------------------------------------------------
_DEMO: dict[str, dict[str, str]] = {
    "demo.written": {"en": "Sample team written to {folder} ({n} message files).",
                     "es": "Equipo de ejemplo escrito en {folder} ({n} archivos de mensajes)."},
    "demo.synced": {"en": "Synced {account}: read {read}, new {new}",
                    "es": "Sincronizado {account}: leídos {read}, nuevos {new}"},
    "demo.planned": {
        "en": "Planned {created} follow-ups due at {at} (held {held}): email drafts are in each "
              "rep's Maildir Drafts folder ({folder}); calls and WhatsApp have links.",
        "es": "Seguimientos planeados al {at}: {created} (retenidos: {held}); los borradores de "
              "correo están en la carpeta de borradores (.Drafts) del Maildir de cada "
              "representante ({folder}); las llamadas y los WhatsApp tienen enlaces."},
    "demo.account": {"en": "<account>", "es": "<cuenta>"},
    "demo.digest": {"en": "Weekly digest for {name}: {path} (open it in a browser)",
                    "es": "Resumen semanal para {name}: {path} (ábrelo en un navegador)"},
    "demo.try_scan": {"en": "Try: {cmd} --config {config} scan --now {now} --json",
                      "es": "Prueba: {cmd} --config {config} scan --now {now} --json"},
    "demo.try_show": {"en": "     {cmd} --config {config} drafts show {fid}",
                      "es": "        {cmd} --config {config} drafts show {fid}"},
    "demo.web": {
        "en": "Web app: {cmd} --config {config} serve --now {now}   then open {url} and sign "
              'in as any team member with the password "{password}" (rep: {rep}, manager and '
              "admin: {admins}).",
        "es": "Aplicación web: {cmd} --config {config} serve --now {now}   luego abre {url} "
              'e inicia sesión como cualquier persona del equipo con la contraseña "{password}" '
              "(representante: {rep}, gerente y administradora: {admins})."},
}

# --- The database, as the commands report it (assistant.storage.errors) --------------------
_STORAGE: dict[str, dict[str, str]] = {
    "storage.during": {"en": " while {doing}", "es": " al {doing}"},
    "storage.doing.checking": {"en": "checking it", "es": "revisarla"},
    "storage.doing.migrating": {"en": "preparing its tables", "es": "preparar sus tablas"},
    "storage.doing.syncing": {"en": "syncing account {account}",
                              "es": "sincronizar la cuenta de correo {account}"},
    "storage.doing.reconciling": {"en": "updating follow-ups", "es": "actualizar los seguimientos"},
    "storage.doing.indexing": {"en": "indexing the new mail", "es": "indexar el correo nuevo"},
    "storage.full": {
        "en": "the database {where} is full{during} ({detail}): {room}, then run the command "
              "again; what was stored is kept and sync resumes after it",
        "es": "la base de datos {where} está llena{during} ({detail}): {room}, y vuelve a correr "
              "el comando; lo guardado se conserva y la sincronización sigue desde ahí"},
    "storage.full_fix.server": {"en": "free space on the database server's disk",
                                "es": "libera espacio en el disco del servidor de la base de datos"},
    "storage.full_fix.file": {"en": "free space on its disk (or raise its size limit)",
                              "es": "libera espacio en su disco (o sube su límite de tamaño)"},
    "storage.read_only": {
        "en": "the database {where} is read-only{during} ({detail}): {fix}, then run the command again",
        "es": "la base de datos {where} es de solo lectura{during} ({detail}): {fix}, y vuelve a "
              "correr el comando"},
    "storage.read_only_fix.server": {
        "en": "point storage.url at the primary server (this one accepts no writes)",
        "es": "apunta storage.url al servidor principal (este no acepta escrituras)"},
    "storage.read_only_fix.file": {
        "en": "make the file and its folder writable by the user running Followup (SQLite "
              "also writes -wal and -shm files next to it)",
        "es": "da permiso de escritura sobre el archivo y su carpeta al usuario que corre "
              "Followup (SQLite también escribe archivos -wal y -shm junto a él)"},
    "storage.damaged": {"en": "the database {where} is damaged{during} ({detail}): {fix}",
                        "es": "la base de datos {where} está dañada{during} ({detail}): {fix}"},
    "storage.damaged_fix.server": {
        "en": "have its administrator repair it or restore it from a backup",
        "es": "pide a su administrador que la repare o la restaure de un respaldo"},
    "storage.damaged_fix.file": {
        "en": "stop Followup, restore the file from a backup (or rebuild it: sqlite3 FILE "
              "'.recover' | sqlite3 NEW), then point storage.url at the good copy",
        "es": "detén Followup, restaura el archivo de un respaldo (o reconstrúyelo: sqlite3 FILE "
              "'.recover' | sqlite3 NEW) y apunta storage.url a la copia buena"},
    "storage.cannot_open": {
        "en": "cannot open the database {where}{during} ({detail}): check that its folder "
              "exists and is writable by this user (storage.url or FOLLOWUP_DATABASE_URL)",
        "es": "no se puede abrir la base de datos {where}{during} ({detail}): revisa que su "
              "carpeta exista y que este usuario pueda escribir en ella (storage.url o "
              "FOLLOWUP_DATABASE_URL)"},
    "storage.io_error": {
        "en": "cannot read or write the database {where}{during} ({detail}): check the disk it "
              "lives on, then run the command again",
        "es": "no se puede leer ni escribir la base de datos {where}{during} ({detail}): revisa "
              "el disco donde está y vuelve a correr el comando"},
    "storage.busy": {
        "en": "the database {where} is busy{during} ({detail}): another Followup process holds "
              "it; wait for it to finish, then run the command again",
        "es": "la base de datos {where} está ocupada{during} ({detail}): otro proceso de "
              "Followup la tiene; espera a que termine y vuelve a correr el comando"},
    "storage.unreachable": {
        "en": "cannot use the database {where}{during} ({detail}): check that the server is "
              "running and reachable and that storage.url / FOLLOWUP_DATABASE_URL is right, then "
              "run the command again",
        "es": "no se puede usar la base de datos {where}{during} ({detail}): revisa que el "
              "servidor esté corriendo y accesible y que storage.url / FOLLOWUP_DATABASE_URL sea "
              "correcto, y vuelve a correr el comando"},
    "storage.failed": {
        "en": "the database {where} failed{during} ({kind}: {detail}): run the command again "
              "with -v for details; if it persists, report it",
        "es": "falló la base de datos {where}{during} ({kind}: {detail}): vuelve a correr el "
              "comando con -v para ver detalles; si sigue pasando, repórtalo"},
    "storage.no_folder": {
        "en": "cannot create the folder {folder} of the database ({error}): create it, or point "
              "storage.url at a folder this user may write",
        "es": "no se puede crear la carpeta {folder} de la base de datos ({error}): créala, o "
              "apunta storage.url a una carpeta donde este usuario pueda escribir"},
    "storage.bad_url": {"en": "cannot open database {where}: {error}",
                        "es": "no se puede abrir la base de datos {where}: {error}"},
    "storage.read_only_file": {
        "en": "the database {where} is read-only ({target} is not writable): make the file and "
              "its folder writable by the user running Followup (SQLite also writes -wal and "
              "-shm files next to it), then sync again",
        "es": "la base de datos {where} es de solo lectura (no se puede escribir en {target}): "
              "da permiso de escritura sobre el archivo y su carpeta al usuario que corre "
              "Followup (SQLite también escribe archivos -wal y -shm junto a él) y vuelve a "
              "sincronizar"},
    "storage.read_only_server": {
        "en": "the database {where} is read-only (the server accepts no writes: a standby?): "
              "point storage.url at the primary server",
        "es": "la base de datos {where} es de solo lectura (el servidor no acepta escrituras: "
              "¿es una réplica?): apunta storage.url al servidor principal"},
    "storage.refused_value": {"en": "the database refused a value of this message: {detail}",
                              "es": "la base de datos rechazó un valor de este mensaje: {detail}"},
    "storage.refused_constraint": {
        "en": "the database refused a constraint of this message: {detail}",
        "es": "la base de datos rechazó este mensaje por una restricción: {detail}"},
    "storage.copy_vanished": {
        "en": "message {message_id} was stored earlier in this sync and is no longer in the "
              "database {where} (deleted while the sync ran?): this batch was not recorded; "
              "run sync again and it is read anew",
        "es": "el mensaje {message_id} se guardó antes en esta misma sincronización y ya no "
              "está en la base de datos {where} (¿se borró mientras corría?): este lote no se "
              "registró; vuelve a sincronizar y se lee de nuevo"},
    "storage.refused_all": {
        "en": "the database {where} refused every message of a batch of {n} ({reason}): nothing "
              "was stored or set aside; check the database (its tables and server), then run the "
              "command again",
        "es": "la base de datos {where} rechazó todos los mensajes de un lote de {n} ({reason}): "
              "no se guardó ni se apartó nada; revisa la base de datos (sus tablas y su "
              "servidor) y vuelve a correr el comando"},
}

COMMANDS: dict[str, dict[str, str]] = {**_LABELS, **_DRAFTS, **_PLAN, **_THREADS, **_ACCOUNTS,
                                       **_TEMPLATES, **_DIGEST, **_START, **_DEMO, **_STORAGE}
