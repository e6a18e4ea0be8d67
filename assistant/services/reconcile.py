"""Reconciling follow-ups with their threads: the stop rules (a reply, a bounce, a closed
thread cancel a pending follow-up) and steps taken (the rep sent the draft or logged the
call: done), as :func:`assistant.domain.followups.settle` decides them.

Only the threads of follow-ups that can still change are read (pending or sent ones),
from the read model. After a sync, :func:`reconcile_changed` settles just the threads the
read model's refresh recomputed; :func:`reconcile` settles every one (planning, listing,
a logged touch, an approval that sends).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from assistant.domain.followups import PENDING, settle
from assistant.domain.model import Rules, ThreadReport
from assistant.settings import Settings
from assistant.storage import models, repo
from assistant.storage.models import as_utc

__all__ = ["reconcile", "reconcile_if_pending", "reconcile_changed", "settle_reports",
           "rules_for", "OPEN"]

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
    f = models.Followup
    changed = 0
    with Session(engine) as session, session.begin():
        legacy = repo.legacy_followups(session.connection())
        if threads is None:
            parts = [None]
        else:
            parts = list(repo.chunks(list(dict.fromkeys(threads))))
        for part in parts:
            query = select(f).where(f.status.in_(OPEN))
            if part is not None:
                query = query.where(f.quote_message_id.in_(part))
            for row in session.scalars(query.order_by(f.id)):
                outcome = settle(row.status, row.step, by_thread.get(row.quote_message_id), row.key,
                                 as_utc(row.created_at), legacy=row.id <= legacy)
                if outcome is None:
                    continue
                row.status, row.updated_at = outcome.status, now.astimezone(timezone.utc)
                row.closed_reason = stored_reason(outcome)
                changed += 1
    return changed


def _reports(settings: Settings, engine: Engine, now: datetime, where) -> list[ThreadReport]:
    from assistant.services import snapshot

    return snapshot.reports(engine, rules_for(settings), now, where=where)


def reconcile(settings: Settings, engine: Engine, now: datetime | None = None) -> int:
    """Apply the stop rules and close taken steps; return how many follow-ups changed.
    Reads the reports of the open follow-ups' threads only."""
    now = now or _now()
    f, t = models.Followup, models.ThreadRow
    where = t.quote_message_id.in_(select(f.quote_message_id).where(f.status.in_(OPEN)))
    return settle_reports(engine, _reports(settings, engine, now, where), now)


def reconcile_if_pending(settings: Settings, engine: Engine, now: datetime | None = None) -> int:
    """:func:`reconcile` when some follow-up could change (cheap otherwise)."""
    with engine.connect() as conn:
        pending = conn.scalar(select(func.count()).select_from(models.Followup).where(
            models.Followup.status.in_(OPEN)))
    return reconcile(settings, engine, now) if pending else 0


def reconcile_changed(settings: Settings, engine: Engine, now: datetime | None,
                      threads: Iterable[str] | None) -> int:
    """Settle the open follow-ups of just ``threads`` (the ones a read-model refresh
    recomputed: :attr:`assistant.services.snapshot.RefreshResult.changed`); ``None``
    (a rebuild: everything may have changed) settles every one."""
    if threads is None:
        return reconcile_if_pending(settings, engine, now)
    now = now or _now()
    wanted = list(dict.fromkeys(threads))
    if not wanted:
        return 0
    f, t = models.Followup, models.ThreadRow
    with engine.connect() as conn:
        open_threads: list[str] = []
        for part in repo.chunks(wanted):
            open_threads.extend(conn.scalars(select(f.quote_message_id).distinct().where(
                f.status.in_(OPEN), f.quote_message_id.in_(part))))
    if not open_threads:
        return 0
    reports: list[ThreadReport] = []
    for part in repo.chunks(open_threads):
        reports.extend(_reports(settings, engine, now, t.quote_message_id.in_(part)))
    return settle_reports(engine, reports, now, threads=open_threads)
