"""Loading and validation: ``load_settings`` reads ``settings.toml``, checks every key
(its type, its allowed values, the keys a section may hold: :data:`KEYS`) and returns the
:class:`~assistant.settings.model.Settings`; any problem raises :class:`SettingsError`,
whose message names the key, the file and a fix (the CLI prints it and exits with status 2).
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from dataclasses import replace
from email.utils import parseaddr
from pathlib import Path
from typing import Mapping
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from assistant.settings.model import (
    _SQLITE_URL, DEFAULT_QUOTE_KEYWORDS, DEFAULT_DECLINE_PHRASES, DEFAULT_REQUEST_PHRASES,
    DEFAULT_EXCLUDE_PHRASES, DEFAULT_QUOTE_PHRASES, DEFAULT_BUYER_PHRASES,
    DEFAULT_PROMISE_PHRASES, DEFAULT_NON_QUOTE_PHRASES, DEFAULT_HOLDING_PHRASES,
    DEFAULT_PUBLIC_DOMAINS, ROLES, ACCOUNT_KINDS, CHANNELS, DATE_ORDERS, RESPONSIBLE_ROLES, WEEKDAYS,
    Company, Contact, Member, Team, Account, Step, Protocol, Detection, Smtp, Digest, Schedule, Web, Crm,
    Templates, Storage, Settings,
)
from assistant.settings.schema import Reader, SettingsError, join_key

CONFIG_ENV = "FOLLOWUP_CONFIG"
DATABASE_URL_ENV = "FOLLOWUP_DATABASE_URL"
DEFAULT_SETTINGS_FILE = "settings.toml"
DEFAULT_STORAGE_URL = "sqlite:///followup.db"
TLS_MODES = ("ssl", "starttls", "none")

_EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$")
_DOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{5,}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

_TOP_KEYS = ("company", "team", "accounts", "protocol", "detection", "digest", "storage",
             "schedule", "web", "templates", "contacts", "crm")
_TEMPLATES_KEYS = ("folder",)
DEFAULT_TEMPLATES_FOLDER = "templates"
_WEB_KEYS = ("auth", "proxy_header", "proxy_addresses", "lockout_minutes", "base_url")
WEB_AUTH = ("password", "proxy")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]+$")
_COMPANY_KEYS = ("name", "domains")
_TEAM_KEYS = ("timezone", "members", "language")
_MEMBER_KEYS = ("email", "name", "role", "manager", "admin", "phone")
_CONTACT_KEYS = ("email", "name", "company", "phone", "formal")
_PROTOCOL_KEYS = ("holidays_country", "send_window_start", "responsible_role", "auto_send",
                  "quiet_days", "holding_days", "steps")
_STEP_KEYS = ("after_days", "channel", "template")
_DETECTION_KEYS = ("quote_keywords", "quote_phrases", "decline_phrases", "request_phrases",
                   "exclude_phrases", "holding_phrases", "public_domains", "buyer_phrases",
                   "promise_phrases", "non_quote_phrases")
_DIGEST_KEYS = ("weekday", "time", "language", "sender", "smtp", "send_with", "morning_list")
_SMTP_KEYS = ("host", "port", "security", "username", "password_env")
SMTP_SECURITY = ("starttls", "ssl", "none")
DIGEST_LANGUAGES = ("es", "en")
_SCHEDULE_KEYS = ("sync_minutes", "lease_minutes")
_STORAGE_KEYS = ("url",)
_CRM_KEYS = ("kind", "url", "database", "username", "password_env", "api_key_env", "stages",
             "pipeline", "api")
CRM_KINDS = ("tryton", "odoo", "hubspot")
CRM_ODOO_APIS = ("json2", "xmlrpc")
"""``[crm] api`` for Odoo: the JSON-2 API (19+) or XML-RPC ``execute_kw`` (18 and older)."""
CRM_STAGES = ("open", "won", "lost")
_FILE_KINDS = ("maildir", "mbox", "eml")
_ACCOUNT_KEYS = {
    "maildir": ("name", "kind", "owner", "path", "folders"),
    "mbox": ("name", "kind", "owner", "path", "folders"),
    "eml": ("name", "kind", "owner", "path", "folders"),
    "imap": ("name", "kind", "owner", "host", "port", "username", "password_env", "oauth",
             "tls", "ca_file", "folders"),
    "gmail": ("name", "kind", "owner", "username", "oauth", "host", "folders", "sync_days"),
    "outlook": ("name", "kind", "owner", "username", "oauth", "host", "folders", "sync_days"),
    "whatsapp": ("name", "kind", "owner", "path", "me", "date_order"),
}
DEFAULT_SYNC_DAYS = 180
"""How far back a Gmail or Outlook account's first sync reads (issue 13: a whole mailbox
costs hours and quota; follow-ups concern recent quotes)."""
_ALL_ACCOUNT_KEYS = tuple(dict.fromkeys(k for keys in _ACCOUNT_KEYS.values() for k in keys))

KEYS: dict[str, tuple[str, ...]] = {
    "": _TOP_KEYS, "company": _COMPANY_KEYS, "team": _TEAM_KEYS, "team.members": _MEMBER_KEYS,
    "accounts": _ALL_ACCOUNT_KEYS, "protocol": _PROTOCOL_KEYS, "protocol.steps": _STEP_KEYS,
    "detection": _DETECTION_KEYS, "digest": _DIGEST_KEYS, "digest.smtp": _SMTP_KEYS,
    "schedule": _SCHEDULE_KEYS, "web": _WEB_KEYS, "templates": _TEMPLATES_KEYS,
    "storage": _STORAGE_KEYS, "contacts": _CONTACT_KEYS, "crm": _CRM_KEYS, "crm.stages": CRM_STAGES,
}
"""Every key the file may hold, by section (``""``: the top level; ``accounts``: the keys
of any kind, :data:`_ACCOUNT_KEYS` says which kind takes which). docs/configuration.md
documents each one (tests/test_settings.py checks)."""


def default_settings_path(environ: Mapping[str, str] = os.environ) -> Path:
    """Where the settings live when no path is given: ``$FOLLOWUP_CONFIG``, else ``./settings.toml``."""
    return Path(environ.get(CONFIG_ENV) or DEFAULT_SETTINGS_FILE)


def load_settings(path: str | Path | None = None, *,
                  environ: Mapping[str, str] = os.environ) -> Settings:
    """Read, validate and return the settings; raise :class:`SettingsError` on any problem.

    ``path`` defaults to ``$FOLLOWUP_CONFIG``, then ``./settings.toml``. Relative paths in
    the file resolve against its folder; ``$FOLLOWUP_DATABASE_URL`` overrides ``storage.url``.
    """
    file = Path(path) if path is not None else default_settings_path(environ)
    file = file.expanduser()
    if not file.is_file():
        what = "is a folder, not a file" if file.is_dir() else "not found"
        raise SettingsError(
            f"settings file {what}", key=None, file=file,
            fix=f"run `followup init` to write a starter {file.name if not file.is_dir() else 'settings.toml'}, "
                f"or pass --config PATH (or set {CONFIG_ENV}) to point at yours",
        )
    try:
        text = file.read_text(encoding="utf-8-sig")  # a byte-order mark (Windows Notepad) is no text
    except UnicodeDecodeError:
        raise SettingsError("the file is not UTF-8 text", key=None, file=file,
                            fix="save the file with UTF-8 encoding") from None
    except OSError as exc:
        raise SettingsError(f"cannot read the file ({exc.strerror})", key=None, file=file,
                            fix="make the file readable by the user running followup") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(
            f"not valid TOML: {exc}", key=None, file=file,
            fix='correct that line: texts need double quotes (name = "Ana"), lists brackets '
                '(domains = ["acme.example"]), and each key may appear once per section',
        ) from None
    r = Reader(file=file, folder=file.resolve().parent)
    return _settings(r, data, environ)


def _settings(r: Reader, data: dict, environ: Mapping[str, str]) -> Settings:
    r.check_keys(data, "", _TOP_KEYS)
    company = _company(r, r.table(data, "", "company", required=True))
    team = _team(r, r.table(data, "", "team", required=True))
    accounts = _accounts(r, data, team)
    protocol = _protocol(r, r.table(data, "", "protocol", required=True), team)
    detection = _detection(r, r.table(data, "", "detection", required=False) or {})
    digest = _digest(r, r.table(data, "", "digest", required=False) or {}, accounts)
    storage = _storage(r, r.table(data, "", "storage", required=False) or {}, environ)
    schedule = _schedule(r, r.table(data, "", "schedule", required=False) or {})
    web = _web(r, r.table(data, "", "web", required=False) or {})
    templates = _templates(r, r.table(data, "", "templates", required=False) or {})
    contacts = _contacts(r, data)
    crm = _crm(r, r.table(data, "", "crm", required=False))
    team = replace(team, language=r.string(
        data["team"], "team", "language", example="es", default=digest.language,
        choices=DIGEST_LANGUAGES, lower=True))
    return Settings(path=r.file.resolve(), company=company, team=team, accounts=accounts,
                    protocol=protocol, detection=detection, digest=digest, storage=storage,
                    schedule=schedule, web=web, templates=templates, contacts=contacts,
                    crm=crm)


def _company(r: Reader, t: dict) -> Company:
    r.check_keys(t, "company", _COMPANY_KEYS)
    name = r.string(t, "company", "name", example="Acme", required=True)
    r.required(t, "company", "domains", '["acme.example"]')
    domains = r.string_list(t, "company", "domains", example='["acme.example"]',
                            lower=True, non_empty=True)
    for i, d in enumerate(domains, start=1):
        if not _DOMAIN.match(d):
            bare = d.rpartition("@")[2].strip(".")
            raise r.error(f"company.domains[{i}]", f'"{d}" is not a mail domain',
                          f'write only the part after the @, for example "{bare or "acme.example"}"')
    return Company(name=name, domains=tuple(dict.fromkeys(domains)))


def _team(r: Reader, t: dict) -> Team:
    r.check_keys(t, "team", _TEAM_KEYS)
    tz = r.string(t, "team", "timezone", example="America/Mexico_City", required=True)
    try:
        ZoneInfo(tz)
        valid = "/" in tz or tz == "UTC"
    except (ZoneInfoNotFoundError, ValueError):
        valid = False
    if not valid:
        import difflib
        import re
        if re.fullmatch(r"(?i)(utc|gmt)\s*[+-]\s*\d{1,2}(:?\d{2})?", tz.strip()):
            # An offset is no place: "UTC-6" would become "UTC", six hours off.
            raise r.error("team.timezone", f'"{tz}" is a UTC offset, not a time zone (an offset '
                          "does not follow daylight saving time or its changes)",
                          'write the team\'s Region/City, e.g. timezone = "America/Mexico_City" '
                          '(Mexico City, Monterrey, Guadalajara), "America/Bogota", "America/Lima", '
                          '"America/Argentina/Buenos_Aires" or "Europe/Madrid"')
        close = difflib.get_close_matches(tz, sorted(available_timezones()), n=1, cutoff=0.6)
        suggestion = close[0] if close else "America/Mexico_City"
        raise r.error("team.timezone", f'"{tz}" is not an IANA time zone',
                      f'write timezone = "{suggestion}" (Region/City, as listed in the IANA time zone database)')
    members: list[Member] = []
    seen: dict[str, str] = {}
    entries = r.tables(t, "team", "members", required=True,
                       example='email, name and role (account_executive | sdr | customer_success | manager)')
    for key, m in entries:
        r.check_keys(m, key, _MEMBER_KEYS)
        email = _email(r, m, key, "email", required=True)
        if email in seen:
            raise r.error(f"{key}.email", f"{email} is already listed as {seen[email]}",
                          "list each person once, with a single [[team.members]] entry")
        seen[email] = f"{key}"
        name = r.string(m, key, "name", example="Ana Pérez", required=True)
        role = r.string(m, key, "role", example="account_executive", required=True,
                        choices=ROLES, lower=True)
        phone = _phone(r, m, key)
        members.append(Member(
            email=email, name=name, role=role,
            manager=_email(r, m, key, "manager"),
            admin=r.boolean(m, key, "admin", default=False),
            phone=phone,
        ))
    for (key, _), member in zip(entries, members):
        if member.manager is None:
            continue
        if member.manager == member.email:
            raise r.error(f"{key}.manager", "a member cannot be their own manager",
                          "remove manager from this entry, or write the email of the person they report to")
        if member.manager not in seen:
            raise r.error(f"{key}.manager", f"{member.manager} is not a team member",
                          "add a [[team.members]] entry for the manager, or write the email of an existing member")
    return Team(timezone=tz, members=tuple(members))


def _phone(r: Reader, t: dict, key: str) -> str | None:
    phone = r.string(t, key, "phone", example="+52 55 1234 5678")
    if phone is not None and not _PHONE.match(phone):
        raise r.error(f"{key}.phone", f'"{phone}" is not a phone number',
                      'write phone = "+52 55 1234 5678" (international format, with the country code)')
    return phone


def _contacts(r: Reader, data: dict) -> tuple[Contact, ...]:
    """``[[contacts]]``: clients as the admins know them (name, company, phone, formal)."""
    contacts: list[Contact] = []
    seen: dict[str, str] = {}
    for key, c in r.tables(data, "", "contacts", required=False,
                           example='email, and any of name, company, phone, formal'):
        r.check_keys(c, key, _CONTACT_KEYS)
        email = _email(r, c, key, "email", required=True, example="compras@cliente.example")
        if email in seen:
            raise r.error(f"{key}.email", f"{email} is already listed as {seen[email]}",
                          "list each contact once, with a single [[contacts]] entry")
        seen[email] = key
        contacts.append(Contact(
            email=email,
            name=r.string(c, key, "name", example="Raúl Quiroga"),
            company=r.string(c, key, "company", example="Barandales MX"),
            phone=_phone(r, c, key),
            formal=r.boolean(c, key, "formal", default=False),
        ))
    return tuple(contacts)


def _email(r: Reader, t: dict, prefix: str, name: str, *, required: bool = False,
           example: str = "ana@acme.example") -> str | None:
    value = r.string(t, prefix, name, example=example, required=required, lower=True)
    if value is None:
        return None
    addr = parseaddr(value)[1] if "<" in value else value
    if not _EMAIL.match(addr):
        raise r.error(join_key(prefix, name), f'"{value}" is not an email address',
                      f'write {name} = "{example}" (just the address, no display name)')
    return addr


def _accounts(r: Reader, data: dict, team: Team) -> tuple[Account, ...]:
    accounts: list[Account] = []
    names: dict[str, str] = {}
    for key, a in r.tables(data, "", "accounts", required=True,
                           example='name, kind and path (for example kind = "maildir", path = "mail/ana")'):
        # The kind decides which keys are allowed, so check it first.
        if "kind" not in a:
            r.check_keys(a, key, _ALL_ACCOUNT_KEYS)
        kind = r.string(a, key, "kind", example="maildir", required=True, choices=ACCOUNT_KINDS, lower=True)
        allowed = _ACCOUNT_KEYS[kind]
        for k in a:
            if k in _ALL_ACCOUNT_KEYS and k not in allowed:
                raise r.error(join_key(key, k), f'{k} does not apply to a {kind} account',
                              f"remove {k}; a {kind} account takes {', '.join(x for x in allowed if x not in ('name', 'kind'))}")
        r.check_keys(a, key, allowed)
        name = r.string(a, key, "name", example="ana", required=True)
        if name in names:
            raise r.error(f"{key}.name", f'the name "{name}" is already used by {names[name]}',
                          "give each account its own name (it is used in `followup sync --account NAME`)")
        names[name] = key
        owner = _email(r, a, key, "owner")
        if owner is not None and team.member(owner) is None:
            raise r.error(f"{key}.owner", f"{owner} is not a team member",
                          "write the email of a [[team.members]] entry, or remove owner for a shared mailbox")
        folders = r.string_list(a, key, "folders", example='["INBOX", "Sent"]', default=())
        if kind == "whatsapp":
            raw = r.string(a, key, "path", example=f"whatsapp/{name}", required=True)
            me = r.string(a, key, "me", example="Ana Pérez")
            if me is None and owner is None:
                raise r.error(f"{key}.owner", "a whatsapp account needs to know which side of "
                              "its chats is the rep's",
                              'add owner = "ana@acme.example" (a team member), or me = "Ana Pérez" '
                              "(the rep's name as the exports write it)")
            date_order = r.string(a, key, "date_order", example="day_first",
                                  choices=DATE_ORDERS, lower=True)
            accounts.append(Account(name=name, kind=kind, path=r.path(raw), owner=owner,
                                    me=me, date_order=date_order))
            continue
        if kind in _FILE_KINDS:
            raw = r.string(a, key, "path", example=f"mail/{name}", required=True)
            accounts.append(Account(name=name, kind=kind, path=r.path(raw), folders=folders, owner=owner))
            continue
        username = (_email(r, a, key, "username") if kind != "imap"
                    else r.string(a, key, "username", example="ana@acme.example", required=True))
        if owner is None and username and team.member(username) is not None:
            owner = team.member(username).email
        oauth = r.string(a, key, "oauth", example="secrets/ana-token.json")
        if oauth is not None:
            oauth = str(r.path(oauth))
        host = r.string(a, key, "host", example="imap.acme.example", required=(kind == "imap"), lower=True)
        if kind != "imap":
            if oauth is None:
                raise r.error(f"{key}.oauth", f"a {kind} account needs an OAuth token file",
                              'add oauth = "secrets/' + name + '-token.json" (a file with mode 0600, '
                              "relative to the settings folder)")
            sync_days = r.integer(a, key, "sync_days", what="a number of days", example=180,
                                  default=DEFAULT_SYNC_DAYS, minimum=0, maximum=36500)
            accounts.append(Account(name=name, kind=kind, host=host, username=username,
                                    oauth=oauth, folders=folders, owner=owner, sync_days=sync_days))
            continue
        password_env = r.string(a, key, "password_env", example="FOLLOWUP_IMAP_PASSWORD")
        if password_env is not None and not _ENV_NAME.match(password_env):
            raise r.error(f"{key}.password_env", f'"{password_env}" is not an environment variable name',
                          'write the name of the variable that holds the password, for example '
                          'password_env = "FOLLOWUP_IMAP_PASSWORD"')
        if password_env is None and oauth is None:
            raise r.error(f"{key}.password_env", "an imap account needs a password or an OAuth token",
                          'add password_env = "FOLLOWUP_IMAP_PASSWORD" and set that environment variable '
                          "to the password (or add oauth = \"path/to/token.json\")")
        tls = r.string(a, key, "tls", example="ssl", default="ssl", choices=TLS_MODES, lower=True)
        if tls == "none" and not _is_loopback(host):
            raise r.error(f"{key}.tls", f'tls = "none" would send the password unencrypted to {host}',
                          'write tls = "ssl" (or "starttls"); "none" is allowed only for 127.0.0.1 or localhost')
        port = r.integer(a, key, "port", what="a port number", example=993 if tls == "ssl" else 143,
                         default=993 if tls == "ssl" else 143, minimum=1, maximum=65535)
        ca_file = _ca_file(r, a, key, tls)
        accounts.append(Account(name=name, kind=kind, host=host, port=port, username=username,
                                password_env=password_env, tls=tls, oauth=oauth,
                                folders=folders, owner=owner, ca_file=ca_file))
    return tuple(accounts)


def _ca_file(r: Reader, a: dict, key: str, tls: str) -> str | None:
    """An imap account's ``ca_file``: an existing PEM file with at least one certificate."""
    raw = r.string(a, key, "ca_file", example="certs/acme-ca.pem")
    if raw is None:
        return None
    if tls == "none":
        raise r.error(f"{key}.ca_file", 'ca_file does not apply with tls = "none" (no certificate is checked)',
                      'remove ca_file, or write tls = "ssl" (or "starttls")')
    path = r.path(raw)
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        raise r.error(f"{key}.ca_file", f"cannot read {path}: {exc.strerror or exc}",
                      "write the path of the CA certificate (PEM), relative to the settings folder") from None
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise r.error(f"{key}.ca_file", f"{path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                      "point ca_file at the CA's certificate in PEM form (convert a .der/.cer file with "
                      "`openssl x509 -inform der -in ca.cer -out ca.pem`)")
    return str(path)


def _is_loopback(host: str) -> bool:
    host = host.strip("[]").rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _protocol(r: Reader, t: dict, team: Team) -> Protocol:
    import holidays

    r.check_keys(t, "protocol", _PROTOCOL_KEYS)
    country = r.string(t, "protocol", "holidays_country", example="MX", required=True)
    try:  # (list_supported_countries() imports all 250 countries' modules: 0.3 s a command)
        holidays.country_holidays(country.upper())
        known = True
    except (NotImplementedError, KeyError, AttributeError):
        known = False
    if not known:
        raise r.error("protocol.holidays_country", f'"{country}" is not a country the holidays package knows',
                      'write the two-letter ISO country code, for example holidays_country = "MX" '
                      '(ES, CO, AR, CL, PE, US, ...)')
    country = country.upper()
    send_window_start = r.hhmm(t, "protocol", "send_window_start", default="09:00")
    responsible_role = r.string(t, "protocol", "responsible_role", example="owner", default="owner",
                                choices=RESPONSIBLE_ROLES, lower=True)
    if responsible_role != "owner" and not team.members_with_role(responsible_role):
        raise r.error("protocol.responsible_role",
                      f'follow-ups belong to the {responsible_role} role but no team member has it',
                      f'add a [[team.members]] entry with role = "{responsible_role}", '
                      'or write responsible_role = "owner"')
    auto_send = r.boolean(t, "protocol", "auto_send", default=False)
    quiet_days = r.integer(t, "protocol", "quiet_days", what="a whole number of days", example=3,
                           default=3, minimum=0)
    holding_days = r.integer(t, "protocol", "holding_days", what="a whole number of business days",
                             example=5, default=5, minimum=0, maximum=260)
    steps = []
    for key, s in r.tables(t, "protocol", "steps", required=True,
                           example='after_days = 2, channel = "email" and template = "followup_1"'):
        r.check_keys(s, key, _STEP_KEYS)
        steps.append(Step(
            after_days=r.integer(s, key, "after_days", what="a whole number of business days",
                                 example=2, required=True, minimum=0),
            channel=r.string(s, key, "channel", example="email", required=True, choices=CHANNELS, lower=True),
            template=r.string(s, key, "template", example="followup_1", required=True),
        ))
    return Protocol(holidays_country=country, send_window_start=send_window_start,
                    responsible_role=responsible_role, auto_send=auto_send,
                    steps=tuple(steps), quiet_days=quiet_days, holding_days=holding_days)


def _detection(r: Reader, t: dict) -> Detection:
    r.check_keys(t, "detection", _DETECTION_KEYS)
    keywords = r.string_list(t, "detection", "quote_keywords", default=DEFAULT_QUOTE_KEYWORDS,
                             example='["cotización", "presupuesto", "quote"]')
    phrases = r.string_list(t, "detection", "quote_phrases", default=DEFAULT_QUOTE_PHRASES,
                            example='["adjunto la cotización"]')
    if not keywords and not phrases:
        raise r.error("detection.quote_keywords", "with no keywords and no phrases nothing counts as a quote",
                      'write quote_keywords = ["cotización", "presupuesto", "quote"] or remove the key to use the defaults')
    public = r.string_list(t, "detection", "public_domains", default=DEFAULT_PUBLIC_DOMAINS,
                           example='["gmail.com", "hotmail.com"]', lower=True)
    for i, domain in enumerate(public, start=1):
        if not _DOMAIN.match(domain) or "." not in domain:
            bare = domain.rpartition("@")[2].strip(".")
            raise r.error(f"detection.public_domains[{i}]", f'"{domain}" is not a mail domain',
                          f'write only the part after the @, for example "{bare or "gmail.com"}"')
    return Detection(
        quote_keywords=keywords, quote_phrases=phrases,
        decline_phrases=r.string_list(t, "detection", "decline_phrases", default=DEFAULT_DECLINE_PHRASES,
                                      example='["no nos interesa", "not interested"]'),
        request_phrases=r.string_list(t, "detection", "request_phrases", default=DEFAULT_REQUEST_PHRASES,
                                      example='["solicitud de cotización", "request for quote"]'),
        exclude_phrases=r.string_list(t, "detection", "exclude_phrases", default=DEFAULT_EXCLUDE_PHRASES,
                                      example='["tipo de cambio", "stock quote"]'),
        holding_phrases=r.string_list(t, "detection", "holding_phrases", default=DEFAULT_HOLDING_PHRASES,
                                      example='["te confirmo", "lo reviso", "let me check"]'),
        public_domains=tuple(dict.fromkeys(public)),
        buyer_phrases=r.string_list(t, "detection", "buyer_phrases", default=DEFAULT_BUYER_PHRASES,
                                    example='["me pueden cotizar", "send us a quote"]'),
        promise_phrases=r.string_list(t, "detection", "promise_phrases", default=DEFAULT_PROMISE_PHRASES,
                                      example='["en breve", "will send"]'),
        non_quote_phrases=r.string_list(t, "detection", "non_quote_phrases",
                                        default=DEFAULT_NON_QUOTE_PHRASES,
                                        example='["propuesta de fecha", "job offer"]'),
    )


def _digest(r: Reader, t: dict, accounts: tuple[Account, ...] = ()) -> Digest:
    r.check_keys(t, "digest", _DIGEST_KEYS)
    send_with = r.string(t, "digest", "send_with", example="smtp", default="smtp")
    if send_with != "smtp":
        account = next((a for a in accounts if a.name == send_with), None)
        sendable = [a.name for a in accounts if a.kind in ("gmail", "outlook")]
        if account is None or account.kind not in ("gmail", "outlook"):
            what = (f'"{send_with}" is a {account.kind} account, which cannot send mail' if account
                    else f'no account is named "{send_with}"')
            raise r.error("digest.send_with", what,
                          'write send_with = "smtp" (with a [digest.smtp] section) or the name of a '
                          "gmail or outlook [[accounts]] entry"
                          + (f" ({', '.join(sendable)})" if sendable else ""))
    return Digest(
        send_with=send_with,
        weekday=r.string(t, "digest", "weekday", example="monday", default="monday",
                         choices=WEEKDAYS, lower=True),
        time=r.hhmm(t, "digest", "time", default="08:00"),
        language=r.string(t, "digest", "language", example="es", default="es",
                          choices=DIGEST_LANGUAGES, lower=True),
        sender=_email(r, t, "digest", "sender"),
        smtp=_smtp(r, r.table(t, "digest", "smtp", required=False)),
        morning_list=r.boolean(t, "digest", "morning_list", default=True),
    )


def _env_name(r: Reader, t: dict, key: str, name: str, example: str) -> str | None:
    value = r.string(t, key, name, example=example)
    if value is not None and not _ENV_NAME.match(value):
        raise r.error(f"{key}.{name}", f'"{value}" is not an environment variable name',
                      f'write the name of the variable that holds the secret, for example '
                      f'{name} = "{example}"')
    return value


def _crm(r: Reader, t: dict | None) -> Crm | None:
    if t is None:
        return None
    key = "crm"
    r.check_keys(t, key, _CRM_KEYS)
    kind = r.string(t, key, "kind", example="tryton", required=True, choices=CRM_KINDS,
                    lower=True)
    url = r.string(t, key, "url", example="https://tryton.acme.example:8000",
                   required=kind != "hubspot")
    if url is not None and not re.match(r"^https?://[^/\s]+", url):
        raise r.error(f"{key}.url", f'"{url}" is not an http(s) address',
                      'write url = "https://crm.acme.example" (the server\'s address, with '
                      "http:// or https://)")
    if "api" in t and kind != "odoo":
        raise r.error(f"{key}.api", f'api applies to Odoo only, not to kind = "{kind}"',
                      "remove the api line")
    api = r.string(t, key, "api", example="xmlrpc", default="json2", choices=CRM_ODOO_APIS,
                   lower=True)
    if api == "xmlrpc":  # XML-RPC signs in as a user on a database, not with a bare key
        for name, example, what in (("database", "acme", "the Odoo database's name"),
                                    ("username", "followup", "the login of the Odoo user whose "
                                                             "API key or password Followup uses")):
            if name not in t:
                raise r.error(f"{key}.{name}", f'api = "xmlrpc" signs in with {name}, which is missing',
                              f'add {name} = "{example}" ({what})')
    database = r.string(t, key, "database", example="acme", required=kind == "tryton")
    username = r.string(t, key, "username", example="followup", required=kind == "tryton")
    password_env = _env_name(r, t, key, "password_env", "FOLLOWUP_CRM_PASSWORD")
    api_key_env = _env_name(r, t, key, "api_key_env", "FOLLOWUP_CRM_API_KEY")
    if password_env is None and api_key_env is None:
        wanted = "password_env" if kind == "tryton" else "api_key_env"
        raise r.error(f"{key}.{wanted}", "the CRM needs a password or an API key",
                      f'add {wanted} = "FOLLOWUP_CRM_{"PASSWORD" if kind == "tryton" else "API_KEY"}" '
                      "and set that environment variable to the secret")
    pipeline = r.string(t, key, "pipeline", example="default")
    stages_table = r.table(t, key, "stages", required=False) or {}
    r.check_keys(stages_table, "crm.stages", CRM_STAGES)
    stages = {name: r.string(stages_table, "crm.stages", name, example="lost")
              for name in CRM_STAGES if name in stages_table}
    return Crm(kind=kind, url=url, database=database, username=username,
               password_env=password_env, api_key_env=api_key_env,
               stages=tuple(sorted(stages.items())), pipeline=pipeline, api=api)


def _smtp(r: Reader, t: dict | None) -> Smtp | None:
    if t is None:
        return None
    key = "digest.smtp"
    r.check_keys(t, key, _SMTP_KEYS)
    host = r.string(t, key, "host", example="smtp.acme.example", required=True, lower=True)
    security = r.string(t, key, "security", example="starttls", default="starttls",
                        choices=SMTP_SECURITY, lower=True)
    if security == "none" and not _is_loopback(host):
        raise r.error(f"{key}.security", f'security = "none" would send mail unencrypted to {host}',
                      'write security = "starttls" (or "ssl"); "none" is allowed only for '
                      "127.0.0.1 or localhost")
    default_port = {"starttls": 587, "ssl": 465, "none": 25}[security]
    port = r.integer(t, key, "port", what="a port number", example=default_port,
                     default=default_port, minimum=1, maximum=65535)
    username = r.string(t, key, "username", example="followup@acme.example")
    password_env = r.string(t, key, "password_env", example="FOLLOWUP_SMTP_PASSWORD")
    if password_env is not None and not _ENV_NAME.match(password_env):
        raise r.error(f"{key}.password_env", f'"{password_env}" is not an environment variable name',
                      'write the name of the variable that holds the password, for example '
                      'password_env = "FOLLOWUP_SMTP_PASSWORD"')
    if username is not None and password_env is None:
        raise r.error(f"{key}.password_env", "a username needs a password",
                      'add password_env = "FOLLOWUP_SMTP_PASSWORD" and set that environment '
                      "variable to the password (or remove username for a server without login)")
    return Smtp(host=host, port=port, security=security, username=username,
                password_env=password_env)


def _schedule(r: Reader, t: dict) -> Schedule:
    r.check_keys(t, "schedule", _SCHEDULE_KEYS)
    return Schedule(
        sync_minutes=r.integer(t, "schedule", "sync_minutes", what="a whole number of minutes",
                               example=15, default=15, minimum=1, maximum=1440),
        lease_minutes=r.integer(t, "schedule", "lease_minutes", what="a whole number of minutes",
                                example=10, default=10, minimum=1, maximum=1440),
    )


def _web(r: Reader, t: dict) -> Web:
    r.check_keys(t, "web", _WEB_KEYS)
    auth = r.string(t, "web", "auth", example="password", default="password",
                    choices=WEB_AUTH, lower=True)
    header = r.string(t, "web", "proxy_header", example="X-Forwarded-Email",
                      default="X-Forwarded-Email")
    if not _HEADER_NAME.match(header):
        raise r.error("web.proxy_header", f'"{header}" is not an HTTP header name',
                      'write proxy_header = "X-Forwarded-Email" (letters, digits and dashes)')
    addresses = r.string_list(t, "web", "proxy_addresses", example='["127.0.0.1"]', default=())
    for i, address in enumerate(addresses, start=1):
        try:
            ipaddress.ip_network(address, strict=False)
        except ValueError:
            raise r.error(f"web.proxy_addresses[{i}]", f'"{address}" is not an IP address or network',
                          'write the proxy\'s address, for example proxy_addresses = ["127.0.0.1"] '
                          'or ["10.0.0.0/24"]') from None
    if auth == "proxy" and not addresses:
        raise r.error("web.proxy_addresses", 'auth = "proxy" needs the proxy\'s addresses',
                      'add proxy_addresses = ["127.0.0.1"] (only requests from these addresses '
                      'may name the signed-in user)')
    return Web(auth=auth, proxy_header=header, proxy_addresses=tuple(addresses),
               base_url=_base_url(r, t),
               lockout_minutes=r.integer(t, "web", "lockout_minutes", what="a whole number of minutes",
                                         example=15, default=15, minimum=1, maximum=1440))


def _base_url(r: Reader, t: dict) -> str | None:
    """``web.base_url``: an http(s) address with a host and nothing after the path (the
    links append ``/threads/...``); the trailing slash is dropped."""
    raw = r.string(t, "web", "base_url", example="https://followup.acme.example")
    if raw is None or not raw.strip():
        return None
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query \
            or parts.fragment or parts.username or parts.password:
        raise r.error("web.base_url", f'"{raw}" is not the web app\'s address',
                      'write the address people open the web app at, for example '
                      'base_url = "https://followup.acme.example" (http or https, no ?query or #part)')
    return raw.strip().rstrip("/")


def _templates(r: Reader, t: dict) -> Templates:
    """``[templates] folder``: optional when it is the default (``templates`` next to the
    settings file), which need not exist; a folder the file names must exist."""
    r.check_keys(t, "templates", _TEMPLATES_KEYS)
    raw = r.string(t, "templates", "folder", example=DEFAULT_TEMPLATES_FOLDER)
    folder = r.path(raw or DEFAULT_TEMPLATES_FOLDER).resolve()
    named = f'folder = "{raw}"' if raw else f'the default folder "{DEFAULT_TEMPLATES_FOLDER}"'
    if not folder.exists():
        if raw is None:
            return Templates(folder=folder)
        raise r.error("templates.folder", f"{folder} does not exist",
                      f"create it (mkdir -p {folder}) and copy into it the shipped templates you "
                      "edit, or remove the key to use the default (templates next to the "
                      "settings file, if it exists)")
    if not folder.is_dir():
        raise r.error("templates.folder", f"{named} is {folder}, which is a file, not a folder",
                      'write folder = "PATH" naming a folder of template files (relative to the '
                      "settings file), or rename that file")
    if not os.access(folder, os.R_OK | os.X_OK):
        raise r.error("templates.folder", f"{named} is {folder}, which cannot be read",
                      f"make it readable by the user running followup (for example chmod a+rx {folder})")
    return Templates(folder=folder)


def _storage(r: Reader, t: dict, environ: Mapping[str, str]) -> Storage:
    r.check_keys(t, "storage", _STORAGE_KEYS)
    override = (environ.get(DATABASE_URL_ENV) or "").strip()
    if override:
        return Storage(url=override)
    url = r.string(t, "storage", "url", example=DEFAULT_STORAGE_URL, default=DEFAULT_STORAGE_URL)
    if "://" not in url:
        raise r.error("storage.url", f'"{url}" is not a database URL',
                      'write url = "sqlite:///followup.db" (a file next to settings.toml) or '
                      'url = "postgresql+psycopg://user@host/dbname"')
    try:
        parts = urlsplit(url)
        has_password = bool(parts.password) or any(
            key.lower() in ("password", "sslpassword")
            for key, _ in parse_qsl(parts.query, keep_blank_values=True))
    except ValueError:
        has_password = False
    if has_password:
        raise r.error("storage.url", "the database URL contains a password",
                      "remove the password from url and set the full URL in the "
                      f"{DATABASE_URL_ENV} environment variable instead")
    m = _SQLITE_URL.match(url)
    if m is None:
        if url.startswith("sqlite"):
            raise r.error("storage.url", f'"{url}" is not a SQLite URL',
                          'write url = "sqlite:///followup.db" (three slashes, then the file)')
        return Storage(url=url)
    target = (m.group("path") or "")[1:]  # drop the slash that ends "sqlite://"
    file_part, sep, query = target.partition("?")
    if not file_part or file_part.startswith(":memory:") or file_part.startswith("/"):
        return Storage(url=url)
    resolved = r.path(file_part)
    return Storage(url=f"{m.group('scheme')}:///{resolved}{sep}{query}")
