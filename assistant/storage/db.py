"""Engine set-up and schema migrations.

SQLite by default (embedded, zero set-up) in WAL mode, so a scan can read while a sync
writes; any SQLAlchemy URL works (PostgreSQL for a team). The schema is always brought
up to date with Alembic on open: users never run a migration command by hand.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text

from assistant.storage.errors import StorageError, failure

MIGRATIONS = Path(__file__).with_name("migrations")
_REVISION_RE = re.compile(r'^revision\s*=\s*["\']([^"\']+)["\']', re.M)
_DOWN_RE = re.compile(r'^down_revision\s*=\s*["\']([^"\']+)["\']', re.M)


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration's revision id, read from the migration files (a test checks
    it is Alembic's head). Knowing it lets every command skip importing Alembic (and its
    ~80 ms) when the schema is already current."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        if match := _REVISION_RE.search(text):
            revisions.add(match.group(1))
        if match := _DOWN_RE.search(text):
            parents.add(match.group(1))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else ""


__all__ = ["StorageError", "open_database", "make_engine", "migrate", "redact", "where"]


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (scan, web) run while a sync writes; NORMAL is durable in WAL mode
    # except for the last transactions on power loss, which a rerun re-reads anyway.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # 64 MiB of page cache (the default is 2 MiB): a 100,000-message sync keeps the
    # Message-ID index in memory instead of re-reading it for every batch.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


class _AfterHandledError(logging.Filter):
    """psycopg logs a warning when it closes a pipeline that an error already aborted;
    that error is raised and handled (a refused batch is retried message by message,
    a storage failure is told in one line): the warning only repeats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("error ignored terminating")


def make_engine(url: str) -> Engine:
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):  # psycopg 3 is the driver we install
            url = "postgresql+psycopg://" + url[len(plain):]
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        folder = Path(url[len("sqlite:///"):].split("?", 1)[0]).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError("storage.no_folder", folder=str(folder),
                               error=exc.strerror or str(exc)) from exc
    try:
        # hide_parameters: a database error's text never carries the values of the
        # statement (subjects, addresses, bodies), even in -v logs and tracebacks.
        engine = create_engine(url, future=True, hide_parameters=True)
    except Exception as exc:  # bad URL, missing driver
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise StorageError("storage.bad_url", where=redact(url), error=first) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    elif engine.dialect.name == "postgresql":
        psycopg_log = logging.getLogger("psycopg")
        if not any(isinstance(f, _AfterHandledError) for f in psycopg_log.filters):
            psycopg_log.addFilter(_AfterHandledError())
    return engine


SECRET_QUERY_KEYS = frozenset({"password", "sslpassword", "passfile", "sslkey"})
"""libpq / driver options that carry a secret (or point at one) in a URL's query string."""


def redact(url: str) -> str:
    """The URL without its secrets, for messages and logs: the password of the
    ``user:password@`` part and any secret query option (``?password=…``)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return url.split("://", 1)[0] + "://***" if "://" in url else "***"
    query = {key: ("***" if key.lower() in SECRET_QUERY_KEYS else value)
             for key, value in parsed.query.items()}
    return parsed.set(query=query).render_as_string(hide_password=True).replace("%2A%2A%2A", "***")


def where(engine_or_url) -> str:
    """How messages name a database: a SQLite file's path, else the URL without secrets."""
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else engine_or_url
    url = str(url) if not isinstance(url, str) else url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        return url[len("sqlite:///"):].split("?", 1)[0]
    return redact(url)


def unwritable(engine: Engine) -> StorageError | None:
    """Why nothing can be written to this database right now (one line, as
    :func:`assistant.storage.errors.failure` words it), or None. A cheap look, for
    status displays: a SQLite file (or its folder, where the -wal and -shm files live)
    that this user may not write; a PostgreSQL server in read-only mode (a standby)."""
    import os

    if engine.dialect.name == "sqlite":
        path = engine.url.database
        if not path or path == ":memory:":
            return None
        folder = os.path.dirname(os.path.abspath(path))
        for target in (path, folder):
            if os.path.exists(target) and not os.access(target, os.W_OK):
                return StorageError("storage.read_only_file", where=path, target=target)
        return None
    if engine.dialect.name == "postgresql":
        try:
            with engine.connect() as conn:
                if conn.exec_driver_sql("SHOW transaction_read_only").scalar() == "on":
                    return StorageError("storage.read_only_server", where=where(engine))
        except Exception:  # noqa: BLE001 - unreachable: the caller's own query says it
            return None
    return None


def check_integrity(engine: Engine) -> None:
    """Raise :class:`StorageError` when a SQLite database is damaged anywhere, not only
    in the pages a command happens to read (``PRAGMA quick_check``: every page and row,
    about 2 ms per MB; stops at the first fault). Other backends check themselves."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or path in (None, "", ":memory:"):
        return
    import sqlite3

    # A connection of its own with SQLite's small default page cache: the check reads
    # every page once, and the command's 64 MiB cache would keep them all in memory.
    try:
        conn = sqlite3.connect(path, timeout=30)
        try:
            found = [row[0] for row in conn.execute("PRAGMA quick_check(1)")]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise failure(exc, where(engine), "storage.doing.checking") from exc
    if found != ["ok"]:
        problem = " ".join((found[0] if found else "no answer").split())
        problem = re.sub(r"^\*\*\* in database \w+ \*\*\*\s*", "", problem)[:120]
        raise failure(_Damaged(f"malformed: {problem}"), where(engine), "storage.doing.checking")


class _Damaged(Exception):
    """What ``quick_check`` found, worded for :func:`describe`."""


class IntegrityCheck(threading.Thread):
    """:func:`check_integrity` in a thread of its own, so that it costs a command almost
    no time: SQLite checks outside the GIL while the command does its own work (on
    WAL, a reader never blocks the writer). :meth:`result` waits, then raises what it
    found."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(name="followup-integrity-check", daemon=True)
        self.engine = engine
        self.error: StorageError | None = None

    def run(self) -> None:
        try:
            check_integrity(self.engine)
        except StorageError as exc:
            self.error = exc
        except Exception as exc:  # noqa: BLE001 - told by result(), never as a thread traceback
            self.error = failure(exc, where(self.engine), "storage.doing.checking")

    def result(self) -> None:
        self.join()
        if self.error is not None:
            raise self.error


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # no table yet (new database) or unreachable: let Alembic tell
        return None


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest Alembic revision (no-op when already there)."""
    if current_revision(engine) == head_revision():
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except Exception as exc:
        raise failure(exc, where(engine), "storage.doing.migrating") from exc


def open_database(url: str) -> Engine:
    engine = make_engine(url)
    migrate(engine)
    return engine


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())
