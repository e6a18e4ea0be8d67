"""Database failures as one line a person can act on: what failed, where, what to do.

SQLAlchemy's own message carries the SQL statement and its parameters — subjects,
addresses, bodies — and a link; none of that is shown or stored. What is kept is the
driver's first line (PostgreSQL's primary message, SQLite's error text) with quoted
values removed, behind a sentence that says what to do.

Two families:

* a **storage failure** (:func:`describe`): the database as a whole cannot go on — full,
  read-only, damaged, unreachable. The command stops with this line and a non-zero exit;
  the account being synced is marked ``storage_error`` when the database can still record it.
* a **refusal** (:func:`is_refusal`): the database refused one message's values (a data
  or constraint error). Sync sets that message aside and goes on (:mod:`assistant.services.ingest`).
"""

from __future__ import annotations

import re

from sqlalchemy import exc as sa_exc


class StorageError(Exception):
    """The database cannot be opened, migrated or written (full, read-only, damaged,
    unreachable). Its text is one line: what failed, where, what to do."""


_QUOTED = re.compile(r'"([^"]*)"|\'([^\']*)\'')
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_ .()]{0,62}$")
_MAX_DETAIL = 160


def driver_message(error: BaseException) -> str:
    """The driver's first line for ``error`` (a SQLAlchemy or DBAPI exception), without
    SQL, parameters or quoted values (identifiers such as constraint names are kept)."""
    orig = getattr(error, "orig", None) or error
    diag = getattr(orig, "diag", None)
    text = getattr(diag, "message_primary", None) if diag is not None else None
    if not text:
        text = str(orig)
    text = (text.strip().splitlines() or [""])[0].strip()
    if text.startswith("(") and ") " in text:  # "(sqlite3.OperationalError) …" prefix
        text = text.split(") ", 1)[1]

    def quoted(match: re.Match) -> str:
        inner = match.group(1) if match.group(1) is not None else match.group(2)
        return match.group(0) if _IDENTIFIER.match(inner or "") else '"…"'

    text = _QUOTED.sub(quoted, text)
    if len(text) > _MAX_DETAIL:
        text = text[:_MAX_DETAIL - 1] + "…"
    return text or type(orig).__name__


def _sqlstate(error: BaseException) -> str:
    orig = getattr(error, "orig", None) or error
    return str(getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or "")


def is_refusal(error: BaseException) -> bool:
    """Did the database refuse *these values* (so another message would be fine)? Data
    and constraint errors, and values the driver could not even send (an encoding
    error: a ``StatementError`` that is not a database error)."""
    if isinstance(error, (sa_exc.DataError, sa_exc.IntegrityError)):
        return True
    return isinstance(error, sa_exc.StatementError) and not isinstance(error, sa_exc.DBAPIError)


def refusal_reason(error: BaseException) -> str:
    """Why a message was set aside, in one line without its content."""
    kind = "a constraint" if isinstance(error, sa_exc.IntegrityError) else "a value"
    return f"the database refused {kind} of this message: {driver_message(error)}"


def describe(error: BaseException, where: str, *, doing: str = "") -> str:
    """One line for a storage failure: what failed, where (``where``: the SQLite file or
    the redacted URL), what to do. ``doing``: what the command was doing (optional)."""
    detail = driver_message(error)
    low = detail.lower()
    state = _sqlstate(error)
    during = f" while {doing}" if doing else ""
    server = "://" in where  # a database server (PostgreSQL), not a SQLite file
    if "disk is full" in low or "no space" in low or state in ("53100", "53200"):
        room = ("free space on the database server's disk" if server
                else "free space on its disk (or raise its size limit)")
        return (f"the database {where} is full{during} ({detail}): {room}, then run the "
                "command again; what was stored is kept and sync resumes after it")
    if "readonly" in low or "read-only" in low or state == "25006":
        fix = ("point storage.url at the primary server (this one accepts no writes)" if server
               else "make the file and its folder writable by the user running Followup "
                    "(SQLite also writes -wal and -shm files next to it)")
        return f"the database {where} is read-only{during} ({detail}): {fix}, then run the command again"
    if ("malformed" in low or "not a database" in low or "corrupt" in low
            or state in ("XX001", "XX002")):
        fix = ("have its administrator repair it or restore it from a backup" if server
               else "stop Followup, restore the file from a backup (or rebuild it: "
                    "sqlite3 FILE '.recover' | sqlite3 NEW), then point storage.url at the good copy")
        return f"the database {where} is damaged{during} ({detail}): {fix}"
    if "unable to open database file" in low:
        return (f"cannot open the database {where}{during} ({detail}): check that its folder "
                "exists and is writable by this user (storage.url or FOLLOWUP_DATABASE_URL)")
    if "disk i/o error" in low:
        return (f"cannot read or write the database {where}{during} ({detail}): check the disk "
                "it lives on, then run the command again")
    if "locked" in low or "busy" in low:
        return (f"the database {where} is busy{during} ({detail}): another Followup process "
                "holds it; wait for it to finish, then run the command again")
    if isinstance(error, sa_exc.OperationalError) or isinstance(
            getattr(error, "orig", None), ConnectionError):
        return (f"cannot use the database {where}{during} ({detail}): check that the server is "
                "running and reachable and that storage.url / FOLLOWUP_DATABASE_URL is right, "
                "then run the command again")
    return (f"the database {where} failed{during} ({type(error).__name__}: {detail}): run the "
            "command again with -v for details; if it persists, report it")


DATABASE_ERRORS: tuple[type[BaseException], ...] = (sa_exc.SQLAlchemyError,)
"""What a database failure raises (for callers that catch it without importing SQLAlchemy:
the CLI turns it into one line with :func:`describe`)."""
