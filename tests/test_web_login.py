"""The sign-in throttle against the real thing: the web app in werkzeug's threaded server
on 127.0.0.1 (``assistant.web.make_server``, what ``followup serve`` runs), real HTTP
requests from threads, a real SQLite file and the real PostgreSQL.

Clients come from different loopback addresses (127.0.0.66 is the stranger, 127.0.0.1 the
member): Linux routes all of 127.0.0.0/8 to this machine, so a socket bound to 127.0.0.66
really is another client address to the server. Password hash checks are counted by
watching the server's request threads call ``hashlib.scrypt`` (werkzeug's scrypt hashes
call it once per check), through ``threading.setprofile``: nothing of the app is patched.
"""

from __future__ import annotations

import hashlib
import re
import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from assistant.demo.pipeline import DEMO_PASSWORD, demo_passwords
from assistant.demo.sample import generate_sample
from assistant.services.scan import open_store
from assistant.settings import load_settings
from assistant.storage import models
from assistant.web import make_server, users
from tests.web_http import MEMBER_HOME, Browser
from tests.webapp import MANAGER, OTHER_REP, REP, SDR

STRANGER = "127.0.0.66"


class HashChecks:
    """Counts ``hashlib.scrypt`` calls in threads started while it is open: the server
    starts a thread per request, and each password check (real or dummy) is one call."""

    def __enter__(self):
        self.count = 0
        self._lock = threading.Lock()
        threading.setprofile(self._hook)
        return self

    def _hook(self, frame, event, arg) -> None:
        if event == "c_call" and arg is hashlib.scrypt:
            with self._lock:
                self.count += 1

    def __exit__(self, *exc) -> None:
        threading.setprofile(None)


@pytest.fixture
def server(database_url, tmp_path):
    """The sample team's settings on ``database_url``, every password ``demo``, the app
    in the real threaded server on 127.0.0.1; yields (port, engine, settings)."""
    info = generate_sample(tmp_path / "team")
    settings = load_settings(info.settings_path, environ={"FOLLOWUP_DATABASE_URL": database_url})
    engine = open_store(settings)
    demo_passwords(settings, engine, datetime.now(timezone.utc))
    httpd = make_server(settings, engine, "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.port, engine, settings
    httpd.shutdown()
    httpd.server_close()
    engine.dispose()


def _in_parallel(count: int, attempt) -> list:
    """``attempt(i)`` from ``count`` threads released at the same instant."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        results[i] = attempt(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def _thirty_parallel_wrong_passwords(port: int, email: str, source: str = STRANGER):
    browsers = [Browser(port, source) for _ in range(30)]
    for browser in browsers:
        browser.open_login()
    with HashChecks() as checks:
        responses = _in_parallel(30, lambda i: browsers[i].sign_in(email, f"guess-{i}"))
    return [status for status, _, _ in responses], [h for _, h, _ in responses], checks.count


def test_hash_checks_are_counted(server):
    # The measuring instrument of the tests below: one sign-in, one scrypt call.
    port, _, _ = server
    browser = Browser(port)
    browser.open_login()
    with HashChecks() as checks:
        status, _, _ = browser.sign_in(REP, DEMO_PASSWORD)
    assert status == 302 and checks.count == 1


def test_thirty_parallel_wrong_passwords_are_checked_at_most_five_times(server):
    port, _, _ = server
    statuses, headers, checked = _thirty_parallel_wrong_passwords(port, REP)
    assert checked == users.MAX_FAILED_LOGINS == 5
    assert sorted(statuses) == [401] * 4 + [429] * 26  # the fifth failure sets the lock
    assert all(h["Retry-After"] for s, h in zip(statuses, headers) if s == 429)
    # Locked for unrecognised clients: the right password is refused too, unchecked.
    with HashChecks() as checks:
        status, _, _ = Browser(port, "127.0.0.77").sign_in(REP, DEMO_PASSWORD)
    assert status == 429 and checks.count == 0


def test_a_strangers_guesses_leave_the_members_session_and_sign_in_alone(server):
    port, _, _ = server
    laptop = Browser(port, MEMBER_HOME)
    assert laptop.sign_in(REP, DEMO_PASSWORD)[0] == 302
    assert laptop.get("/followups") == 200
    statuses, _, checked = _thirty_parallel_wrong_passwords(port, REP, STRANGER)
    assert checked == 5 and statuses.count(429) == 26
    # The open session is not ended by someone else's failures...
    assert laptop.get("/followups") == 200
    # ...the member's own browser signs in again (its device cookie has its own count)...
    laptop.request("POST", "/logout", {"csrf_token": laptop.token})
    assert laptop.get("/followups") == 302 and users.DEVICE_COOKIE in laptop.cookies
    laptop.open_login()
    assert laptop.sign_in(REP, DEMO_PASSWORD)[0] == 302
    # ...and so does a fresh browser at the address they signed in from before.
    assert Browser(port, MEMBER_HOME).sign_in(REP, DEMO_PASSWORD)[0] == 302
    # Only clients the account has never seen wait for the lock to end (the trade-off).
    assert Browser(port, "127.0.0.77").sign_in(REP, DEMO_PASSWORD)[0] == 429


def test_a_strangers_address_is_throttled_whatever_account_it_tries(server):
    port, _, _ = server
    stranger = Browser(port, STRANGER)
    targets = [REP, OTHER_REP, SDR, MANAGER, "ventas@aceros.example"]  # the last: no member
    with HashChecks() as checks:
        statuses = [stranger.sign_in(email, "guess")[0] for email in targets for _ in range(2)]
    assert checks.count == users.MAX_ADDRESS_FAILURES == 10
    assert statuses == [401] * 9 + [429]  # two per account: no account is locked
    with HashChecks() as checks:
        refused = [Browser(port, STRANGER).sign_in(email, DEMO_PASSWORD)[0]
                   for email in (REP, "pablo@aceros.example")]
    assert refused == [429, 429] and checks.count == 0  # refused unchecked, even right ones
    # Another address is not held back, and the accounts the stranger tried are not locked.
    assert Browser(port, "127.0.0.67").sign_in(OTHER_REP, "guess")[0] == 401
    assert Browser(port, MEMBER_HOME).sign_in(OTHER_REP, DEMO_PASSWORD)[0] == 302


def test_the_throttle_keeps_no_address_and_nothing_a_stranger_typed(server):
    port, engine, _ = server
    stranger = Browser(port, STRANGER)
    for email in ("eve@evil.example", "hunter2-typed-in-the-email-box", REP):
        assert stranger.sign_in(email, "guess")[0] == 401
    assert Browser(port, MEMBER_HOME).sign_in(SDR, DEMO_PASSWORD)[0] == 302
    with engine.connect() as conn:
        rows = [tuple(r) for table in (models.WebLoginThrottle, models.WebKnownAddress)
                for r in conn.execute(select(table)).all()]
    text = repr(rows)
    assert rows and "127.0.0" not in text and "eve@" not in text and "hunter2" not in text
    with engine.connect() as conn:
        keys = conn.scalars(select(models.WebLoginThrottle.key)).all()
        owners = set(conn.scalars(select(models.WebLoginThrottle.email)).all())
    assert all(re.fullmatch(r"[0-9a-f]{64}", key) for key in keys)
    assert owners == {None, REP}  # only a member's own counter names them


def test_migration_0009_goes_down_and_up_again(database_url):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect

    from assistant.storage.db import MIGRATIONS, open_database

    engine = open_database(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))

    def run(step, revision):
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            step(config, revision)

    def shape():
        found = inspect(engine)
        return ({c["name"] for c in found.get_columns("web_users")},
                {"web_login_throttle", "web_known_addresses"} & set(found.get_table_names()))

    assert shape() == ({"email", "password_hash", "password_set_at", "last_login_at",
                        "language", "session_version", "morning_email"},
                       {"web_login_throttle", "web_known_addresses"})
    run(command.downgrade, "0008")
    columns, tables = shape()
    assert {"failed_logins", "locked_until"} <= columns and tables == set()
    assert "morning_email" not in columns  # 0014 went down first
    run(command.upgrade, "head")
    columns, tables = shape()
    assert "failed_logins" not in columns and "morning_email" in columns and len(tables) == 2
    engine.dispose()
