"""Mailbox export connectors (Maildir, mbox, .eml folder) on real files."""

from __future__ import annotations

import json
import mailbox
import os
import shutil
import time
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from connectors.base import Batch, ConfigurationError, Connector, DraftMessage
from connectors.mailbox import (
    EmlFolderConnector,
    MaildirConnector,
    MboxConnector,
    open_connector,
)

FIXTURES = Path(__file__).parent / "fixtures" / "mbox"


def make_message(n: int, body: str = "hello\n") -> bytes:
    msg = EmailMessage()
    msg["From"] = "ana@acme.example"
    msg["To"] = "cliente@example.com"
    msg["Subject"] = f"Cotización {n}"
    msg["Message-ID"] = f"<m{n}@acme.example>"
    msg.set_content(body)
    return msg.as_bytes()


def message_ids(batches: list[Batch]) -> list[str]:
    return [BytesParser().parsebytes(m.data)["Message-ID"] for b in batches for m in b.messages]


def run(conn: Connector, cursor: str | None) -> tuple[list[Batch], str | None]:
    batches = list(conn.fetch(cursor))
    return batches, (batches[-1].cursor if batches else cursor)


# ----------------------------------------------------------------------------- Maildir


def make_maildir(root: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def deliver(folder: Path, n: int, name: str | None = None, sub: str = "new") -> Path:
    name = name or f"{time.time_ns()}.M{n}P1.host"
    tmp = folder / "tmp" / name
    tmp.write_bytes(make_message(n))
    final = folder / sub / (name if sub == "new" else name + ":2,S")
    os.rename(tmp, final)
    return final


def test_maildir_first_read_noop_and_new_mail(tmp_path):
    root = make_maildir(tmp_path / "mail")
    for i in range(3):
        deliver(root, i)
    sent = make_maildir(root / ".Sent")
    deliver(sent, 10, sub="cur")
    for skipped in (".Drafts", ".Trash", ".Junk", ".Spam"):
        deliver(make_maildir(root / skipped), 99)

    conn = MaildirConnector(root)
    batches, cursor = run(conn, None)
    msgs = [m for b in batches for m in b.messages]
    assert sorted(m.folder for m in msgs) == ["INBOX", "INBOX", "INBOX", "Sent"]
    assert "<m99@acme.example>" not in message_ids(batches)
    assert all(":" not in m.provider_id for m in msgs)
    assert all(m.provider_id.startswith(f"{m.folder}/") for m in msgs)

    assert list(conn.fetch(cursor)) == []  # no-op rerun

    deliver(root, 3)
    batches, cursor = run(conn, cursor)
    assert message_ids(batches) == ["<m3@acme.example>"]
    assert list(conn.fetch(cursor)) == []


def test_maildir_move_new_to_cur_and_reflag_keep_id(tmp_path):
    root = make_maildir(tmp_path / "mail")
    path = deliver(root, 1)
    conn = MaildirConnector(root)
    batches, cursor = run(conn, None)
    (first,) = batches[0].messages

    moved = root / "cur" / (path.name + ":2,S")
    os.rename(path, moved)  # a mail client marks it seen
    assert list(conn.fetch(cursor)) == []

    # Re-flagging keeps the provider id (it may be yielded again: deduplicated downstream).
    os.rename(moved, root / "cur" / (path.name + ":2,RS"))
    again = [m for b in conn.fetch(cursor) for m in b.messages]
    assert all(m.provider_id == first.provider_id for m in again)


def test_maildir_move_seen_in_older_run_not_reread(tmp_path):
    """The cursor keeps remembering new/ messages across runs until they move."""
    root = make_maildir(tmp_path / "mail")
    conn = MaildirConnector(root, settle_seconds=0)
    path = deliver(root, 1)
    time.sleep(0.01)
    _, cursor = run(conn, None)
    time.sleep(0.01)
    deliver(root, 2)
    _, cursor = run(conn, cursor)
    time.sleep(0.01)
    os.rename(path, root / "cur" / (path.name + ":2,S"))
    assert list(conn.fetch(cursor)) == []


def test_maildir_batches_and_resume_mid_way(tmp_path):
    root = make_maildir(tmp_path / "mail")
    for i in range(10):
        deliver(root, i)
    conn = MaildirConnector(root, batch_size=3)
    batches = list(conn.fetch(None))
    assert [len(b.messages) for b in batches] == [3, 3, 3, 1]
    all_ids = message_ids(batches)
    assert len(set(all_ids)) == 10

    # Crash after committing the second batch: resuming yields exactly the rest.
    rest = list(conn.fetch(batches[1].cursor))
    assert message_ids(rest) == all_ids[6:]
    # And from the first batch's cursor.
    assert message_ids(list(conn.fetch(batches[0].cursor))) == all_ids[3:]


def test_maildir_ties_on_one_ctime(tmp_path):
    """Many files sharing one ctime, split over batches (hard links share one inode,
    so one ctime: the same case as a filesystem with coarse timestamps)."""
    root = make_maildir(tmp_path / "mail")
    first = deliver(root, 0, name="a0.host")
    for i in range(1, 10):
        os.link(first, root / "new" / f"a{i}.host")
    deliver(root, 10, name="b.host")
    assert len({p.stat().st_ctime_ns for p in (root / "new").glob("a*")}) == 1
    time.sleep(0.05)
    conn = MaildirConnector(root, batch_size=3, settle_seconds=0)
    batches = list(conn.fetch(None))
    ids = [m.provider_id for b in batches for m in b.messages]
    assert sorted(ids) == sorted([f"INBOX/a{i}.host" for i in range(10)] + ["INBOX/b.host"])
    for k, batch in enumerate(batches):
        rest = [m.provider_id for b in conn.fetch(batch.cursor) for m in b.messages]
        assert rest == ids[3 * (k + 1):]


def test_maildir_unreadable_file_is_skipped_with_reason(tmp_path):
    root = make_maildir(tmp_path / "mail")
    os.symlink("1.loop.host", root / "new" / "1.loop.host")  # unreadable, even for root
    (root / "new" / "2.dir.host").mkdir()  # not a file: ignored
    os.symlink("gone", root / "new" / "3.dangling.host")  # vanished: ignored silently
    deliver(root, 4)
    batches = list(MaildirConnector(root).fetch(None))
    assert message_ids(batches) == ["<m4@acme.example>"]
    reasons = [r for b in batches for r in b.skipped]
    assert len(reasons) == 1 and "1.loop.host" in reasons[0] and "cannot read" in reasons[0]


def test_maildir_noop_rerun_is_fast(tmp_path):
    """scandir + stat only: 10,000 files well under 0.5 s (100,000 files: 0.19 s measured)."""
    root = make_maildir(tmp_path / "mail")
    data = make_message(1)
    for i in range(10_000):
        (root / "cur" / f"{i}.M{i}P1.host:2,S").write_bytes(data)
    conn = MaildirConnector(root)
    _, cursor = run(conn, None)
    started = time.perf_counter()
    assert list(conn.fetch(cursor)) == []
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5, elapsed


def test_maildir_draft_save_find_not_fetched(tmp_path):
    root = make_maildir(tmp_path / "mail")
    deliver(root, 1)
    conn = MaildirConnector(root)
    _, cursor = run(conn, None)

    draft = DraftMessage("thread-7:step-2", b"X-Followup-Id: thread-7:step-2\r\nSubject: Re: x\r\n\r\nHola\r\n")
    pid = conn.save_draft(draft)
    files = list((root / ".Drafts" / "cur").iterdir())
    assert len(files) == 1 and files[0].name.endswith(":2,D")
    assert (root / ".Drafts" / "tmp").is_dir() and (root / ".Drafts" / "new").is_dir()
    assert pid.startswith("Drafts/") and pid.split("/", 1)[1] in files[0].name
    assert conn.find_draft("thread-7:step-2") == pid
    assert conn.find_draft("thread-7:step-3") is None
    assert list(conn.fetch(cursor)) == []
    assert len(message_ids(list(conn.fetch(None)))) == 1


def test_draft_without_header_gets_one(tmp_path):
    root = make_maildir(tmp_path / "mail")
    conn = MaildirConnector(root)
    pid = conn.save_draft(DraftMessage("k1", b"Subject: x\n\nbody\n"))
    assert conn.find_draft("k1") == pid


# ----------------------------------------------------------------------------- mbox


def mbox_bytes(messages: list[bytes], eol: bytes = b"\n") -> bytes:
    out = b""
    for i, data in enumerate(messages):
        data = data.replace(b"\r\n", b"\n")
        if eol != b"\n":
            data = data.replace(b"\n", eol)
        out += b"From ana@acme.example Thu Nov 26 10:00:0%d 2026" % (i % 10) + eol + data
        if not data.endswith(eol):
            out += eol
        out += eol
    return out


def test_mbox_first_read_noop_append(tmp_path):
    path = tmp_path / "ana.mbox"
    path.write_bytes(mbox_bytes([make_message(i) for i in range(3)]))
    conn = MboxConnector(path)
    batches, cursor = run(conn, None)
    assert message_ids(batches) == [f"<m{i}@acme.example>" for i in range(3)]
    assert batches[0].messages[0].provider_id == "0"
    assert list(conn.fetch(cursor)) == []

    with open(path, "ab") as fh:
        fh.write(mbox_bytes([make_message(3), make_message(4)]))
    batches, cursor = run(conn, cursor)
    assert message_ids(batches) == ["<m3@acme.example>", "<m4@acme.example>"]
    offset = int(batches[0].messages[0].provider_id)
    assert path.read_bytes()[offset:].startswith(b"From ")
    assert list(conn.fetch(cursor)) == []


def test_mbox_messages_are_exact(tmp_path):
    originals = [make_message(i) for i in range(2)]
    path = tmp_path / "a.mbox"
    path.write_bytes(mbox_bytes(originals))
    got = [m.data for b in MboxConnector(path).fetch(None) for m in b.messages]
    assert got == originals


def test_mbox_crlf(tmp_path):
    path = tmp_path / "crlf.mbox"
    path.write_bytes(mbox_bytes([make_message(i) for i in range(3)], eol=b"\r\n"))
    batches = list(MboxConnector(path).fetch(None))
    assert message_ids(batches) == [f"<m{i}@acme.example>" for i in range(3)]
    assert all(m.data.endswith(b"hello\r\n") for b in batches for m in b.messages)
    assert batches[0].skipped == []


def test_mbox_mboxrd_unescaping_and_from_in_body(tmp_path):
    body = b"Subject: x\nMessage-ID: <a@x>\n\nline\n>From the escaped line\n>>From twice\nFrom unescaped mboxo line\n"
    path = tmp_path / "rd.mbox"
    path.write_bytes(b"From a@x Thu Nov 26 10:00:00 2026\n" + body + b"\n" + mbox_bytes([make_message(1)]))
    batches = list(MboxConnector(path).fetch(None))
    msgs = [m for b in batches for m in b.messages]
    assert len(msgs) == 2  # "From " not after a blank line is no separator
    assert b"\nFrom the escaped line\n>From twice\nFrom unescaped mboxo line\n" in msgs[0].data


def test_mbox_truncated_or_replaced_is_reread(tmp_path):
    path = tmp_path / "a.mbox"
    path.write_bytes(mbox_bytes([make_message(i) for i in range(4)]))
    conn = MboxConnector(path)
    _, cursor = run(conn, None)

    # Truncated (shorter): read again from 0.
    path.write_bytes(mbox_bytes([make_message(i) for i in range(2)]))
    batches, cursor = run(conn, cursor)
    assert message_ids(batches) == ["<m0@acme.example>", "<m1@acme.example>"]

    # Replaced by another export of the same size or larger (new inode, other head).
    new = tmp_path / "b.mbox"
    new.write_bytes(mbox_bytes([make_message(i) for i in range(10, 13)]))
    os.replace(new, path)
    batches, cursor = run(conn, cursor)
    assert message_ids(batches) == [f"<m{i}@acme.example>" for i in range(10, 13)]

    # Rewritten in place (same inode) with a different beginning.
    data = mbox_bytes([make_message(i) for i in range(20, 24)])
    with open(path, "r+b") as fh:
        fh.write(data)
    batches, _ = run(conn, cursor)
    assert message_ids(batches) == [f"<m{i}@acme.example>" for i in range(20, 24)]


def test_mbox_cut_mid_message_then_completed(tmp_path):
    full = mbox_bytes([make_message(0), make_message(1, body="a long body\n" * 50)])
    cut = full[: len(full) - 200]
    path = tmp_path / "a.mbox"
    path.write_bytes(cut)
    conn = MboxConnector(path)
    batches, cursor = run(conn, None)
    msgs = [m for b in batches for m in b.messages]
    assert len(msgs) == 2 and b"<m1@acme.example>" in msgs[1].data
    assert list(conn.fetch(cursor)) == []  # a truncated export that never grows: no-op

    with open(path, "ab") as fh:  # it was still being written: re-read, complete
        fh.write(full[len(cut):])
    batches, cursor = run(conn, cursor)
    (again,) = [m for b in batches for m in b.messages]
    assert again.provider_id == msgs[1].provider_id
    assert again.data == make_message(1, body="a long body\n" * 50)
    assert list(conn.fetch(cursor)) == []


def test_mbox_empty(tmp_path):
    path = tmp_path / "empty.mbox"
    path.write_bytes(b"")
    conn = MboxConnector(path)
    assert list(conn.fetch(None)) == []
    path.write_bytes(mbox_bytes([make_message(1)]))
    assert len(message_ids(list(conn.fetch(None)))) == 1


def test_mbox_garbage_prefix(tmp_path):
    path = tmp_path / "g.mbox"
    path.write_bytes(b"this is not mail\nneither is this\n" + mbox_bytes([make_message(1)]))
    batches = list(MboxConnector(path).fetch(None))
    assert message_ids(batches) == ["<m1@acme.example>"]
    assert batches[0].messages[0].provider_id == str(len(b"this is not mail\nneither is this\n"))
    assert len(batches[0].skipped) == 1 and "before the first 'From ' line" in batches[0].skipped[0]


def test_mbox_not_mbox_at_all(tmp_path):
    path = tmp_path / "x.mbox"
    path.write_bytes(b"just text\n")
    batches = list(MboxConnector(path).fetch(None))
    assert [m for b in batches for m in b.messages] == []
    assert "no 'From ' line" in batches[0].skipped[0]


def test_mbox_batches_and_resume_mid_way(tmp_path):
    path = tmp_path / "a.mbox"
    path.write_bytes(mbox_bytes([make_message(i) for i in range(7)]))
    conn = MboxConnector(path, batch_size=3)
    batches = list(conn.fetch(None))
    assert [len(b.messages) for b in batches] == [3, 3, 1]
    assert message_ids(list(conn.fetch(batches[0].cursor))) == [f"<m{i}@acme.example>" for i in range(3, 7)]
    assert message_ids(list(conn.fetch(batches[1].cursor))) == ["<m6@acme.example>"]
    assert list(conn.fetch(batches[2].cursor)) == []
    state = json.loads(batches[0].cursor)
    assert set(state) >= {"offset", "size", "ino", "head"}


def test_mbox_sisimai_fixture_matches_stdlib(tmp_path):
    path = FIXTURES / "sisimai-mbox-0"
    expected = len(mailbox.mbox(str(path), create=False))
    batches = list(MboxConnector(path, batch_size=10).fetch(None))
    msgs = [m for b in batches for m in b.messages]
    assert len(msgs) == expected == 37
    assert all(b.skipped == [] for b in batches)
    stdlib = [m.get("Message-Id") for m in mailbox.mbox(str(path), create=False)]
    ours = [BytesParser().parsebytes(m.data).get("Message-Id") for m in msgs]
    assert ours == stdlib


def test_mbox_drafts_next_to_file(tmp_path):
    path = tmp_path / "ana.mbox"
    path.write_bytes(mbox_bytes([make_message(1)]))
    conn = MboxConnector(path)
    _, cursor = run(conn, None)
    pid = conn.save_draft(DraftMessage("k-1", b"X-Followup-Id: k-1\nSubject: Re\n\nbody\n"))
    assert (tmp_path / "Drafts").is_dir() and len(list((tmp_path / "Drafts").glob("*.eml"))) == 1
    assert conn.find_draft("k-1") == pid
    assert conn.find_draft("k-2") is None
    assert list(conn.fetch(cursor)) == []


# ----------------------------------------------------------------------------- .eml


def test_eml_folder(tmp_path):
    root = tmp_path / "eml"
    (root / "2026" / "11").mkdir(parents=True)
    (root / "a.eml").write_bytes(make_message(1))
    (root / "2026" / "11" / "b.EML").write_bytes(make_message(2))
    (root / "2026" / "notes.txt").write_text("not mail")
    (root / "empty.eml").write_bytes(b"")
    conn = EmlFolderConnector(root)
    batches, cursor = run(conn, None)
    msgs = {m.provider_id: m for b in batches for m in b.messages}
    assert set(msgs) == {"a.eml", "2026/11/b.EML"}
    assert msgs["2026/11/b.EML"].folder == "2026/11"
    skipped = [r for b in batches for r in b.skipped]
    assert len(skipped) == 1 and "empty.eml" in skipped[0] and "empty" in skipped[0]
    assert list(conn.fetch(cursor)) == []

    (root / "c.eml").write_bytes(make_message(3))
    batches, cursor = run(conn, cursor)
    assert message_ids(batches) == ["<m3@acme.example>"]

    pid = conn.save_draft(DraftMessage("k-9", b"X-Followup-Id: k-9\nSubject: Re\n\nbody\n"))
    assert pid.startswith("Drafts/") and (root / pid).is_file()
    assert conn.find_draft("k-9") == pid
    assert list(conn.fetch(cursor)) == []
    assert "Drafts" not in {m.provider_id.split("/")[0] for b in conn.fetch(None) for m in b.messages}


def test_eml_resume_mid_way(tmp_path):
    root = tmp_path / "eml"
    root.mkdir()
    for i in range(5):
        (root / f"{i}.eml").write_bytes(make_message(i))
    conn = EmlFolderConnector(root, batch_size=2)
    batches = list(conn.fetch(None))
    ids = message_ids(batches)
    assert len(ids) == 5
    assert message_ids(list(conn.fetch(batches[0].cursor))) == ids[2:]


def test_copy_preserving_times_is_still_new(tmp_path):
    """cp -p keeps mtime but the kernel sets a fresh ctime: the file is read."""
    root = tmp_path / "eml"
    root.mkdir()
    old = tmp_path / "old.eml"
    old.write_bytes(make_message(1))
    os.utime(old, (0, 0))
    (root / "x.eml").write_bytes(make_message(2))
    conn = EmlFolderConnector(root)
    _, cursor = run(conn, None)
    shutil.copy2(old, root / "old.eml")
    batches, _ = run(conn, cursor)
    assert message_ids(batches) == ["<m1@acme.example>"]


# ----------------------------------------------------------------------------- factory


def test_open_connector_kinds_and_missing_paths(tmp_path):
    root = make_maildir(tmp_path / "mail")
    (tmp_path / "a.mbox").write_bytes(b"")
    assert isinstance(open_connector("maildir", root), MaildirConnector)
    assert isinstance(open_connector("mbox", tmp_path / "a.mbox", batch_size=10), MboxConnector)
    assert isinstance(open_connector("eml", tmp_path), EmlFolderConnector)
    assert isinstance(open_connector("eml", tmp_path), Connector)

    missing = tmp_path / "x" / "y"
    with pytest.raises(ConfigurationError, match=r"Maildir not found: .*x/y"):
        open_connector("maildir", missing)
    with pytest.raises(ConfigurationError, match=r"mbox file not found: .*x/y"):
        open_connector("mbox", missing)
    with pytest.raises(ConfigurationError, match=r"\.eml folder not found: .*x/y"):
        open_connector("eml", missing)
    with pytest.raises(ConfigurationError, match="not a Maildir"):
        open_connector("maildir", tmp_path / "x" if (tmp_path / "x").mkdir() is None else None)
    with pytest.raises(ConfigurationError, match="not a file"):
        open_connector("mbox", root)
    with pytest.raises(ConfigurationError, match="unknown mailbox kind"):
        open_connector("pst", root)
    with pytest.raises(ConfigurationError, match="not a maildir cursor"):
        list(MaildirConnector(root).fetch('{"v":1,"kind":"mbox"}'))
