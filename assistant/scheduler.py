"""``followup run``: the assistant running by itself (issue 6).

Four jobs:

* **sync** every ``schedule.sync_minutes``: each account in turn, claimed with a lease
  (:mod:`assistant.storage.leases`), so several workers on one PostgreSQL database share the
  accounts and never sync one twice at once. A failing account is logged; the others go on.
  With ``[crm]`` set, the CRM sync follows (:mod:`assistant.services.crm`: push, then
  pull), under a lease of its own (``[crm]``) so one worker at a time writes the outbox;
  a CRM that is down is logged and waits out its backoff, the mail sync is not failed.
* **plan** each business morning (weekends and ``protocol.holidays_country`` holidays
  skipped) at ``protocol.send_window_start``: creates the follow-ups that are due
  (:func:`assistant.services.planning.plan`).
* **morning** right after planning, in the same business-morning slot: each rep's
  morning list of the follow-ups waiting for them, sent once per rep and day
  (:func:`assistant.services.morning.send_lists`); off with ``digest.morning_list = false``.
  Without a way to send (no ``[digest.smtp]``, no ``send_with``) it logs one warning and
  sends nothing.
* **digest** each ``digest.weekday`` at ``digest.time``: the managers' weekly digest,
  sent once per manager and week (:func:`assistant.services.digest.send_digests`). It goes
  out on a public holiday too: it is the week's record, read when the manager is back.

Local times are computed here with ``zoneinfo`` (the ``schedule`` package only drives
the loop): a slot is a local wall-clock time on a local date, turned into an instant for
that date, so 09:00 stays 09:00 across daylight-saving changes. A time that does not exist
on a spring-forward day fires an hour later. Each daily and weekly
slot is claimed in ``job_runs`` before it runs, so it runs once whatever the number of
workers or ``--once`` reruns; a slot missed while no worker ran is caught up the same
local day (plan) or within a day (digest). The clock is injected: tests step through weeks
in milliseconds.
"""

from __future__ import annotations

import logging
import signal
import time as _time
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from assistant.domain.calendar import is_business_day
from connectors.base import TransientError
from assistant.storage.leases import LeaseManager, utcnow, worker_id
from assistant.services.ingest import skipped_note
from assistant.settings import WEEKDAYS, Settings
from assistant.storage import claims, models
from assistant.wording import reason_words, say

log = logging.getLogger(__name__)

DIGEST_CATCH_UP = timedelta(days=1)
"""A digest slot missed by less than this (no worker was running) is still sent."""
RETRY_AFTER = timedelta(minutes=30)
"""A failed daily or weekly job is tried again this much later."""
JOBS = ("sync", "plan", "morning", "digest")
CRM_LEASE = "[crm]"
"""The lease row the CRM sync is claimed under (no account name has brackets)."""


# --- When (pure) -----------------------------------------------------------------------

@dataclass(frozen=True)
class Timing:
    timezone: str
    country: str
    plan_at: time
    digest_weekday: int
    digest_at: time
    sync_every: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> "Timing":
        def hhmm(text: str) -> time:
            hours, minutes = text.split(":")
            return time(int(hours), int(minutes))

        return cls(settings.team.timezone, settings.protocol.holidays_country,
                   hhmm(settings.protocol.send_window_start),
                   WEEKDAYS.index(settings.digest.weekday), hhmm(settings.digest.time),
                   timedelta(minutes=settings.schedule.sync_minutes))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """``at`` on ``day`` in ``zone``, as a UTC instant. A wall time repeated by a
    fall-back change takes its first occurrence; one skipped by a spring-forward change
    fires as much later as the gap is long (02:30 -> 03:30)."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(timezone.utc)


def plan_slot(now: datetime, timing: Timing) -> tuple[str, datetime] | None:
    """Today's planning slot (period = the local date) once it has passed, on a business
    day; ``None`` before it and on weekends and holidays."""
    today = now.astimezone(timing.zone).date()
    if not is_business_day(today, timing.country):
        return None
    slot = local_instant(today, timing.plan_at, timing.zone)
    return (today.isoformat(), slot) if now >= slot else None


def digest_slot(now: datetime, timing: Timing) -> tuple[str, datetime] | None:
    """The latest digest slot at or before ``now`` (period = its local date), if it is
    less than :data:`DIGEST_CATCH_UP` old."""
    today = now.astimezone(timing.zone).date()
    day = today - timedelta(days=(today.weekday() - timing.digest_weekday) % 7)
    slot = local_instant(day, timing.digest_at, timing.zone)
    if slot > now:
        day -= timedelta(days=7)
        slot = local_instant(day, timing.digest_at, timing.zone)
    return (day.isoformat(), slot) if now - slot < DIGEST_CATCH_UP else None


def next_slots(now: datetime, timing: Timing, days: int = 8) -> dict[str, datetime]:
    """When the plan and digest jobs next fire after ``now`` (for logs and ``run``'s banner)."""
    found: dict[str, datetime] = {}
    today = now.astimezone(timing.zone).date()
    for offset in range(days + 1):
        day = today + timedelta(days=offset)
        plan = local_instant(day, timing.plan_at, timing.zone)
        if "plan" not in found and plan > now and is_business_day(day, timing.country):
            found["plan"] = plan
        digest = local_instant(day, timing.digest_at, timing.zone)
        if "digest" not in found and digest > now and day.weekday() == timing.digest_weekday:
            found["digest"] = digest
    return found


# --- Claims of daily and weekly runs ---------------------------------------------------

def claim_run(engine: Engine, job: str, period: str, holder: str, now: datetime) -> bool:
    """Claim ``job`` for ``period`` in ``job_runs``: True for the one worker that gets
    it (a failed run, or one whose worker died, may be claimed again:
    :data:`assistant.storage.claims.JOB_RUN`)."""
    table = models.JobRun
    try:
        with engine.begin() as conn:
            conn.execute(table.__table__.insert().values(
                job=job, period=period, status="running", holder=holder, started_at=now))
        return True
    except IntegrityError:
        pass
    with engine.begin() as conn:
        return claims.take(conn, claims.JOB_RUN,
                           (table.job == job) & (table.period == period) & (table.status != "done"),
                           holder, now, free=table.status == "failed",
                           status="running", finished_at=None, error=None)


def finish_run(engine: Engine, job: str, period: str, now: datetime, error: str | None) -> None:
    table = models.JobRun
    with engine.begin() as conn:
        claims.release(conn, claims.JOB_RUN, (table.job == job) & (table.period == period),
                       claims.ANYONE, keep_holder=True,
                       status="failed" if error else "done", finished_at=now, error=error)


# --- The runner ------------------------------------------------------------------------

class JobFailed(Exception):
    """A job finished with failures (already logged); the runner goes on."""


Job = Callable[[datetime, str | None], None]
"""A job: ``(now, period)``; period is ``None`` for sync."""


@dataclass
class Outcome:
    ran: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Jobs due but left out, each with one warning logged (the digest with no sender)."""


class Runner:
    """Runs the jobs that are due at the clock's ``now``.

    ``jobs`` replaces the real sync / plan / digest jobs (tests inject recorders; the
    scheduling, claiming, failure handling and stopping are the real ones)."""

    def __init__(self, settings: Settings, engine: Engine, *, clock: Callable[[], datetime] = utcnow,
                 holder: str | None = None, sender=None, jobs: dict[str, Job] | None = None,
                 lease_ttl: timedelta | None = None) -> None:
        from assistant.services.app import Followup

        self.settings, self.engine, self.clock = settings, engine, clock
        self.app = Followup(settings, engine, clock)  # what every job asks of the product
        self.holder = holder or worker_id()
        self.timing = Timing.from_settings(settings)
        self.sender = sender
        self.leases = LeaseManager(engine, self.holder,
                                   lease_ttl or timedelta(minutes=settings.schedule.lease_minutes),
                                   clock=clock)
        self.jobs: dict[str, Job] = {"sync": self.sync_job, "plan": self.plan_job,
                                     "morning": self.morning_job, "digest": self.digest_job}
        self.jobs.update(jobs or {})
        self.stop_requested = False
        self._next_sync: datetime | None = None
        self._done: set[tuple[str, str]] = set()
        self._retry_at: dict[tuple[str, str], datetime] = {}

    # -- what is due -----------------------------------------------------------------
    def due(self, now: datetime) -> list[tuple[str, str | None]]:
        due: list[tuple[str, str | None]] = []
        if self._next_sync is None or now >= self._next_sync:
            due.append(("sync", None))
        plan = plan_slot(now, self.timing)
        for job, slot in (("plan", plan), ("morning", plan),
                          ("digest", digest_slot(now, self.timing))):
            if slot is None:
                continue
            key = (job, slot[0])
            if key in self._done or now < self._retry_at.get(key, now):
                continue
            due.append((job, slot[0]))
        return due

    def run_due(self, now: datetime | None = None) -> Outcome:
        """Run every job due now, in order (sync, plan, morning, digest); a failing job is logged
        and the next one runs; a stop request is honoured between jobs."""
        now = now or self.clock()
        outcome = Outcome()
        for job, period in self.due(now):
            if self.stop_requested:
                break
            if (job, self.jobs[job]) in (("digest", self.digest_job), ("morning", self.morning_job)) \
                    and not self._can_send():
                # Not claimed: once a sender is configured, the next tick sends this period's.
                # One warning a tick, however many sending jobs it skips.
                if not outcome.skipped:
                    log.warning("%s", say("run.digest_skipped", self.settings.team.language,
                                          file=str(self.settings.path)))  # what to do: the team's words
                outcome.skipped.append(job)
                continue
            if job == "sync":
                self._next_sync = now + self.timing.sync_every
            elif not claim_run(self.engine, job, period, self.holder, now):
                self._done.add((job, period))  # another worker has it (or had it done)
                continue
            error = None
            try:
                self.jobs[job](now, period)
            except Exception as exc:  # noqa: BLE001 - a failing job never stops the others
                error = str(exc) or type(exc).__name__
                log.error("job %s%s failed: %s", job, f" ({period})" if period else "", error,
                          exc_info=not isinstance(exc, JobFailed))
            if period is not None:
                finish_run(self.engine, job, period, self.clock(), error)
                if error:
                    self._retry_at[(job, period)] = now + RETRY_AFTER
                else:
                    self._done.add((job, period))
            (outcome.failed if error else outcome.ran).append(job)
        return outcome

    # -- the loop --------------------------------------------------------------------
    def run_forever(self, *, tick_seconds: int = 20, sleep: Callable[[float], None] = _time.sleep) -> None:
        """Until SIGTERM or SIGINT: the ``schedule`` package calls :meth:`run_due` every
        ``tick_seconds``; a signal lets the current job finish, then the loop ends."""
        import schedule

        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        scheduler = schedule.Scheduler()
        scheduler.every(tick_seconds).seconds.do(self.run_due)
        try:
            self.run_due()
            while not self.stop_requested:
                scheduler.run_pending()
                if not self.stop_requested:
                    sleep(min(1.0, tick_seconds))
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        log.warning("followup run: stopped")

    def _on_signal(self, signum, _frame) -> None:
        log.warning("followup run: %s received, stopping after the current job",
                    signal.Signals(signum).name)
        self.stop_requested = True

    # -- the real jobs ---------------------------------------------------------------
    def sync_job(self, now: datetime, _period: str | None) -> None:
        """Every account this worker can claim, one lease at a time (an account another
        worker synced less than half an interval ago is left alone)."""
        # WhatsApp chats are matched against the lead threads: the mailboxes go first.
        names = [a.name for a in sorted(self.settings.accounts, key=lambda a: a.kind == "whatsapp")]
        self.leases.ensure(names)
        pending, failures = list(names), []
        fresh = self.timing.sync_every / 2
        while pending and not self.stop_requested:
            name = self.leases.acquire(pending, fresh=fresh)
            if name is None:
                break
            pending.remove(name)
            try:
                for result in self.app.sync(name, progress=self._renewer, now=now):
                    language = self.settings.team.language
                    if result.error:
                        failures.append(f"{result.account}: "
                                        f"{reason_words(result.reason or result.error, language)}")
                    elif result.skipped:  # the run goes on; the log and `accounts list` say it
                        log.warning("%s: %s", result.account,
                                    reason_words(skipped_note(result.skipped), language))
            except Exception as exc:  # noqa: BLE001 - one account never stops the others
                log.error("account %s: %s", name, exc, exc_info=True)
                failures.append(f"{name}: {exc}")
            finally:
                self.leases.release(name)
        if self.settings.crm is not None and not self.stop_requested:
            self.crm_sync(now)
        if failures:
            raise JobFailed("; ".join(failures))

    def crm_sync(self, now: datetime) -> None:
        """``followup crm sync`` after the mail sync, by one worker at a time."""
        from assistant.services.crm import CrmSetupError, open_crm

        self.leases.ensure([CRM_LEASE])
        if self.leases.acquire([CRM_LEASE], fresh=self.timing.sync_every / 2) is None:
            return
        try:
            result = self.app.crm_sync(open_crm(self.settings), now)
            if result.error:
                log.warning("crm sync: %s (next try after %s)", result.error,
                            result.waiting_until)
        except CrmSetupError as exc:
            log.error("crm sync: %s", exc)
        finally:
            self.leases.release(CRM_LEASE)

    def _renewer(self, account: str) -> Callable[[int], None]:
        last = [self.clock()]

        def progress(_count: int) -> None:
            now = self.clock()
            if now - last[0] >= self.leases.ttl / 3:
                last[0] = now
                if not self.leases.renew(account):
                    # Another worker took the account over (our lease expired): stop after
                    # the batch just stored rather than sync it twice at once.
                    raise LeaseLost(f"account {account}: another worker took over its lease; "
                                    "it goes on from the last stored batch")
        return progress

    def plan_job(self, now: datetime, _period: str | None) -> None:
        self.app.plan(now)

    def _can_send(self) -> bool:
        from assistant.services import digest

        return self.sender is not None or digest.can_send(self.settings)

    def morning_job(self, now: datetime, period: str | None) -> None:
        """The reps' morning lists of ``period`` (the local date), each sent once."""
        from assistant.services import digest

        if not self.settings.digest.morning_list:
            return
        try:
            sender = self.sender or digest.sender_for(self.settings)
        except digest.DigestError as exc:
            log.warning("morning lists not sent: %s", exc)
            return
        results = self.app.send_morning_lists(sender, now, period=period, holder=self.holder)
        failed = [f"{r.email}: {r.error}" for r in results if r.status in ("failed", "unknown")]
        if failed:
            raise JobFailed("; ".join(failed))

    def digest_job(self, now: datetime, period: str | None) -> None:
        from assistant.services import digest

        sender = self.sender or digest.sender_for(self.settings)
        results = self.app.send_digests(sender, now, period=period, holder=self.holder)
        failed = [f"{r.recipient}: {r.error}" for r in results if r.status == "failed"]
        if failed:
            raise JobFailed("; ".join(failed))


class LeaseLost(TransientError):
    """This worker's lease on an account expired and another worker holds it now."""
