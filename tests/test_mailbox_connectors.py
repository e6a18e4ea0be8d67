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


def nothing_new(conn: Connector, cursor: str | None) -> str | None:
    """Assert a fetch hands over no message; the cursor after it. A Maildir listing that
    found a changed directory but no new mail records the directory in a batch of no
    messages, so the next fetch with that cursor yields nothing at all."""
    batches, cursor = run(conn, cursor)
    assert [m for b in batches for m in b.messages] == [] and len(batches) <= 1
    assert list(conn.fetch(cursor)) == []
    return cursor


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
    nothing_new(conn, cursor)


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


def test_maildir_unchanged_cur_is_not_listed_and_new_mail_still_found(tmp_path):
    """A sync with nothing new lists no ``cur/`` whose entries did not change (one stat,
    not one per message); mail delivered to new/ or renamed into cur/ is still found."""
    root = make_maildir(tmp_path / "mail")
    old = [deliver(root, n, sub="cur") for n in range(3)]
    conn = MaildirConnector(root, settle_seconds=0)
    batches, cursor = run(conn, None)
    assert len(message_ids(batches)) == 3
    deliver(root, 5)  # the mark moves past cur/'s last change (ties are listed)
    batches, cursor = run(conn, cursor)
    assert message_ids(batches) == ["<m5@acme.example>"]
    time.sleep(0.01)
    old[0].write_bytes(make_message(0, "rewritten in place\n"))  # the file's ctime only
    assert list(conn.fetch(cursor)) == []
    deliver(root, 10)
    deliver(root, 11, sub="cur")
    batches, cursor = run(conn, cursor)
    # (cur/ listed again: the file rewritten in place comes too, deduplicated downstream
    # by its provider id, as before)
    assert {"<m10@acme.example>", "<m11@acme.example>"} <= set(message_ids(batches))
    assert list(conn.fetch(cursor)) == []


def test_maildir_unreadable_file_keeps_its_directory_listed(tmp_path):
    """An unreadable file in cur/ is remembered in the cursor with its directory, which is
    listed whole until the file is read or gone (fixing its permissions sets only the
    file's ctime, not the directory's)."""
    root = make_maildir(tmp_path / "mail")
    os.symlink("1.loop.host:2,S", root / "cur" / "1.loop.host:2,S")  # unreadable, even for root
    deliver(root, 2, sub="cur")
    conn = MaildirConnector(root, settle_seconds=0)
    batches, cursor = run(conn, None)
    assert [r for b in batches for r in b.skipped]
    state = json.loads(cursor)
    assert state["retry_dirs"] == [str(root / "cur")] and len(state["retry"]) == 1
    (root / "cur" / "1.loop.host:2,S").unlink()
    deliver(root, 3)
    batches, cursor = run(conn, cursor)
    assert message_ids(batches) == ["<m3@acme.example>"]
    assert "retry" not in json.loads(cursor) and "retry_dirs" not in json.loads(cursor)


def test_maildir_unchanged_new_is_not_listed_and_changes_in_it_still_handled(tmp_path):
    """As ``cur/``: a ``new/`` whose ctime is the one recorded when it was last listed
    is not listed again; the cursor carries the ids of the messages sitting in it. A
    delivery, a move to ``cur/`` or a removal changes the directory: handled as before."""
    root = make_maildir(tmp_path / "mail")
    sent = make_maildir(root / ".Sent")
    inbox_new, sent_new = str(root / "new"), str(sent / "new")
    paths = [deliver(root, n) for n in range(3)]
    deliver(sent, 10)
    conn = MaildirConnector(root, settle_seconds=0)
    batches, cursor = run(conn, None)
    assert len(message_ids(batches)) == 4
    state = json.loads(cursor)
    assert {d: len(h) for d, h in state["new"].items()} == {inbox_new: 3, sent_new: 1}
    assert state["dirs"][inbox_new] == os.stat(inbox_new).st_ctime_ns
    assert not set(state["known"]) & set(state["new"][inbox_new])  # each id once
    inbox_ids = state["new"][inbox_new]

    time.sleep(0.01)
    deliver(sent, 11)  # only .Sent/new changed: INBOX/new is carried over as it was
    batches, cursor = run(conn, cursor)
    assert message_ids(batches) == ["<m11@acme.example>"]
    state = json.loads(cursor)
    assert state["new"][inbox_new] == inbox_ids and len(state["new"][sent_new]) == 2

    time.sleep(0.01)
    os.rename(paths[0], root / "cur" / (paths[0].name + ":2,S"))  # read by a mail client
    paths[1].unlink()  # deleted by a mail client
    cursor = nothing_new(conn, cursor)
    assert len(json.loads(cursor)["new"][inbox_new]) == 1
    time.sleep(0.01)
    deliver(root, 5)
    batches, cursor = run(conn, cursor)
    assert message_ids(batches) == ["<m5@acme.example>"]
    state = json.loads(cursor)
    assert len(state["new"][inbox_new]) == 2  # m2 still there and m5; m0 moved, m1 gone
    assert state["dirs"][inbox_new] == os.stat(inbox_new).st_ctime_ns
    assert list(conn.fetch(cursor)) == []


def test_maildir_cursor_without_new_ids_still_reads_right(tmp_path):
    """A cursor written before the ids in new/ were kept per directory (all of them in
    ``known``, no ``new``, no ``dirs``) lists every directory once and goes on."""
    root = make_maildir(tmp_path / "mail")
    path = deliver(root, 1)
    deliver(root, 2)
    conn = MaildirConnector(root, settle_seconds=0)
    _, cursor = run(conn, None)
    state = json.loads(cursor)
    old = {"v": 1, "kind": "maildir", "mark": state["mark"],
           "known": sorted(set(state["known"]).union(*state["new"].values()))}
    time.sleep(0.01)
    os.rename(path, root / "cur" / (path.name + ":2,S"))
    state = json.loads(nothing_new(conn, json.dumps(old)))  # written in the new form
    assert {d: len(h) for d, h in state["new"].items()} == {str(root / "new"): 1}
    deliver(root, 3)
    batches, cursor = run(conn, json.dumps(old))
    assert message_ids(batches) == ["<m3@acme.example>"]
    assert list(conn.fetch(cursor)) == []


def test_maildir_directory_changed_within_the_settle_time_is_listed_again(tmp_path):
    """A directory whose ctime is within ``settle_seconds`` of the listing is not recorded
    as seen (a file delivered in the same clock tick could hide behind it), so the next
    sync lists it again; once settled, it is recorded."""
    root = make_maildir(tmp_path / "mail")
    deliver(root, 1)
    deliver(root, 2, sub="cur")
    _, cursor = run(MaildirConnector(root, settle_seconds=3600), None)
    assert "dirs" not in json.loads(cursor)
    _, cursor = run(MaildirConnector(root, settle_seconds=0), None)
    assert set(json.loads(cursor)["dirs"]) == {str(root / "cur"), str(root / "new")}


def test_maildir_noop_rerun_is_fast(tmp_path):
    """scandir + stat only: 10,000 files well under 0.5 s (100,000 files: 0.19 s measured)."""
    root = make_maildir(tmp_path / "mail")
    data = make_message(1)
    for i in range(10_000):
        (root / "cur" / f"{i}.M{i}P1.host:2,S").write_bytes(data)
    # settle_seconds=0: the folders count as settled at once, so the first sync records
    # them whatever this machine's speed (with the default 2 s, a second sync more than
    # 2 s after the files were written records them then, in a batch of its own).
    conn = MaildirConnector(root, settle_seconds=0)
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


@pytest.mark.parametrize("kind", ["maildir", "eml"])
def test_find_draft_sees_every_draft_on_disk_also_one_saved_by_another_process(tmp_path, kind):
    """A planner asks for each follow-up's key once (a plan of n drafts used to read
    n²/2 draft files): a file's key is read once per connector, but every look-up lists
    the folder, so a draft another planner saved meanwhile is found, and one removed is
    not."""
    if kind == "maildir":
        root = make_maildir(tmp_path / "mail")
        mine, other = MaildirConnector(root), MaildirConnector(root)
    else:
        root = tmp_path / "eml"
        root.mkdir()
        mine, other = EmlFolderConnector(root), EmlFolderConnector(root)

    def draft(key: str) -> DraftMessage:
        return DraftMessage(key, f"X-Followup-Id: {key}\r\nSubject: Re: x\r\n\r\nHola\r\n".encode())

    refs = {f"t{n}:step-1": mine.save_draft(draft(f"t{n}:step-1")) for n in range(40)}
    for key, ref in refs.items():
        assert mine.find_draft(key) == ref
    assert mine.find_draft("t99:step-1") is None
    late = other.save_draft(draft("t99:step-1"))  # another process, after my look-ups
    assert mine.find_draft("t99:step-1") == late
    edited = other.update_draft(refs["t3:step-1"], draft("t3:step-1"))  # an edit: a new file
    assert mine.find_draft("t3:step-1") == edited != refs["t3:step-1"]


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


# ----------------------------------------------------------------------------- large mail
# A large message is handed over as what the rules read of it (its header, its MIME
# structure, its text and report parts, the start of text attachments), never its
# attachments' content; batches end at a byte cap as well as a count.


def _b64_lines(data: bytes) -> str:
    import base64

    text = base64.b64encode(data).decode()
    return "\n".join(text[i:i + 76] for i in range(0, len(text), 76))


def large_message(n: int, attachment: bytes, *, embedded: bytes | None = None) -> bytes:
    """A quote with a text and an HTML alternative, a text attachment quoting a
    Message-ID (as bounces do), a PDF attachment and optionally an attached message.

    (The text attachment comes first: the parser looks for quoted headers in the first
    128 KiB of a body only, so behind a large attachment it would find them in the
    reduced message, which lacks the attachment, and not in the whole one.)"""
    outer, alt = f"outer-{n}", f"alt-{n}"
    parts = [
        f"--{outer}", f"Content-Type: multipart/alternative; boundary=\"{alt}\"", "",
        f"--{alt}", "Content-Type: text/plain; charset=utf-8", "",
        f"Adjunto la cotización {n}.", "", f"--{alt}", "Content-Type: text/html; charset=utf-8", "",
        f"<p>Adjunto la <b>cotización</b> {n}.</p>", f"--{alt}--", "",
        f"--{outer}", "Content-Type: text/plain; name=\"headers.txt\"",
        "Content-Disposition: attachment; filename=\"headers.txt\"", "",
        "Message-ID: <original-%d@acme.example>" % n, "Subject: the original", "",
        f"--{outer}", "Content-Type: application/pdf; name=\"Cotizacion-%d.pdf\"" % n,
        "Content-Disposition: attachment; filename=\"Cotizacion-%d.pdf\"" % n,
        "Content-Transfer-Encoding: base64", "", _b64_lines(attachment), "",
    ]
    if embedded is not None:
        parts += [f"--{outer}", "Content-Type: message/rfc822", "", embedded.decode(), ""]
    parts.append(f"--{outer}--")
    head = (f"From: Ana <ana@acme.example>\nTo: cliente@example.com\nSubject: Cotización {n}\n"
            f"Message-ID: <big{n}@acme.example>\nDate: Tue, 03 Nov 2026 10:00:00 -0600\n"
            f"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"{outer}\"\n\n")
    return (head + "\n".join(parts) + "\n").encode()


def _attachment(size: int, seed: int) -> bytes:
    import random

    return random.Random(seed).randbytes(size)


def _parsed(data: bytes) -> dict:
    import dataclasses

    from assistant.mail.parse import parse_message

    return dataclasses.asdict(parse_message(data))


def test_a_large_maildir_message_is_handed_over_without_its_attachments(tmp_path):
    root = make_maildir(tmp_path / "ana")
    inner = large_message(99, _attachment(1_000_000, 2))
    whole = large_message(1, _attachment(3_000_000, 1), embedded=inner)
    path = root / "cur" / "big:2,S"
    path.write_bytes(whole)
    (batch,) = MaildirConnector(root, settle_seconds=0).fetch(None)
    (raw,) = batch.messages
    assert raw.size == len(whole) > 4_000_000
    assert len(raw.data) < 100_000
    assert _b64_lines(_attachment(3_000_000, 1))[100_000:100_076] not in raw.data.decode()
    assert _parsed(raw.data) == _parsed(whole)  # the parser reads the same message
    parsed = _parsed(raw.data)
    assert parsed["attachment_names"] == ("headers.txt", "Cotizacion-1.pdf")
    assert parsed["original_message_id"] == "<big99@acme.example>"
    assert "cotización 1" in parsed["text"]


def test_every_fixture_message_reads_the_same_reduced_as_whole():
    """The reduction forced on every real message of the fixtures (whole=0): what the
    parser makes of it is identical, field by field."""
    from connectors.mailbox import _read_message

    root = Path(__file__).parent / "fixtures"
    files = [p for p in root.rglob("*") if p.is_file()
             and p.suffix not in (".py", ".json", ".toml", ".md", ".csv")
             and "LICENSE" not in p.name and p.name != "SOURCES.txt"]
    assert len(files) > 100
    for path in files:
        whole = path.read_bytes()
        reduced, size = _read_message(str(path), whole=0)
        assert size == (len(whole) or None)
        a, b = _parsed(whole), _parsed(reduced)
        if a["synthetic_id"]:  # derived from all the bytes; sync derives its own from content
            a.pop("message_id"), b.pop("message_id")
        assert a == b, path


def test_maildir_batches_end_at_a_byte_cap(tmp_path):
    root = make_maildir(tmp_path / "ana")
    for n in range(12):
        tmp = root / "tmp" / f"m{n:02}"
        tmp.write_bytes(make_message(n, body="x" * 40_000 + "\n"))
        os.rename(tmp, root / "cur" / f"m{n:02}:2,S")
    conn = MaildirConnector(root, settle_seconds=0, batch_bytes=100_000)
    batches = list(conn.fetch(None))
    assert [len(b.messages) for b in batches] == [3, 3, 3, 3]
    assert all(sum(len(m.data) for m in b.messages) < 200_000 for b in batches)
    rest = list(conn.fetch(batches[1].cursor))
    assert message_ids(rest) == [f"<m{n}@acme.example>" for n in range(6, 12)]


def test_a_large_mbox_message_is_reduced_and_its_neighbours_stay_exact(tmp_path):
    small = [make_message(1), make_message(3)]
    big = large_message(2, _attachment(2_000_000, 3))
    path = tmp_path / "ana.mbox"
    path.write_bytes(mbox_bytes([small[0], big, small[1]]))
    batches = list(MboxConnector(path, batch_bytes=1000).fetch(None))
    got = [m for b in batches for m in b.messages]
    assert [m.data for m in (got[0], got[2])] == small and got[0].size is None
    assert got[1].size == len(big) and len(got[1].data) < 50_000
    assert _parsed(got[1].data) == _parsed(big)
    # the byte cap (of what is held: the reduced message) ended the first batch after it
    assert [len(b.messages) for b in batches] == [2, 1]


def test_mbox_a_line_longer_than_a_read_is_not_a_separator(tmp_path):
    # A 65,536-byte line is read in two pieces, the second a lone newline: the "From "
    # line after it follows no blank line, so it is body text, not a new message.
    data = (b"From: ana@acme.example\nSubject: larga\nMessage-ID: <long@x>\n\n"
            + b"y" * 65536 + b"\nFrom here on it is body text\nend\n")
    path = tmp_path / "a.mbox"
    path.write_bytes(mbox_bytes([data, make_message(2)]))
    got = [m for b in MboxConnector(path).fetch(None) for m in b.messages]
    assert len(got) == 2 and b"From here on it is body text" in got[0].data


def test_hostile_message_structures_are_reduced_to_a_bounded_size(tmp_path):
    from connectors.mailbox import _read_message

    head = b"From: x@cliente.example\nSubject: hostil\nMessage-ID: <h@x>\n"
    many_parts = (head + b'Content-Type: multipart/mixed; boundary="p"\n\n'
                  + b"".join(b"--p\nContent-Type: text/plain\n\n" + b"t" * 2000 + b"\n"
                             for _ in range(5000)) + b"--p--\n")
    cases = {
        "endless header": head + b"".join(b"X-Junk-%d: %s\n" % (i, b"j" * 70)
                                          for i in range(400_000)),  # 31 MB, no blank line
        "one line, no newline": head + b"\n" + b"z" * 20_000_000,
        "deep nesting": head + b"".join(b'Content-Type: multipart/mixed; boundary="d%d"\n\n--d%d\n'
                                        % (i, i) for i in range(200)) + b"y" * 5_000_000,
        "many parts": many_parts,
    }
    for name, data in cases.items():
        path = tmp_path / name.replace(" ", "-")
        path.write_bytes(data)
        reduced, size = _read_message(str(path))
        assert size == len(data) and len(reduced) < 3 * 2**20, name
        assert _parsed(reduced)["message_id"] == "<h@x>", name
    assert "too many MIME parts; the rest skipped" in _parsed(
        _read_message(str(tmp_path / "many-parts"))[0])["warnings"]


def test_generated_mime_reads_the_same_reduced_as_whole(tmp_path):
    """Seeded random messages whose parts end around the reader's buffer (8 KiB), line
    piece (64 KiB) and chunk (1 MiB) sizes: lines of dashes, header-like text, lines
    longer than a piece, CRLF and LF. What the parser makes of each is identical."""
    import base64
    import random

    from connectors.mailbox import _read_message

    rng = random.Random(20261201)
    sizes = (8190, 8199, 65535, 65537, 2**20 - 3, 2**20 + 3, 300_000)
    for n in range(30):
        parts = []
        for j in range(rng.randint(1, 4)):
            size = rng.choice(sizes) + rng.randint(0, 3)
            kind = rng.choice(("text", "html-one-line", "pdf", "csv", "dashes"))
            if kind == "text":
                parts.append("Content-Type: text/plain; charset=utf-8\n\nhola\n" + "línea\n" * (size // 7))
            elif kind == "html-one-line":
                parts.append("Content-Type: text/html\n\n<p>hola</p>" + "<br>x" * (size // 5))
            elif kind == "pdf":
                parts.append(f'Content-Type: application/pdf; name="f{j}.pdf"\n'
                             "Content-Transfer-Encoding: base64\n\n"
                             + base64.encodebytes(rng.randbytes(size)).decode())
            elif kind == "csv":
                parts.append(f'Content-Type: text/csv; name="t{j}.csv"\n'
                             f'Content-Disposition: attachment; filename="t{j}.csv"\n\n'
                             + "a,b,c\n" * (size // 6))
            else:
                parts.append(f'Content-Type: application/octet-stream; name="d{j}.bin"\n\n'
                             + "".join(rng.choice(("abc\n", "-- not a boundary\n", "--\n", "x" * 90 + "\n"))
                                       for _ in range(size // 10)))
        data = (f"From: a@b.example\nTo: c@d.example\nSubject: s{n}\nMessage-ID: <g{n}@x>\n"
                f'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="B{n}"\n\n'
                + "".join(f"--B{n}\n{part}\n" for part in parts) + f"--B{n}--\n").encode()
        if n % 3 == 0:
            data = data.replace(b"\n", b"\r\n")
        path = tmp_path / f"m{n}"
        path.write_bytes(data)
        reduced, _size = _read_message(str(path), whole=0)
        assert _parsed(reduced) == _parsed(data), n
        path.unlink()


def test_maildir_unreadable_file_is_reported_at_every_sync_until_it_is_fixed(tmp_path):
    """Not once only: while a file stays unreadable, each sync tries it and says so (its
    ctime below the mark, it would otherwise never be looked at again); once it reads,
    it is a message like any other and the reports stop."""
    root = make_maildir(tmp_path / "mail")
    link = root / "cur" / "1.loop.host:2,S"
    os.symlink(link.name, link)  # unreadable, even for root
    deliver(root, 2, sub="cur")
    conn = MaildirConnector(root, settle_seconds=0)
    batches, cursor = run(conn, None)
    assert message_ids(batches) == ["<m2@acme.example>"]
    for _ in range(2):
        time.sleep(0.01)  # the mark passes the link's ctime
        batches, cursor = run(conn, cursor)
        reasons = [r for b in batches for r in b.skipped]
        assert message_ids(batches) == [] and len(reasons) == 1 and "1.loop.host" in reasons[0]
    target = root / "fixed"
    target.write_bytes(make_message(1))
    link.unlink()
    os.symlink(target, link)
    batches, cursor = run(conn, cursor)
    assert message_ids(batches) == ["<m1@acme.example>"] and not [r for b in batches for r in b.skipped]
    assert "retry" not in json.loads(cursor)
    assert list(conn.fetch(cursor)) == []


# ------------------------------------------------- reading ahead of the files being read


def test_a_maildir_larger_than_the_read_ahead_window_hands_over_every_file_exactly(tmp_path):
    """Files are announced to the kernel ``PREFETCH_FILES`` at a time ahead of the one
    read (``posix_fadvise(WILLNEED)``, so mail out of the page cache is fetched from disk
    many at a time); every file of a mailbox several windows long still comes once, with
    its exact bytes, also one removed after listing (skipped, silently, as before) and a
    directory where a file was (reported)."""
    from connectors import mailbox as mb

    root = make_maildir(tmp_path / "md")
    count = mb.PREFETCH_FILES * 2 + 37
    written = {}
    for n in range(count):
        data = make_message(n, body=f"línea {n}\n" * (n % 7 + 1))
        name = f"{1700000000 + n}.M{n}P1.host"
        (root / "cur" / f"{name}:2,S").write_bytes(data)
        written[name] = data
    (root / "cur" / "1800000000.M1P1.host:2,S").mkdir()  # not a file: not listed at all
    conn = MaildirConnector(root, settle_seconds=0, batch_size=300)
    batches = list(conn.fetch(None))
    got = {m.provider_id.split("/", 1)[-1]: m.data for b in batches for m in b.messages}
    assert len(got) == count and got == written
    assert [s for b in batches for s in b.skipped] == []


def test_announcing_files_never_fails_whatever_the_file(tmp_path):
    """Reading ahead is a hint: a vanished file, a folder, a dangling link are left for
    the read itself to report (or skip), and nothing is raised or kept open."""
    from connectors import mailbox as mb

    (tmp_path / "folder").mkdir()
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "real").write_bytes(make_message(1))
    entries = [mb._Entry(f"k{i}", str(tmp_path / name), 0, None)
               for i, name in enumerate(["gone", "folder", "dangling", "real"])]
    before = len(os.listdir("/proc/self/fd"))
    mb._will_need(entries)
    assert len(os.listdir("/proc/self/fd")) == before
    assert mb._read_message(str(tmp_path / "real")) == (make_message(1), None)
    with pytest.raises(OSError):
        mb._read_message(str(tmp_path / "folder"))
