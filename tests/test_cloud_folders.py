"""Every folder a reply can land in: Graph delta per folder (child folders included, Drafts,
Deleted Items, Junk Email and Outbox left out, new folders picked up, moves and replayed
items never duplicated, 410 resync) and Gmail labels (SPAM and TRASH never stored, a
message rescued from Spam read). Real client libraries against the loopback fakes, a real
SQLite database, the read model's thread status."""

from __future__ import annotations

import json
from datetime import datetime
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from assistant.services import snapshot
from assistant.services.rules import rules_from_settings
from assistant.services.scan import open_store
from assistant.services.sync import sync as sync_all
from assistant.settings import load_settings
from assistant.storage.models import Message, MessageLocation
from tests.test_cloud_connectors import engine, Provider, counts, new_mail, sync  # noqa: F401 (fixture)
from tests.test_pipeline import NOW

QUOTE = "<179586352451.22711.13998848030045958784@andina.example>"  # Andrés' silent quote


def client_reply(n: int = 1) -> bytes:
    m = EmailMessage()
    m["From"] = "andres@uno.example"
    m["To"] = "camila@andina.example"
    m["Subject"] = "Re: Cotización CT-2026-311 tubería PVC"
    m["Date"] = "Wed, 09 Dec 2026 10:00:00 -0500"
    m["Message-ID"] = f"<reply-{n}@uno.example>"
    m["In-Reply-To"] = QUOTE
    m["References"] = QUOTE
    m.set_content("Hola Camila, la revisamos y queremos avanzar. ¿Pueden entregar el lunes?")
    return bytes(m)


def stored_ids(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.scalars(select(Message.message_id)))


@pytest.mark.parametrize("kind", ["gmail", "outlook"])
def test_a_client_reply_filed_into_inbox_clientes_makes_the_thread_awaiting_us(kind, basic_team, tmp_path,
                                                                              monkeypatch):
    p = Provider(kind, tmp_path, monkeypatch, maildir=basic_team / "mail" / "camila")
    try:
        path = basic_team / "settings.toml"
        path.write_text(path.read_text(encoding="utf-8").replace(
            'kind = "maildir"\npath = "mail/camila"',
            f'kind = "{kind}"\noauth = "{p.token}"\nhost = "{p.fake.url}"\nsync_days = 0'), encoding="utf-8")
        settings = load_settings(path)
        engine = open_store(settings)
        rules = rules_from_settings(settings)
        now = datetime.fromisoformat(NOW)

        def status():
            snapshot.ensure_current(engine, rules)
            return {r.quote_message_id: r.status for r in snapshot.reports(engine, rules, now)}[QUOTE]

        assert [r.error for r in sync_all(settings, engine)] == [None, None]
        assert status() == "silent"
        p.fake.add_message(client_reply(), "inbox/Clientes")  # a rule filed it below the Inbox
        assert [r.error for r in sync_all(settings, engine)] == [None, None]
        assert status() == "awaiting_us"
        engine.dispose()
    finally:
        p.fake.stop()


def test_graph_reads_every_folder_but_drafts_deleted_junk_and_outbox(tmp_path, monkeypatch, engine):
    p = Provider("outlook", tmp_path, monkeypatch)
    try:
        for n, folder in enumerate(["inbox/Clientes", "inbox/Clientes/Grandes", "Archive", "Proyectos",
                                    "trash", "junk", "outbox", "drafts"]):
            p.fake.add_message(new_mail(n), folder)
        result = sync(engine, p.connector())
        assert result.stored == 8 + 4
        assert {f"<new-{n}@nuevo.example>" for n in range(4)} <= stored_ids(engine)
        assert not {f"<new-{n}@nuevo.example>" for n in range(4, 8)} & stored_ids(engine)
        with engine.connect() as conn:
            folders = set(conn.scalars(select(MessageLocation.folder)))
        assert {"Inbox", "Inbox/Clientes", "Inbox/Clientes/Grandes", "Archive", "Proyectos"} == folders
        cursor = json.loads(sync_cursor(engine))
        assert len(cursor["links"]) == 6  # one delta link per folder read (Sent Items too)
        # a folder created since, and a message moved into an existing one, are picked up
        p.fake.add_message(new_mail(20), "inbox/Nuevos")
        moved = p.fake.store.by_message_id("<new-0@nuevo.example>")
        p.fake.store.move(moved, "Archive")
        p.fake.store.touch(p.fake.store.by_message_id("<new-1@nuevo.example>"))  # read in Outlook
        before = p.fake.requests(r"/\$value")
        again = sync(engine, p.connector())
        assert (again.read, again.stored) == (1, 1)  # the new one; the move and the read are no news
        assert p.fake.requests(r"/\$value") - before == 1  # and only its MIME downloaded
        assert counts(engine) == (13, 13)
        assert len(json.loads(sync_cursor(engine))["links"]) == 7
    finally:
        p.fake.stop()


def test_graph_replayed_items_and_removed_entries_never_duplicate(tmp_path, monkeypatch, engine):
    p = Provider("outlook", tmp_path, monkeypatch)
    try:
        assert p.fake.replay_duplicates  # every page repeats the previous page's last item
        result = sync(engine, p.connector(page_size=2))
        assert (result.read, result.stored) == (8, 8)
        assert p.fake.requests(r"/\$value") == 8  # a replayed item is not downloaded twice
        for n in range(3):
            p.fake.store.move(p.fake.store.messages[n], "Archive")  # @removed in the Inbox
        assert sync(engine, p.connector(page_size=2)).stored == 0
        assert counts(engine) == (8, 8)
    finally:
        p.fake.stop()


def test_graph_410_restarts_the_folder_at_the_location_it_names(tmp_path, monkeypatch, engine):
    p = Provider("outlook", tmp_path, monkeypatch)
    try:
        sync(engine, p.connector())
        p.fake.add_message(new_mail(1), "inbox/Clientes")
        p.fake.expire_delta()
        before = p.fake.requests(r"/\$value")
        result = sync(engine, p.connector())
        assert result.stored == 1 and counts(engine) == (9, 9)
        assert p.fake.requests(r"/\$value") - before == 1  # the re-read downloads only the new one
        assert p.fake.requests(r"messages/delta\?%24select=[^&]*$") >= 3  # restarted at Location
    finally:
        p.fake.stop()


def test_an_old_cursor_of_inbox_and_sent_items_carries_on_by_folder_id(tmp_path, monkeypatch, engine):
    from connectors.outlook import _load_cursor

    p = Provider("outlook", tmp_path, monkeypatch)
    try:
        sync(engine, p.connector())
        state = _load_cursor(sync_cursor(engine))
        ids = {p.fake.folder_path(fid): url for fid, url in state["links"].items()}
        legacy = json.dumps({"v": 1, "kind": "outlook",
                             "links": {"inbox": ids["inbox"], "sentitems": ids["sent"]}})
        c = p.connector()
        batches = list(c.fetch(legacy))
        assert sum(len(b.messages) for b in batches) == 0  # caught up: nothing read again
        assert json.loads(batches[-1].cursor)["v"] == 2
    finally:
        p.fake.stop()


def test_gmail_never_stores_spam_or_trash_and_reads_a_message_rescued_from_spam(tmp_path, monkeypatch, engine):
    p = Provider("gmail", tmp_path, monkeypatch)
    try:
        spam = p.fake.add_message(new_mail(1), "junk")
        p.fake.add_message(new_mail(2), "trash")
        p.fake.add_message(new_mail(3), "inbox/Clientes")
        p.fake.add_message(new_mail(4), "Archive")
        assert sync(engine, p.connector()).stored == 8 + 2
        assert "<new-1@nuevo.example>" not in stored_ids(engine)
        p.fake.add_message(new_mail(5), "junk")  # history: messagesAdded, labels may be absent
        p.fake.add_message(new_mail(6), "trash")
        p.fake.add_message(new_mail(7), "inbox")
        assert sync(engine, p.connector()).stored == 1
        p.fake.store.move(spam, "inbox")  # "Not spam": labelsRemoved SPAM
        again = sync(engine, p.connector())
        assert again.stored == 1 and "<new-1@nuevo.example>" in stored_ids(engine)
        assert not {"<new-2@nuevo.example>", "<new-5@nuevo.example>", "<new-6@nuevo.example>"} & stored_ids(engine)
    finally:
        p.fake.stop()


def sync_cursor(engine) -> str:
    from assistant.storage.models import Account

    with engine.connect() as conn:
        return conn.scalar(select(Account.cursor))


def test_graph_over_its_mailbox_limit_waits_as_told_and_reads_everything(tmp_path, monkeypatch, engine):
    import time

    from connectors._cloud import Backoff
    from connectors.outlook import OutlookConnector

    p = Provider("outlook", tmp_path, monkeypatch)
    try:
        p.fake.mailbox_limit = (6, 1.0)  # 6 requests a second (Outlook: 10,000 in 10 minutes)
        waits: list[float] = []
        backoff = Backoff(tries=8, base=0.01, max_delay=3.0, sleep=lambda s: (waits.append(s), time.sleep(s)))
        c = OutlookConnector(p.token, base_url=p.fake.url, account="ana", backoff=backoff, page_size=4)
        assert sync(engine, c).stored == 8
        assert waits and all(w in (1.0, 2.0) for w in waits)  # the Retry-After it was given
        assert counts(engine) == (8, 8)
    finally:
        p.fake.stop()
