"""The web's users as the database keeps them: password hashes, session versions,
languages, the sign-in throttle's counters and the addresses members signed in from.

Queries only; the rules (who may try, which counters, their limits, the hashes and the
HMAC keys) are :mod:`assistant.web.users`' (see its docstring and ``docs/web.md``,
"Sign-in throttle"). Every function opens its own transaction on ``engine``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, DateTime, Engine, case, delete, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from assistant.storage import models
from assistant.storage.models import as_utc

_USERS = models.WebUser.__table__
_THROTTLE = models.WebLoginThrottle.__table__
_KNOWN = models.WebKnownAddress.__table__


@dataclass(frozen=True)
class StoredUser:
    """A ``web_users`` row."""

    email: str
    password_hash: str | None
    session_version: int
    language: str | None


@dataclass(frozen=True)
class Counter:
    """One sign-in throttle counter (``web_login_throttle``): its key, the failures it
    allows, and the member it belongs to (``None``: a client address's)."""

    key: str
    limit: int
    email: str | None = None


def _user(conn: Connection, email: str) -> StoredUser | None:
    row = conn.execute(select(_USERS).where(_USERS.c.email == email)).first()
    if row is None:
        return None
    return StoredUser(row.email, row.password_hash, row.session_version or 0, row.language)


def user(engine: Engine, email: str) -> StoredUser | None:
    with engine.connect() as conn:
        return _user(conn, email)


def store_password(engine: Engine, email: str, password_hash: str, now: datetime) -> None:
    """Store a new password hash; an existing user's open sessions end (their version
    moves on), and the member's throttle counters and known addresses are forgotten."""
    values = {"password_hash": password_hash, "password_set_at": as_utc(now)}
    with engine.begin() as conn:
        if _user(conn, email) is None:
            conn.execute(_USERS.insert().values(email=email, **values))
        else:
            conn.execute(_USERS.update().where(_USERS.c.email == email)
                         .values(session_version=_USERS.c.session_version + 1, **values))
        conn.execute(delete(_THROTTLE).where(_THROTTLE.c.email == email))
        conn.execute(delete(_KNOWN).where(_KNOWN.c.email == email))


def sign_in_facts(engine: Engine, email: str | None, address: str,
                  known_since: datetime) -> tuple[StoredUser | None, bool]:
    """The member's row (``None`` for no member) and whether they signed in from
    ``address`` (its digest) after ``known_since`` (checked only when they have a
    password), read together."""
    with engine.connect() as conn:
        row = _user(conn, email) if email else None
        known = bool(row and row.password_hash) and conn.scalar(select(_KNOWN.c.email).where(
            _KNOWN.c.email == email, _KNOWN.c.address == address,
            _KNOWN.c.last_login_at > as_utc(known_since))) is not None
    return row, known


def _upsert(engine: Engine, table):
    dialect = engine.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"database {dialect} is not supported yet")


def reserve_failures(engine: Engine, counters: list[Counter], now: datetime,
                     period: timedelta) -> tuple[bool, datetime | None]:
    """Count one failure on every counter, atomically, unless one of them is locked:
    one conditional upsert per counter, in one transaction, in one lock order. Returns
    (granted, locked until): refused with the lock's end (and nothing counted), or
    granted with the end of the lock this very failure set (when it reached a limit).
    Counts, and locks, last ``period`` from the first failure."""
    now = as_utc(now)
    c = _THROTTLE.c
    ends = literal(now + period, DateTime(timezone=True))
    at = literal(now, DateTime(timezone=True))
    over = c.window_ends <= at  # the count, and any lock, are over: start again
    count = case((over, 1), else_=c.failures + 1)
    reached = []
    with engine.connect() as conn, conn.begin() as tx:
        for counter in sorted(counters, key=lambda item: item.key):  # one lock order
            first = now + period if counter.limit <= 1 else None
            statement = _upsert(engine, _THROTTLE).values(
                key=counter.key, email=counter.email, failures=1, window_ends=now + period,
                locked_until=first)
            statement = statement.on_conflict_do_update(
                index_elements=[c.key],
                set_={"failures": count,
                      "window_ends": case((count >= counter.limit, ends), (over, ends),
                                          else_=c.window_ends),
                      "locked_until": case((count >= counter.limit, ends), else_=None)},
                where=or_(c.locked_until.is_(None), c.locked_until <= at),
            ).returning(c.locked_until)
            row = conn.execute(statement).first()
            if row is None:  # locked: give back what this attempt took, check nothing
                until = conn.scalar(select(c.locked_until).where(c.key == counter.key))
                tx.rollback()
                return False, as_utc(until)
            if row.locked_until is not None:
                reached.append(as_utc(row.locked_until))
    return True, max(reached) if reached else None


def record_sign_in(engine: Engine, email: str, counters: list[Counter], address: str,
                   now: datetime, known_days: int) -> None:
    """A right password: clear the counters this client used but the address's, give
    the address back the failure reserved for this attempt, remember the address (and
    forget those older than ``known_days``), and note the sign-in."""
    now = as_utc(now)
    c = _THROTTLE.c
    with engine.begin() as conn:
        for counter in sorted(counters, key=lambda item: item.key):  # the reservation's order
            if counter.key != address:
                conn.execute(delete(_THROTTLE).where(c.key == counter.key))
                continue
            left = c.failures - 1
            conn.execute(update(_THROTTLE).where(c.key == address, c.failures > 0).values(
                failures=left,
                locked_until=case((left < counter.limit, None), else_=c.locked_until)))
        known = _upsert(engine, _KNOWN).values(email=email, address=address, last_login_at=now)
        conn.execute(known.on_conflict_do_update(
            index_elements=[_KNOWN.c.email, _KNOWN.c.address], set_={"last_login_at": now}))
        conn.execute(delete(_KNOWN).where(
            _KNOWN.c.email == email,
            _KNOWN.c.last_login_at <= now - timedelta(days=known_days)))
        conn.execute(_USERS.update().where(_USERS.c.email == email).values(last_login_at=now))


def forget_expired(engine: Engine, now: datetime) -> None:
    """Delete the counters whose count and lock are over (they read as no row), skipping
    rows another sign-in holds (PostgreSQL), so this never waits on one."""
    c = _THROTTLE.c
    dead = select(c.key).where(c.window_ends <= as_utc(now)).limit(100) \
        .with_for_update(skip_locked=True)
    with engine.begin() as conn:
        conn.execute(delete(_THROTTLE).where(c.key.in_(dead)))


def end_sessions(engine: Engine, email: str) -> None:
    """Move the member's session version on: every session issued before ends."""
    with engine.begin() as conn:
        conn.execute(_USERS.update().where(_USERS.c.email == email)
                     .values(session_version=_USERS.c.session_version + 1))


def _set(engine: Engine, email: str, **values) -> None:
    with engine.begin() as conn:
        if _user(conn, email) is None:
            conn.execute(_USERS.insert().values(email=email, **values))
        else:
            conn.execute(_USERS.update().where(_USERS.c.email == email).values(**values))


def set_language(engine: Engine, email: str, language: str) -> None:
    _set(engine, email, language=language)


def set_morning_email(engine: Engine, email: str, on: bool) -> None:
    """A person's own choice about the reps' morning list (``web_users.morning_email``)."""
    _set(engine, email, morning_email=on)


def preferences(engine: Engine, emails: list[str] | None = None) -> dict[str, tuple[str | None, bool]]:
    """``email -> (language, morning list on)`` of the people with a stored row (among
    ``emails``); someone without a row has chosen nothing (no language, the list on)."""
    query = select(_USERS.c.email, _USERS.c.language, _USERS.c.morning_email)
    if emails is not None:
        query = query.where(_USERS.c.email.in_(sorted(set(emails))))
    with engine.connect() as conn:
        return {row.email: (row.language, row.morning_email is not False)
                for row in conn.execute(query)}


def languages(engine: Engine) -> dict[str, str]:
    """The language each web user chose (``email -> es|en``), for what is sent to them."""
    return {email: language for email, (language, _) in preferences(engine).items() if language}
