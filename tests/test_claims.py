"""The one claim / take-over mechanism (assistant.storage.claims), on a real SQLite file
and on PostgreSQL: two claimers, take-over after expiry, lost claims."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select

from assistant.storage import claims, models
from assistant.storage.db import open_database

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def engine(database_url):
    engine = open_database(database_url)
    yield engine
    engine.dispose()


def _followup(engine, key: str = "fu-1") -> int:
    with engine.begin() as conn:
        return conn.execute(insert(models.Followup).values(
            key=key, quote_message_id="<q@x>", step=1, channel="email", status="drafted",
            due_at=T0, created_at=T0, updated_at=T0, template="followup_1",
            template_version=0, subject="s", body="b")).inserted_primary_key[0]


def _take(engine, kind, where, holder, now, **kw) -> bool:
    with engine.begin() as conn:
        return claims.take(conn, kind, where, holder, now, **kw)


def test_of_two_claimers_of_a_free_row_exactly_one_wins(engine):
    fid = _followup(engine)
    where = models.Followup.id == fid
    assert _take(engine, claims.DRAFT, where, "a", T0)
    assert not _take(engine, claims.DRAFT, where, "b", T0 + timedelta(minutes=9))
    with engine.connect() as conn:
        assert conn.scalar(select(models.Followup.draft_claim).where(where)) == "a"


def _race(claim) -> list[str]:
    """``claim(name)`` by claimers "a" and "b" at the same moment: the names that won."""
    barrier, won = threading.Barrier(2), []

    def run(name: str) -> None:
        barrier.wait()
        if claim(name):
            won.append(name)

    threads = [threading.Thread(target=run, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return won


def test_two_claimers_at_once_one_wins(engine):
    fids = [_followup(engine, f"fu-{n}") for n in range(8)]
    for fid in fids:  # many rounds: a race the database does not settle would show
        won = _race(lambda name: _take(engine, claims.DRAFT, models.Followup.id == fid, name, T0))
        assert len(won) == 1, won


def test_a_stale_claim_is_taken_over_and_the_slow_holder_has_lost_it(engine):
    fid = _followup(engine)
    where = models.Followup.id == fid
    assert _take(engine, claims.DRAFT, where, "slow", T0)
    late = T0 + claims.DRAFT.timeout + timedelta(seconds=1)
    assert _take(engine, claims.DRAFT, where, "next", late)
    with engine.begin() as conn:  # the slow one finds out: renewing or releasing fails
        assert not claims.renew(conn, claims.DRAFT, where, "slow", late)
        assert not claims.release(conn, claims.DRAFT, where, "slow", draft_ref="slow-ref")
        assert claims.release(conn, claims.DRAFT, where, "next", draft_ref="next-ref")
    with engine.connect() as conn:
        row = conn.execute(select(models.Followup.draft_claim, models.Followup.draft_claimed_at,
                                  models.Followup.draft_ref).where(where)).one()
    assert tuple(row) == (None, None, "next-ref")


def test_a_lease_expires_renews_and_is_released(engine):
    kind = claims.account_lease(timedelta(minutes=5))
    lease = models.AccountLease
    with engine.begin() as conn:
        conn.execute(insert(lease).values(account="ana"))
    where = lease.account == "ana"
    assert _take(engine, kind, where, "w1", T0)
    assert not _take(engine, kind, where, "w2", T0 + timedelta(minutes=4))
    assert _take(engine, kind, where, "w1", T0 + timedelta(minutes=4), own=True)  # its own
    with engine.begin() as conn:
        assert claims.renew(conn, kind, where, "w1", T0 + timedelta(minutes=8))
    assert not _take(engine, kind, where, "w2", T0 + timedelta(minutes=12))  # renewed to 13
    assert _take(engine, kind, where, "w2", T0 + timedelta(minutes=14))  # expired: taken over
    with engine.begin() as conn:
        assert not claims.renew(conn, kind, where, "w1", T0 + timedelta(minutes=14))
        assert claims.release(conn, kind, where, "w2")
    assert _take(engine, kind, where, "w3", T0 + timedelta(minutes=14))  # free again


def test_a_kind_specific_free_condition_and_an_unheld_row_that_is_not_free(engine):
    table = models.DigestRecord
    with engine.begin() as conn:
        conn.execute(insert(table).values(manager="m@x", period="2026-11-23", status="sending",
                                          language="en", subject="s", holder=None,
                                          created_at=T0))
    where = (table.manager == "m@x") & (table.status != "sent")
    failed = table.status == "failed"
    # Held by nobody named, but being sent: not free until it fails or goes stale.
    assert not _take(engine, claims.DIGEST_SEND, where, "w2", T0 + timedelta(minutes=30),
                     free=failed)
    with engine.begin() as conn:
        assert claims.release(conn, claims.DIGEST_SEND, table.manager == "m@x", claims.ANYONE,
                              keep_holder=True, status="failed")
    assert _take(engine, claims.DIGEST_SEND, where, "w2", T0 + timedelta(minutes=31),
                 free=failed, status="sending")
    with engine.begin() as conn:
        claims.release(conn, claims.DIGEST_SEND, table.manager == "m@x", claims.ANYONE,
                       keep_holder=True, status="sent")
    assert not _take(engine, claims.DIGEST_SEND, where, "w3", T0 + timedelta(days=1), free=failed)
    with engine.connect() as conn:
        assert conn.execute(select(table.status, table.holder)).one() == ("sent", "w2")


def test_a_scheduler_run_is_taken_over_when_it_failed_or_its_worker_died_never_when_done(engine):
    from assistant.scheduler import claim_run, finish_run

    assert claim_run(engine, "plan", "2026-11-20", "w1", T0)
    assert not claim_run(engine, "plan", "2026-11-20", "w2", T0 + timedelta(minutes=59))
    # w1 died: an hour on, its run is stale and w2 takes it over
    assert claim_run(engine, "plan", "2026-11-20", "w2", T0 + timedelta(minutes=61))
    with engine.connect() as conn:
        row = conn.execute(select(models.JobRun.holder, models.JobRun.status)).one()
    assert tuple(row) == ("w2", "running")
    finish_run(engine, "plan", "2026-11-20", T0 + timedelta(minutes=62), "SMTP refused")
    assert claim_run(engine, "plan", "2026-11-20", "w3", T0 + timedelta(minutes=63))  # failed: again
    finish_run(engine, "plan", "2026-11-20", T0 + timedelta(minutes=64), None)
    assert not claim_run(engine, "plan", "2026-11-20", "w4", T0 + timedelta(days=2))  # done: never
    with engine.connect() as conn:
        row = conn.execute(select(models.JobRun.holder, models.JobRun.status,
                                  models.JobRun.error)).one()
    assert tuple(row) == ("w3", "done", None)


def test_two_workers_sending_one_morning_list_at_once_one_sends(engine):
    """claim_send (digests, morning lists): the insert races settle on the unique key;
    a list lost mid-way (``unknown``) or whose sender died (``sending``) is never taken
    over, a surely failed one (``failed``) is."""
    table = models.MorningList
    for n in range(6):
        where = (table.rep == f"rep{n}@x.example") & (table.period == "2026-11-27")
        values = dict(rep=f"rep{n}@x.example", period="2026-11-27", language="es", items=2)
        won = _race(lambda name: claims.claim_send(engine, claims.MORNING_SEND, values, where,
                                                   name, T0))
        assert len(won) == 1, won
    row = dict(rep="rep0@x.example", period="2026-11-27", language="es", items=2)
    where = (table.rep == "rep0@x.example") & (table.period == "2026-11-27")
    later = T0 + timedelta(days=1)  # long after: a stale "sending" is still not taken
    assert not claims.claim_send(engine, claims.MORNING_SEND, row, where, "c", later)
    claims.finish_send(engine, claims.MORNING_SEND, where, "unknown", T0, "lost")
    assert not claims.claim_send(engine, claims.MORNING_SEND, row, where, "c", later)
    claims.finish_send(engine, claims.MORNING_SEND, where, "failed", T0, "refused")
    assert claims.claim_send(engine, claims.MORNING_SEND, row, where, "c", later)
    claims.finish_send(engine, claims.MORNING_SEND, where, "sent", later, None)
    assert not claims.claim_send(engine, claims.MORNING_SEND, row, where, "d", later)
