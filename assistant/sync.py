"""Connector -> store: incremental, idempotent, resumable.

Each batch a connector yields is parsed, then written in ONE transaction together with
the cursor that resumes after it (DESIGN.md, "Architecture"): a crash between batches
re-reads at most one batch, and a rerun never duplicates anything, because

* a message is stored once per Message-ID (the same mail in three mailboxes is one row;
  a message without a Message-ID gets a synthetic id from its parsed content, so its
  copies in several mailboxes still meet), and
* where it was seen is stored once per (account, provider id).

Two *different* messages that carry the same Message-ID (broken mailers do this) are
both kept: the second gets a derived id and a warning, rather than being lost.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Sequence

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite

from assistant.mail.classify import classify
from assistant.mail.message import ParsedMessage
from assistant.mail.parse import parse_message
from assistant.storage.models import Account, Message, MessageLocation
from connectors.base import Batch, Connector, RawMessage

log = logging.getLogger(__name__)

SYNTHETIC_DOMAIN = "synthetic.followup.invalid"
MAX_BODY_CHARS = 4000


@dataclass
class AccountResult:
    account: str
    read: int = 0
    stored: int = 0
    """New message rows (a message already stored from another mailbox is not new)."""
    warnings: int = 0
    skipped: list[str] = field(default_factory=list)
    error: str | None = None
    status: str = "ok"


def fingerprint(parsed: ParsedMessage) -> str:
    """What makes two copies "the same message", whatever headers each mailbox added."""
    date = parsed.date.isoformat() if parsed.date else ""
    basis = "\n".join([parsed.from_addr or "", date, parsed.subject, parsed.text[:1000]])
    return hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()


def _insert_ignoring_conflicts(engine: Engine, table):
    if engine.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if engine.dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    raise NotImplementedError(f"database {engine.dialect.name} is not supported yet")


def ensure_account(engine: Engine, name: str, kind: str) -> tuple[int, str | None]:
    with engine.begin() as conn:
        row = conn.execute(select(Account.id, Account.cursor, Account.kind)
                           .where(Account.name == name)).first()
        if row is None:
            conn.execute(_insert_ignoring_conflicts(engine, Account.__table__)
                         .values(name=name, kind=kind, status="ok"))
            row = conn.execute(select(Account.id, Account.cursor, Account.kind)
                               .where(Account.name == name)).one()
        elif row.kind != kind:
            # The account now points at another kind of source: its old cursor means
            # nothing there. Start over; dedupe makes re-reading safe.
            conn.execute(update(Account).where(Account.id == row.id)
                         .values(kind=kind, cursor=None))
            return row.id, None
    return row.id, row.cursor


def _message_row(parsed: ParsedMessage, raw: RawMessage, seen_at: datetime) -> dict:
    kind = classify(parsed)
    fp = fingerprint(parsed)
    message_id = parsed.message_id
    if parsed.synthetic_id:
        message_id = f"<{fp[:40]}@{SYNTHETIC_DOMAIN}>"
    return {
        "message_id": message_id,
        "synthetic_id": parsed.synthetic_id,
        "fingerprint": fp,
        "from_addr": parsed.from_addr,
        "from_name": parsed.from_name,
        "to_addrs": list(parsed.to),
        "cc_addrs": list(parsed.cc),
        "bcc_addrs": list(parsed.bcc),
        "subject": parsed.subject,
        "sent_at": parsed.date,
        "first_seen_at": seen_at,
        "in_reply_to": parsed.in_reply_to,
        "references": list(parsed.references),
        "kind": kind.kind,
        "bounced_recipients": list(kind.bounced_recipients),
        "bounce_permanent": kind.bounce_permanent,
        "attachment_names": list(parsed.attachment_names),
        "body_text": parsed.text[:MAX_BODY_CHARS],
        "original_message_id": parsed.original_message_id,
        "language": None,
        "warnings": list(parsed.warnings),
        "size": len(raw.data),
    }


def store_batch(engine: Engine, account_id: int, batch: Batch, *,
                seen_at: datetime) -> tuple[int, int]:
    """Store one batch and its cursor atomically; return (new messages, warnings)."""
    provider_ids = [raw.provider_id for raw in batch.messages]
    with engine.connect() as conn:
        known = set(conn.scalars(
            select(MessageLocation.provider_id).where(
                MessageLocation.account_id == account_id,
                MessageLocation.provider_id.in_(provider_ids)))) if provider_ids else set()
    fresh = [raw for raw in batch.messages if raw.provider_id not in known]
    rows = [(raw, _message_row(parse_message(raw.data), raw, seen_at)) for raw in fresh]
    warnings = sum(1 for _, row in rows if row["warnings"])

    new_count = 0
    with engine.begin() as conn:
        existing: dict[str, tuple[int, str]] = {}
        ids = list({row["message_id"] for _, row in rows})
        for chunk in _chunks(ids, 500):
            for pk, mid, fp in conn.execute(select(Message.id, Message.message_id,
                                                   Message.fingerprint)
                                            .where(Message.message_id.in_(chunk))):
                existing[mid] = (pk, fp)
        to_insert: dict[str, dict] = {}
        for _, row in rows:
            mid = row["message_id"]
            previous = existing.get(mid) or (
                (None, to_insert[mid]["fingerprint"]) if mid in to_insert else None)
            if previous is not None and previous[1] != row["fingerprint"]:
                # Same Message-ID, different message: keep both.
                row["warnings"] = row["warnings"] + [
                    f"duplicate Message-ID {mid} on a different message; stored as a separate message"]
                mid = row["message_id"] = f"<dup-{row['fingerprint'][:16]}.{mid.strip('<>')}>"
                if mid in existing or mid in to_insert:
                    continue
            elif previous is not None:
                continue
            to_insert[mid] = row
        if to_insert:
            conn.execute(_insert_ignoring_conflicts(engine, Message.__table__),
                         list(to_insert.values()))
            new_count = len(to_insert)
        pks: dict[str, int] = {mid: pk for mid, (pk, _) in existing.items()}
        missing = [row["message_id"] for _, row in rows if row["message_id"] not in pks]
        for chunk in _chunks(list(set(missing)), 500):
            pks.update({mid: pk for pk, mid in conn.execute(
                select(Message.id, Message.message_id).where(Message.message_id.in_(chunk)))})
        locations = [{"account_id": account_id, "provider_id": raw.provider_id,
                      "message_pk": pks[row["message_id"]], "thread_id": raw.thread_id,
                      "folder": raw.folder} for raw, row in rows]
        if locations:
            conn.execute(_insert_ignoring_conflicts(engine, MessageLocation.__table__), locations)
        conn.execute(update(Account).where(Account.id == account_id)
                     .values(cursor=batch.cursor, last_sync_at=seen_at))
    return new_count, warnings


def _chunks(items: Sequence, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def sync_account(engine: Engine, name: str, kind: str, connector: Connector, *,
                 progress: Callable[[int], None] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> AccountResult:
    """Pull everything new from one account into the store."""
    result = AccountResult(account=name)
    account_id, cursor = ensure_account(engine, name, kind)
    for batch in connector.fetch(cursor):
        stored, warnings = store_batch(engine, account_id, batch, seen_at=clock())
        result.read += len(batch.messages)
        result.stored += stored
        result.warnings += warnings
        for reason in batch.skipped:
            log.warning("%s: skipped %s", name, reason)
        result.skipped.extend(batch.skipped)
        if progress:
            progress(len(batch.messages))
    mark_account(engine, account_id, status="ok", error=None)
    return result


def mark_account(engine: Engine, account_id: int, *, status: str, error: str | None) -> None:
    with engine.begin() as conn:
        conn.execute(update(Account).where(Account.id == account_id)
                     .values(status=status, last_error=error))
