"""Web sign-in: who a user is (from ``settings.toml``), password hashes and the sign-in
throttle. Used by ``followup users set-password``, ``followup demo`` and the web app.

Passwords are stored as werkzeug scrypt hashes (salted, memory-hard).

The throttle (issue 11; ``docs/web.md`` "Sign-in throttle") follows OWASP's device-cookie
scheme, with the client address as a second way to recognise a member, and a per-address
limit on top. Every attempt first *reserves* a failure on each counter it is subject to —
one conditional upsert per counter, in one transaction — and the password hash is checked
only when every reservation was granted; a right password then gives the reservations
back. So however many requests arrive at once, a counter at its limit lets none through
to the (expensive) hash check, on SQLite and PostgreSQL alike (the queries, atomic
reservation included, are :mod:`assistant.storage.users`'). The counters:

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

from typing import TYPE_CHECKING

from werkzeug.security import check_password_hash, generate_password_hash

from assistant.settings import Member, Settings
from assistant.storage import users as stored
from assistant.storage.models import as_utc
from assistant.wording import Worded

if TYPE_CHECKING:  # the engine is passed through to storage.users, never queried here
    from sqlalchemy import Engine

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


class UserError(Worded, ValueError):
    """A refusal meant for the person at the keyboard (unknown member, short password):
    worded in their language by :meth:`words`."""


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
        raise UserError("users.not_member", email=email, file=str(settings.path))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError("users.too_short", n=MIN_PASSWORD_LENGTH)
    stored.store_password(engine, member.email,
                          generate_password_hash(password, method=_HASH_METHOD), now)
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
    row, known = stored.sign_in_facts(engine, member.email if member else None, address,
                                      now - timedelta(days=KNOWN_ADDRESS_DAYS))
    password_hash = row.password_hash if row is not None else None
    owner = member.email if member else None
    nonce = keys.device_nonce(client.device, email, password_hash or "", now) if password_hash else None
    if nonce is not None:  # a browser this member signed in with: its own counter only
        counters = [stored.Counter(keys.digest("device", nonce), MAX_FAILED_LOGINS, owner)]
    else:
        account = (keys.digest("account", email, client.address) if known
                   else keys.digest("account", email))
        counters = [stored.Counter(address, MAX_ADDRESS_FAILURES),
                    stored.Counter(account, MAX_FAILED_LOGINS, owner)]
    granted, until = stored.reserve_failures(engine, counters, now, period)
    stored.forget_expired(engine, now)
    if not granted:
        return LoginResult(None, until)
    if not password_hash:
        check_password_hash(_dummy_hash(), password)
        return LoginResult(None, until)
    if not check_password_hash(password_hash, password):
        return LoginResult(None, until)
    stored.record_sign_in(engine, member.email, counters, address, now, KNOWN_ADDRESS_DAYS)
    return LoginResult(viewer_for(settings, member.email),
                       session_version=row.session_version,
                       device=keys.device_cookie(email, password_hash, now))


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
    row = stored.user(engine, email)
    return row is not None and version is not None and row.session_version == version


def end_sessions(engine: Engine, email: str) -> None:
    """End every open session of ``email`` (signing out signs out everywhere: signed
    cookies cannot be recalled one by one)."""
    stored.end_sessions(engine, email)


def language_of(engine: Engine, email: str) -> str | None:
    row = stored.user(engine, email)
    return row.language if row else None


def set_language(engine: Engine, email: str, language: str) -> None:
    stored.set_language(engine, email, language)


def morning_email_of(engine: Engine, email: str) -> bool:
    """Whether the person gets the reps' morning list (on unless they turned it off)."""
    return stored.preferences(engine, [email]).get(email, (None, True))[1]


def set_morning_email(engine: Engine, email: str, on: bool) -> None:
    stored.set_morning_email(engine, email, on)
