"""Plain values the domain computes with. No I/O, no database, no settings file.

The service layer builds these from storage rows and from the settings object; the
domain functions take them and return :class:`ThreadReport` values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Literal

Status = Literal["closed", "bounced", "awaiting_us", "exhausted", "silent", "waiting"]
Scenario = Literal["unclear", "nobody", "manager", "rep"]
STATUSES: tuple[Status, ...] = ("closed", "bounced", "awaiting_us", "exhausted", "silent", "waiting")


@dataclass(frozen=True, slots=True)
class Mail:
    """One stored message, as the rules need it."""

    key: int
    message_id: str
    date: datetime
    """Aware. When the message had no usable Date, the service passes the time it was
    first seen, so every message has a place on the timeline."""
    from_addr: str | None
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    subject: str = ""
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    kind: str = "message"
    attachment_names: tuple[str, ...] = ()
    text: str = ""
    original_message_id: str | None = None
    bounced_recipients: tuple[str, ...] = ()
    thread_hints: tuple[str, ...] = ()
    """Provider conversation ids, namespaced by account (``"ana:18c2f…"``)."""
    list_mail: bool = False
    """A mailing-list or bulk message (``List-Id``, ``List-Unsubscribe``, ``Precedence:
    bulk|list|junk``): never joins a thread without thread headers (DESIGN.md rule 5)."""

    @property
    def recipients(self) -> tuple[str, ...]:
        return self.to + self.cc + self.bcc

    @property
    def has_thread_headers(self) -> bool:
        return bool(self.in_reply_to or self.references)


@dataclass(frozen=True, slots=True)
class LoggedTouch:
    """A call or WhatsApp message a rep logged for a thread, or (``inbound``) the
    client's answer outside email that a rep logged: a real reply at ``at``."""

    thread: str
    """The thread's ``quote_message_id``."""
    channel: str
    at: datetime
    by: str | None = None
    inbound: bool = False
    """The client answered (by phone, WhatsApp) rather than us: a real reply, never a
    touch (``followup reply``)."""


@dataclass(frozen=True, slots=True)
class Touchpoint:
    """One event of a thread as the metrics count it (``domain/metrics.thread_events``):
    one of our outbound touches (the quote, a follow-up, a logged call) or one of the
    client's real replies (``outbound`` False). Stored with each thread by the read model,
    so metrics never reload a thread's mail."""

    at: datetime
    outbound: bool


@dataclass(frozen=True, slots=True)
class ThreadMark:
    """What users said about a thread: an outcome, an explicit owner, a snooze."""

    thread: str
    outcome: Literal["won", "lost"] | None = None
    owner: str | None = None
    snoozed_until: date | None = None
    """No follow-up is due before this local date (at the send window)."""
    skipped: tuple[datetime, ...] = ()
    """When a rep skipped a step of the protocol (``drafts skip``), oldest first: the
    cadence moves on to the next step as after a touch, counted from the skip, though
    nobody was contacted (no touch is counted)."""


@dataclass(frozen=True, slots=True)
class StepRule:
    after_days: int
    channel: str
    template: str


@dataclass(frozen=True, slots=True)
class Rules:
    """Everything the rules read from the settings, as plain values."""

    domains: frozenset[str]
    members: dict[str, str]
    """Team member email -> role."""
    steps: tuple[StepRule, ...]
    timezone: str
    holidays_country: str
    send_window_start: time
    quote_keywords: tuple[str, ...]
    quote_phrases: tuple[str, ...] = ()
    decline_phrases: tuple[str, ...] = ()
    request_phrases: tuple[str, ...] = ()
    """Rule 3: phrases of a buyer asking for a quote (such a message is not a quote)."""
    exclude_phrases: tuple[str, ...] = ()
    """Rule 3: subject phrases that use quote words for something else."""
    holding_phrases: tuple[str, ...] = ()
    """Rule 9: phrases of a reply that defers its answer."""
    public_domains: frozenset[str] = frozenset()
    """Rule 4: shared mail domains (a colleague is only recognised on a company domain)."""
    holding_days: int = 5
    """Rule 9: business days a holding reply that names no date buys."""
    buyer_phrases: tuple[str, ...] = ()
    """Rule 3 extended: more phrases of a buyer asking for a quote (like request_phrases)."""
    promise_phrases: tuple[str, ...] = ()
    """A quote announced for later, not sent (quotes.py)."""
    non_quote_phrases: tuple[str, ...] = ()
    """Phrases in which a quote keyword means something else (quotes.py)."""
    _class: dict[str, str] = field(default_factory=dict, init=False, repr=False,
                                   compare=False, hash=False)
    """Answers of :meth:`address_class` (a pure function of the address and these rules)."""
    memo: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)
    """Values derived from these rules once (compiled phrase lists): keyed by the module
    that derives them."""

    def address_class(self, address: str | None) -> str:
        """``internal``, ``external`` or ``malformed`` (DESIGN.md "Words" and rule 1).

        Internal: a team member, or a company domain or a subdomain of one
        (``planta.acme.example``). Malformed: a domain without a dot, or a company domain
        cut short inside a label (``acme.ex`` for ``acme.example``; ``acme.com`` is a
        whole label short of ``acme.com.mx``, so it is external). A missing address is
        external (servers and robots that sign with none)."""
        if not address:
            return "external"
        known = self._class.get(address)
        if known is None:
            known = self._class[address] = _address_class(address.lower(), self)
        return known

    def is_internal(self, address: str | None) -> bool:
        if not address:
            return False
        known = self._class.get(address)  # the hot path of every scan: one dict look-up
        return (known or self.address_class(address)) == "internal"

    def is_external(self, address: str | None) -> bool:
        """Neither internal nor malformed (a missing address counts as external)."""
        if not address:
            return True
        known = self._class.get(address)
        return (known or self.address_class(address)) == "external"


def _address_class(address: str, rules: "Rules") -> str:
    if address in rules.members:
        return "internal"
    domain = address.rpartition("@")[2].strip().rstrip(".")
    for company in rules.domains:
        if domain == company or domain.endswith("." + company):
            return "internal"
    if "." not in domain:
        return "malformed"
    for company in rules.domains:
        if len(domain) < len(company) and company.startswith(domain) and company[len(domain)] != ".":
            return "malformed"
    return "external"


@dataclass(frozen=True, slots=True)
class NextStep:
    number: int
    channel: str
    template: str
    due_at: datetime

    def as_json(self) -> dict:
        return {"number": self.number, "channel": self.channel, "due_at": self.due_at.isoformat()}


@dataclass(frozen=True, slots=True)
class ThreadReport:
    """The answer for one lead thread at a given ``now``."""

    quote_message_id: str
    subject: str
    contact: str | None
    status: Status
    owner: str | None
    scenario: Scenario
    owner_candidates: tuple[str, ...]
    touches: int
    last_outbound_at: datetime | None
    last_reply_at: datetime | None
    next_step: NextStep | None
    quote_sent_at: datetime | None = None
    closed_code: Literal["marked", "declined"] | None = None
    """Why a ``closed`` thread is closed: ``marked`` (a user marked it won or lost) or
    ``declined`` (the client's last real reply declines); worded by
    :func:`assistant.wording.closed_reason`."""
    closed_value: str | None = None
    """With ``marked``: the outcome (``won``, ``lost``); with ``declined``: the declining
    phrase the reply contains."""
    bounced_recipients: tuple[str, ...] = ()
    mail_keys: tuple[int, ...] = field(default=(), repr=False)
    promised_date: date | None = None
    """Rule 11: the day behind ``next_step.due_at`` when it is a holding reply's promised
    date (rule 9) or the contact's day back from an out-of-office (rule 10)."""
    promised_reason: Literal["promised", "back"] | None = None
    """Which of the two ``promised_date`` is: ``promised`` (rule 9) or ``back`` (rule 10)."""
    snoozed_until: date | None = None
    """The day a user snoozed the thread until, when that snooze set ``next_step.due_at``."""
    thread_id: str | None = None
    """The short thread id people type (:mod:`assistant.domain.ids`); filled by readers of
    the read model (the shortest unambiguous prefix of the stored digest)."""

    def as_json(self) -> dict:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "thread_id": self.thread_id,
            "quote_message_id": self.quote_message_id,
            "subject": self.subject,
            "contact": self.contact,
            "status": self.status,
            "owner": self.owner,
            "scenario": self.scenario,
            "owner_candidates": list(self.owner_candidates),
            "touches": self.touches,
            "last_outbound_at": iso(self.last_outbound_at),
            "last_reply_at": iso(self.last_reply_at),
            "next_step": self.next_step.as_json() if self.next_step else None,
            "promised_date": self.promised_date.isoformat() if self.promised_date else None,
        }
