"""Reconciling follow-ups with their threads: the stop rules (a reply, a bounce, a closed
thread cancel a pending follow-up) and steps taken (the rep sent the draft or logged the
call: done), as :func:`assistant.domain.followups.settle` decides them.

Only the threads of follow-ups that can still change are read (pending or sent ones),
from the read model. After a sync, :func:`reconcile_changed` settles just the threads the
read model's refresh recomputed; :func:`reconcile` settles every one (planning, listing,
a logged touch, an approval that sends).

After settling, :func:`trash_cancelled_drafts` moves the email drafts of cancelled
follow-ups out of the reps' Drafts into their mailbox's Trash (a draft asking "did you get
the quote?" must not wait there, ready to send, once the client answered).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timezone

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from assistant.domain.followups import PENDING, settle
from assistant.domain.model import Rules, ThreadReport
from assistant.settings import Settings
from assistant.storage import models, repo
from assistant.storage.models import as_utc

__all__ = ["reconcile", "reconcile_if_pending", "reconcile_changed", "settle_reports",
           "trash_cancelled_drafts", "rules_for", "OPEN"]

log = logging.getLogger(__name__)

OPEN = PENDING + ("sent",)
"""Follow-ups whose thread can still change them."""


def rules_for(settings: Settings) -> Rules:
    """The rules of ``settings``, as the app object derives them."""
    from assistant.services.rules import rules_from_settings

    return rules_from_settings(settings)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def settle_reports(engine: Engine, reports: Iterable[ThreadReport], now: datetime,
                   *, threads: Iterable[str] | None = None) -> int:
    """Settle the open follow-ups of ``reports``' threads (``threads``: only those; else
    every open follow-up, a thread without a report leaving its follow-ups alone);
    return how many changed."""
    from assistant.wording import stored_reason

    by_thread = {r.quote_message_id: r for r in reports}
    changed = 0
    with Session(engine) as session, session.begin():
        legacy = repo.legacy_followups(session.connection())
        if threads is None:
            parts = [None]
        else:
            parts = list(repo.chunks(list(dict.fromkeys(threads))))
        for part in parts:
            for row in repo.followups_to_settle(session, OPEN, part):
                outcome = settle(row.status, row.step, by_thread.get(row.quote_message_id), row.key,
                                 as_utc(row.created_at), legacy=row.id <= legacy)
                if outcome is None:
                    continue
                row.status, row.updated_at = outcome.status, now.astimezone(timezone.utc)
                row.closed_reason = stored_reason(outcome)
                changed += 1
    return changed


def trash_cancelled_drafts(settings: Settings, engine: Engine, now: datetime, *,
                           open_connector: Callable | None = None) -> int:
    """Move the draft of every cancelled or skipped email follow-up not handled yet to its
    mailbox's Trash (:meth:`connectors.base.Connector.trash_draft`: only a draft still
    carrying the follow-up's key); return how many were recorded. A draft not at its ref any more (a
    mail client that saves an edit as a new message) is looked for by its key. One that
    is gone (the rep sent or deleted it) is recorded ``gone``. A connector error leaves
    the account's drafts for the next run, logged once; the other accounts go on. Only
    follow-ups still cancelled are touched (one put back by an undo never is)."""
    from connectors.base import ConnectorError

    with engine.connect() as conn:
        rows = repo.drafts_to_trash(conn)
    if not rows:
        return 0
    if open_connector is None:
        from assistant.services.accounts import open_connector_for as open_connector
    connectors: dict[str, object] = {}
    failed: set[str] = set()
    recorded = 0
    try:
        for row in rows:
            account = settings.account(row.account) if row.account else None
            if account is None or account.name in failed:
                continue  # an account no longer in settings.toml: its drafts are left alone
            try:
                if account.name not in connectors:
                    connectors[account.name] = open_connector(account)
                connector = connectors[account.name]
                moved = connector.trash_draft(row.draft_ref, row.key)
                if not moved:
                    other = connector.find_draft(row.key)
                    moved = other is not None and connector.trash_draft(other, row.key)
            except (ConnectorError, OSError) as exc:
                failed.add(account.name)
                log.warning("account %s: the drafts of cancelled follow-ups stay in Drafts until "
                            "the next run: %s", account.name, exc)
                continue
            with engine.begin() as conn:
                recorded += repo.record_draft_trash(conn, row.id, "trashed" if moved else "gone",
                                                    at=now)
    finally:
        for connector in connectors.values():
            connector.close()
    return recorded


def _reports(settings: Settings, engine: Engine, now: datetime, where) -> list[ThreadReport]:
    from assistant.services import snapshot

    return snapshot.reports(engine, rules_for(settings), now, where=where)


def reconcile(settings: Settings, engine: Engine, now: datetime | None = None) -> int:
    """Apply the stop rules and close taken steps; return how many follow-ups changed.
    Reads the reports of the open follow-ups' threads only."""
    now = now or _now()
    where = repo.with_followups_clause(OPEN)
    changed = settle_reports(engine, _reports(settings, engine, now, where), now)
    trash_cancelled_drafts(settings, engine, now)
    return changed


def reconcile_if_pending(settings: Settings, engine: Engine, now: datetime | None = None) -> int:
    """:func:`reconcile` when some follow-up could change (cheap otherwise)."""
    with engine.connect() as conn:
        pending = repo.count_followups(conn, OPEN)
    if pending:
        return reconcile(settings, engine, now)
    trash_cancelled_drafts(settings, engine, now or _now())
    return 0


def reconcile_changed(settings: Settings, engine: Engine, now: datetime | None,
                      threads: Iterable[str] | None) -> int:
    """Settle the open follow-ups of just ``threads`` (the ones a read-model refresh
    recomputed: :attr:`assistant.services.snapshot.RefreshResult.changed`); ``None``
    (a rebuild: everything may have changed) settles every one."""
    if threads is None:
        return reconcile_if_pending(settings, engine, now)
    now = now or _now()
    changed = _settle_changed(settings, engine, now, list(dict.fromkeys(threads)))
    trash_cancelled_drafts(settings, engine, now)
    return changed


def _settle_changed(settings: Settings, engine: Engine, now: datetime, wanted: list[str]) -> int:
    if not wanted:
        return 0
    t = models.ThreadRow
    with engine.connect() as conn:
        open_threads = repo.threads_with_followups(conn, OPEN, wanted)
    if not open_threads:
        return 0
    reports: list[ThreadReport] = []
    for part in repo.chunks(open_threads):
        reports.extend(_reports(settings, engine, now, t.quote_message_id.in_(part)))
    return settle_reports(engine, reports, now, threads=open_threads)
