"""Shared fixtures: real databases (a SQLite file; PostgreSQL when reachable)."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

pytest_plugins = ["tests.dovecot", "tests.tryton"]  # the live IMAP server (`dovecot`), Tryton (`tryton`)

FIXTURES = Path(__file__).with_name("fixtures")
POSTGRES_URL = os.environ.get("FOLLOWUP_TEST_POSTGRES",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_reachable() -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        with psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}".splitlines()[0]


_PG_PROBLEM = _postgres_reachable()


def require_system_tool(problem: str | None, need: str) -> None:
    """A system program some tests need (Dovecot, Chromium) is missing: under CI that is a
    failure (`.ci/run` installs it, so a skip would hide missing work); on a developer's
    machine a skip whose reason names the make target that installs it."""
    if not problem:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{need} in CI: {problem}")
    pytest.skip(problem)


@pytest.fixture
def postgres_url():
    """A URL whose search_path is a fresh schema, dropped afterwards."""
    if _PG_PROBLEM:
        pytest.skip(_PG_PROBLEM)
    import psycopg

    schema = "t_" + uuid.uuid4().hex[:12]
    plain = POSTGRES_URL.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """Each storage test runs on a real SQLite file and on PostgreSQL when reachable."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'followup.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def basic_team(tmp_path) -> Path:
    """A writable copy of the worked example (its SQLite path is relative to it)."""
    dest = tmp_path / "basic-team"
    shutil.copytree(FIXTURES / "examples" / "basic-team", dest)
    return dest


SLOW_MODULES_FIRST = ("test_wheel.py", "test_read_model.py", "test_web_layout.py",
                      "test_crm_sync.py", "test_whatsapp_sync.py", "test_outcomes_cli.py",
                      "test_web_browser.py")
"""Modules holding the suite's longest tests (``make test`` prints them: --durations=25).
Collected first, so pytest-xdist hands them out at the start and the last minutes are
short tests on every worker, not one long test on one while the other waits. Only the
order changes; each module's own order is kept."""


def pytest_collection_modifyitems(items):
    first = {name: rank for rank, name in enumerate(SLOW_MODULES_FIRST)}
    items.sort(key=lambda item: first.get(item.path.name, len(first)))
