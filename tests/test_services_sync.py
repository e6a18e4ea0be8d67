"""Sync as a service (services/sync.py), the app object's sync, and the incremental path:
one new reply recomputes its own thread, not the store."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime

from sqlalchemy import func, select

from assistant.demo.sample import generate_sample
from assistant.services import snapshot
from assistant.services.app import Followup
from assistant.services.ingest import sync_account
from assistant.services.rules import rules_from_settings
from assistant.services.scan import scan_from_mail
from assistant.services.sync import sync
from assistant.settings import load_settings
from assistant.storage import models
from assistant.storage.db import open_database
from connectors.mailbox import MaildirConnector
from tests.test_read_model import answers


def test_the_app_syncs_every_account_then_reads_the_indexed_threads(tmp_path):
    info = generate_sample(tmp_path / "team")
    settings = load_settings(info.settings_path, environ={})
    app = Followup(settings, open_database(settings.storage.url), clock=lambda: info.now)
    results = app.sync()
    assert [r.account for r in results] == [a.name for a in settings.accounts]
    assert all(r.error is None for r in results) and sum(r.stored for r in results) > 0
    threads = answers(app.threads())
    assert len(threads) == 26
    assert threads == answers(scan_from_mail(settings, app.engine, info.now))
    again = app.sync()
    assert sum(r.stored for r in again) == 0 and sum(r.read for r in again) == 0


def test_one_new_reply_recomputes_its_thread_not_the_store(tmp_path):
    info = generate_sample(tmp_path / "team", threads=400, seed=5)
    settings = load_settings(info.settings_path, environ={})
    engine = open_database(settings.storage.url)
    rules = rules_from_settings(settings)
    sync(settings, engine, now=info.now)
    t = models.ThreadRow
    with engine.connect() as conn:
        total = conn.scalar(select(func.count()).select_from(t))
        quote_id, subject, contact, owner = conn.execute(
            select(t.quote_message_id, t.subject, t.contact, t.owner)
            .where(t.base_status == "open", t.contact.is_not(None), t.owner.is_not(None))
            .order_by(t.quote_message_id)).first()
    assert total > 100
    account = next(a for a in settings.accounts if a.owner == owner)
    when = info.now - timedelta(hours=1)
    (account.path / "new" / "1.reply.test").write_bytes(
        (f"From: {contact}\r\nTo: {owner}\r\nSubject: Re: {subject}\r\n"
         f"Date: {format_datetime(when)}\r\nMessage-ID: <reply-test@cliente.example>\r\n"
         f"In-Reply-To: {quote_id}\r\nReferences: {quote_id}\r\n\r\n"
         "No, gracias: ya lo compramos con otro proveedor.\r\n").encode())
    result = sync_account(engine, account.name, account.kind,
                          MaildirConnector(account.path, settle_seconds=0))
    assert result.stored == 1
    refreshed = snapshot.refresh(engine, rules)
    assert refreshed.indexed == 1 and not refreshed.rebuilt
    assert 1 <= refreshed.threads <= 3, refreshed
    stored = answers(snapshot.reports(engine, rules, info.now))
    assert stored == answers(scan_from_mail(settings, engine, info.now))
    assert stored[quote_id]["status"] != "waiting"  # the decline closed it


def _stored(engine) -> tuple:
    """Every message (without when it was first seen) and where each was seen."""
    m, loc = models.Message, models.MessageLocation
    skip = {"id", "first_seen_at", "conversation_id", "thread_key"}
    columns = [c for c in m.__table__.columns if c.name not in skip]
    with engine.connect() as conn:
        messages = sorted(tuple(row) for row in conn.execute(select(*columns)))
        where = sorted(conn.execute(select(models.Account.name, loc.provider_id, m.message_id)
                                    .join(loc, loc.account_id == models.Account.id)
                                    .join(m, m.id == loc.message_pk)).all())
    return messages, where


def test_a_sync_that_recognises_copies_stores_what_a_sync_of_each_account_alone_stores(tmp_path):
    """One run remembers what it stored by its bytes, so a manager's and a shared
    mailbox's copies are not parsed again: the store is the same as accounts synced one
    run each (each run starts knowing nothing)."""
    info = generate_sample(tmp_path / "team")
    together = load_settings(info.settings_path, environ={
        "FOLLOWUP_DATABASE_URL": f"sqlite:///{tmp_path / 'together.db'}"})
    alone = load_settings(info.settings_path, environ={
        "FOLLOWUP_DATABASE_URL": f"sqlite:///{tmp_path / 'alone.db'}"})
    one, other = open_database(together.storage.url), open_database(alone.storage.url)
    results = sync(together, one)
    # Every message read again (the sample's copies are the same bytes) was recognised.
    assert sum(r.copies for r in results) == sum(r.read - r.stored for r in results) >= 3
    for account in alone.accounts:
        assert all(r.copies == 0 for r in sync(alone, other, account=account.name))
    assert _stored(one) == _stored(other)
    assert answers(scan_from_mail(together, one, info.now)) == answers(
        scan_from_mail(alone, other, info.now))
