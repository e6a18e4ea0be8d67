"""Storage and sync on real databases: a SQLite file, and PostgreSQL when reachable."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from assistant.services.ingest import sync_account
from assistant.storage.db import open_database, redact, table_names
from assistant.storage.models import Account, Base, Message, MessageLocation
from connectors.base import Batch, TransientError
from connectors.mailbox import MaildirConnector
from tests.builders import local, raw_message

SEEN = datetime(2026, 11, 28, 12, tzinfo=timezone.utc)


def maildir(root: Path, files: dict[str, bytes]) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (root / "cur" / f"{name}:2,S").write_bytes(data)
    return root


def message(n: int, **kw) -> bytes:
    values = dict(frm="Ana <ana@acme.example>", to="diego@cliente.example",
                  subject=f"Cotización {n}", date=local(2026, 11, 3, 10, n % 60),
                  mid=f"<m{n}@acme.example>")
    values.update(kw)
    return raw_message(**values)


def count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model))


def test_migrations_create_every_table_and_match_the_models(database_url):
    engine = open_database(database_url)
    assert {"accounts", "messages", "message_locations", "thread_marks", "touches",
            "alembic_version"} <= table_names(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    open_database(database_url)  # a second open is a no-op, not an error


def test_head_revision_read_from_files_is_alembics_head():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from assistant.storage.db import MIGRATIONS, head_revision

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == head_revision()


def test_same_mail_in_three_mailboxes_is_stored_once(database_url, tmp_path):
    engine = open_database(database_url)
    data = message(1)
    for name in ("ana", "marta", "ventas"):
        connector = MaildirConnector(maildir(tmp_path / name, {f"{name}.1": data}), settle_seconds=0)
        result = sync_account(engine, name, "maildir", connector, clock=lambda: SEEN)
        assert result.read == 1
    assert count(engine, Message) == 1
    assert count(engine, MessageLocation) == 3


def test_rerun_stores_nothing_new(database_url, tmp_path):
    engine = open_database(database_url)
    box = maildir(tmp_path / "ana", {f"f{n}": message(n) for n in range(30)})
    first = sync_account(engine, "ana", "maildir", MaildirConnector(box, batch_size=7, settle_seconds=0))
    second = sync_account(engine, "ana", "maildir", MaildirConnector(box, batch_size=7, settle_seconds=0))
    assert (first.read, first.stored) == (30, 30)
    assert (second.read, second.stored) == (0, 0)
    assert count(engine, Message) == 30 and count(engine, MessageLocation) == 30


def test_a_sync_that_finds_nothing_new_still_moves_the_accounts_last_sync(database_url, tmp_path):
    from datetime import datetime, timezone

    from assistant.storage.models import Account, as_utc

    engine = open_database(database_url)
    box = maildir(tmp_path / "ana", {f"f{n}": message(n) for n in range(3)})
    for day in (1, 2):
        at = datetime(2026, 12, day, 9, tzinfo=timezone.utc)
        sync_account(engine, "ana", "maildir", MaildirConnector(box, settle_seconds=0), clock=lambda: at)
        with engine.connect() as conn:
            assert as_utc(conn.scalar(select(Account.last_sync_at))) == at


class CrashingConnector:
    """A test double of the Connector protocol: a real Maildir that dies after N batches,
    as a process killed mid-sync would."""

    def __init__(self, inner: MaildirConnector, after: int) -> None:
        self.inner, self.after = inner, after

    def fetch(self, cursor: str | None) -> Iterator[Batch]:
        for index, batch in enumerate(self.inner.fetch(cursor)):
            if index == self.after:
                raise TransientError("connection lost")
            yield batch

    def close(self) -> None:
        pass


def test_cursor_advances_with_the_messages_it_covers_so_a_crash_loses_nothing(database_url, tmp_path):
    engine = open_database(database_url)
    box = maildir(tmp_path / "ana", {f"f{n:02}": message(n) for n in range(25)})
    with pytest.raises(TransientError):
        sync_account(engine, "ana", "maildir",
                     CrashingConnector(MaildirConnector(box, batch_size=10, settle_seconds=0), after=2))
    assert count(engine, Message) == 20  # two whole batches, each with its cursor
    with engine.connect() as conn:
        assert conn.scalar(select(Account.cursor).where(Account.name == "ana")) is not None
    rerun = sync_account(engine, "ana", "maildir", MaildirConnector(box, batch_size=10, settle_seconds=0))
    assert rerun.read == 5 and rerun.stored == 5
    assert count(engine, Message) == 25 and count(engine, MessageLocation) == 25


def test_message_without_message_id_gets_a_stable_synthetic_id_shared_by_its_copies(database_url, tmp_path):
    engine = open_database(database_url)
    data = message(1, mid=None)
    other_copy = b"Received: from mx2 by mailbox-b\n" + data  # another mailbox added a header
    sync_account(engine, "a", "maildir", MaildirConnector(maildir(tmp_path / "a", {"x": data}), settle_seconds=0))
    sync_account(engine, "b", "maildir", MaildirConnector(maildir(tmp_path / "b", {"x": other_copy}), settle_seconds=0))
    with engine.connect() as conn:
        rows = conn.execute(select(Message.message_id, Message.synthetic_id)).all()
    assert len(rows) == 1
    assert rows[0].synthetic_id and rows[0].message_id.endswith("@synthetic.followup.invalid>")
    assert count(engine, MessageLocation) == 2


def test_two_different_messages_sharing_a_message_id_are_both_kept(database_url, tmp_path):
    engine = open_database(database_url)
    box = maildir(tmp_path / "a", {"x1": message(1, mid="<same@broken.example>"),
                                   "x2": message(2, mid="<same@broken.example>", subject="Otra cosa")})
    result = sync_account(engine, "a", "maildir", MaildirConnector(box, settle_seconds=0))
    assert result.stored == 2
    with engine.connect() as conn:
        rows = conn.execute(select(Message.message_id, Message.warnings)
                            .order_by(Message.id)).all()
    assert rows[0].message_id == "<same@broken.example>"
    assert rows[1].message_id.startswith("<dup-") and "duplicate Message-ID" in rows[1].warnings[0]
    # and a rerun of the same files keeps exactly those two
    sync_account(engine, "a", "maildir", MaildirConnector(box, settle_seconds=0))
    assert count(engine, Message) == 2


BAD_INPUTS = {
    "broken-mime": (b"From: x@cliente.example\nTo: ana@acme.example\nSubject: roto\n"
                    b"Message-ID: <broken@x>\nContent-Type: multipart/mixed; boundary=\"nope\"\n\n"
                    b"--wrong\nContent-Type: text/plain\n\nhola\n"),
    "bad-date": (b"From: x@cliente.example\nTo: ana@acme.example\nSubject: fecha\n"
                 b"Date: el martes por la tarde\nMessage-ID: <baddate@x>\n\nhola\n"),
    "unknown-charset": (b"From: x@cliente.example\nTo: ana@acme.example\nSubject: =?x-unknown?q?hola?=\n"
                        b"Message-ID: <charset@x>\nContent-Type: text/plain; charset=uft-8\n\n\xe9\xe8\n"),
    "8bit-header": ("From: José Núñez <jose@cliente.example>\nTo: ana@acme.example\n"
                    "Subject: Cotización señal\nMessage-ID: <eightbit@x>\n\nhola\n").encode("latin-1"),
    "no-headers": b"just some text without any header at all\n",
}


def test_bad_input_is_stored_with_a_warning_and_sync_finishes(database_url, tmp_path):
    engine = open_database(database_url)
    files = dict(BAD_INPUTS, empty=b"", good=message(1))
    result = sync_account(engine, "a", "maildir",
                          MaildirConnector(maildir(tmp_path / "a", files), settle_seconds=0))
    assert result.stored == 6  # every non-empty file
    assert any("empty" in reason for reason in result.skipped)
    with engine.connect() as conn:
        rows = {r.message_id: r for r in conn.execute(select(Message))}
    assert rows["<baddate@x>"].sent_at is None and rows["<baddate@x>"].warnings
    assert rows["<charset@x>"].warnings
    assert rows["<eightbit@x>"].from_addr == "jose@cliente.example"
    assert rows["<broken@x>"].warnings
    assert rows["<m1@acme.example>"].warnings == []


def test_database_url_password_is_redacted_in_messages():
    assert redact("postgresql://sales:s3cret@db.internal/followup") == \
        "postgresql://sales:***@db.internal/followup"
    assert redact("postgresql://bob@db/f?password=hunter2&sslmode=require") == \
        "postgresql://bob@db/f?password=***&sslmode=require"
    assert "hunter2" not in redact("postgresql://bob@db/f?sslpassword=hunter2")


def test_unreachable_database_error_never_shows_the_password():
    from assistant.storage.db import StorageError

    with pytest.raises(StorageError) as caught:
        open_database("postgresql://bob:hunter2@127.0.0.1:1/db?connect_timeout=2")
    assert "hunter2" not in str(caught.value) and "bob:***@127.0.0.1:1" in str(caught.value)


def test_pipelined_sync_with_worker_processes_stores_everything_once(database_url, tmp_path):
    # Batches of >= 200 new messages are parsed by worker processes while the main
    # process writes; a crash mid-way still leaves whole batches with their cursors.
    engine = open_database(database_url)
    box = maildir(tmp_path / "ana", {f"f{n:04}": message(n) for n in range(900)})
    with pytest.raises(TransientError):
        sync_account(engine, "ana", "maildir",
                     CrashingConnector(MaildirConnector(box, batch_size=250, settle_seconds=0), after=3),
                     workers=2)
    assert count(engine, Message) == 750
    rerun = sync_account(engine, "ana", "maildir",
                         MaildirConnector(box, batch_size=250, settle_seconds=0), workers=2)
    assert (rerun.read, rerun.stored) == (150, 150)
    assert count(engine, Message) == 900 and count(engine, MessageLocation) == 900
    with engine.connect() as conn:
        subjects = set(conn.scalars(select(Message.subject)))
    assert subjects == {f"Cotización {n}" for n in range(900)}


def test_a_large_message_is_stored_with_its_whole_size_and_its_attachment_names(database_url, tmp_path):
    import base64

    attachment = base64.encodebytes(bytes(range(256)) * 8192).decode()  # 2 MiB of PDF
    data = (message(1, attachment="Cotizacion-77.pdf").decode()
            .replace(base64.b64encode(b"%PDF-1.4 test").decode(), attachment)).encode()
    assert len(data) > 2_000_000
    engine = open_database(database_url)
    sync_account(engine, "ana", "maildir",
                 MaildirConnector(maildir(tmp_path / "ana", {"big": data}), settle_seconds=0))
    with engine.connect() as conn:
        row = conn.execute(select(Message.size, Message.attachment_names, Message.body_text)).one()
    assert row.size == len(data)
    assert row.attachment_names == ["Cotizacion-77.pdf"] and row.body_text.startswith("Hola.")


def test_stored_string_lists_read_back_exactly_whatever_their_encoding():
    """Lists of strings (addresses, references) are read back by a fast path for the
    encoders' usual form; every other form (escapes, compact, indented) still decodes."""
    import json

    from assistant.storage.repo import _tuple

    values = [[], ["a@b.example"], ["<a@b>", "<c@d>", "<e@f>"], ['x", "y'], ["á é"],
              ["a\\b"], ['"'], [""], ["", ""], [" ,"], ['a","b']]
    for value in values:
        for text in (json.dumps(value), json.dumps(value, ensure_ascii=False),
                     json.dumps(value, separators=(",", ":")), json.dumps(value, indent=1)):
            assert _tuple(text) == tuple(value), text


def _delivered(data: bytes, to: str) -> bytes:
    """``data`` as a recipient's server delivers it: trace fields prepended (RFC 5321 §4.4)."""
    return (f"Return-Path: <ana@acme.example>\nDelivered-To: {to}\n"
            "Received: from mx.acme.example (mx.acme.example [192.0.2.7])\n"
            "\tby imap.acme.example with LMTP; Tue, 03 Nov 2026 10:00:02 -0600\n").encode() + data


def test_copies_delivered_to_other_mailboxes_are_recognised_and_stored_as_one_message(
        database_url, tmp_path):
    engine = open_database(database_url)
    sent = {f"s{n:03}": message(n) for n in range(300)}  # enough for the worker processes
    copies: dict = {}
    ana = sync_account(engine, "ana", "maildir",
                       MaildirConnector(maildir(tmp_path / "ana", sent), settle_seconds=0),
                       workers=2, copies=copies)
    assert (ana.stored, ana.copies) == (300, 0) and len(copies) == 300
    received = {name: _delivered(data, "marta@acme.example") for name, data in sent.items()}
    received["new"] = message(999)
    marta = sync_account(engine, "marta", "maildir",
                         MaildirConnector(maildir(tmp_path / "marta", received), settle_seconds=0),
                         workers=2, copies=copies)
    assert (marta.read, marta.stored, marta.copies) == (301, 1, 300)
    assert count(engine, Message) == 301 and count(engine, MessageLocation) == 601
    with engine.connect() as conn:  # each copy's location points at the one stored message
        pairs = conn.execute(select(Account.name, Message.message_id)
                             .join(MessageLocation, MessageLocation.account_id == Account.id)
                             .join(Message, Message.id == MessageLocation.message_pk)).all()
    assert {mid for name, mid in pairs if name == "marta"} == (
        {f"<m{n}@acme.example>" for n in range(300)} | {"<m999@acme.example>"})


def test_a_copy_of_a_message_gone_from_the_database_records_nothing_and_a_rerun_stores_it(
        database_url, tmp_path):
    from assistant.mail.copies import delivered_identity
    from assistant.services.ingest import CopyVanished

    engine = open_database(database_url)
    data = message(1)
    box = maildir(tmp_path / "marta", {"one": _delivered(data, "marta@acme.example")})
    # What the sync remembers of a message stored earlier in the run that is no longer there.
    gone = {delivered_identity(data): ("<m1@acme.example>", "0" * 64)}
    with pytest.raises(CopyVanished) as raised:
        sync_account(engine, "marta", "maildir", MaildirConnector(box, settle_seconds=0),
                     copies=gone)
    assert "<m1@acme.example>" in str(raised.value)
    assert count(engine, MessageLocation) == 0
    with engine.connect() as conn:
        assert conn.scalar(select(Account.cursor).where(Account.name == "marta")) is None
    again = sync_account(engine, "marta", "maildir", MaildirConnector(box, settle_seconds=0))
    assert (again.stored, again.copies) == (1, 0) and count(engine, MessageLocation) == 1
