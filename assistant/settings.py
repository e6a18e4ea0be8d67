"""One settings object, loaded once from ``settings.toml``, validated, then passed in.

The loader (``load_settings``) is filled in below; these frozen dataclasses are the
contract every other module relies on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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
        email = email.lower()
        for m in self.members:
            if m.email == email:
                return m
        return None


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


@dataclass(frozen=True)
class Detection:
    quote_keywords: tuple[str, ...] = DEFAULT_QUOTE_KEYWORDS
    quote_phrases: tuple[str, ...] = ()
    decline_phrases: tuple[str, ...] = DEFAULT_DECLINE_PHRASES


@dataclass(frozen=True)
class Digest:
    weekday: str = "monday"
    time: str = "08:00"


@dataclass(frozen=True)
class Storage:
    url: str


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
