"""Web sign-in: who a user is (from ``settings.toml``), password hashes and the sign-in
throttle. Used by ``followup users set-password``, ``followup demo`` and the web app.

Passwords are stored as werkzeug scrypt hashes (salted, memory-hard).

The throttle (issue 11; ``docs/web.md`` "Sign-in throttle") follows OWASP's device-cookie
scheme, with the client address as a second way to recognise a member, and a per-address
limit on top. Every attempt first *reserves* a failure on each counter it is subject to —
one conditional upsert per counter, in one transaction — and the password hash is checked
only when every reservation was granted; a right password then gives the reservations
back. So however many requests arrive at once, a counter at its limit lets none through
to the (expensive) hash check, on SQLite and PostgreSQL alike. The counters:

- the **client address** (an IPv6 address counts as its /64): ``MAX_ADDRESS_FAILURES``
  failures, whatever the accounts, refuse that address for ``lockout_minutes``;
- the **account, for clients it does not recognise**: ``MAX_FAILED_LOGINS`` wrong passwords
  lock it for ``lockout_minutes``, for unrecognised clients only;
- the **account from a known address** (one it signed in from in the last
  ``KNOWN_ADDRESS_DAYS`` days) and the **account from one browser** (the device cookie
  issued at its last sign-in there): ``MAX_FAILED_LOGINS`` each, apart. A stranger's
  guesses elsewhere never lock the member out of their own address or browser, and a
  browser with a device cookie is not held back by its address either.

Failures count for ``lockout_minutes`` from the first; a right password clears the
account's counter it used. A failure never touches the member's open sessions (a
stranger's guesses must not sign them out). Counter keys are HMAC-SHA256 digests under
the web app's secret: the database keeps no client address, and nothing that a stranger
typed as an email.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import DateTime, Engine, case, delete, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from werkzeug.security import check_password_hash, generate_password_hash

from assistant.settings import Member, Settings
from assistant.storage import models
from assistant.storage.models import as_utc

MAX_FAILED_LOGINS = 5
"""Wrong passwords for one account, from one kind of client, before it is locked."""
MAX_ADDRESS_FAILURES = 10
"""Failed sign-ins from one client address, whatever the accounts, before it is refused."""
KNOWN_ADDRESS_DAYS = 90
DEVICE_COOKIE = "followup_device"
DEVICE_COOKIE_DAYS = 180
MIN_PASSWORD_LENGTH = 4
_HASH_METHOD = "scrypt"


# Checked when the email is unknown, so a wrong email costs as much time as a wrong password.
@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to check unknown users against (same cost as a real check: no timing
    oracle for which emails exist). Made on first use: scrypt costs ~90 ms, and every
    `followup` command imports this module."""
    return generate_password_hash("not a password", method=_HASH_METHOD)


def prepare() -> None:
    """Make the dummy hash before the first request (the web app calls this), or the
    first unknown email would cost two scrypt runs: a timing oracle for who exists."""
    _dummy_hash()


class UserError(ValueError):
    """A refusal meant for the person at the keyboard (unknown member, short password)."""


@dataclass(frozen=True)
class Viewer:
    """The signed-in person and what they may see."""

    email: str
    name: str
    role: str
    admin: bool
    team: tuple[str, ...]
    """Whose follow-ups they may see and whom they may assign: themselves, plus the
    members in their scope when they manage people, everyone for an admin."""
    scope: frozenset[str] | None = None
    """Whose threads they see (:func:`assistant.domain.scope.scope_of`, the digest's
    definition): their team, transitively; ``None`` = everyone's."""

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"

    @property
    def sees_team(self) -> bool:
        return self.is_manager or self.admin


def viewer_for(settings: Settings, email: str | None) -> Viewer | None:
    """The viewer for a team member's address; ``None`` for anybody else."""
    from assistant.domain.scope import viewer_scope

    member: Member | None = settings.team.member(email)
    if member is None:
        return None
    scope, team = viewer_scope(member.email, {m.email: m.manager for m in settings.team.members},
                               manager_role=member.role == "manager", admin=member.admin)
    return Viewer(member.email, member.name, member.role, member.admin, team, scope)


def set_password(settings: Settings, engine: Engine, email: str, password: str,
                 now: datetime) -> str:
    """Store a new password for a team member. Returns the address. It ends the
    sessions opened with the old password, clears the member's sign-in counters and
    forgets their known addresses and browsers (a reset may follow a compromise)."""
    now = as_utc(now)  # SQLite keeps no offset: store UTC
    member = settings.team.member(email)
    if member is None:
        raise UserError(f"{email} is not a team member in {settings.path}; add a "
                        "[[team.members]] entry first")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password is too short (at least {MIN_PASSWORD_LENGTH} characters)")
    with engine.begin() as conn:
        row = _row(conn, member.email)
        values = {"password_hash": generate_password_hash(password, method=_HASH_METHOD),
                  "password_set_at": now}
        if row is None:
            conn.execute(models.WebUser.__table__.insert().values(email=member.email, **values))
        else:  # a new password ends the sessions opened with the old one
            conn.execute(models.WebUser.__table__.update()
                         .where(models.WebUser.email == member.email)
                         .values(session_version=models.WebUser.session_version + 1, **values))
        conn.execute(delete(_THROTTLE).where(_THROTTLE.c.email == member.email))
        conn.execute(delete(_KNOWN).where(_KNOWN.c.email == member.email))
    return member.email


@dataclass(frozen=True)
class Client:
    """Who is knocking, as far as the throttle can tell."""

    address: str
    """The client address as :func:`assistant.web.security.client_address` names it (an
    IPv6 address is its /64 network)."""
    device: str = ""
    """The device cookie the browser sent (``DEVICE_COOKIE``), if any."""


@dataclass(frozen=True)
class LoginResult:
    viewer: Viewer | None
    locked_until: datetime | None = None
    """Set when this client may not try again before then (429): a counter is at its
    limit, so the password was not checked, or this very failure reached the limit."""
    session_version: int = 0
    """What the new session carries (see :func:`session_is_current`)."""
    device: str | None = None
    """On success: the device cookie to give the browser (it recognises it next time)."""


@dataclass(frozen=True)
class _Counter:
    key: str
    limit: int
    email: str | None = None


def check_login(settings: Settings, engine: Engine, email: str, password: str,
                now: datetime, *, client: Client, secret: str | bytes) -> LoginResult:
    """Check a password behind the throttle (module docstring). ``secret`` is the web
    app's secret key: counter keys and device cookies are HMACs under it."""
    now = as_utc(now)  # SQLite keeps no offset: store UTC
    period = timedelta(minutes=settings.web.lockout_minutes)
    keys = _Keys(secret)
    email = email.strip().lower()
    member = settings.team.member(email)
    address = keys.digest("address", client.address)
    with engine.connect() as conn:
        row = _row(conn, member.email) if member else None
        password_hash = row.password_hash if row is not None else None
        known = bool(password_hash) and conn.scalar(select(_KNOWN.c.email).where(
            _KNOWN.c.email == member.email, _KNOWN.c.address == address,
            _KNOWN.c.last_login_at > now - timedelta(days=KNOWN_ADDRESS_DAYS))) is not None
    owner = member.email if member else None
    nonce = keys.device_nonce(client.device, email, password_hash or "", now) if password_hash else None
    if nonce is not None:  # a browser this member signed in with: its own counter only
        counters = [_Counter(keys.digest("device", nonce), MAX_FAILED_LOGINS, owner)]
    else:
        account = (keys.digest("account", email, client.address) if known
                   else keys.digest("account", email))
        counters = [_Counter(address, MAX_ADDRESS_FAILURES),
                    _Counter(account, MAX_FAILED_LOGINS, owner)]
    granted, until = _reserve(engine, counters, now, period)
    _forget_expired(engine, now)
    if not granted:
        return LoginResult(None, until)
    if not password_hash:
        check_password_hash(_dummy_hash(), password)
        return LoginResult(None, until)
    if not check_password_hash(password_hash, password):
        return LoginResult(None, until)
    _signed_in(engine, member.email, counters, address, now)
    return LoginResult(viewer_for(settings, member.email),
                       session_version=row.session_version or 0,
                       device=keys.device_cookie(email, password_hash, now))


_THROTTLE = models.WebLoginThrottle.__table__
_KNOWN = models.WebKnownAddress.__table__


def _upsert(engine: Engine, table):
    dialect = engine.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"database {dialect} is not supported yet")


def _reserve(engine: Engine, counters: list[_Counter], now: datetime,
             period: timedelta) -> tuple[bool, datetime | None]:
    """Count one failure on every counter, atomically, unless one of them is locked.
    Returns (granted, locked until): refused with the lock's end, or granted with the
    end of the lock this very failure set (when it reached a limit)."""
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


def _signed_in(engine: Engine, email: str, counters: list[_Counter], address: str,
               now: datetime) -> None:
    """A right password: clear the account counter this client used, give the address
    back the failure reserved for this attempt, and remember the address."""
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
            _KNOWN.c.last_login_at <= now - timedelta(days=KNOWN_ADDRESS_DAYS)))
        conn.execute(models.WebUser.__table__.update().where(models.WebUser.email == email)
                     .values(last_login_at=now))


def _forget_expired(engine: Engine, now: datetime) -> None:
    """Delete the counters whose count and lock are over (they read as no row), skipping
    rows another sign-in holds (PostgreSQL), so this never waits on one."""
    c = _THROTTLE.c
    dead = select(c.key).where(c.window_ends <= now).limit(100).with_for_update(skip_locked=True)
    with engine.begin() as conn:
        conn.execute(delete(_THROTTLE).where(c.key.in_(dead)))


class _Keys:
    """HMACs under the web app's secret: counter keys and device cookies."""

    def __init__(self, secret: str | bytes) -> None:
        raw = secret.encode() if isinstance(secret, str) else secret
        if not raw:
            raise ValueError("the sign-in throttle needs the web app's secret key")
        self._throttle = hmac.new(raw, b"followup sign-in throttle", hashlib.sha256).digest()
        self._device = hmac.new(raw, b"followup device cookie", hashlib.sha256).digest()

    def digest(self, *parts: str) -> str:
        return hmac.new(self._throttle, "\x1f".join(parts).encode("utf-8", "replace"),
                        hashlib.sha256).hexdigest()

    def _mac(self, email: str, nonce: str, issued: str, password_hash: str) -> str:
        message = "\x1f".join((email, nonce, issued, password_hash)).encode("utf-8", "replace")
        return hmac.new(self._device, message, hashlib.sha256).hexdigest()[:32]

    def device_cookie(self, email: str, password_hash: str, now: datetime) -> str:
        """``nonce.issued.mac``: bound to the member and their password (a new password
        voids every device cookie), valid ``DEVICE_COOKIE_DAYS`` days."""
        nonce, issued = secrets.token_urlsafe(16), str(int(now.timestamp()))
        return f"{nonce}.{issued}.{self._mac(email, nonce, issued, password_hash)}"

    def device_nonce(self, cookie: str, email: str, password_hash: str,
                     now: datetime) -> str | None:
        """The nonce of a valid device cookie of ``email``; ``None`` for anything else."""
        parts = cookie.split(".") if cookie and len(cookie) <= 200 else []
        if len(parts) != 3 or not parts[1].isdigit():
            return None
        nonce, issued, mac = parts
        age = now.timestamp() - int(issued)
        if not -86400 < age < DEVICE_COOKIE_DAYS * 86400:
            return None
        if not hmac.compare_digest(mac, self._mac(email, nonce, issued, password_hash)):
            return None
        return nonce


def session_is_current(engine: Engine, email: str, version: int | None) -> bool:
    """Whether a session issued with ``version`` is still valid for ``email``."""
    with engine.connect() as conn:
        row = _row(conn, email)
    return row is not None and version is not None and (row.session_version or 0) == version


def end_sessions(engine: Engine, email: str) -> None:
    """End every open session of ``email`` (signing out signs out everywhere: signed
    cookies cannot be recalled one by one)."""
    with engine.begin() as conn:
        conn.execute(models.WebUser.__table__.update().where(models.WebUser.email == email)
                     .values(session_version=models.WebUser.session_version + 1))


def language_of(engine: Engine, email: str) -> str | None:
    with engine.connect() as conn:
        row = _row(conn, email)
    return row.language if row else None


def set_language(engine: Engine, email: str, language: str) -> None:
    with engine.begin() as conn:
        table = models.WebUser.__table__
        if _row(conn, email) is None:
            conn.execute(table.insert().values(email=email, language=language))
        else:
            conn.execute(table.update().where(models.WebUser.email == email)
                         .values(language=language))


def _row(conn, email: str):
    return conn.execute(select(models.WebUser).where(models.WebUser.email == email)).first()
