"""Hostile mail and a failing database (issue 11, points 2 and 6), on real parts: a real
SQLite file and the real PostgreSQL, real Maildir folders, the installed ``followup``
command in a subprocess, a real read-only file, a real damaged file, a real full
filesystem (a tiny tmpfs when this machine lets us mount one) and a real ``kill -9``."""

from __future__ import annotations

import json

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text

from assistant.services.ingest import sync_account
from assistant.storage.db import make_engine, migrate, open_database
from assistant.storage.errors import StorageError
from assistant.storage.models import Account, Message, MessageLocation, SetAsideMessage
from connectors.mailbox import MaildirConnector
from tests.test_storage import count, message as storage_message

FOLLOWUP = str(Path(sys.executable).with_name("followup"))


def in_english(settings: Path) -> Path:
    """These tests read the CLI's lines about the database in English: ``[team] language``
    (the default is Spanish; tests/test_cli_words.py walks both)."""
    text = settings.read_text(encoding="utf-8")
    if 'language = "en"' not in text:
        settings.write_text(text.replace("[team]\n", '[team]\nlanguage = "en"\n', 1), encoding="utf-8")
    return settings


@pytest.fixture
def basic_team(basic_team):
    in_english(basic_team / "settings.toml")
    return basic_team


def run(*args: str, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    full = {**os.environ, **(env or {})}
    full.pop("FOLLOWUP_CONFIG", None)
    if not env or "FOLLOWUP_DATABASE_URL" not in env:
        full.pop("FOLLOWUP_DATABASE_URL", None)
    return subprocess.run([FOLLOWUP, *args], capture_output=True, text=True, env=full,
                          timeout=timeout)


def message(n: int, **kw) -> bytes:
    """A quote from the worked example's company (tests/fixtures/examples/basic-team)."""
    andina = dict(frm="Camila Rojas <camila@andina.example>", to="andres@uno.example",
                  mid=f"<s{n}@andina.example>")
    return storage_message(n, **{**andina, **kw})


def deliver(folder: Path, name: str, data: bytes) -> Path:
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    path = folder / "cur" / f"{name}:2,S"
    path.write_bytes(data)
    return path


def assert_one_clean_line(result: subprocess.CompletedProcess, *needles: str) -> str:
    """The failure is told in exactly one line (stdout or stderr), naming what is asked,
    with no traceback, no SQL and no link to SQLAlchemy's error pages."""
    both = result.stdout + result.stderr
    assert "Traceback" not in both and "[SQL" not in both and "sqlalche.me" not in both, both
    lines = [line for line in both.splitlines() if all(n in line for n in needles)]
    assert len(lines) == 1, both
    other = [line for line in result.stderr.splitlines() if line.strip() and line not in lines]
    assert other == [], both
    return lines[0]


def accounts_list(settings: Path, env: dict | None = None) -> dict[str, list[str]]:
    listing = run("--config", str(settings), "accounts", "list", "--tsv", env=env)
    assert listing.returncode == 0, listing.stdout + listing.stderr
    return {line.split("\t")[0]: line.split("\t") for line in listing.stdout.splitlines()
            if not line.startswith(" ")}


# --- point 2: values every backend can store --------------------------------------------

LONG_MID = "<" + "q" * 1500 + "@andina.example>"
LONG_MID_TWIN = "<" + "q" * 1500 + "@other.example>"  # the same first 1,000 characters


def test_nul_and_over_long_values_are_stored_the_same_on_every_backend(database_url, tmp_path):
    engine = open_database(database_url)
    box = tmp_path / "camila"
    deliver(box, "ok1", message(1))
    deliver(box, "nul", message(2, subject="Cotización\x00 NUL", body="hola\x00mundo",
                                frm="Ca\x00mila <camila@andina.example>"))
    deliver(box, "long-mid", message(3, mid=LONG_MID))
    deliver(box, "long-twin", message(4, mid=LONG_MID_TWIN, subject="Otra"))
    deliver(box, "reply", message(5, frm="Andrés <andres@uno.example>", to="camila@andina.example",
                                  subject="RE: Cotización 3", mid="<r5@uno.example>",
                                  in_reply_to=LONG_MID, references=[LONG_MID]))
    deliver(box, "long-name", message(6, frm="N" * 700 + " <camila@andina.example>"))
    deliver(box, "long-addr", message(7, frm="x" * 400 + "@uno.example",
                                      to=["y" * 400 + "@uno.example", "andres@uno.example"]))
    deliver(box, "ok8", message(8))

    first = sync_account(engine, "camila", "maildir", MaildirConnector(box, settle_seconds=0))
    assert (first.read, first.stored, first.set_aside) == (8, 8, [])
    with engine.connect() as conn:
        rows = {r.fingerprint: r for r in conn.execute(select(Message))}
    by_subject = {r.subject: r for r in rows.values()}

    nul = by_subject["Cotización NUL"]
    # (the parser already turns control characters in a display name into a space)
    assert nul.body_text.startswith("holamundo") and nul.from_name == "Ca mila"
    # the subject and the name were already cleaned by the parser; storage fixed the body
    assert "\x00" not in nul.subject
    assert any("NUL" in w and "body" in w for w in nul.warnings)

    long_row = by_subject["Cotización 3"]
    twin = by_subject["Otra"]
    for row in (long_row, twin):
        assert len(row.message_id) <= 1000 and row.message_id.startswith("<qqqq")
        assert row.message_id.endswith(">")
        assert any("Message-ID" in w and "shortened" in w for w in row.warnings)
    assert long_row.message_id != twin.message_id  # the hash keeps them apart
    reply = by_subject["RE: Cotización 3"]
    assert reply.in_reply_to == long_row.message_id  # threading still holds
    assert reply.references == [long_row.message_id]

    named = by_subject["Cotización 6"]
    assert len(named.from_name) <= 500 and named.from_name.startswith("NNNN")
    addressed = by_subject["Cotización 7"]
    # an address longer than RFC 5321 allows is no address: the parser drops it, saying so
    assert addressed.from_addr is None and addressed.to_addrs == ["andres@uno.example"]
    assert any("longer than 254" in w and w.startswith("From:") for w in addressed.warnings)
    assert by_subject["Cotización 1"].warnings == []

    again = sync_account(engine, "camila", "maildir", MaildirConnector(box, settle_seconds=0))
    assert (again.read, again.stored) == (0, 0)
    assert count(engine, Message) == 8 and count(engine, MessageLocation) == 8


# --- point 2: what the database still refuses is set aside -------------------------------

SHORT_SUBJECT = 60


def narrow_subject_column(engine) -> None:
    """Make the database refuse a subject longer than 60 characters, as a column that
    turned out too short would: PostgreSQL with a real ``VARCHAR(60)``; SQLite (which
    does not enforce lengths) with a trigger that refuses the row."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"ALTER TABLE messages ALTER COLUMN subject TYPE varchar({SHORT_SUBJECT})"))
        else:
            conn.execute(text(
                "CREATE TRIGGER short_subject BEFORE INSERT ON messages "
                f"WHEN length(NEW.subject) > {SHORT_SUBJECT} "
                "BEGIN SELECT RAISE(ABORT, 'value too long for type character varying(60)'); END"))


def test_a_refused_message_is_set_aside_and_the_rest_of_the_mailbox_syncs(database_url, basic_team):
    settings = basic_team / "settings.toml"
    env = {"FOLLOWUP_DATABASE_URL": database_url} if database_url.startswith("postgresql") else None
    first = run("--config", str(settings), "sync", env=env)
    assert first.returncode == 0, first.stderr
    engine = open_database(database_url if env else f"sqlite:///{basic_team / 'followup.db'}")
    narrow_subject_column(engine)
    box = basic_team / "mail" / "camila"
    secret = "Cotización confidencial " + "x" * 80  # longer than the column, and private
    for n in range(40, 52):
        deliver(box, f"new{n}", message(n, subject=secret if n == 45 else f"Cotización {n}"))

    second = run("--config", str(settings), "sync", env=env)
    assert second.returncode == 1  # something was not stored: said, and the exit says it
    line = assert_one_clean_line(second, "camila:")
    assert line.startswith("camila: read 12, new 11") and "set aside 1" in line
    assert secret not in second.stdout + second.stderr
    assert "jorge: read 0, new 0" in second.stdout

    listing = run("--config", str(settings), "accounts", "list", "--tsv", env=env)
    assert listing.returncode == 0, listing.stderr
    aside = [line for line in listing.stdout.splitlines() if line.startswith("  set aside:")]
    assert len(aside) == 1 and "cur/new45" not in aside[0]  # the provider id, no flags
    assert aside[0].startswith("  set aside: INBOX/new45: the database refused")
    assert "character varying(60)" in aside[0] and secret not in listing.stdout
    with engine.connect() as conn:
        recorded = conn.execute(select(SetAsideMessage)).one()
        cursor_after = conn.scalar(select(Account.cursor).where(Account.name == "camila"))
    assert recorded.provider_id == "INBOX/new45" and recorded.size > 100
    assert count(engine, Message) == 10 + 11

    third = run("--config", str(settings), "sync", env=env)  # the cursor moved past it
    assert third.returncode == 0, third.stdout + third.stderr
    assert "camila: read 0, new 0" in third.stdout
    with engine.connect() as conn:
        cursor_now = conn.scalar(select(Account.cursor).where(Account.name == "camila"))
    # The same place in the mailbox (a Maildir cursor may also record, in "dirs", the
    # directories it found unchanged since: see connectors.mailbox._Listing).
    same = [{k: v for k, v in json.loads(c).items() if k != "dirs"} for c in (cursor_now, cursor_after)]
    assert same[0] == same[1]
    assert count(engine, Message) == 21 and count(engine, SetAsideMessage) == 1


def refuse_everything(engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "RAISE EXCEPTION 'refused' USING ERRCODE = '22000'; END $$"))
            conn.execute(text("CREATE TRIGGER refuse_all BEFORE INSERT ON messages "
                              "FOR EACH ROW EXECUTE FUNCTION refuse()"))
        else:
            conn.execute(text("CREATE TRIGGER refuse_all BEFORE INSERT ON messages "
                              "BEGIN SELECT RAISE(ABORT, 'refused'); END"))


def test_a_database_that_refuses_every_message_stops_the_sync_instead_of_setting_a_mailbox_aside(
        database_url, tmp_path):
    engine = open_database(database_url)
    box = tmp_path / "ana"
    deliver(box, "a", message(1))
    sync_account(engine, "ana", "maildir", MaildirConnector(box, settle_seconds=0))
    with engine.connect() as conn:
        cursor = conn.scalar(select(Account.cursor))
    refuse_everything(engine)
    for n in range(2, 8):
        deliver(box, f"m{n}", message(n))
    with pytest.raises(StorageError) as caught:
        sync_account(engine, "ana", "maildir", MaildirConnector(box, settle_seconds=0))
    assert "refused every message of a batch of 6" in str(caught.value)
    assert "\n" not in str(caught.value) and "INSERT" not in str(caught.value)
    with engine.connect() as conn:
        assert conn.scalar(select(Account.cursor)) == cursor  # nothing skipped for ever
    assert count(engine, SetAsideMessage) == 0 and count(engine, Message) == 1


def test_a_database_error_never_carries_the_values_it_was_storing(database_url, tmp_path, caplog):
    """Even in -v logs and tracebacks: the engine hides statement parameters."""
    import logging
    import traceback

    from sqlalchemy.exc import SQLAlchemyError

    engine = open_database(database_url)
    refuse_everything(engine)
    box = tmp_path / "ana"
    secret = "Cotización secreta 4711 para diego@cliente.example"
    for n in range(4):
        deliver(box, f"m{n}", message(n, subject=secret, body=secret))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(StorageError) as caught:
        sync_account(engine, "ana", "maildir", MaildirConnector(box, settle_seconds=0))
    with pytest.raises(SQLAlchemyError) as raw:
        with engine.begin() as conn:
            conn.execute(Message.__table__.insert().values(
                message_id="<x@y>", fingerprint="f", subject=secret, kind="message",
                first_seen_at=func.now()))
    shown = (caplog.text + str(caught.value) + str(raw.value)
             + "".join(traceback.format_exception(raw.value)))
    assert "[SQL" in str(raw.value) and "hide_parameters" in str(raw.value)
    assert secret not in shown and "4711" not in shown


# --- point 6: workers die with their parent -----------------------------------------------

def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    """Running or sleeping; a zombie (dead, waiting to be reaped) is not alive."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_kill_9_of_sync_leaves_no_parse_worker_alive(tmp_path):
    from assistant.demo.sample import generate_sample

    info = generate_sample(tmp_path / "team", threads=2500)
    env = {**os.environ, "FOLLOWUP_SYNC_WORKERS": "2"}
    env.pop("FOLLOWUP_DATABASE_URL", None)
    sync = subprocess.Popen([FOLLOWUP, "--config", str(info.settings_path), "sync"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while len(workers) < 2 and time.monotonic() < deadline and sync.poll() is None:
            workers = _children(sync.pid)
            time.sleep(0.05)
        assert len(workers) == 2, "the sync never started its two parse workers"
        os.kill(sync.pid, signal.SIGKILL)
        sync.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [w for w in workers if _alive(w)] == []
    finally:
        if sync.poll() is None:
            sync.kill()
        for worker in workers:  # never leave one behind, whatever happened above
            if _alive(worker):
                os.kill(worker, signal.SIGKILL)


# --- point 6: storage failures are one line, a non-zero exit, and the account's status ---

def _sqlite_settings(team: Path, db: Path) -> Path:
    settings = team / "settings.toml"
    settings.write_text(settings.read_text().replace('url = "sqlite:///followup.db"',
                                                    f'url = "sqlite:///{db}"'))
    return in_english(settings)


def _new_mail(team: Path, n: int = 3) -> None:
    for i in range(n):
        deliver(team / "mail" / "camila", f"late{i}", message(900 + i))


def sync_fails_in_one_line(settings: Path, needle: str) -> tuple[str, dict[str, list[str]]]:
    """``followup sync`` fails with exit 1 and one clean line holding ``needle``; returns
    that line and ``followup accounts list`` read into columns."""
    result = run("--config", str(settings), "sync")
    assert result.returncode == 1, result.stdout + result.stderr
    return assert_one_clean_line(result, needle), accounts_list(settings)


def _make_read_only(path: Path) -> None:
    """A read-only file, as its owner sees it: ``chmod 444`` -- or, for root (whom file
    modes do not stop), the immutable attribute (``chattr +i``)."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        return
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True) \
        if shutil.which("chattr") else None
    if done is None or done.returncode != 0:
        pytest.skip("running as root without chattr support here: no way to make a file read-only")


def test_a_read_only_database_file_is_one_line_a_non_zero_exit_and_every_account_says_it(basic_team):
    settings = basic_team / "settings.toml"
    db = basic_team / "followup.db"
    assert run("--config", str(settings), "sync").returncode == 0
    _new_mail(basic_team)
    _make_read_only(db)
    try:
        line, states = sync_fails_in_one_line(settings, "read-only")
        assert str(db) in line and "writable" in line
        assert states["camila"][3] == states["jorge"][3] == "storage_error"
        assert "read-only" in states["camila"][5]
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            assert conn.execute("SELECT count(*) FROM messages").fetchone() == (10,)
    finally:
        if os.geteuid() == 0 and shutil.which("chattr"):
            subprocess.run(["chattr", "-i", str(db)], capture_output=True)
        db.chmod(0o644)
    fixed = run("--config", str(settings), "sync")
    assert fixed.returncode == 0 and "camila: read 3, new 3" in fixed.stdout
    assert accounts_list(settings)["camila"][3] == "ok"


def _damage_the_messages_table(db: Path) -> None:
    """Overwrite the root page of the messages table with garbage (the accounts table
    keeps its pages: the account's status can still be written)."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE type = 'table' "
                            "AND name = 'messages'").fetchone()[0]
    with open(db, "r+b") as fh:
        fh.seek((root - 1) * page_size)
        fh.write(os.urandom(page_size))


def test_a_damaged_database_is_one_line_a_non_zero_exit_and_the_account_status(basic_team):
    settings = basic_team / "settings.toml"
    db = basic_team / "followup.db"
    assert run("--config", str(settings), "sync").returncode == 0
    _damage_the_messages_table(db)
    line, states = sync_fails_in_one_line(settings, "damaged")  # nothing new: still found
    assert str(db) in line and "backup" in line
    assert states["camila"][3] == states["jorge"][3] == "storage_error"
    assert "damaged" in states["camila"][5]
    # scan reads the read model (intact here): it answers, and warns in one line that the
    # database is damaged (the answers are those of the mail indexed before)
    scan = run("--config", str(settings), "scan", "--json", "--now", "2026-12-10T20:00:00+00:00")
    assert scan.returncode == 0 and json.loads(scan.stdout)["threads"]
    warning = scan.stderr.strip()
    assert "\n" not in warning and "damaged" in warning and str(db) in warning


def test_a_file_that_is_not_a_database_is_one_line_and_a_non_zero_exit(basic_team):
    settings = basic_team / "settings.toml"
    (basic_team / "followup.db").write_bytes(b"this is not SQLite at all\n" * 200)
    for command in (["sync"], ["accounts", "list"], ["scan"]):
        result = run("--config", str(settings), *command)
        assert result.returncode == 1, command
        line = assert_one_clean_line(result, "not a database")
        assert str(basic_team / "followup.db") in line
    # Nothing can be recorded in a file that is not a database: the line is the record.


def test_a_database_at_its_size_limit_keeps_what_was_stored_and_marks_the_account(tmp_path):
    """SQLite's ``max_page_count``: the same "database or disk is full" as a full disk."""
    from assistant.demo.sample import generate_sample
    from assistant.services.sync import sync as sync_all
    from assistant.settings import load_settings

    info = generate_sample(tmp_path / "team", threads=300)
    settings = load_settings(info.settings_path)
    url = f"sqlite:///{tmp_path / 'small.db'}"
    migrate(make_engine(url))
    engine = make_engine(url)
    event.listen(engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA max_page_count = 200"))
    results = sync_all(settings, engine)
    assert results[-1].status == "storage_error", results
    assert "is full" in results[-1].error and "\n" not in results[-1].error
    with engine.connect() as conn:
        states = dict(conn.execute(select(Account.name, Account.status)).all())
        stored = conn.scalar(select(func.count()).select_from(Message))
    failing = [name for name, status in states.items() if status == "storage_error"]
    # Full while storing an account's mail: that account (the ones after it not tried);
    # full while indexing what was stored: the accounts whose mail waits to be indexed.
    assert failing and stored > 0
    assert failing == [r.account for r in results if r.status == "storage_error"]
    engine.dispose()
    roomy = make_engine(url)
    results = sync_all(settings, roomy)  # room again: resumes, loses nothing
    assert all(r.error is None for r in results)
    reference = make_engine(f"sqlite:///{tmp_path / 'reference.db'}")
    migrate(reference)
    sync_all(settings, reference)
    with roomy.connect() as a, reference.connect() as b:
        assert set(a.scalars(select(Message.message_id))) == set(b.scalars(select(Message.message_id)))
        assert dict(a.execute(select(Account.name, Account.status)).all()) == {
            account.name: "ok" for account in settings.accounts}


def _mount_tmpfs(target: Path, size: str) -> bool:
    target.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)],
                          capture_output=True).returncode == 0


def test_a_full_disk_is_one_line_a_non_zero_exit_and_the_account_status(tmp_path):
    from assistant.demo.sample import generate_sample

    info = generate_sample(tmp_path / "team", threads=400)
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "1m"):
        pytest.skip("cannot mount a tmpfs here (not root?): the max_page_count test covers it")
    try:
        settings = _sqlite_settings(info.settings_path.parent, disk / "followup.db")
        line, states = sync_fails_in_one_line(settings, "is full")
        assert str(disk / "followup.db") in line and "free space" in line
        assert [name for name, cols in states.items() if cols[3] == "storage_error"] != []
        assert subprocess.run(["mount", "-o", "remount,size=64m", str(disk)]).returncode == 0
        again = run("--config", str(settings), "sync")
        assert again.returncode == 0, again.stdout + again.stderr
        assert {cols[3] for cols in accounts_list(settings).values()} == {"ok"}
        noop = run("--config", str(settings), "sync")
        assert all(line.endswith("new 0") for line in noop.stdout.splitlines()), noop.stdout
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_a_database_folder_that_cannot_be_made_is_one_line_and_a_non_zero_exit(basic_team):
    blocker = basic_team / "not-a-folder"
    blocker.write_text("a file where the database's folder should be\n")
    settings = _sqlite_settings(basic_team, blocker / "db" / "followup.db")
    for command in (["sync"], ["accounts", "list"]):
        result = run("--config", str(settings), *command)
        assert result.returncode == 1, command
        line = assert_one_clean_line(result, "cannot create the folder")
        assert str(blocker / "db") in line


@pytest.mark.postgres
def test_a_read_only_postgresql_server_is_one_line_a_non_zero_exit_and_every_account_says_it(
        basic_team, postgres_url):
    settings = basic_team / "settings.toml"
    assert run("--config", str(settings), "sync",
               env={"FOLLOWUP_DATABASE_URL": postgres_url}).returncode == 0
    _new_mail(basic_team)
    standby = {"FOLLOWUP_DATABASE_URL": postgres_url + "%20-cdefault_transaction_read_only%3Don"}
    result = run("--config", str(settings), "sync", env=standby)
    assert result.returncode == 1
    line = assert_one_clean_line(result, "read-only")
    assert "primary server" in line and "postgres@127.0.0.1" in line
    states = accounts_list(settings, env=standby)
    assert states["camila"][3] == states["jorge"][3] == "storage_error"
    fixed = run("--config", str(settings), "sync", env={"FOLLOWUP_DATABASE_URL": postgres_url})
    assert fixed.returncode == 0 and "camila: read 3, new 3" in fixed.stdout
