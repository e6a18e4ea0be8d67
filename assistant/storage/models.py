"""SQLAlchemy 2 typed models. The schema itself is owned by the Alembic migrations in
``migrations/versions``; these classes mirror it (a test checks they agree).

Times are stored in UTC. SQLite drops the offset of ``DateTime(timezone=True)`` values,
so readers attach UTC again (see ``as_utc``).
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false,
)
from sqlalchemy import func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


def as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


class Account(Base):
    """One mailbox we read. ``cursor`` is the connector's opaque resume point; it only
    advances in the transaction that stores the messages it covers."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    cursor: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(30), default="ok")
    """``ok`` | ``needs_attention`` (fix config) | ``needs_reauth`` | ``retrying`` |
    ``storage_error`` (the database failed: full, read-only, damaged, unreachable)."""
    last_error: Mapped[str | None] = mapped_column(Text)
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Message(Base):
    """One message, stored once whatever the number of mailboxes that hold it."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(1000), unique=True)
    synthetic_id: Mapped[bool] = mapped_column(Boolean, default=False)
    fingerprint: Mapped[str] = mapped_column(String(64))
    from_addr: Mapped[str | None] = mapped_column(String(320))  # ix_messages_sender_date
    from_name: Mapped[str | None] = mapped_column(String(500))
    to_addrs: Mapped[list] = mapped_column(JSON, default=list)
    cc_addrs: Mapped[list] = mapped_column(JSON, default=list)
    bcc_addrs: Mapped[list] = mapped_column(JSON, default=list)
    recipient_names: Mapped[list | None] = mapped_column(JSON)
    """``Name <addr>`` of each To / Cc recipient the sender named (the name a rep wrote a
    client under); NULL for messages stored before migration 0016."""
    subject: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    in_reply_to: Mapped[str | None] = mapped_column(String(1000))
    references: Mapped[list] = mapped_column(JSON, default=list)
    kind: Mapped[str] = mapped_column(String(20))
    bounced_recipients: Mapped[list] = mapped_column(JSON, default=list)
    bounce_permanent: Mapped[bool | None] = mapped_column(Boolean)
    attachment_names: Mapped[list] = mapped_column(JSON, default=list)
    body_text: Mapped[str] = mapped_column(Text, default="")
    original_message_id: Mapped[str | None] = mapped_column(String(1000))
    language: Mapped[str | None] = mapped_column(String(5))
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    size: Mapped[int] = mapped_column(Integer, default=0)
    list_mail: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """A list or bulk message (``List-Id``, ``List-Unsubscribe``, ``Precedence: bulk``):
    DESIGN.md rule 5."""
    conversation_id: Mapped[int | None] = mapped_column(Integer, index=True)
    """The read model's header-linked conversation (the smallest message id in it);
    ``NULL`` until the message is indexed (``index_queue``)."""
    thread_key: Mapped[str | None] = mapped_column(String(1000), index=True)
    """The ``quote_message_id`` of the lead thread the message belongs to (after rules 4
    and 5), ``NULL`` outside lead threads."""


Index("ix_messages_sender_date", Message.from_addr,
      func.coalesce(Message.sent_at, Message.first_seen_at))
"""A person's own messages, newest first (the template preview's names and signatures)."""


class MessageLocation(Base):
    """Where a message was seen: unique per (account, provider id), so re-reading a
    mailbox never duplicates anything."""

    __tablename__ = "message_locations"
    __table_args__ = (UniqueConstraint("account_id", "provider_id", name="uq_location_provider"),
                      Index("ix_message_locations_thread", "account_id", "thread_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    provider_id: Mapped[str] = mapped_column(String(1000))
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    thread_id: Mapped[str | None] = mapped_column(String(500))
    folder: Mapped[str | None] = mapped_column(String(500))


class SetAsideMessage(Base):
    """A message the database refused even after its values were made storable: kept out
    of the store so the rest of its mailbox syncs (the cursor moves past it), and listed
    by ``followup accounts list`` with the database's reason (one line, no content)."""

    __tablename__ = "set_aside_messages"
    __table_args__ = (UniqueConstraint("account_id", "provider_id", name="uq_set_aside_provider"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    provider_id: Mapped[str] = mapped_column(String(1000))
    folder: Mapped[str | None] = mapped_column(String(500))
    size: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(Text)
    set_aside_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ThreadMark(Base):
    """What a user said about a lead thread (keyed by its first quote's Message-ID)."""

    __tablename__ = "thread_marks"

    quote_message_id: Mapped[str] = mapped_column(String(1000), primary_key=True)
    outcome: Mapped[str | None] = mapped_column(String(10))
    owner: Mapped[str | None] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str | None] = mapped_column(String(320))
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    """Why it was won or lost, in the user's words (``mark --reason``)."""
    snoozed_until: Mapped[date | None] = mapped_column(Date)
    """No follow-up due before this local date (``snooze --until``)."""


class ThreadAction(Base):
    """The history of what users did to a thread's outcome (issue 14): a mark (won, lost),
    a snooze (until a date) or the client's answer outside email (by phone, WhatsApp),
    each with who and when; an undo sets ``undone_at`` and ``undone_by`` and keeps the
    row. A thread's current outcome and snooze are those of its latest action of that
    kind not undone (copied into ``thread_marks``); its answers outside email are its
    ``reply`` actions not undone (real replies at ``at``)."""

    __tablename__ = "thread_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quote_message_id: Mapped[str] = mapped_column(String(1000), index=True)
    action: Mapped[str] = mapped_column(String(10))
    """``mark`` | ``snooze`` | ``reply``."""
    value: Mapped[str | None] = mapped_column(String(40))
    """mark: ``won`` | ``lost``; snooze: the day (``YYYY-MM-DD``); reply: the channel."""
    note: Mapped[str | None] = mapped_column(Text)
    """mark: the reason; reply: what the client said."""
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str | None] = mapped_column(String(320))
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    undone_by: Mapped[str | None] = mapped_column(String(320))
    cancelled: Mapped[list] = mapped_column(JSON, default=list)
    """``[follow-up id, its status before]`` of the pending follow-ups this action
    cancelled: an undo puts them back (and the stop rules then judge them again)."""


class Touch(Base):
    """A call or WhatsApp touch logged by a rep."""

    __tablename__ = "touches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quote_message_id: Mapped[str] = mapped_column(String(1000), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    by: Mapped[str | None] = mapped_column(String(320))
    note: Mapped[str | None] = mapped_column(Text)


class Followup(Base):
    """One follow-up of a lead thread: a protocol step turned into an email draft, a call
    task or a WhatsApp message. ``key`` is the idempotency key per (thread, step), also
    written into the draft's ``X-Followup-Id`` header."""

    __tablename__ = "followups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    quote_message_id: Mapped[str] = mapped_column(String(1000), index=True)
    step: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))
    assignee: Mapped[str | None] = mapped_column(String(320))
    assigned_via: Mapped[str | None] = mapped_column(String(20))
    """``owner`` | ``mapped`` | ``round_robin`` (see ``domain.followups.choose_assignee``)."""
    status: Mapped[str] = mapped_column(String(20), index=True)
    """held | drafted | approved | sent | done | skipped | cancelled."""
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    contact: Mapped[str | None] = mapped_column(String(320))
    language: Mapped[str | None] = mapped_column(String(5))
    template: Mapped[str] = mapped_column(String(200))
    template_version: Mapped[int] = mapped_column(Integer)
    """0 = the shipped file; n = the n-th admin-edited version in ``template_versions``."""
    subject: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(40))
    hold_reason: Mapped[str | None] = mapped_column(Text)
    account: Mapped[str | None] = mapped_column(String(200))
    draft_ref: Mapped[str | None] = mapped_column(String(1000))
    draft_message_id: Mapped[str | None] = mapped_column(String(1000))
    draft_claim: Mapped[str | None] = mapped_column(String(64))
    """Set while a planner saves the email draft (``draft_ref`` still NULL): its token,
    and ``draft_claimed_at`` when (real clock). A claim older than the planner's timeout
    is a crashed planner's: the next ``plan`` takes it over and finishes the draft."""
    draft_claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(320))
    draft_trashed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When a cancelled follow-up's email draft was handled: moved to the mailbox's Trash
    (``draft_trash = "trashed"``) or found gone from Drafts (``"gone"``: sent or deleted)."""
    draft_trash: Mapped[str | None] = mapped_column(String(20))
    cc: Mapped[list | None] = mapped_column(JSON)
    """Email: the addresses the draft copies (migration 0022; NULL: none, as planned before)."""


class TemplateVersion(Base):
    """An admin-edited follow-up template; the file (the templates folder's, else the
    shipped one in ``assistant/data/templates/``) is version 0."""

    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("name", "language", "version", name="uq_template_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(5))
    version: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AccountLease(Base):
    """Which ``followup run`` worker syncs an account, until when (issue 6). A worker
    claims a free or expired row with ``SELECT … FOR UPDATE SKIP LOCKED``; a crashed
    worker's lease expires and another worker takes the account over."""

    __tablename__ = "account_leases"

    account: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class JobRun(Base):
    """One run of a scheduled job for one period (``plan`` for a local date): the row is
    the claim, so several workers run a daily job once."""

    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(String(200), primary_key=True)
    period: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    """running | done | failed."""
    holder: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)


class _SentOnce:
    """The columns of a message Followup sends once per recipient and period (the row is
    the claim: :func:`assistant.storage.claims.claim_send`)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    """sending | sent | failed (| unknown: a morning list lost while handing it over)."""
    language: Mapped[str] = mapped_column(String(5))
    holder: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)


class DigestRecord(_SentOnce, Base):
    """A weekly digest for one manager and one period (the local date of its slot):
    unique, so a digest is sent once even with several workers or cron reruns."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("manager", "period", name="uq_digest_period"),)

    manager: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)


class MorningList(_SentOnce, Base):
    """A rep's morning list for one local date (issue 14): unique, so it is sent at most
    once a day whatever the number of workers or reruns (claimed like a digest)."""

    __tablename__ = "morning_lists"
    __table_args__ = (UniqueConstraint("rep", "period", name="uq_morning_period"),)

    rep: Mapped[str] = mapped_column(String(320))
    items: Mapped[int] = mapped_column(Integer)
    """How many follow-ups it listed."""


class WebUser(Base):
    """Web app sign-in state of one team member (issue 7): a werkzeug scrypt hash, the
    session version and the chosen UI language (the sign-in throttle is
    :class:`WebLoginThrottle`). Who may sign in, and with which role, is still
    ``settings.toml``."""

    __tablename__ = "web_users"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    password_hash: Mapped[str | None] = mapped_column(Text)
    password_set_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    language: Mapped[str | None] = mapped_column(String(5))
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Bumped to end every open session (sign-out, new password)."""
    morning_email: Mapped[bool | None] = mapped_column(Boolean)
    """The reps' morning list: ``False`` = turned off by the person; NULL = on (default)."""


class WebLoginThrottle(Base):
    """One failed sign-in counter (issue 11): per client address, per account for
    unrecognised clients, per account from a known address, or per device cookie (see
    ``assistant/web/users.py``; its queries: ``assistant/storage/users.py``). Failures count for ``lockout_minutes`` from the first one;
    reaching the limit locks the key as long. Moved only by conditional upserts."""

    __tablename__ = "web_login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    """HMAC-SHA256 (hex) of what is counted: no address or typed email is stored."""
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    """The team member a row counts for (cleared by a new password); ``None`` otherwise."""
    failures: Mapped[int] = mapped_column(Integer)
    window_ends: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    """When the count starts again (the lock's end while locked); then the row is dead."""
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebKnownAddress(Base):
    """A client address (its HMAC) a team member signed in from, for 90 days: failures
    there are counted apart from a stranger's elsewhere."""

    __tablename__ = "web_known_addresses"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_login_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# --- The read model (assistant/services/snapshot.py) -------------------------------------

class MessageRef(Base):
    """An id a message cites (``In-Reply-To``, ``References``, the original a report
    returns) or a provider conversation id (``t:<account>:<thread id>``): what links a new
    message to the conversations already indexed, whichever arrives first."""

    __tablename__ = "message_refs"

    ref_id: Mapped[str] = mapped_column(String(1000), primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"),
                                            primary_key=True, index=True)


class IndexQueue(Base):
    """Messages stored or seen again (a new provider conversation id) since the read
    model last indexed them: written in the transaction that stores them."""

    __tablename__ = "index_queue"

    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"),
                                            primary_key=True)


class JoinKey(Base):
    """What a conversation could join (asked), or be joined by (offered), under DESIGN.md
    rules 4 and 5 (subject + contact, subject + contact's domain, contact): two
    conversations interact only when one offers a key the other asks, so a change
    recomputes only its connected neighbours."""

    __tablename__ = "join_keys"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    """``o`` (offered) or ``a`` (asked), then the SHA-1 of the key's text cut to 39 hex
    digits (a subject can be long; equality is all that counts)."""
    conversation_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)


class ThreadRow(Base):
    """One lead thread's report, stored once and read by every scan, page, plan and
    digest. Everything but the time-dependent part: ``base_status`` is ``open`` when a
    next step exists (``silent`` or ``waiting`` is decided at read time from ``due_at``),
    and ``scenario_base`` leaves out ``nobody`` (silent with no touches, decided then too)."""

    __tablename__ = "threads"
    __table_args__ = (Index("ix_threads_owner_status_due", "owner", "base_status", "due_at"),
                      Index("ix_threads_status_reply", "base_status", "last_reply_at"))

    quote_message_id: Mapped[str] = mapped_column(String(1000), primary_key=True)
    thread_id: Mapped[str | None] = mapped_column(String(16), index=True)
    """The thread's digest (:func:`assistant.domain.ids.thread_digest`): short ids are
    its prefixes, looked up through this index."""
    subject: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str | None] = mapped_column(String(320), index=True)
    owner: Mapped[str | None] = mapped_column(String(320), index=True)
    owner_candidates: Mapped[list] = mapped_column(JSON, default=list)
    scenario_base: Mapped[str] = mapped_column(String(10))
    touches: Mapped[int] = mapped_column(Integer, default=0)
    base_status: Mapped[str] = mapped_column(String(20), index=True)
    closed_reason: Mapped[str | None] = mapped_column(Text)
    next_number: Mapped[int | None] = mapped_column(Integer)
    next_channel: Mapped[str | None] = mapped_column(String(20))
    next_template: Mapped[str | None] = mapped_column(String(200))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    last_outbound_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_reply_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    quote_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    promised_date: Mapped[date | None] = mapped_column(Date)
    promised_reason: Mapped[str | None] = mapped_column(String(10))
    bounced_recipients: Mapped[list] = mapped_column(JSON, default=list)
    snoozed_until: Mapped[date | None] = mapped_column(Date)
    """The day a user snoozed the thread until, when that snooze sets ``due_at``."""
    events: Mapped[list | None] = mapped_column(JSON)
    """The thread's :class:`~assistant.domain.model.Touchpoint` list as the metrics count it
    (``[[utc iso time, 1 outbound | 0 reply], ...]``): the team page's and digest's
    metrics read it instead of the thread's mail. NULL only until the next rebuild."""


class ReadModelState(Base):
    """The read model's own facts: ``rules`` (the fingerprint of the rules the stored
    reports were computed with: another one means a rebuild), ``built_at``."""

    __tablename__ = "read_model_state"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class CrmOutbox(Base):
    """One write to the CRM, done once: ``key`` (unique) is its idempotency key, also
    stored on the CRM record it makes; retried at ``next_attempt_at`` until ``done_at``."""

    __tablename__ = "crm_outbox"
    __table_args__ = (Index("ix_crm_outbox_pending", "done_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(1200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    """deal | activity"""
    quote_message_id: Mapped[str] = mapped_column(String(1000))
    payload: Mapped[dict] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CrmLink(Base):
    """The CRM records a lead thread became, and the stage and owner last agreed with it."""

    __tablename__ = "crm_links"
    __table_args__ = (Index("ix_crm_links_deal", "deal_id"),)

    quote_message_id: Mapped[str] = mapped_column(String(1000), primary_key=True)
    deal_id: Mapped[str] = mapped_column(String(100))
    organisation_id: Mapped[str | None] = mapped_column(String(100))
    person_id: Mapped[str | None] = mapped_column(String(100))
    stage: Mapped[str | None] = mapped_column(String(10))
    owner: Mapped[str | None] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CrmState(Base):
    """The CRM sync's own facts: ``cursor``, ``last_sync_at``, ``last_error``."""

    __tablename__ = "crm_state"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)


class CrmPhone(Base):
    """A phone number the CRM holds for a contact (``email``), as the CRM holds it: what
    the last phone pull of ``followup crm sync`` read (WhatsApp chats are matched on it)."""

    __tablename__ = "crm_phones"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    phone: Mapped[str] = mapped_column(String(100), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
