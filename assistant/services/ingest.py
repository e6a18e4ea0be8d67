"""The per-account sync engine: connector -> store, incremental, idempotent, resumable.

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
import json
import logging
from collections import Counter, deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Mapping, NamedTuple, Sequence

from sqlalchemy import Engine, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from assistant.mail.bulk import is_list_or_bulk
from assistant.mail.classify import classify
from assistant.mail.copies import delivered_identity
from assistant.mail.message import ParsedMessage
from assistant.mail.parse import parse_message
from assistant.services.workers import fewer_collections, worker_count
from assistant.services.workers import pool as worker_pool
from assistant.storage.db import where
from assistant.storage.errors import StorageError, failure, is_refusal, refusal_reason
from assistant.storage.models import Account, IndexQueue, Message, MessageLocation, SetAsideMessage
from assistant.storage.values import (FOLDER_CHARS, MESSAGE_ID_CHARS, THREAD_ID_CHARS,
                                      fit_identifier, make_storable, storable_location,
                                      storable_optional)
from assistant.wording import coded, every_language, reason_words, stored
from connectors.base import Batch, Connector, RawMessage, StoredLookup

log = logging.getLogger(__name__)

SYNTHETIC_DOMAIN = "synthetic.followup.invalid"
MAX_BODY_CHARS = 4000
PIPELINE_MIN_BATCH = 200
"""Below this many new messages in a batch, parsing in-process beats starting workers."""
COPIES_KEPT = 200_000
"""How many stored messages one sync remembers by their bytes (:mod:`assistant.mail.
copies`): about 20 MB; later copies of the rest are parsed as usual."""


@dataclass
class AccountResult:
    account: str
    read: int = 0
    stored: int = 0
    """New message rows (a message already stored from another mailbox is not new)."""
    warnings: int = 0
    copies: int = 0
    """Messages read that were copies of one this sync stored from another mailbox,
    recognised by their bytes (not parsed again; their location is stored)."""
    skipped: list[str] = field(default_factory=list)
    set_aside: list[str] = field(default_factory=list)
    """``"<provider id>: <reason>"`` of each message the database refused in this run (kept
    out of the store, recorded in ``set_aside_messages``; the cursor moved past it)."""
    error: str | None = None
    """What went wrong, in English: a provider's own message, or Followup's line."""
    reason: str | None = None
    """Followup's line as stored (a code and its values: :func:`assistant.wording.
    reason_words` words it for its reader); ``None`` for a provider's message."""
    status: str = "ok"
    touches: int = 0
    """WhatsApp accounts: new WhatsApp touches logged from the rep's chat messages."""
    chats_set_aside: list[tuple[str, str]] = field(default_factory=list)
    """WhatsApp accounts: ``(file, reason)`` of each chat export set aside (no contact
    matched it, it could not be read; the reason stored, :func:`assistant.wording.
    reason_words` words it); read again at the next sync."""


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
        "recipient_names": list(parsed.recipient_names),
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
        "size": raw.size if raw.size is not None else len(raw.data),
        "list_mail": is_list_or_bulk(parsed.headers),
    }


JSON_COLUMNS = ("to_addrs", "cc_addrs", "bcc_addrs", "references", "bounced_recipients",
                "attachment_names", "warnings", "recipient_names")


def prepare_rows(raws: list[RawMessage], seen_at: datetime, *, for_sqlite: bool = False,
                 copies: Mapping[bytes, tuple[str, str]] | None = None) -> list[dict]:
    """Parse and classify raw messages into rows (pure CPU work: runs in worker processes
    during large syncs), one per raw message, in order. ``for_sqlite``: the values as
    SQLite stores them, made here, in the worker, rather than in the writing process (see
    :func:`storable_rows`).

    ``copies``: the :func:`~assistant.mail.copies.delivered_identity` of messages this
    sync stored, and the Message-ID and fingerprint each was stored under. A raw message
    with one of those identities is another copy of a stored message: it is not parsed,
    and its row is ``{"message_id", "fingerprint", "copy": True, "warnings": []}``
    (only its location is stored). Every parsed row carries its ``"identity"`` (or
    ``None``), for the writer to record (:attr:`BatchOutcome.delivered`)."""
    rows: list[dict] = []
    parsed_rows: list[dict] = []
    for raw in raws:
        identity = delivered_identity(raw.data) if copies is not None else None
        stored = copies.get(identity) if identity is not None else None
        if stored is not None:
            rows.append({"message_id": stored[0], "fingerprint": stored[1], "copy": True,
                         "warnings": "[]" if for_sqlite else []})
            continue
        row = _message_row(parse_message(raw.data), raw, seen_at)
        row["identity"] = identity
        rows.append(row)
        parsed_rows.append(row)
    storable_rows(parsed_rows, for_sqlite=for_sqlite)
    return rows


_INHERITED_COPIES: Mapping[bytes, tuple[str, str]] | None = None
"""What :func:`_prepare_in_worker` reads: the sync's ``copies`` as they stood when its
workers were forked (each account's pool is forked at its start, so it knows what the
accounts before it stored)."""


def _forked_pool(workers: int, copies: Mapping[bytes, tuple[str, str]]) -> ProcessPoolExecutor:
    """Parse workers, forked now: they inherit ``copies`` as it stands."""
    global _INHERITED_COPIES
    _INHERITED_COPIES = copies
    try:
        pool = worker_pool(workers)
        pool.submit(int).result()  # the first task forks every worker (fork context)
        return pool
    finally:
        _INHERITED_COPIES = None


def _prepare_in_worker(raws: list[RawMessage], seen_at: datetime,
                       for_sqlite: bool) -> list[dict]:
    return prepare_rows(raws, seen_at, for_sqlite=for_sqlite, copies=_INHERITED_COPIES)


def storable_rows(rows: list[dict], *, for_sqlite: bool = False) -> list[dict]:
    """Message rows made storable (:func:`prepare_rows`), also rows built without raw
    mail (WhatsApp messages). ``for_sqlite``: each value already as SQLite stores it (JSON
    as text, times and booleans as SQLAlchemy's own processors write them), so the writer
    hands the rows straight to the driver (:func:`_store`); PostgreSQL takes the rows as
    they are, through SQLAlchemy (the JSON type checks the values)."""
    for row in rows:
        make_storable(row)  # the same values on every backend (NUL, lengths, surrogates)
    if for_sqlite:
        dumps = json.JSONEncoder(ensure_ascii=False).encode
        processors = _sqlite_processors()
        for row in rows:
            for column in JSON_COLUMNS:
                value = row[column]
                row[column] = dumps(value) if value else "[]"
            for column, process in processors:
                row[column] = process(row[column])
    return rows


_PROCESSORS: list | None = None


def _sqlite_processors() -> list:
    """``(column, SQLAlchemy's SQLite bind processor)`` for each non-JSON message column
    that has one (times, booleans): the exact text and numbers SQLAlchemy would write."""
    global _PROCESSORS
    if _PROCESSORS is None:
        dialect = sqlite.dialect()
        found = []
        for column in Message.__table__.columns:
            if column.name in JSON_COLUMNS:
                continue
            process = column.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                found.append((column.name, process))
        _PROCESSORS = found
    return _PROCESSORS


class Location(NamedTuple):
    """Where one fresh message was seen, as stored (``provider_id`` fitted, see
    :func:`assistant.storage.values.storable_location`); the raw bytes are not kept."""

    provider_id: str
    thread_id: str | None
    folder: str | None
    size: int


def location_of(raw: RawMessage) -> Location:
    return Location(storable_location(raw.provider_id),
                    storable_optional(raw.thread_id, THREAD_ID_CHARS),
                    storable_optional(raw.folder, FOLDER_CHARS),
                    raw.size if raw.size is not None else len(raw.data))


class BatchOutcome(NamedTuple):
    stored: int
    warnings: int
    set_aside: list[str]
    """``"<provider id>: <reason>"`` for each message set aside."""
    delivered: list[tuple[bytes, str, str]] = []
    """``(identity, Message-ID, fingerprint)`` of each parsed message now stored under its
    own Message-ID: what later copies of it are recognised by (``prepare_rows(copies=)``)."""


class CopyVanished(StorageError):
    """A copy recognised by its bytes names a message this sync stored that is no longer
    in the database (deleted behind the sync's back): the batch is not recorded, and the
    next sync reads it again."""


REFUSE_ALL_MIN = 3
"""When the database refuses every message of a batch at least this large, the fault is
the database's (a changed schema, a broken server), not the mail's: sync stops instead of
setting a whole mailbox aside."""


def unseen(engine: Engine, account_id: int, batch: Batch, *,
           set_aside: bool = True) -> list[RawMessage]:
    """The batch's messages not yet recorded for this account, stored or set aside (a
    re-read batch after a crash, or a Maildir message re-flagged by a mail client, costs
    no parsing). ``set_aside=False``: the account has no set-aside message to look at."""
    if not batch.messages:
        return []
    stored_ids = {raw.provider_id: storable_location(raw.provider_id) for raw in batch.messages}
    provider_ids = list(set(stored_ids.values()))
    known: set[str] = set()
    with engine.connect() as conn:
        for chunk in _chunks(provider_ids, 500):
            query = select(MessageLocation.provider_id).where(
                MessageLocation.account_id == account_id,
                MessageLocation.provider_id.in_(chunk))
            if set_aside:
                query = union_all(query, select(SetAsideMessage.provider_id).where(
                    SetAsideMessage.account_id == account_id,
                    SetAsideMessage.provider_id.in_(chunk)))
            known.update(conn.scalars(query))
    return [raw for raw in batch.messages if stored_ids[raw.provider_id] not in known]


def stored_among(engine: Engine, account_id: int, provider_ids: list[str]) -> set[str]:
    """Which of ``provider_ids`` this account has recorded (stored or set aside)."""
    if not provider_ids:
        return set()
    batch = Batch([RawMessage(pid, b"") for pid in dict.fromkeys(provider_ids)], "")
    fresh = {raw.provider_id for raw in unseen(engine, account_id, batch)}
    return {pid for pid in provider_ids if pid not in fresh}


def has_set_aside(engine: Engine, account_id: int) -> bool:
    with engine.connect() as conn:
        return conn.scalar(select(SetAsideMessage.id).where(
            SetAsideMessage.account_id == account_id).limit(1)) is not None


def store_batch(engine: Engine, account_id: int, batch: Batch, *,
                seen_at: datetime) -> BatchOutcome:
    """Parse and store one batch and its cursor atomically."""
    fresh = unseen(engine, account_id, batch)
    rows = prepare_rows(fresh, seen_at, for_sqlite=engine.dialect.name == "sqlite")
    return write_batch(engine, account_id, batch.cursor, [location_of(raw) for raw in fresh],
                       rows, seen_at=seen_at)


def write_batch(engine: Engine, account_id: int, cursor: str, locations: list[Location],
                prepared: list[dict], *, seen_at: datetime) -> BatchOutcome:
    """Write prepared rows and the batch's cursor in ONE transaction.

    When the database refuses the batch because of one message's values (a data or
    constraint error, see :func:`assistant.storage.errors.is_refusal`), the batch is
    written again message by message, each in a savepoint of one transaction that also
    advances the cursor: the refused messages are recorded in ``set_aside_messages``
    with the database's reason and the rest of the mailbox goes on. Any other database
    error (full, read-only, damaged, unreachable) propagates: nothing is set aside then.
    """
    identities = [row.pop("identity", None) for row in prepared]
    pairs = list(zip(locations, prepared))
    try:
        with engine.begin() as conn:
            stored, stored_as = _store(conn, engine, account_id, pairs)
            _advance(conn, account_id, cursor, seen_at)
        return BatchOutcome(stored, _with_warnings(pairs), [],
                            _delivered(prepared, identities, stored_as))
    except SQLAlchemyError as exc:
        if not is_refusal(exc) or not pairs:
            raise
        log.info("the database refused a batch of %d messages; storing them one by one",
                 len(pairs))
    return _write_one_by_one(engine, account_id, cursor, pairs, identities, seen_at=seen_at)


def _delivered(rows: list[dict], identities: list, stored_as: list[str]) -> list:
    return [(identity, row["message_id"], row["fingerprint"])
            for row, identity, mid in zip(rows, identities, stored_as)
            if identity is not None and mid == row["message_id"]]


def _write_one_by_one(engine: Engine, account_id: int, cursor: str,
                      pairs: list[tuple[Location, dict]], identities: list, *,
                      seen_at: datetime) -> BatchOutcome:
    stored, kept, refused, delivered = 0, [], [], []
    with engine.begin() as conn:
        # The cursor first: on SQLite this statement opens the transaction, so each
        # SAVEPOINT below nests in it instead of committing on release.
        _advance(conn, account_id, cursor, seen_at)
        for (location, row), identity in zip(pairs, identities):
            try:
                with conn.begin_nested():
                    new, stored_as = _store(conn, engine, account_id, [(location, row)])
                stored += new
                kept.append((location, row))
                delivered.extend(_delivered([row], [identity], stored_as))
            except SQLAlchemyError as exc:
                if not is_refusal(exc):
                    raise
                refused.append((location, refusal_reason(exc)))
        if refused and len(refused) == len(pairs) >= REFUSE_ALL_MIN:
            raise StorageError("storage.refused_all", where=where(engine), n=len(pairs),
                               reason=every_language(refused[0][1]))
        if refused:
            conn.execute(_insert_ignoring_conflicts(engine, SetAsideMessage.__table__), [
                {"account_id": account_id, "provider_id": location.provider_id,
                 "folder": location.folder, "size": min(location.size, 2**31 - 1),
                 "reason": reason, "set_aside_at": seen_at}
                for location, reason in refused])
    for location, reason in refused:
        log.info("set aside %s: %s", location.provider_id, reason_words(reason))
    return BatchOutcome(stored, _with_warnings(kept),
                        [f"{location.provider_id}: {reason}" for location, reason in refused],
                        delivered)


def _with_warnings(pairs) -> int:
    return sum(1 for _, row in pairs if row["warnings"] not in ([], "[]"))


def _advance(conn, account_id: int, cursor: str, seen_at: datetime) -> None:
    conn.execute(update(Account).where(Account.id == account_id)
                 .values(cursor=cursor, last_sync_at=seen_at))


def _store(conn, engine: Engine, account_id: int,
           pairs: list[tuple[Location, dict]]) -> tuple[int, list[str]]:
    """Insert the messages not stored yet and every location; return how many new, and
    the Message-ID each pair is stored under. The
    rows are not changed (a refused batch is retried with them as they came). On SQLite
    the rows already hold its own values (:func:`storable_rows`) and go straight to the
    driver: SQLAlchemy's per-row processing cost more than SQLite's own writing."""
    raw = engine.dialect.name == "sqlite"
    existing: dict[str, tuple[int, str]] = {}
    ids = list({row["message_id"] for _, row in pairs})
    for pk, mid, fp in _messages_by_id(conn, raw, ids, with_fingerprint=True):
        existing[mid] = (pk, fp)
    to_insert: dict[str, dict] = {}
    stored_as: list[str] = []  # the Message-ID each pair is stored under
    for _, row in pairs:
        mid = row["message_id"]
        if row.get("copy"):  # recognised by its bytes: stored earlier in this sync
            if existing.get(mid, (None, None))[1] != row["fingerprint"]:
                raise CopyVanished("storage.copy_vanished", message_id=mid, where=where(engine))
            stored_as.append(mid)
            continue
        previous = existing.get(mid) or (
            (None, to_insert[mid]["fingerprint"]) if mid in to_insert else None)
        if previous is not None and previous[1] != row["fingerprint"]:
            # Same Message-ID, different message: keep both.
            note = f"duplicate Message-ID {mid} on a different message; stored as a separate message"
            if isinstance(row["warnings"], str):  # already JSON-encoded by a worker
                warnings = json.dumps(json.loads(row["warnings"]) + [note], ensure_ascii=False)
            else:
                warnings = row["warnings"] + [note]
            mid = fit_identifier(f"<dup-{row['fingerprint'][:16]}.{mid.strip('<>')}>",
                                 MESSAGE_ID_CHARS)
            if mid not in existing and mid not in to_insert:
                to_insert[mid] = {**row, "message_id": mid, "warnings": warnings}
        elif previous is None:
            to_insert[mid] = row
        stored_as.append(mid)
    if to_insert and raw:
        rows = list(to_insert.values())
        names = list(rows[0])
        columns = ", ".join(f'"{name}"' for name in names)  # "references" is an SQL keyword
        _execute_many(conn, f"INSERT INTO messages ({columns}) VALUES "
                            f"({', '.join('?' for _ in names)}) ON CONFLICT DO NOTHING",
                      [tuple(row[name] for name in names) for row in rows])
    elif to_insert:
        conn.execute(_insert_ignoring_conflicts(engine, Message.__table__),
                     list(to_insert.values()))
    pks: dict[str, int] = {mid: pk for mid, (pk, _) in existing.items()}
    missing = list({mid for mid in stored_as if mid not in pks})
    pks.update({mid: pk for pk, mid in _messages_by_id(conn, raw, missing)})
    locations = [(account_id, location.provider_id, pks[mid], location.thread_id, location.folder)
                 for (location, _), mid in zip(pairs, stored_as)]
    if not locations:
        return len(to_insert), stored_as
    # The read model indexes what this batch stored or saw again (a copy in another
    # mailbox may bring a provider conversation id): queued in the same transaction.
    queued = sorted({location[2] for location in locations})
    if raw:
        _execute_many(conn, "INSERT INTO message_locations (account_id, provider_id, message_pk, "
                            "thread_id, folder) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                      locations)
        _execute_many(conn, "INSERT INTO index_queue (message_pk) VALUES (?) "
                            "ON CONFLICT DO NOTHING", [(pk,) for pk in queued])
    else:
        conn.execute(_insert_ignoring_conflicts(engine, MessageLocation.__table__), [
            dict(zip(_LOCATION_COLUMNS, location)) for location in locations])
        conn.execute(_insert_ignoring_conflicts(engine, IndexQueue.__table__),
                     [{"message_pk": pk} for pk in queued])
    return len(to_insert), stored_as


_LOCATION_COLUMNS = ("account_id", "provider_id", "message_pk", "thread_id", "folder")


def _messages_by_id(conn, raw: bool, message_ids: list[str], *,
                    with_fingerprint: bool = False) -> list[tuple]:
    """``(pk, Message-ID[, fingerprint])`` of the stored messages among ``message_ids``
    (``raw``: SQLite, asked through the driver)."""
    found: list[tuple] = []
    for chunk in _chunks(message_ids, 500):
        if raw:
            columns = "id, message_id, fingerprint" if with_fingerprint else "id, message_id"
            found.extend(conn.exec_driver_sql(
                f"SELECT {columns} FROM messages WHERE message_id IN "
                f"({', '.join('?' for _ in chunk)})", tuple(chunk)).all())
        else:
            columns = ((Message.id, Message.message_id, Message.fingerprint) if with_fingerprint
                       else (Message.id, Message.message_id))
            found.extend(conn.execute(select(*columns).where(Message.message_id.in_(chunk))).all())
    return found


def _execute_many(conn, sql: str, rows: list[tuple]) -> None:
    """One SQLite statement for many rows, through the driver's own ``executemany``."""
    if rows:
        conn.exec_driver_sql(sql, rows)


def _chunks(items: Sequence, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def sync_account(engine: Engine, name: str, kind: str, connector: Connector, *,
                 progress: Callable[[int], None] | None = None,
                 folder_progress: Callable[[str, int], None] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 workers: int | None = None,
                 before_workers: Callable[[], None] | None = None,
                 copies: dict[bytes, tuple[str, str]] | None = None) -> AccountResult:
    """Pull everything new from one account into the store.

    Large syncs are pipelined: while the main process writes batch N (database work),
    worker processes parse batch N+1 and N+2 (CPU work). Batches are still written in
    order, each with its own cursor, so the crash guarantees are those of a serial sync.
    ``workers=0`` forces a serial sync; ``None``: :func:`assistant.services.workers.
    worker_count` (``$FOLLOWUP_SYNC_WORKERS``, else one per CPU), started only once a
    sync proves large. Measured on 2 CPUs: 2 workers beat 1. Workers die with the process
    that started them, even on ``kill -9``; ``before_workers`` is called before they are
    forked (to let a thread finish first).

    A database failure (full, read-only, damaged, unreachable) raises
    :class:`~assistant.storage.errors.StorageError` with one line saying what to do; what
    was stored before it stays stored, with its cursor.
    """
    try:
        with fewer_collections():
            return _sync_account(engine, name, kind, connector, progress=progress,
                                 folder_progress=folder_progress, clock=clock, workers=workers,
                                 before_workers=before_workers,
                                 copies={} if copies is None else copies)
    except SQLAlchemyError as exc:
        raise failure(exc, where(engine), "storage.doing.syncing", account=name) from exc


def _sync_account(engine: Engine, name: str, kind: str, connector: Connector, *,
                  progress, folder_progress, clock, workers, before_workers,
                  copies: dict[bytes, tuple[str, str]]) -> AccountResult:
    result = AccountResult(account=name)
    account_id, cursor = ensure_account(engine, name, kind)
    workers = worker_count(workers)
    pool: ProcessPoolExecutor | None = None
    pending: deque = deque()
    aside = [has_set_aside(engine, account_id)]  # whether unseen() must look there too

    def finish_oldest() -> None:
        cursor, skipped, read, folders, locations, rows = pending.popleft()
        prepared = rows.result() if isinstance(rows, Future) else rows
        outcome = write_batch(engine, account_id, cursor, locations, prepared, seen_at=clock())
        for identity, message_id, fp in outcome.delivered:
            if len(copies) >= COPIES_KEPT:
                break
            copies[identity] = (message_id, fp)
        aside[0] = aside[0] or bool(outcome.set_aside)
        result.read += read
        result.stored += outcome.stored
        result.warnings += outcome.warnings
        result.copies += sum(1 for row in prepared if row.get("copy"))
        result.set_aside.extend(outcome.set_aside)
        for reason in skipped:  # (the command says them, worded: shown here with -v)
            log.info("%s: skipped %s", name, reason)
        result.skipped.extend(skipped)
        if progress:
            progress(read)
        if folder_progress:  # (folder, messages read there): the connector's RawMessage.folder
            for folder, count in folders.items():
                folder_progress(folder, count)

    if isinstance(connector, StoredLookup):  # skip downloading what is stored already
        connector.set_stored_lookup(lambda ids: stored_among(engine, account_id, ids))
    batches = iter(connector.fetch(cursor))
    try:
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                break
            except Exception:
                # The source failed mid-way (connection lost, file vanished): what it
                # already handed over is complete, so store it before reporting the error.
                while pending:
                    finish_oldest()
                raise
            fresh = unseen(engine, account_id, batch, set_aside=aside[0])
            if pool is None and workers and len(fresh) >= PIPELINE_MIN_BATCH:
                if before_workers is not None:
                    before_workers()
                pool = _forked_pool(workers, copies)
            encode = engine.dialect.name == "sqlite"
            if pool is not None and fresh:
                rows: Future | list[dict] = pool.submit(_prepare_in_worker, fresh, clock(), encode)
            else:
                rows = prepare_rows(fresh, clock(), for_sqlite=encode, copies=copies)
            # Only what writing needs is kept while the batch waits: not the raw bytes.
            folders = Counter(raw.folder or "" for raw in batch.messages)
            pending.append((batch.cursor, batch.skipped, len(batch.messages), folders,
                            [location_of(raw) for raw in fresh], rows))
            del batch, fresh
            while len(pending) > (workers + 1 if pool else 0):
                finish_oldest()
        while pending:
            finish_oldest()
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    mark_account(engine, account_id, status="ok", error=skipped_note(result.skipped),
                 synced_at=clock())
    return result


def skipped_note(skipped: list[str]) -> str | None:
    """What ``accounts list`` shows of the files this sync could not read (the connector
    tries an unreadable file again at each sync, so the note stands until it is fixed)."""
    if not skipped:
        return None
    if len(skipped) == 1:
        return stored("sync.skipped_note_one", first=coded(skipped[0]))
    return stored("sync.skipped_note", n=len(skipped), first=coded(skipped[0]))


def mark_account(engine: Engine, account_id: int, *, status: str, error: str | None,
                 synced_at: datetime | None = None) -> None:
    """The account's status after a sync; ``synced_at``: a sync that read the whole
    source (also one that found nothing new: ``accounts list`` shows it moving)."""
    values = {"status": status, "last_error": error}
    if synced_at is not None:
        values["last_sync_at"] = synced_at
    with engine.begin() as conn:
        conn.execute(update(Account).where(Account.id == account_id).values(**values))
