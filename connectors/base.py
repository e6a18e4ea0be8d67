"""The one small interface every mail source implements.

A connector knows how to list and read one mailbox (a Maildir, an mbox file, a folder
of ``.eml`` files, an IMAP account, Gmail, Outlook) and how to save a draft there. It
knows nothing about quotes, threads or follow-ups: it hands over raw RFC 5322 bytes.

Reading is incremental. ``fetch(cursor)`` yields :class:`Batch` objects; each batch
carries the messages it covers and the cursor to resume *after* them. The caller stores
the messages and the batch's cursor in one transaction, so a crash between two batches
loses nothing and a rerun re-reads at most one batch (messages are deduplicated by
``(account, provider_id)`` and by Message-ID downstream).

Cursors are opaque strings to the caller; each connector documents its own format.

Errors are sorted by what the user does next (the Home Assistant convention)::

    ConnectorError
     ├── AuthenticationError   re-authenticate: wrong password, revoked token
     ├── ConfigurationError    fix settings.toml: missing folder, bad path
     └── TransientError        retry later: timeout, connection dropped, throttled
          └── SendOutcomeUnknown   a send may have gone out: looked for before any retry

Each error's ``str()`` is an English sentence for logs. An error a person is likely to
meet (a path that is not there, a refused login) also carries ``code``, a plain name such
as ``"maildir.missing"``, and ``values`` (the path, the host): whoever shows it words it in
the reader's language from those. Connectors import nothing of the product, so the codes
are only strings here; the product's catalogue words each one (a test checks every code).

Sends are not idempotent: a connector retries one only when the provider refused it
before accepting it (429, throttling); after an unclear failure it looks for the sent copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator, Protocol, runtime_checkable


class ConnectorError(Exception):
    """Base of every error a connector raises on purpose.

    ``ConnectorError("Maildir not found: /x", code="maildir.missing", path="/x")``: the
    English sentence, and optionally the code and values a catalogue words it from."""

    code: str | None = None
    values: dict[str, str] = {}

    def __init__(self, message: str = "", *, code: str | None = None, **values: object) -> None:
        super().__init__(message)
        if code:
            self.code = f"connector.{code}"
            self.values = {k: str(v) for k, v in values.items()}


class AuthenticationError(ConnectorError):
    """The account needs re-authentication (wrong password, revoked or expired token)."""


class ConfigurationError(ConnectorError):
    """The account's settings are wrong (missing path or folder, bad host)."""


class TransientError(ConnectorError):
    """A passing fault (timeout, dropped connection, throttling): retry later."""


class SendOutcomeUnknown(TransientError):
    """A send met a timeout, a dropped connection or a server error after the request
    went out, and its sent copy was not found: the provider may or may not have sent it.
    The connector never re-sends blindly; a later try looks for the sent copy (by
    Message-ID) first. A :class:`TransientError`, so callers that handle those need no change."""


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One message as the provider stores it.

    ``provider_id`` is unique and stable within one account (a Maildir file's unique
    name, an mbox byte offset, an IMAP ``UIDVALIDITY:UID``, a Gmail message id).
    ``thread_id`` is the provider's own conversation id when it has one (Gmail
    ``threadId``, Graph ``conversationId``, ``X-GM-THRID``), else ``None``.
    ``folder`` is informative (``"INBOX"``, ``"Sent"``, ``"cur"``).

    ``data`` is either the whole message or, for a large one, what the rules read of it:
    its header, its MIME structure with every part's headers, the text and report parts
    (capped) and the header of attached messages -- never an attachment's content. Then
    ``size`` is the size of the whole message, in bytes (``None``: ``len(data)``).
    """

    provider_id: str
    data: bytes
    thread_id: str | None = None
    folder: str | None = None
    size: int | None = None


BATCH_BYTES = 16 * 1024 * 1024
"""A batch ends at its connector's message count or once its messages' ``data`` reach
about this many bytes, whichever comes first: the memory a sync holds stays flat whatever
the size of the mail."""


class Skipped(str):
    """One item a connector could not read at all, for :attr:`Batch.skipped`: its English
    sentence (it *is* that ``str``), and like :class:`ConnectorError` an optional
    ``code`` and ``values`` a catalogue words it from."""

    code: str | None = None
    values: dict[str, str] = {}

    def __new__(cls, text: str, *, code: str | None = None, **values: object) -> "Skipped":
        self = super().__new__(cls, text)
        if code:
            self.code = f"connector.{code}"
            self.values = {k: str(v) for k, v in values.items()}
        return self


@dataclass(frozen=True, slots=True)
class Batch:
    """Messages plus the cursor that resumes after them."""

    messages: list[RawMessage]
    cursor: str
    skipped: list[str] = field(default_factory=list)
    """Why each item that could not be read at all was skipped (English; a
    :class:`Skipped` also carries its code): sync reports them, in the reader's language."""


@dataclass(frozen=True, slots=True)
class DraftMessage:
    """A ready-to-save draft: full RFC 5322 bytes and its idempotency key.

    The key is also written in the draft's ``X-Followup-Id`` header, so that a draft saved
    just before a crash is found again (:meth:`Connector.find_draft`) instead of saved twice.
    """

    idempotency_key: str
    data: bytes


@runtime_checkable
class Connector(Protocol):
    """What sync needs from a mail source."""

    def fetch(self, cursor: str | None) -> Iterator[Batch]:
        """Yield batches of messages newer than ``cursor`` (``None``: from the start)."""
        ...

    def save_draft(self, draft: DraftMessage) -> str:
        """Save ``draft`` in the mailbox's drafts; return its provider id."""
        ...

    def find_draft(self, idempotency_key: str) -> str | None:
        """Return the provider id of a saved draft carrying this key, if any."""
        ...

    def trash_draft(self, provider_id: str, idempotency_key: str) -> bool:
        """Move the draft ``provider_id`` out of Drafts into the mailbox's Trash, where the
        person can still recover it: never a permanent delete. Only a draft that still
        carries ``idempotency_key`` (its ``X-Followup-Id`` header, or the Outlook
        connector's private key property) is moved: the check is the key only, since a
        draft the person edited in Gmail, Outlook or Thunderbird keeps it. Return False,
        which is not an error, when no such draft is there any more (already sent, or
        deleted by the person)."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...


@runtime_checkable
class StoredLookup(Protocol):
    """Optional: connectors that can skip downloading what is already stored (a Gmail
    resync after an expired history id, a Graph delta item that was only read or moved).
    Sync hands over ``lookup(provider_ids) -> the subset already stored for the account``
    before it calls :meth:`Connector.fetch`."""

    def set_stored_lookup(self, lookup: Callable[[list[str]], set[str]]) -> None:
        ...


@runtime_checkable
class DraftUpdater(Protocol):
    """Optional: connectors that can replace a saved draft (a rep edited the follow-up)."""

    def update_draft(self, provider_id: str, draft: DraftMessage) -> str:
        """Replace the draft ``provider_id`` with ``draft``; return the new provider id."""
        ...


@runtime_checkable
class DraftSender(Protocol):
    """Optional: connectors with a mail transport (IMAP+SMTP, Gmail, Graph) implement this
    so approved follow-ups can be sent when ``protocol.auto_send = true``. Mailbox export
    files (Maildir, mbox, .eml) have no transport and do not."""

    def send_draft(self, provider_id: str) -> str:
        """Send the saved draft ``provider_id``; return the sent message's Message-ID."""
        ...
