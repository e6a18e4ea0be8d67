"""``followup run``: jobs at the right local times (injected clock, no sleeping), once
per slot whatever the workers, failures contained, SIGTERM honoured; account leases on the
real PostgreSQL and the one-worker lock on SQLite."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from assistant.storage.leases import AnotherWorker, LeaseManager, WorkerLock
from assistant.scheduler import Runner, Timing, digest_slot, plan_slot
from assistant.settings import load_settings
from assistant.storage import models
from assistant.storage.db import open_database
from tests.builders import raw_message

NY = ZoneInfo("America/New_York")
UTC = timezone.utc


def write_settings(folder: Path, accounts: str | None = None) -> Path:
    accounts = accounts or '[[accounts]]\nname = "ana"\nkind = "maildir"\npath = "mail/ana"\n'
    path = folder / "settings.toml"
    path.write_text(textwrap.dedent("""\
        [company]
        name = "Acme"
        domains = ["acme.example"]

        [team]
        timezone = "America/New_York"
        [[team.members]]
        email = "marta@acme.example"
        name = "Marta Gómez"
        role = "manager"
        [[team.members]]
        email = "ana@acme.example"
        name = "Ana Pérez"
        role = "account_executive"
        manager = "marta@acme.example"

        [protocol]
        holidays_country = "US"
        send_window_start = "09:00"
        [[protocol.steps]]
        after_days = 2
        channel = "email"
        template = "followup_1"

        [digest]
        weekday = "monday"
        time = "08:00"

        [schedule]
        sync_minutes = 15

        [storage]
        url = "sqlite:///followup.db"

        """) + accounts, encoding="utf-8")
    return path


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, datetime, str | None]] = []

    def job(self, name: str, fail: int = 0):
        remaining = [fail]

        def run(now, period):
            if remaining[0]:
                remaining[0] -= 1
                raise RuntimeError(f"{name} broke")
            self.calls.append((name, now, period))
        return run

    def of(self, name: str) -> list[tuple[datetime, str | None]]:
        return [(now, period) for job, now, period in self.calls if job == name]


def runner(settings, engine, recorder: Recorder, clock, **fail) -> Runner:
    return Runner(settings, engine, clock=clock,
                  jobs={job: recorder.job(job, fail.get(job, 0)) for job in ("sync", "plan", "morning", "digest")})


@pytest.fixture
def world(tmp_path):
    settings = load_settings(write_settings(tmp_path))
    return settings, open_database(settings.storage.url)


def ny(year, month, day, hour=0, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NY)


def test_jobs_fire_at_local_times_across_dst_and_holidays(world):
    settings, engine = world
    rec = Recorder()
    moment = [ny(2026, 10, 26).astimezone(UTC)]
    r = runner(settings, engine, rec, lambda: moment[0])
    end = ny(2026, 11, 28).astimezone(UTC)
    while moment[0] < end:  # a tick every 5 minutes for 33 days: DST ends Sun 1 Nov
        r.run_due(moment[0])
        moment[0] += timedelta(minutes=5)

    plans = rec.of("plan")
    days = [now.astimezone(NY).date().isoformat() for now, _ in plans]
    weekdays = [d for d in (ny(2026, 10, 26) + timedelta(days=n) for n in range(33))
                if d.weekday() < 5]
    holidays = {"2026-11-11", "2026-11-26"}  # Veterans Day, Thanksgiving
    assert days == [d.date().isoformat() for d in weekdays if d.date().isoformat() not in holidays]
    assert all(now.astimezone(NY).time().isoformat() == "09:00:00" for now, _ in plans)
    assert [period for _, period in plans] == days
    utc_hours = {now.astimezone(NY).date().isoformat(): now.hour for now, _ in plans}
    assert utc_hours["2026-10-30"] == 13 and utc_hours["2026-11-02"] == 14  # EDT, then EST

    digests = rec.of("digest")
    assert [(now.astimezone(NY).strftime("%a %d %b %H:%M"), now.hour) for now, _ in digests] == [
        ("Mon 26 Oct 08:00", 12), ("Mon 02 Nov 08:00", 13), ("Mon 09 Nov 08:00", 13),
        ("Mon 16 Nov 08:00", 13), ("Mon 23 Nov 08:00", 13)]

    syncs = [now for now, _ in rec.of("sync")]
    assert {b - a for a, b in zip(syncs, syncs[1:])} == {timedelta(minutes=15)}
    assert len(syncs) == (end - ny(2026, 10, 26)) / timedelta(minutes=15) == (33 * 24 + 1) * 4


def test_slots_are_pure_functions_of_the_local_calendar():
    timing = Timing("Europe/Madrid", "ES", datetime.strptime("09:00", "%H:%M").time(), 0,
                    datetime.strptime("08:00", "%H:%M").time(), timedelta(minutes=15))
    madrid = ZoneInfo("Europe/Madrid")
    # Sun 29 Mar 2026: Spain springs forward; Mon 30 Mar 08:00 CEST is 06:00 UTC
    assert digest_slot(datetime(2026, 3, 30, 6, 0, tzinfo=UTC), timing)[0] == "2026-03-30"
    assert digest_slot(datetime(2026, 3, 30, 5, 59, tzinfo=UTC), timing) is None
    assert plan_slot(datetime(2026, 3, 30, 7, 0, tzinfo=UTC), timing)[1] == datetime(
        2026, 3, 30, 9, tzinfo=madrid)
    assert plan_slot(datetime(2026, 1, 6, 12, tzinfo=UTC), timing) is None  # Epiphany
    assert plan_slot(datetime(2026, 1, 7, 8, 0, tzinfo=UTC), timing)[0] == "2026-01-07"


def test_once_runs_what_is_due_and_a_slot_runs_once_across_workers(world):
    settings, engine = world

    def once(at: datetime) -> list[str]:  # a fresh worker process, as `followup run --once`
        rec = Recorder()
        outcome = runner(settings, engine, rec, lambda: at).run_due(at)
        assert outcome.failed == []
        return outcome.ran

    assert once(ny(2026, 11, 2, 10)) == ["sync", "plan", "morning", "digest"]  # Monday 10:00
    assert once(ny(2026, 11, 2, 10, 5)) == ["sync"]  # a second worker: already done
    assert once(ny(2026, 11, 3, 8, 55)) == ["sync"]  # Tuesday before the send window
    assert once(ny(2026, 11, 3, 15)) == ["sync", "plan", "morning"]  # missed at 09:00: caught up
    assert once(ny(2026, 11, 8, 10)) == ["sync"]  # Sunday
    with engine.connect() as conn:
        runs = conn.execute(select(models.JobRun.job, models.JobRun.period, models.JobRun.status)
                            .order_by(models.JobRun.started_at)).all()
    assert [tuple(r) for r in runs] == [("plan", "2026-11-02", "done"), ("morning", "2026-11-02", "done"),
                                        ("digest", "2026-11-02", "done"),
                                        ("plan", "2026-11-03", "done"), ("morning", "2026-11-03", "done")]


def test_a_failing_job_is_logged_the_others_go_on_and_it_is_retried(world, caplog):
    settings, engine = world
    rec = Recorder()
    monday = ny(2026, 11, 2, 9, 30)
    r = runner(settings, engine, rec, lambda: monday, plan=1)
    outcome = r.run_due(monday)
    assert outcome.failed == ["plan"] and outcome.ran == ["sync", "morning", "digest"]
    assert "plan broke" in caplog.text
    assert r.run_due(monday + timedelta(minutes=10)).ran == []  # not yet: retried later
    assert r.run_due(monday + timedelta(minutes=31)).ran == ["sync", "plan"]
    assert [p for _, p in rec.of("plan")] == ["2026-11-02"]


def test_a_failing_account_does_not_stop_the_others(tmp_path):
    box = tmp_path / "mail" / "ana"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    (box / "cur" / "1:2,S").write_bytes(raw_message(
        frm="ana@acme.example", to="cliente@uno.example", subject="Cotización 1",
        date=ny(2026, 10, 30, 10), mid="<q1@acme.example>"))
    accounts = ('[[accounts]]\nname = "broken"\nkind = "maildir"\npath = "mail/missing"\n\n'
                '[[accounts]]\nname = "ana"\nkind = "maildir"\npath = "mail/ana"\n')
    settings = load_settings(write_settings(tmp_path, accounts))
    engine = open_database(settings.storage.url)
    at = ny(2026, 11, 1, 12)  # a Sunday: only the sync is due
    r = Runner(settings, engine, clock=lambda: at)
    outcome = r.run_due(at)
    assert outcome.failed == ["sync"]
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(models.Message)) == 1
    assert r.leases.holders() == {"broken": None, "ana": None}  # both leases released


def test_a_worker_that_loses_its_lease_mid_sync_stops_after_the_stored_batch(tmp_path):
    box = tmp_path / "mail" / "ana"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    for n in range(2500):  # three batches of at most 1000
        (box / "cur" / f"{n}:2,S").write_bytes(raw_message(
            frm="ana@acme.example", to="cliente@uno.example", subject=f"Cotización {n}",
            date=ny(2026, 10, 30, 10), mid=f"<q{n}@acme.example>"))
    accounts = '[[accounts]]\nname = "ana"\nkind = "maildir"\npath = "mail/ana"\n'
    settings = load_settings(write_settings(tmp_path, accounts))
    engine = open_database(settings.storage.url)
    ticks = [ny(2026, 11, 1, 12)]

    def clock() -> datetime:
        # Each look at the clock is much later (a slow first sync); after the first batch
        # another worker takes the account over, as it would once our lease expired.
        ticks.append(ticks[-1] + timedelta(hours=1))
        if len(ticks) == 6:
            with engine.begin() as conn:
                conn.execute(models.AccountLease.__table__.update().values(holder="other-worker"))
        return ticks[-1]

    r = Runner(settings, engine, clock=clock)
    outcome = r.run_due(ticks[0])
    assert outcome.failed == ["sync"]
    with engine.connect() as conn:
        stored = conn.scalar(select(func.count()).select_from(models.Message))
        account = conn.execute(select(models.Account.status, models.Account.last_error)).one()
    assert 0 < stored < 2500  # stopped after a stored batch, not synced in parallel
    assert account.status == "retrying" and "another worker" in account.last_error


def test_sigterm_lets_the_current_job_finish_then_stops(world):
    settings, engine = world
    done: list[str] = []
    before = signal.getsignal(signal.SIGTERM)

    def sync(now, period):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)  # the signal arrives while the job still works
        done.append("sync finished")

    monday = ny(2026, 11, 2, 9, 30)
    r = Runner(settings, engine, clock=lambda: monday,
               jobs={"sync": sync, "plan": lambda n, p: done.append("plan"),
                     "digest": lambda n, p: done.append("digest")})
    r.run_forever(sleep=lambda seconds: pytest.fail("the loop went on after SIGTERM"))
    assert done == ["sync finished"]
    assert signal.getsignal(signal.SIGTERM) is before


def test_sqlite_lets_one_worker_run(tmp_path):
    database = tmp_path / "followup.db"
    with WorkerLock(database):
        with pytest.raises(AnotherWorker, match="already working"):
            WorkerLock(database).acquire()
    # a worker killed outright leaves no stale lock behind
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from assistant.storage.leases import WorkerLock; lock = WorkerLock(Path(sys.argv[1])); lock.acquire(); "
         "print('locked', flush=True); time.sleep(60)", str(database)],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(AnotherWorker):
            WorkerLock(database).acquire()
    finally:
        holder.kill()
        holder.wait()
    lock = WorkerLock(database)
    lock.acquire()
    lock.release()


# --- Several workers on the real PostgreSQL --------------------------------------------

ACCOUNTS = [f"acct{n}" for n in range(6)]


@pytest.mark.postgres
def test_two_workers_never_hold_the_same_account(postgres_url):
    open_database(postgres_url)
    LeaseManager(open_database(postgres_url), "setup", timedelta(minutes=1)).ensure(ACCOUNTS)
    holding: dict[str, str] = {}
    overlaps: list[str] = []
    counts = {"w1": 0, "w2": 0}
    guard = threading.Lock()
    start = threading.Barrier(2)

    def work(me: str) -> None:
        leases = LeaseManager(open_database(postgres_url), me, timedelta(minutes=1))
        start.wait()
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            name = leases.acquire(ACCOUNTS)
            if name is None:
                continue
            with guard:
                if name in holding:
                    overlaps.append(f"{name}: {holding[name]} and {me}")
                holding[name] = me
                counts[me] += 1
            time.sleep(0.002)
            with guard:
                del holding[name]
            leases.release(name)

    threads = [threading.Thread(target=work, args=(me,)) for me in counts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == []
    assert counts["w1"] > 5 and counts["w2"] > 5


@pytest.mark.postgres
def test_a_killed_workers_lease_is_taken_over(postgres_url):
    engine = open_database(postgres_url)
    LeaseManager(engine, "setup", timedelta(minutes=1)).ensure(["a1", "a2"])
    doomed = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent("""
            import sys, time
            from datetime import timedelta
            from assistant.storage.leases import LeaseManager
            from assistant.storage.db import open_database
            leases = LeaseManager(open_database(sys.argv[1]), "doomed", timedelta(minutes=10))
            print("holding", leases.acquire(["a1"]), flush=True)
            time.sleep(60)
            """), postgres_url],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent)
    try:
        assert doomed.stdout.readline().split() == ["holding", "a1"]
    finally:
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
    now = [datetime.now(UTC)]
    survivor = LeaseManager(engine, "survivor", timedelta(minutes=10), clock=lambda: now[0])
    assert survivor.acquire(["a1"]) is None  # the dead worker's lease has not expired yet
    assert survivor.acquire(["a1", "a2"]) == "a2"
    now[0] += timedelta(minutes=11)
    assert survivor.acquire(["a1"]) == "a1"
    assert survivor.holders() == {"a1": "survivor", "a2": "survivor"}


def test_run_once_from_the_command_line(tmp_path):
    from click.testing import CliRunner

    from assistant.cli import main

    config = write_settings(tmp_path)
    (tmp_path / "mail" / "ana" / "cur").mkdir(parents=True)
    cli = CliRunner()
    sunday = ["--config", str(config), "run", "--once", "--now", "2026-11-08T10:00"]
    result = cli.invoke(main, sunday)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "sincronización: hecho"  # team.language: es by default
    with WorkerLock(tmp_path / "followup.db"):  # a worker is already running on this file
        busy = cli.invoke(main, sunday)
    assert busy.exit_code == 1 and "ya hay otro `followup run` trabajando" in busy.output
    assert cli.invoke(main, ["--config", str(config), "run", "--now", "2026-11-08"]).exit_code == 2
