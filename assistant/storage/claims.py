"""One claim / take-over mechanism for every "only one of us does this" in the product:
the draft a planner saves (``followups.draft_claim``), the digest a worker sends
(``digests``), the scheduler's daily and weekly runs (``job_runs``), the account a worker
syncs (``account_leases``).

A claim is a row whose *holder* column names who holds it. Taking it is one conditional
UPDATE: the row is claimable when it is free (no holder, or a kind-specific "free"
condition such as a failed digest), already this holder's (when allowed), or stale — its
claim older than the timeout (``since`` column), or past its expiry (``until`` column).
The database decides the race: the rowcount says who won, so of two claimers exactly one
gets the row, whatever the database (SQLite serialises writers; PostgreSQL re-checks the
WHERE clause of a concurrent UPDATE on the row it waited for). Renewing and releasing
are conditional on still being the holder: a claimer that was too slow and got taken
over learns it from a rowcount of 0 ("lost").

Times are the caller's clock (tests inject one); claimers' clocks are assumed in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, false, or_, true, update
from sqlalchemy.sql.elements import ColumnElement

from assistant.storage import models

__all__ = ["ANYONE", "Kind", "claimable", "take", "renew", "release", "DRAFT", "DIGEST_SEND",
           "JOB_RUN", "MORNING_SEND", "account_lease", "claim_send", "finish_send"]

ANYONE = object()
"""For :func:`release`: end the claim whoever holds it (a result recorded by the one
process that can reach it, such as a digest's outcome)."""


@dataclass(frozen=True)
class Kind:
    """One kind of claim: its table (an ORM model), the column naming the holder, and
    how a claim goes stale — ``since`` (when it was taken: stale after ``timeout``) or
    ``until`` (its expiry: stale once passed)."""

    model: type
    holder: str
    since: str | None = None
    until: str | None = None
    timeout: timedelta | None = None
    """Stale after this long (with ``since``); with ``until`` it is the lease's length."""
    unheld_is_free: bool = True
    """A row with no holder is free (draft claims, leases); a digest's row always has one."""

    def column(self, name: str):
        return getattr(self.model, name)


def claimable(kind: Kind, holder: str | None, now: datetime, *,
              free: ColumnElement | None = None, own: bool = False) -> ColumnElement:
    """The take-over rule, as a condition on ``kind``'s rows: free, or ``holder``'s own
    (with ``own``), or stale at ``now``."""
    column = kind.column(kind.holder)
    options = []
    if kind.unheld_is_free:
        options.append(column.is_(None))
    if free is not None:
        options.append(free)
    if own and holder is not None:
        options.append(column == holder)
    if kind.since is not None and kind.timeout is not None:
        options.append(kind.column(kind.since) < now - kind.timeout)
    if kind.until is not None:
        options.append(kind.column(kind.until) < now)
    return or_(*options) if options else false()


def _stamp(kind: Kind, now: datetime) -> dict:
    values = {}
    if kind.since is not None:
        values[kind.since] = now
    if kind.until is not None:
        values[kind.until] = now + (kind.timeout or timedelta(0))
    return values


def take(conn: Connection, kind: Kind, where: ColumnElement, holder: str | None,
         now: datetime, *, free: ColumnElement | None = None, own: bool = False,
         **values) -> bool:
    """Claim the one row matching ``where`` for ``holder`` if it is claimable (see
    :func:`claimable`), writing ``values`` too; True for the claimer that won."""
    statement = (update(kind.model)
                 .where(and_(where, claimable(kind, holder, now, free=free, own=own)))
                 .values({kind.holder: holder, **_stamp(kind, now), **values}))
    return conn.execute(statement).rowcount == 1


def _held_by(kind: Kind, holder) -> ColumnElement:
    column = kind.column(kind.holder)
    if holder is ANYONE:
        return true()
    return column.is_(None) if holder is None else column == holder


def renew(conn: Connection, kind: Kind, where: ColumnElement, holder: str | None,
          now: datetime) -> bool:
    """Push ``holder``'s claim further (its ``since``/``until`` from ``now``); False when
    it was lost (taken over, or released)."""
    return conn.execute(update(kind.model).where(and_(where, _held_by(kind, holder)))
                        .values(_stamp(kind, now))).rowcount == 1


def release(conn: Connection, kind: Kind, where: ColumnElement, holder: str | None, *,
            keep_holder: bool = False, **values) -> bool:
    """End ``holder``'s claim, writing ``values`` (a result: a draft's ref, a digest's
    status); the holder is cleared unless ``keep_holder`` (a record of who did it).
    False when the claim was lost: then nothing is written."""
    cleared = {} if keep_holder else {kind.holder: None, **{
        name: None for name in (kind.since, kind.until) if name is not None}}
    return conn.execute(update(kind.model).where(and_(where, _held_by(kind, holder)))
                        .values({**cleared, **values})).rowcount == 1


# --- The product's claims ----------------------------------------------------------------------

DRAFT = Kind(models.Followup, "draft_claim", since="draft_claimed_at",
             timeout=timedelta(minutes=10))
"""A planner's claim on an email follow-up whose draft it is saving: past ten minutes the
planner is taken for dead and the next ``plan`` (or an approval) finishes the draft."""

DIGEST_SEND = Kind(models.DigestRecord, "holder", since="created_at",
                   timeout=timedelta(hours=1), unheld_is_free=False)
"""A worker's claim on sending one manager's digest for one period: taken over when the
send failed (``free``: status ``failed``) or its sender died mid-way (still ``sending``
an hour on)."""


JOB_RUN = Kind(models.JobRun, "holder", since="started_at", timeout=timedelta(hours=1),
               unheld_is_free=False)
"""A scheduler worker's claim on one daily or weekly job for one period (planning on a
business morning, the weekly digest): taken over when the run failed (``free``: status
``failed``) or its worker died mid-way (still ``running`` an hour on)."""


MORNING_SEND = Kind(models.MorningList, "holder", since="created_at", unheld_is_free=False)
"""A worker's claim on sending one rep's morning list for one local date: taken over only
when the send surely failed (``free``: status ``failed``); never when stale — a worker
that died mid-way may have sent it."""


def claim_send(engine, kind: Kind, row: dict, where: ColumnElement, holder: str | None,
               now: datetime) -> bool:
    """Claim sending one message recorded as ``row`` in ``kind``'s table (unique per
    recipient and period): the first claimer inserts the row; later ones take it over
    only if it failed or its sender died mid-way (``sending`` past the timeout), never
    once ``sent``. True for the one claimer that may send."""
    from sqlalchemy.exc import IntegrityError

    model = kind.model
    try:
        with engine.begin() as conn:
            conn.execute(model.__table__.insert().values(
                status="sending", holder=holder, created_at=now, **row))
        return True
    except IntegrityError:
        pass
    with engine.begin() as conn:
        return take(conn, kind, where & (model.status != "sent"), holder, now,
                    free=model.status == "failed", status="sending", error=None)


def finish_send(engine, kind: Kind, where: ColumnElement, status: str, now: datetime,
                error: str | None) -> None:
    """Record how a claimed send ended (``sent`` or ``failed``), whoever holds it."""
    with engine.begin() as conn:
        release(conn, kind, where, ANYONE, keep_holder=True, status=status,
                sent_at=now if status == "sent" else None, error=error)


def account_lease(ttl: timedelta) -> Kind:
    """A worker's lease on syncing one account, ``ttl`` long (renewed while it syncs)."""
    return Kind(models.AccountLease, "holder", until="expires_at", timeout=ttl)

