"""CRM connectors behind one small protocol: what Followup writes to a CRM and reads back.

No business logic here (which thread becomes which deal, when to retry, what a won deal
does to a thread: ``assistant/services/crm.py``); a connector only speaks its CRM's API.

Every write is an *upsert keyed by something we store on the CRM record*, so a call
repeated after a crash or a lost response finds the record it made instead of making a
second one:

- an organisation by its name, a person by their email address;
- a deal by the quote's Message-ID (:attr:`Deal.key`), kept on the deal (Tryton: its
  ``reference``; Odoo: a ``crm.lead`` field; HubSpot: a deal property);
- an activity by its own idempotency key (:attr:`Activity.key`), kept in the activity's
  text (Tryton: the first line of an ``ir.note``; a note/engagement body elsewhere).

Stages are ours -- ``open``, ``won``, ``lost`` -- each connector maps them to its own
(settings ``[crm] stages``). Owners are CRM users matched by email.

One read serves the WhatsApp chats: :meth:`CRM.contact_phones`, the phone numbers the CRM
holds for people with given email addresses, as the CRM holds them (reading them as
numbers, and which source wins, is the product's: ``assistant/services/whatsapp.py``).

Errors (every connector raises only these, with one line a person can act on; no secret
in a message)::

    CRMError                      anything the CRM did not do
    ├── AuthExpired               the session/key is refused: "re-authenticate" (the
    │                             outbox waits; a retry cannot help until a person acts)
    ├── Throttled                 429 / rate limit: retry after ``retry_after`` seconds
    ├── Unavailable               down, unreachable, 5xx, timeout: retry later (backoff)
    └── Rejected                  the CRM refused this one write (bad value, missing
                                  record): retrying the same write fails the same way
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterator, Protocol, Sequence

__all__ = ["CRM", "CRMError", "post_json", "email_batches", "PHONE_BATCH", "AuthExpired",
           "Throttled", "Unavailable", "Rejected", "Organisation", "Person", "Deal", "Activity", "Change", "Changes", "STAGES"]

STAGES = ("open", "won", "lost")

PHONE_BATCH = 100
"""Email addresses asked for in one :meth:`CRM.contact_phones` request."""


def email_batches(emails: Sequence[str]) -> Iterator[list[str]]:
    """The distinct addresses (lower case, sorted) in batches of :data:`PHONE_BATCH`."""
    wanted = sorted({e.strip().lower() for e in emails if e and e.strip()})
    for start in range(0, len(wanted), PHONE_BATCH):
        yield wanted[start:start + PHONE_BATCH]


class CRMError(Exception):
    """The CRM did not do what was asked (see the tree in the module doc)."""

    retryable = True


class AuthExpired(CRMError):
    """The CRM refused our credentials: a person must re-authenticate."""

    retryable = False


class Throttled(CRMError):
    """The CRM asked us to slow down."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(CRMError):
    """The CRM is down or unreachable."""


class Rejected(CRMError):
    """The CRM refused this write."""

    retryable = False


def post_json(url: str, body: bytes, headers: dict[str, str], timeout: float, *, crm: str,
              refused: str, statuses: dict[int, CRMError] | None = None) -> tuple[int, bytes]:
    """POST ``body``; the answer's bytes, or the error tree's error: 401/403 ``AuthExpired``
    (``refused`` says whose sign-in, then "re-authenticate"), 429 ``Throttled`` (its
    ``Retry-After`` seconds), 5xx and no answer ``Unavailable``; another 4xx is the one in
    ``statuses`` or ``Rejected``. Never a secret in a message."""
    import socket
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            raise AuthExpired(f"{crm} refused {refused} (HTTP {exc.code}): re-authenticate") from None
        if exc.code == 429:
            after = exc.headers.get("Retry-After")
            raise Throttled(f"{crm} is rate-limiting us (HTTP 429)",
                            float(after) if after and after.isdigit() else None) from None
        if exc.code >= 500:
            raise Unavailable(f"{crm} answered HTTP {exc.code}") from None
        if statuses and exc.code in statuses:
            raise statuses[exc.code] from None
        try:
            detail = exc.read().decode("utf-8", "replace")[:300]
        except OSError:
            detail = ""
        raise Rejected(f"{crm} refused the call (HTTP {exc.code}): {detail}") from None
    except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise Unavailable(f"{crm} at {url} is unreachable ({reason})") from None


@dataclass(frozen=True)
class Organisation:
    name: str
    domain: str | None = None


@dataclass(frozen=True)
class Person:
    email: str
    name: str | None = None
    organisation_id: str | None = None


@dataclass(frozen=True)
class Deal:
    key: str
    """The quote's Message-ID: stored on the CRM record, the deal's identity."""
    title: str
    organisation_id: str | None = None
    person_id: str | None = None
    opened_on: date | None = None


@dataclass(frozen=True)
class Activity:
    key: str
    """Our idempotency key, stored on the CRM record."""
    deal_id: str
    kind: str
    """quote | followup | call | whatsapp | reply"""
    at: datetime
    summary: str
    by: str | None = None


@dataclass(frozen=True)
class Change:
    """A deal as the CRM holds it now (the service compares it with what it wrote)."""

    deal_id: str
    key: str | None
    """The Message-ID stored on the deal (``None``: a deal Followup did not make)."""
    stage: str
    """open | won | lost"""
    owner_email: str | None


@dataclass(frozen=True)
class Changes:
    changes: list[Change] = field(default_factory=list)
    cursor: str | None = None
    """Where the next read starts (opaque to the caller)."""


class CRM(Protocol):
    """One CRM account. Every method may raise :class:`CRMError`."""

    kind: str

    def check(self) -> str:
        """Sign in and say who we are there (``followup crm test``)."""

    def upsert_organisation(self, organisation: Organisation) -> str:
        """The organisation's id, made if no organisation has that name."""

    def upsert_person(self, person: Person) -> str:
        """The person's id, made if nobody has that email address."""

    def upsert_deal(self, deal: Deal) -> str:
        """The deal's id: the one whose stored key is ``deal.key``, made if none is."""

    def log_activity(self, activity: Activity) -> str:
        """The activity's id: the one on the deal whose stored key is ``activity.key``,
        made if none is."""

    def set_owner(self, deal_id: str, email: str) -> bool:
        """Make the CRM user with this email the deal's owner; ``False`` when the CRM has
        no such user (the deal keeps its owner)."""

    def set_stage(self, deal_id: str, stage: str) -> None:
        """Move the deal to ``open``, ``won`` or ``lost`` (mapped to the CRM's stages)."""

    def changes_since(self, cursor: str | None) -> Changes:
        """The deals changed since ``cursor`` (every deal when ``None``), and the next cursor."""

    def contact_phones(self, emails: Sequence[str]) -> dict[str, list[str]]:
        """The phone and mobile numbers of the CRM's people with these email addresses:
        ``{email (lower case): [number as typed in the CRM, ...]}``; an address with no
        person or no number there is left out. A read only: nothing is written."""

    def close(self) -> None:
        """Sign out and release the connection."""
