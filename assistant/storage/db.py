"""Engine set-up and schema migrations.

SQLite by default (embedded, zero set-up) in WAL mode, so a scan can read while a sync
writes; any SQLAlchemy URL works (PostgreSQL for a team). The schema is always brought
up to date with Alembic on open: users never run a migration command by hand.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text

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


class StorageError(Exception):
    """The database cannot be opened or migrated (bad URL, unreachable server)."""


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


def make_engine(url: str) -> Engine:
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):  # psycopg 3 is the driver we install
            url = "postgresql+psycopg://" + url[len(plain):]
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(url, future=True)
    except Exception as exc:  # bad URL, missing driver
        raise StorageError(f"cannot open database {redact(url)}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
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
        raise StorageError(f"cannot prepare database {redact(str(engine.url))}: {exc}") from exc


def open_database(url: str) -> Engine:
    engine = make_engine(url)
    migrate(engine)
    return engine


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())
