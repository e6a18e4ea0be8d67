"""One settings object, loaded once from ``settings.toml``, validated, then passed in.

These frozen dataclasses are the contract every other module relies on. ``load_settings``
reads and validates the file; any problem raises :class:`SettingsError`, whose message
names the key, the file and a fix (the CLI prints it and exits with status 2). The key
reference for admins is ``docs/configuration.md``.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Mapping
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from assistant.settings_schema import Reader, SettingsError, join_key

__all__ = [
    "Account", "Company", "Detection", "Digest", "Member", "Protocol", "Schedule", "Settings",
    "SettingsError", "Smtp", "Step", "Storage", "Team", "Templates", "Web", "load_settings",
]

DEFAULT_QUOTE_KEYWORDS = (
    "cotización", "cotizacion", "presupuesto", "propuesta", "oferta",
    "quote", "quotation", "proposal", "estimate",
)
DEFAULT_DECLINE_PHRASES = (
    "no nos interesa", "no estamos interesados", "no me interesa", "ya no nos interesa",
    "no seguiremos", "optamos por otro proveedor", "elegimos otro proveedor",
    "darme de baja", "dar de baja", "no me escriban", "no volver a escribir",
    "not interested", "no longer interested", "unsubscribe", "remove me from",
    "stop emailing", "went with another vendor", "chose another vendor",
    "decided to go with another",
)
DEFAULT_REQUEST_PHRASES = (
    "solicitud de cotización", "solicitar cotización", "favor de cotizar", "nos puede cotizar",
    "request for quote", "request for quotation", "rfq", "please quote", "can you quote",
)
"""DESIGN.md rule 3: a message that asks for a quote is the buyer's, never a quote."""
DEFAULT_EXCLUDE_PHRASES = ("tipo de cambio", "cotización del dólar", "real time quotes", "stock quote")
"""DESIGN.md rule 3: subjects that use quote words for something else (market quotes)."""
DEFAULT_QUOTE_PHRASES = (
    "adjunto la cotización", "adjunto cotización", "adjunto nuestra cotización",
    "adjunto la propuesta", "adjunto nuestra propuesta", "adjunto el presupuesto",
    "le envío la cotización", "te envío la cotización", "le comparto la cotización",
    "tenemos el agrado de cotizar", "nos complace ofrecerle", "le cotizamos", "les cotizamos",
    "te cotizo", "le cotizo", "propuesta económica", "oferta económica", "propuesta comercial",
    "oferta comercial", "precio unitario", "precios unitarios", "vigencia de la cotización",
    "validez de la oferta", "vigencia de la oferta", "podemos ofrecerle", "le podemos ofrecer",
    "please find attached our quote", "please find attached our quotation",
    "please find attached our proposal", "attached is our quote", "attached is our proposal",
    "here is our quote", "here is our proposal", "we are pleased to quote",
    "we are pleased to offer", "we can offer", "we are prepared to offer", "our quote is",
    "our offer is", "our bid for", "our bid is", "quote is valid", "quote's valid",
    "quotation is valid", "offer is valid", "response to rfp", "response to your rfp",
    "response to the rfp", "response to rfq", "response to your rfq", "response to the rfq",
)
"""Offers in a message's own text (DESIGN.md "Words": a configured quote phrase). DESIGN.md
leaves the default open; these are the ways sent quotes put it in the mail we read. Beyond
them, quotes.py recognises the act of sending (a sending verb before a quote word) and
prices in the own text."""
DEFAULT_BUYER_PHRASES = (
    "me puede cotizar", "me pueden cotizar", "me podría cotizar", "me podrían cotizar",
    "nos podría cotizar", "nos podrían cotizar", "nos pueden cotizar", "me puedes cotizar",
    "me cotizas", "favor de cotizarnos", "favor de enviar cotización", "solicito cotización",
    "solicito una cotización", "solicito presupuesto", "solicitamos cotización",
    "solicitamos una cotización", "requerimos cotización", "requiero cotización",
    "necesito cotización", "necesitamos cotización", "quisiera una cotización",
    "solicitud de presupuesto", "solicitud de propuesta", "pedido de cotización",
    "solicitud de oferta", "nos envíe su cotización", "envíennos su cotización",
    "su mejor precio", "quote request", "quotation request", "request a quote",
    "requesting a quote", "request for proposal", "rfp", "request for pricing",
    "send us a quote", "send me a quote", "send us a quotation", "send us your quote",
    "send us your quotation", "send us your best price", "provide a quote",
    "provide us with a quote", "provide a quotation", "need a quote", "would like a quote",
    "your best price", "quote us", "send us your estimate", "send us your proposal",
    "invite you to submit", "submit a proposal", "submit your proposal",
)
"""More ways a buyer asks for a quote, with the same effect as request_phrases (DESIGN.md rule
3, whose own defaults stay as written): such a message is the buyer's, never a quote."""
DEFAULT_PROMISE_PHRASES = (
    "en breve", "a la brevedad", "más tarde", "le enviaré", "te enviaré", "les enviaré",
    "le enviaremos", "te enviaremos", "les enviaremos", "le haré llegar", "le haremos llegar",
    "estamos preparando", "estoy preparando", "nos pondremos en contacto",
    "me pondré en contacto", "hemos recibido su solicitud", "recibimos su solicitud",
    "en cuanto la tenga", "en cuanto lo tenga", "le voy a enviar", "te voy a enviar",
    "will send", "we'll send", "i'll send", "will get back to you", "will contact you",
    "will be in touch", "we have received your request", "we received your request",
    "are preparing", "am preparing", "shortly",
)
"""A quote announced, not sent ("en breve le envío la cotización", "we will send you a
quote"): a sending phrase in the same sentence does not count, and a message with only the
promise is not a quote."""
DEFAULT_NON_QUOTE_PHRASES = (
    "propuesta de fecha", "propuesta de horario", "propuesta de reunión", "propuesta de agenda",
    "propuesta de valor", "propuesta de cambio", "propuesta de mejora", "nueva hora propuesta",
    "oferta laboral", "oferta de empleo", "oferta de trabajo", "carta oferta",
    "oferta académica", "oferta educativa", "cotización en bolsa", "cotización de las acciones",
    "job offer", "offer letter", "offer of employment", "quote of the day", "famous quote",
    "favorite quote", "quote from", "as quoted", "quote unquote", "time estimate",
    "estimated time", "delivery estimate", "meeting proposal", "talk proposal",
    "session proposal", "paper proposal", "research proposal", "grant proposal",
    "thesis proposal",
)
"""Phrases in which a quote keyword means something else (a proposed date, a job offer, a
citation, a time estimate, a talk): a keyword inside one does not count, in subjects and
attachment names alike."""
DEFAULT_HOLDING_PHRASES = (
    "te confirmo", "le confirmo", "te aviso", "le aviso", "lo reviso", "lo revisamos",
    "lo estamos revisando", "te comento", "le comento", "más adelante", "la próxima semana",
    "la semana que entra", "I'll get back to you", "we'll get back to you", "let me check",
    "we are reviewing", "next week",
)
"""DESIGN.md rule 9: a reply that defers its answer."""
DEFAULT_PUBLIC_DOMAINS = (
    "gmail.com", "googlemail.com", "hotmail.com", "outlook.com", "live.com", "yahoo.com",
    "yahoo.com.mx", "icloud.com", "aol.com", "prodigy.net.mx",
)
"""DESIGN.md rule 4: mail domains shared by unrelated people (a colleague's reply is only
recognised on a company's own domain)."""
ROLES = ("account_executive", "sdr", "customer_success", "manager")
ACCOUNT_KINDS = ("maildir", "mbox", "eml", "imap", "gmail", "outlook")
CHANNELS = ("email", "phone", "whatsapp")
RESPONSIBLE_ROLES = ("owner", "sdr", "customer_success")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Company:
    name: str
    domains: tuple[str, ...]


@dataclass(frozen=True)
class Member:
    email: str
    name: str
    role: str
    manager: str | None = None
    admin: bool = False
    phone: str | None = None


@dataclass(frozen=True)
class Team:
    timezone: str
    members: tuple[Member, ...]

    def member(self, email: str | None) -> Member | None:
        if not email:
            return None
        email = parseaddr(email)[1].strip().lower() or email.strip().lower()
        for m in self.members:
            if m.email == email:
                return m
        return None

    def members_with_role(self, role: str) -> tuple[Member, ...]:
        """The members of one role (see ``ROLES``), in file order."""
        return tuple(m for m in self.members if m.role == role)

    def reports_of(self, manager_email: str) -> tuple[Member, ...]:
        """The members whose ``manager`` is this address."""
        manager_email = manager_email.lower()
        return tuple(m for m in self.members if m.manager == manager_email)

    @property
    def zone(self) -> ZoneInfo:
        """``timezone`` as a ``ZoneInfo``."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Account:
    name: str
    kind: str
    path: Path | None = None
    host: str | None = None
    port: int | None = None
    username: str | None = None
    password_env: str | None = None
    tls: str = "ssl"
    oauth: str | None = None
    folders: tuple[str, ...] = ()
    owner: str | None = None
    """Team member whose mailbox this is (``None`` for shared mailboxes)."""
    ca_file: str | None = None
    """IMAP: a PEM file of the CA certificates trusted for this server instead of the
    system's (a private CA), resolved against the settings folder."""
    sync_days: int | None = None
    """Gmail, Outlook: a first sync (or a resync) reads this many days back; 0: everything."""


@dataclass(frozen=True)
class Step:
    after_days: int
    channel: str
    template: str


@dataclass(frozen=True)
class Protocol:
    holidays_country: str
    send_window_start: str
    responsible_role: str
    auto_send: bool
    steps: tuple[Step, ...]
    quiet_days: int = 3
    holding_days: int = 5
    """DESIGN.md rule 9: business days a holding reply that names no date buys."""

    def step(self, number: int) -> Step | None:
        """Step ``number`` counted from 1, as in ``scan --json``'s ``next_step.number``."""
        return self.steps[number - 1] if 1 <= number <= len(self.steps) else None


@dataclass(frozen=True)
class Detection:
    quote_keywords: tuple[str, ...] = DEFAULT_QUOTE_KEYWORDS
    quote_phrases: tuple[str, ...] = DEFAULT_QUOTE_PHRASES
    decline_phrases: tuple[str, ...] = DEFAULT_DECLINE_PHRASES
    request_phrases: tuple[str, ...] = DEFAULT_REQUEST_PHRASES
    exclude_phrases: tuple[str, ...] = DEFAULT_EXCLUDE_PHRASES
    holding_phrases: tuple[str, ...] = DEFAULT_HOLDING_PHRASES
    public_domains: tuple[str, ...] = DEFAULT_PUBLIC_DOMAINS
    buyer_phrases: tuple[str, ...] = DEFAULT_BUYER_PHRASES
    promise_phrases: tuple[str, ...] = DEFAULT_PROMISE_PHRASES
    non_quote_phrases: tuple[str, ...] = DEFAULT_NON_QUOTE_PHRASES


@dataclass(frozen=True)
class Smtp:
    """``[digest.smtp]``: the server the weekly digest is sent through."""
    host: str
    port: int
    security: str = "starttls"
    """``starttls`` | ``ssl`` | ``none`` (``none`` only on a loopback host)."""
    username: str | None = None
    password_env: str | None = None


@dataclass(frozen=True)
class Digest:
    weekday: str = "monday"
    time: str = "08:00"
    language: str = "es"
    """``es`` | ``en``: the language of every digest of the team."""
    sender: str | None = None
    """The digest's From address (default ``followup@`` the first company domain)."""
    smtp: Smtp | None = None
    send_with: str = "smtp"
    """``smtp`` (``[digest.smtp]``) or the name of a gmail / outlook ``[[accounts]]``
    entry the digests are sent from."""


@dataclass(frozen=True)
class Schedule:
    """``[schedule]``: what ``followup run`` does between the daily and weekly jobs."""
    sync_minutes: int = 15
    lease_minutes: int = 10
    """How long a worker's claim on an account lasts without renewal (PostgreSQL)."""


@dataclass(frozen=True)
class Web:
    """``[web]``: the web app (``followup serve``)."""
    auth: str = "password"
    """``password`` (set with ``followup users set-password``) | ``proxy`` (an SSO proxy)."""
    proxy_header: str = "X-Forwarded-Email"
    """With ``auth = "proxy"``: the request header holding the signed-in email."""
    proxy_addresses: tuple[str, ...] = ()
    """The proxy's addresses or networks: with ``auth = "proxy"`` the only senders of the
    email header; always, the only senders whose forwarded client address is believed."""
    lockout_minutes: int = 15
    """How long the sign-in throttle's counters run (5 wrong passwords lock an account for
    unrecognised clients, 10 failures lock a client address; docs/web.md)."""


@dataclass(frozen=True)
class Templates:
    """``[templates]``: the admins' own template files, found before the shipped ones."""
    folder: Path | None = None
    """The folder (absolute) holding edited copies of the shipped templates, file by file:
    ``<name>.<es|en>.txt`` and ``digest/...`` (:func:`assistant.data.search_path`). It may
    not exist when it is the default (``templates`` next to the settings file): then every
    template is the shipped one. ``None``: no folder (settings built in code)."""


@dataclass(frozen=True)
class Storage:
    url: str

    @property
    def sqlite_path(self) -> Path | None:
        """The database file of a file-backed SQLite URL, else ``None`` (in memory, other engines)."""
        m = _SQLITE_URL.match(self.url)
        if not m:
            return None
        target = (m.group("path") or "")[1:].split("?", 1)[0]
        if not target or target.startswith(":memory:"):
            return None
        return Path(target)


@dataclass(frozen=True)
class Settings:
    path: Path
    """The settings file itself; relative paths were resolved against its folder."""
    company: Company
    team: Team
    accounts: tuple[Account, ...]
    protocol: Protocol
    detection: Detection = field(default_factory=Detection)
    digest: Digest = field(default_factory=Digest)
    storage: Storage = field(default_factory=lambda: Storage("sqlite:///followup.db"))
    schedule: Schedule = field(default_factory=Schedule)
    web: Web = field(default_factory=Web)
    templates: Templates = field(default_factory=Templates)

    @property
    def folder(self) -> Path:
        """The settings file's folder (relative paths in the file resolve against it)."""
        return self.path.parent

    def is_internal(self, address: str | None) -> bool:
        """True when the address's domain is in ``company.domains`` (or a subdomain of one,
        DESIGN.md rule 1) or it is a team member.

        Accepts a bare address or a header form (``"Ana <ana@acme.example>"``), any case.
        """
        if not address:
            return False
        addr = (parseaddr(address)[1] or address).strip().lower()
        if self.team.member(addr) is not None:
            return True
        domain = addr.rpartition("@")[2]
        return "@" in addr and any(domain == d or domain.endswith("." + d)
                                   for d in self.company.domains)

    def member(self, email: str | None) -> Member | None:
        """Shortcut for ``settings.team.member(email)``."""
        return self.team.member(email)

    def account(self, name: str) -> Account | None:
        """The account with this ``name``, or ``None``."""
        for a in self.accounts:
            if a.name == name:
                return a
        return None

    def accounts_of(self, email: str | None) -> tuple[Account, ...]:
        """The accounts whose ``owner`` is this team member (where their drafts go)."""
        member = self.team.member(email)
        return tuple(a for a in self.accounts if member and a.owner == member.email)


# ---------------------------------------------------------------------------
# Loading and validation
# ---------------------------------------------------------------------------

CONFIG_ENV = "FOLLOWUP_CONFIG"
DATABASE_URL_ENV = "FOLLOWUP_DATABASE_URL"
DEFAULT_SETTINGS_FILE = "settings.toml"
DEFAULT_STORAGE_URL = "sqlite:///followup.db"
TLS_MODES = ("ssl", "starttls", "none")

_SQLITE_URL = re.compile(r"^(?P<scheme>sqlite(?:\+\w+)?)://(?P<path>/.*)?$")
_EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$")
_DOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{5,}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

_TOP_KEYS = ("company", "team", "accounts", "protocol", "detection", "digest", "storage",
             "schedule", "web", "templates")
_TEMPLATES_KEYS = ("folder",)
DEFAULT_TEMPLATES_FOLDER = "templates"
_WEB_KEYS = ("auth", "proxy_header", "proxy_addresses", "lockout_minutes")
WEB_AUTH = ("password", "proxy")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]+$")
_COMPANY_KEYS = ("name", "domains")
_TEAM_KEYS = ("timezone", "members")
_MEMBER_KEYS = ("email", "name", "role", "manager", "admin", "phone")
_PROTOCOL_KEYS = ("holidays_country", "send_window_start", "responsible_role", "auto_send",
                  "quiet_days", "holding_days", "steps")
_STEP_KEYS = ("after_days", "channel", "template")
_DETECTION_KEYS = ("quote_keywords", "quote_phrases", "decline_phrases", "request_phrases",
                   "exclude_phrases", "holding_phrases", "public_domains", "buyer_phrases",
                   "promise_phrases", "non_quote_phrases")
_DIGEST_KEYS = ("weekday", "time", "language", "sender", "smtp", "send_with")
_SMTP_KEYS = ("host", "port", "security", "username", "password_env")
SMTP_SECURITY = ("starttls", "ssl", "none")
DIGEST_LANGUAGES = ("es", "en")
_SCHEDULE_KEYS = ("sync_minutes", "lease_minutes")
_STORAGE_KEYS = ("url",)
_FILE_KINDS = ("maildir", "mbox", "eml")
_ACCOUNT_KEYS = {
    "maildir": ("name", "kind", "owner", "path", "folders"),
    "mbox": ("name", "kind", "owner", "path", "folders"),
    "eml": ("name", "kind", "owner", "path", "folders"),
    "imap": ("name", "kind", "owner", "host", "port", "username", "password_env", "oauth",
             "tls", "ca_file", "folders"),
    "gmail": ("name", "kind", "owner", "username", "oauth", "host", "folders", "sync_days"),
    "outlook": ("name", "kind", "owner", "username", "oauth", "host", "folders", "sync_days"),
}
DEFAULT_SYNC_DAYS = 180
"""How far back a Gmail or Outlook account's first sync reads (issue 13: a whole mailbox
costs hours and quota; follow-ups concern recent quotes)."""
_ALL_ACCOUNT_KEYS = tuple(dict.fromkeys(k for keys in _ACCOUNT_KEYS.values() for k in keys))


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
        text = file.read_text(encoding="utf-8")
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
    return Settings(path=r.file.resolve(), company=company, team=team, accounts=accounts,
                    protocol=protocol, detection=detection, digest=digest, storage=storage,
                    schedule=schedule, web=web, templates=templates)


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
        phone = r.string(m, key, "phone", example="+52 55 1234 5678")
        if phone is not None and not _PHONE.match(phone):
            raise r.error(f"{key}.phone", f'"{phone}" is not a phone number',
                          'write phone = "+52 55 1234 5678" (international format, with the country code)')
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


def _email(r: Reader, t: dict, prefix: str, name: str, *, required: bool = False) -> str | None:
    value = r.string(t, prefix, name, example="ana@acme.example", required=required, lower=True)
    if value is None:
        return None
    addr = parseaddr(value)[1] if "<" in value else value
    if not _EMAIL.match(addr):
        raise r.error(join_key(prefix, name), f'"{value}" is not an email address',
                      f'write {name} = "ana@acme.example" (just the address, no display name)')
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
    supported = holidays.list_supported_countries()
    if country.upper() not in supported:
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
    )


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
               lockout_minutes=r.integer(t, "web", "lockout_minutes", what="a whole number of minutes",
                                         example=15, default=15, minimum=1, maximum=1440))


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
