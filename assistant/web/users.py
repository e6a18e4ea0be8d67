"""Web sign-in: who a user is (from ``settings.toml``), password hashes and the login
throttle (``web_users``). Used by ``followup users set-password``, ``followup demo`` and
the web app.

Passwords are stored as werkzeug scrypt hashes (salted, memory-hard). Five wrong
passwords in a row lock the account for ``[web] lockout_minutes``; the count and the lock
live in the database, so they survive restarts and hold across several app processes.
"""

from __future__ import annotations

from functools import lru_cache

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from werkzeug.security import check_password_hash, generate_password_hash

from assistant.settings import Member, Settings
from assistant.storage import models
from assistant.storage.models import as_utc

MAX_FAILED_LOGINS = 5
MIN_PASSWORD_LENGTH = 4
_HASH_METHOD = "scrypt"
# Checked when the email is unknown, so a wrong email costs as much time as a wrong password.
@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to check unknown users against (same cost as a real check: no timing
    oracle for which emails exist). Made on first use: scrypt costs ~90 ms, and every
    `followup` command imports this module."""
    return generate_password_hash("not a password", method=_HASH_METHOD)


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
    """Whose threads and follow-ups they may see: themselves, plus their reports when
    they manage people (a member whose ``manager`` is them), everyone for an admin."""

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"

    @property
    def sees_team(self) -> bool:
        return self.is_manager or self.admin

    def may_see_owner(self, owner: str | None) -> bool:
        if owner is None:
            return self.sees_team
        return owner in self.team


def viewer_for(settings: Settings, email: str | None) -> Viewer | None:
    """The viewer for a team member's address; ``None`` for anybody else."""
    member: Member | None = settings.team.member(email)
    if member is None:
        return None
    if member.admin:
        team = tuple(m.email for m in settings.team.members)
    else:
        team = (member.email, *(m.email for m in settings.team.reports_of(member.email)))
    return Viewer(member.email, member.name, member.role, member.admin, team)


def set_password(settings: Settings, engine: Engine, email: str, password: str,
                 now: datetime) -> str:
    """Store a new password for a team member (and clear any lock). Returns the address."""
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
                  "password_set_at": now, "failed_logins": 0, "locked_until": None}
        if row is not None:  # a new password ends the sessions opened with the old one
            values["session_version"] = (row.session_version or 0) + 1
        if row is None:
            conn.execute(models.WebUser.__table__.insert().values(email=member.email, **values))
        else:
            conn.execute(models.WebUser.__table__.update()
                         .where(models.WebUser.email == member.email).values(**values))
    return member.email


@dataclass(frozen=True)
class LoginResult:
    viewer: Viewer | None
    locked_until: datetime | None = None
    """Set when the account is locked (the password was not even checked)."""
    session_version: int = 0
    """What the new session carries (see :func:`session_is_current`)."""


def check_login(settings: Settings, engine: Engine, email: str, password: str,
                now: datetime) -> LoginResult:
    """Check a password. Five wrong in a row lock the account for ``lockout_minutes``."""
    now = as_utc(now)  # SQLite keeps no offset: store UTC
    member = settings.team.member(email)
    with engine.begin() as conn:
        row = _row(conn, member.email) if member else None
        if row is None or not row.password_hash:
            check_password_hash(_dummy_hash(), password)
            return LoginResult(None)
        locked = as_utc(row.locked_until)
        if locked is not None and locked > now:
            return LoginResult(None, locked)
        table = models.WebUser.__table__
        where = models.WebUser.email == member.email
        if check_password_hash(row.password_hash, password):
            conn.execute(table.update().where(where).values(
                failed_logins=0, locked_until=None, last_login_at=now))
            return LoginResult(viewer_for(settings, member.email),
                               session_version=row.session_version or 0)
        failed = (row.failed_logins or 0) + 1
        until = None
        values = {}
        if failed >= MAX_FAILED_LOGINS:
            until = now + timedelta(minutes=settings.web.lockout_minutes)
            failed = 0
            # Someone is guessing: end the sessions already open too (a stolen cookie).
            values["session_version"] = (row.session_version or 0) + 1
        conn.execute(table.update().where(where).values(failed_logins=failed, locked_until=until,
                                                        **values))
        return LoginResult(None, until)


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
            conn.execute(table.insert().values(email=email, failed_logins=0, language=language))
        else:
            conn.execute(table.update().where(models.WebUser.email == email)
                         .values(language=language))


def _row(conn, email: str):
    return conn.execute(select(models.WebUser).where(models.WebUser.email == email)).first()
