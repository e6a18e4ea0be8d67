"""Database failures as one line a person can act on: what failed, where, what to do.

SQLAlchemy's own message carries the SQL statement and its parameters — subjects,
addresses, bodies — and a link; none of that is shown or stored. What is kept is the
driver's first line (PostgreSQL's primary message, SQLite's error text) with quoted
values removed, behind a sentence that says what to do.

Two families:

* a **storage failure** (:func:`failure`, :func:`describe` in English): the database as a whole cannot go on — full,
  read-only, damaged, unreachable. The command stops with this line and a non-zero exit;
  the account being synced is marked ``storage_error`` when the database can still record it.
* a **refusal** (:func:`is_refusal`): the database refused one message's values (a data
  or constraint error). Sync sets that message aside and goes on (:mod:`assistant.services.ingest`).
"""

from __future__ import annotations

import re

from sqlalchemy import exc as sa_exc

from assistant.wording import Worded, both, stored


class StorageError(Worded):
    """The database cannot be opened, migrated or written (full, read-only, damaged,
    unreachable): one line, what failed, where, what to do. A catalogue code and its
    values (``str()`` is the English, :meth:`words` the reader's language)."""


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
    """Why a message was set aside, in one line without its content: a stored reason
    (:func:`assistant.wording.stored`), worded when read."""
    code = "storage.refused_constraint" if isinstance(error, sa_exc.IntegrityError) \
        else "storage.refused_value"
    return stored(code, detail=driver_message(error))


def failure(error: BaseException, where: str, doing: str | None = None, /,
            **values) -> StorageError:
    """A storage failure as one line: what failed, where (``where``: the SQLite file or
    the redacted URL), what to do. ``doing``: what the command was doing, a catalogue code
    (``storage.doing.*``) worded with ``values`` (optional)."""
    detail = driver_message(error)
    low = detail.lower()
    state = _sqlstate(error)
    during = both("storage.during", doing=both(doing, **values)) if doing else ""
    server = "://" in where  # a database server (PostgreSQL), not a SQLite file
    on = "server" if server else "file"
    facts = dict(where=where, during=during, detail=detail)
    if "disk is full" in low or "no space" in low or state in ("53100", "53200"):
        return StorageError("storage.full", room=both(f"storage.full_fix.{on}"), **facts)
    if "readonly" in low or "read-only" in low or state == "25006":
        return StorageError("storage.read_only", fix=both(f"storage.read_only_fix.{on}"), **facts)
    if ("malformed" in low or "not a database" in low or "corrupt" in low
            or state in ("XX001", "XX002")):
        return StorageError("storage.damaged", fix=both(f"storage.damaged_fix.{on}"), **facts)
    if "unable to open database file" in low:
        return StorageError("storage.cannot_open", **facts)
    if "disk i/o error" in low:
        return StorageError("storage.io_error", **facts)
    if "locked" in low or "busy" in low:
        return StorageError("storage.busy", **facts)
    if isinstance(error, sa_exc.OperationalError) or isinstance(
            getattr(error, "orig", None), ConnectionError):
        return StorageError("storage.unreachable", **facts)
    return StorageError("storage.failed", kind=type(error).__name__, **facts)


def describe(error: BaseException, where: str, doing: str | None = None, /, **values) -> str:
    """:func:`failure`'s line in English (for logs and for messages built from it)."""
    return str(failure(error, where, doing, **values))


DATABASE_ERRORS: tuple[type[BaseException], ...] = (sa_exc.SQLAlchemyError,)
"""What a database failure raises (for callers that catch it without importing SQLAlchemy:
the CLI turns it into one line with :func:`describe`)."""
