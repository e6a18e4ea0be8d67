"""Who syncs which account when several ``followup run`` workers share one database.

PostgreSQL: each account has a row in ``account_leases``. A worker claims one account at
a time with ``SELECT … FOR UPDATE SKIP LOCKED`` on the rows that are free (no holder, or
a lease that expired), writes itself as the holder with an expiry, and commits; it renews
the lease while it syncs and releases it when done. Two workers never hold the same
account; when a worker dies, its lease expires and another worker takes the account over.
Times come from the worker's clock (injectable); workers' clocks are assumed in step
(NTP), well within a lease's length.

SQLite has no row locks: :class:`WorkerLock` (an exclusive lock on a file next to the
database) lets one worker run at a time.
"""

from __future__ import annotations

import fcntl
import os
import socket
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterable

from sqlalchemy import Engine, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from assistant.storage import claims, models
from assistant.wording import Worded

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def worker_id() -> str:
    """A name for this worker, unique across machines and restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class LeaseManager:
    """Account leases for one worker (``holder``)."""

    def __init__(self, engine: Engine, holder: str, ttl: timedelta, *,
                 clock: Clock = utcnow) -> None:
        self.engine, self.holder, self.ttl, self.clock = engine, holder, ttl, clock
        self.kind = claims.account_lease(ttl)

    def ensure(self, accounts: Iterable[str]) -> None:
        """A lease row for every account (existing rows are left alone)."""
        rows = [{"account": name} for name in accounts]
        if not rows:
            return
        dialect = self.engine.dialect.name
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(
            models.AccountLease.__table__)
        with self.engine.begin() as conn:
            conn.execute(insert.on_conflict_do_nothing(index_elements=["account"]), rows)

    def acquire(self, accounts: Iterable[str], *, fresh: timedelta | None = None) -> str | None:
        """Claim one of ``accounts`` that nobody holds (or whose lease expired, or that
        this worker already holds); the least recently claimed first. With ``fresh``,
        accounts claimed less than that long ago (synced by someone just now) are left.
        ``None`` when every one is taken.

        The take-over rule is :func:`assistant.storage.claims.claimable`; PostgreSQL's
        ``SKIP LOCKED`` only keeps workers from queueing on the same candidate row."""
        names = list(accounts)
        if not names:
            return None
        lease = models.AccountLease
        now = self.clock()
        conditions = [lease.account.in_(names),
                      claims.claimable(self.kind, self.holder, now, own=True)]
        if fresh is not None:
            conditions.append(or_(lease.claimed_at.is_(None), lease.claimed_at < now - fresh))
        with self.engine.begin() as conn:
            name = conn.execute(
                select(lease.account).where(*conditions)
                .order_by(lease.claimed_at.asc().nulls_first(), lease.account)
                .limit(1).with_for_update(skip_locked=True)).scalar()
            if name is None:
                return None
            if not claims.take(conn, self.kind, lease.account == name, self.holder, now,
                               own=True, claimed_at=now):
                return None  # another worker won it between the read and the write
        return name

    def renew(self, account: str) -> bool:
        """Push this worker's lease on ``account`` further; False if it was lost."""
        with self.engine.begin() as conn:
            return claims.renew(conn, self.kind, models.AccountLease.account == account,
                                self.holder, self.clock())

    def release(self, account: str) -> None:
        with self.engine.begin() as conn:
            claims.release(conn, self.kind, models.AccountLease.account == account, self.holder)

    def holders(self) -> dict[str, str | None]:
        """account -> holder (``None`` when free), expired leases included as written."""
        lease = models.AccountLease
        with self.engine.connect() as conn:
            return dict(conn.execute(select(lease.account, lease.holder)).all())


class AnotherWorker(Worded):
    """Another ``followup run`` already works on this SQLite database (worded:
    :meth:`words`)."""


class WorkerLock:
    """An exclusive lock on ``<database>.worker.lock``, held for the worker's life (the
    operating system drops it when the process dies, however it dies)."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".worker.lock")
        self._file = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise AnotherWorker("run.another_worker", path=str(self.path)) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def __enter__(self) -> "WorkerLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def worker_lock_for(engine: Engine) -> WorkerLock | None:
    """The lock one ``followup run`` holds on a SQLite file (two workers on one file would
    fight over its write lock); ``None`` for PostgreSQL (leases share the work) and for an
    in-memory database."""
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        return WorkerLock(Path(engine.url.database))
    return None
