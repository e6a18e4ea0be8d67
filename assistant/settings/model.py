"""The settings object: frozen dataclasses, one per section of ``settings.toml``, and the
values they allow. Every other module reads these; :mod:`assistant.settings.loading` builds
them from the file (validated through :mod:`assistant.settings.schema`). The key reference
for admins is ``docs/configuration.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from zoneinfo import ZoneInfo

__all__ = [
    "Account", "Company", "Contact", "Crm", "Detection", "Digest", "Member", "Protocol", "Schedule",
    "Settings",
    "Smtp", "Step", "Storage", "Team", "Templates", "Web",
]

_SQLITE_URL = re.compile(r"^(?P<scheme>sqlite(?:\+\w+)?)://(?P<path>/.*)?$")

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
ACCOUNT_KINDS = ("maildir", "mbox", "eml", "imap", "gmail", "outlook", "whatsapp")
DATE_ORDERS = ("day_first", "month_first")
"""How a WhatsApp export's ``1/2/26`` reads when no value in the file decides it."""
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
class Contact:
    """A client contact as the admins know it (``[[contacts]]``): what they write here
    wins over what the mail says (names and companies from headers and signatures); the
    phone and name also match WhatsApp chats to the contact."""

    email: str
    name: str | None = None
    company: str | None = None
    phone: str | None = None
    formal: bool = False
    """Write to this contact with "usted" (the formal templates), whatever the thread."""


@dataclass(frozen=True)
class Team:
    timezone: str
    members: tuple[Member, ...]
    language: str = "es"
    """``es`` | ``en``: the language of the CLI's output (default ``digest.language``)."""

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
    me: str | None = None
    """WhatsApp: the rep's name as the exports write it (default: the owner's ``name``)."""
    date_order: str | None = None
    """WhatsApp: ``day_first`` | ``month_first`` for exports whose dates do not decide it
    (default: the team's language, ``digest.language``: ``es`` day first, ``en`` month first)."""

    @property
    def holds_mail(self) -> bool:
        """A mailbox (drafts can be saved there), not a chat export folder."""
        return self.kind != "whatsapp"


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
    morning_list: bool = True
    """Each business morning, every rep with due follow-ups gets a short list of them
    (:mod:`assistant.services.morning`), sent the digest's way; ``false`` turns it off
    for the whole team (each person can also turn theirs off in the web app)."""


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
    base_url: str | None = None
    """The web app's address as people open it (``https://followup.acme.example``, no
    trailing slash): the digest and the reps' morning list link each thread to its page
    under it. ``None``: mail carries no links."""


@dataclass(frozen=True)
class Templates:
    """``[templates]``: the admins' own template files, found before the shipped ones."""
    folder: Path | None = None
    """The folder (absolute) holding edited copies of the shipped templates, file by file:
    ``<name>.<es|en>.txt`` and ``digest/...`` (:func:`assistant.data.search_path`). It may
    not exist when it is the default (``templates`` next to the settings file): then every
    template is the shipped one. ``None``: no folder (settings built in code)."""


@dataclass(frozen=True)
class Crm:
    """``[crm]``: the team's CRM, kept in step with the lead threads (``followup crm sync``)."""
    kind: str
    """``tryton`` | ``odoo`` | ``hubspot``"""
    url: str | None = None
    database: str | None = None
    username: str | None = None
    password_env: str | None = None
    api_key_env: str | None = None
    stages: tuple[tuple[str, str], ...] = ()
    """Our stage (open, won, lost) -> the CRM's name for it, where it differs from the
    connector's default."""
    pipeline: str | None = None
    """HubSpot: the internal id of the deal pipeline new deals go in (``None``: ``default``)."""
    api: str = "json2"
    """Odoo: ``json2`` (the JSON-2 API, Odoo 19+) or ``xmlrpc`` (``execute_kw``, Odoo 18 and
    older: signs in as ``username`` on ``database``)."""


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
    contacts: tuple[Contact, ...] = ()
    crm: Crm | None = None
    """``[crm]``, or ``None``: no CRM."""

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

    def contact(self, email: str | None) -> Contact | None:
        """The ``[[contacts]]`` entry of this address (any case), or ``None``."""
        if not email:
            return None
        email = email.strip().lower()
        return next((c for c in self.contacts if c.email == email), None)

    def account(self, name: str) -> Account | None:
        """The account with this ``name``, or ``None``."""
        for a in self.accounts:
            if a.name == name:
                return a
        return None

    def accounts_of(self, email: str | None) -> tuple[Account, ...]:
        """The accounts whose ``owner`` is this team member (where their drafts go)."""
        member = self.team.member(email)
        return tuple(a for a in self.accounts
                     if member and a.owner == member.email and a.holds_mail)
