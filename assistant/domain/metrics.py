"""Sales follow-up metrics (issue 6): pure functions over thread reports.

Everything here takes plain values — the :class:`ThreadReport` list of one scan, the
:class:`Mail` values and logged touches the scan read, the :class:`Rules`, and ``now`` —
and returns plain values. No I/O, no settings file, no clock.

**Cohort.** Every metric is computed on a *cohort*: the lead threads whose first quote was
sent inside a :class:`Window` (``start <= quote_sent_at < end``), each evaluated at
``now`` (its status, owner and scenario are those of the scan at ``now``). The digest
uses whole local days before the day of ``now`` (:meth:`Window.days_before`): the week
(7 days) and the 90 days.

**Per owner.** :func:`compute` returns the team's :class:`Metrics` and one per owner
(threads without an owner are grouped under ``None``, "unassigned").

Business days are those of :mod:`assistant.domain.calendar` (weekends and the public
holidays of ``rules.holidays_country`` skipped), counted between *local dates* in
``rules.timezone``.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo

from .analysis import Facts
from .calendar import business_days_between, local_date
from .model import STATUSES, LoggedTouch, Mail, Rules, ThreadReport, Touchpoint
from .scope import OPEN_STATUSES  # noqa: F401  (the one definition: domain/scope.py)

SCENARIOS = ("rep", "manager", "nobody", "unclear")
STALL_DAYS = 5
"""A silent thread whose next step is overdue by at least this many business days is
*stalled*: nobody is following it up any more (see :func:`abandoned_after_one`)."""
FIVE_TOUCHES = 5
INDUSTRY_GIVE_UP_SHARE = 0.44
"""44% of reps give up after the first follow-up: the figure to beat."""
INDUSTRY_FIVE_TOUCH_SHARE = 0.80
"""80% of sales need at least five follow-ups."""
REPLY_RATE_MAX_TOUCH = 5
"""Reply rates are kept for touch numbers 0..5; later touches count in bucket 5."""


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open interval of time ``[start, end)`` (aware datetimes)."""

    start: datetime
    end: datetime

    def __contains__(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end

    @classmethod
    def ending(cls, end: datetime, days: int) -> "Window":
        """The ``days`` days (of 24 h) before ``end``."""
        return cls(end - timedelta(days=days), end)

    @classmethod
    def days_before(cls, day: date, days: int, timezone: str) -> "Window":
        """The ``days`` whole local days before ``day`` in ``timezone``: from local
        midnight of ``day - days`` to local midnight of ``day`` (the digest's named
        periods: "the week of 23–29 Nov" for a digest on Monday 30 Nov)."""
        zone = ZoneInfo(timezone)
        return cls(datetime.combine(day - timedelta(days=days), time(0), tzinfo=zone),
                   datetime.combine(day, time(0), tzinfo=zone))

    def last_day(self, timezone: str) -> date:
        """The local date of the window's last moment (its end is excluded)."""
        return (self.end - timedelta(microseconds=1)).astimezone(ZoneInfo(timezone)).date()

    def first_day(self, timezone: str) -> date:
        return self.start.astimezone(ZoneInfo(timezone)).date()


@dataclass(frozen=True, slots=True)
class Share:
    """``numerator / denominator``; ``value`` is ``None`` when there is nothing to divide."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    def as_json(self) -> dict:
        return {"numerator": self.numerator, "denominator": self.denominator,
                "value": None if self.value is None else round(self.value, 4)}


@dataclass(frozen=True, slots=True)
class Waiting:
    """A client waiting on us: their last real reply is the thread's last word."""

    quote_message_id: str
    owner: str | None
    since: datetime
    business_days: int


@dataclass(frozen=True, slots=True)
class Overdue:
    """A follow-up step that is due and not done (a ``silent`` thread's next step)."""

    quote_message_id: str
    owner: str | None
    step: int
    due_at: datetime
    business_days: int


@dataclass(frozen=True)
class Metrics:
    """The metrics of one cohort (see the module docstring). Field by field:"""

    quotes_sent: int
    """Lead threads whose first quote was sent in the window."""
    by_status: dict[str, int]
    """Those threads by status at ``now`` (every status present, zeros included)."""
    waiting_on_us: tuple[Waiting, ...]
    """Threads with status ``awaiting_us``, oldest reply first; ``business_days`` is the
    number of business days from the local date of the reply to the local date of ``now``."""
    debt: tuple[Overdue, ...]
    """Follow-up debt: one overdue step per ``silent`` thread (a step counts once: the
    steps after it are not due until it is done), most overdue first; ``business_days``
    is the business days from the local date of ``due_at`` to that of ``now`` (0 = due
    today)."""
    abandoned: Share
    """Abandoned after at most one follow-up: stalled threads (``silent`` and overdue by
    at least :data:`STALL_DAYS` business days) with ``touches <= 1`` since the open ask,
    over the threads the client left unanswered long enough to judge (stalled or
    ``exhausted``). To beat: :data:`INDUSTRY_GIVE_UP_SHARE`."""
    reached_five: Share
    """Finished threads (``closed`` or ``exhausted``) that got at least five follow-ups
    before closing, over the finished threads. A follow-up is an outbound touch (a
    message, or a logged call or WhatsApp touch) with touch number 1 or more (see
    ``reply_rate``), counted up to the closing reply for a thread the client closed."""
    reply_rate: dict[int, Share]
    """By touch number: 0 is an ask (the first quote, or our first message after a real
    reply), 1 the first follow-up after it, and so on (5 gathers 5 and later). A touch is
    answered when the next meaningful event after it is a real reply. A touch still
    waiting for its answer counts as unanswered."""
    first_followup_days: float | None
    """Median business days from the first quote to the first follow-up (our next
    outbound touch, with no real reply in between); threads not followed up yet, and
    threads where the client answered first, are not counted."""
    not_followed_up: int
    """Open threads (``silent`` or ``waiting``) where the quote is the only event: the
    client has not answered and nobody followed it up yet."""
    scenarios: dict[str, int]
    """Scenario mix of the cohort: rep / manager / nobody / unclear."""
    duplicate_holds: int
    """Follow-ups of the cohort held by the duplicate-contact guard (from the drafting
    follow-ups table; 0 when it does not exist)."""
    bounces: int
    """Threads with status ``bounced``."""

    @property
    def debt_days(self) -> int:
        return sum(o.business_days for o in self.debt)

    @property
    def oldest_wait_days(self) -> int | None:
        return max((w.business_days for w in self.waiting_on_us), default=None)

    def as_json(self) -> dict:
        return {
            "quotes_sent": self.quotes_sent,
            "by_status": dict(self.by_status),
            "waiting_on_us": {"count": len(self.waiting_on_us),
                              "max_business_days": self.oldest_wait_days},
            "debt": {"steps": len(self.debt), "business_days": self.debt_days,
                     "max_business_days": max((o.business_days for o in self.debt), default=None)},
            "abandoned_after_one": self.abandoned.as_json(),
            "reached_five": self.reached_five.as_json(),
            "reply_rate": {str(k): v.as_json() for k, v in self.reply_rate.items()},
            "first_followup_business_days": self.first_followup_days,
            "not_followed_up": self.not_followed_up,
            "scenarios": dict(self.scenarios),
            "duplicate_holds": self.duplicate_holds,
            "bounces": self.bounces,
        }


@dataclass(frozen=True)
class TeamMetrics:
    team: Metrics
    by_owner: dict[str | None, Metrics] = field(default_factory=dict)


# --- The events of one thread ----------------------------------------------------------

def thread_events(report: ThreadReport, mails: Mapping[int, Mail],
                  touches: Iterable[LoggedTouch], facts: Facts) -> list[Touchpoint]:
    """Our outbound touches (messages of kind ``message`` and logged touches) and the
    client's real replies (their answers logged outside email too), from the first quote
    on, in time order (the quote first)."""
    start = report.quote_sent_at
    events: list[Touchpoint] = []
    for key in report.mail_keys:
        mail = mails.get(key)
        if mail is None or (start is not None and mail.date < start):
            continue
        if facts.touch(mail):
            events.append(Touchpoint(mail.date, True))
        elif facts.real_reply(mail):
            events.append(Touchpoint(mail.date, False))
    for touch in touches:  # a client's answer outside email is a real reply
        if start is None or touch.at >= start:
            events.append(Touchpoint(touch.at, not touch.inbound))
    events.sort(key=lambda e: (e.at, not e.outbound))
    return events


def touch_numbers(events: list[Touchpoint]) -> list[tuple[Touchpoint, int, bool]]:
    """``(event, touch number, answered)`` for each outbound touch: number 0 is an ask
    (the first quote, or our first outbound after a real reply), 1 the first follow-up
    after it, and so on; *answered* when the next event is a real reply."""
    numbered: list[tuple[Touchpoint, int, bool]] = []
    number = 0
    for i, event in enumerate(events):
        if not event.outbound:
            number = 0
            continue
        answered = i + 1 < len(events) and not events[i + 1].outbound
        numbered.append((event, number, answered))
        number += 1
    return numbered


def followups_before_close(report: ThreadReport, events: list[Touchpoint]) -> int:
    """Follow-ups of a thread: outbound touches with touch number 1 or more (an answer to
    the client's question is not a follow-up); for a thread the client closed (a decline
    in their reply), only those before that reply."""
    end = None
    if report.status == "closed" and report.closed_code == "declined":
        end = report.last_reply_at
    return sum(1 for event, number, _ in touch_numbers(events)
               if number >= 1 and (end is None or event.at < end))


def reply_outcomes(events: list[Touchpoint]) -> list[tuple[int, bool]]:
    """``(touch number, answered)`` for each outbound touch (see ``Metrics.reply_rate``)."""
    return [(min(number, REPLY_RATE_MAX_TOUCH), answered)
            for _, number, answered in touch_numbers(events)]


def first_followup_at(events: list[Touchpoint]) -> datetime | None:
    """Our second outbound touch when no real reply came between it and the quote."""
    if len(events) < 2 or not events[0].outbound:
        return None
    return events[1].at if events[1].outbound else None


# --- The metrics -----------------------------------------------------------------------

def compute(reports: Iterable[ThreadReport], rules: Rules, now: datetime, window: Window, *,
            mails: Iterable[Mail] = (), touches: Iterable[LoggedTouch] = (),
            holds: Iterable[str] = (),
            events: Mapping[str, list[Touchpoint]] | None = None) -> TeamMetrics:
    """The team's metrics and each owner's, for the threads quoted inside ``window``.

    ``mails`` and ``touches`` are what the scan read (the reports' ``mail_keys`` point
    into ``mails``); ``holds`` lists the ``quote_message_id`` of each follow-up the
    duplicate-contact guard held (one entry per held follow-up). ``events``: each thread's
    :func:`thread_events` as the read model stored them, instead of ``mails`` and
    ``touches`` (the same answer without reading a thread's mail)."""
    cohort = [r for r in reports if r.quote_sent_at in window]
    by_key = {m.key: m for m in mails}
    touches_of: dict[str, list[LoggedTouch]] = {}
    for touch in touches:
        touches_of.setdefault(touch.thread, []).append(touch)
    hold_count: dict[str, int] = {}
    for thread in holds:
        hold_count[thread] = hold_count.get(thread, 0) + 1
    if events is not None:
        events = {r.quote_message_id: list(events.get(r.quote_message_id, ())) for r in cohort}
    else:
        facts = Facts(rules)
        events = {r.quote_message_id: thread_events(r, by_key, touches_of.get(r.quote_message_id, ()),
                                                    facts) for r in cohort}
    team = metrics_of(cohort, events, rules, now, hold_count)
    owners: dict[str | None, list[ThreadReport]] = {}
    for report in cohort:
        owners.setdefault(report.owner, []).append(report)
    return TeamMetrics(team, {owner: metrics_of(group, events, rules, now, hold_count)
                              for owner, group in owners.items()})


def metrics_of(cohort: list[ThreadReport], events: Mapping[str, list[Touchpoint]], rules: Rules,
               now: datetime, holds: Mapping[str, int]) -> Metrics:
    today = local_date(now, rules.timezone)
    country = rules.holidays_country

    def bdays(moment: datetime) -> int:
        return business_days_between(local_date(moment, rules.timezone), today, country)

    by_status = {status: 0 for status in STATUSES}
    scenarios = {scenario: 0 for scenario in SCENARIOS}
    waiting, debt = [], []
    stalled_few = stalled = exhausted = finished = five = 0
    replies = {n: [0, 0] for n in range(REPLY_RATE_MAX_TOUCH + 1)}
    first_gaps: list[int] = []
    not_followed = 0
    for r in cohort:
        by_status[r.status] += 1
        scenarios[r.scenario] = scenarios.get(r.scenario, 0) + 1
        thread_events_ = events.get(r.quote_message_id, [])
        if r.status == "awaiting_us" and r.last_reply_at is not None:
            waiting.append(Waiting(r.quote_message_id, r.owner, r.last_reply_at, bdays(r.last_reply_at)))
        if r.status == "silent" and r.next_step is not None:
            late = bdays(r.next_step.due_at)
            debt.append(Overdue(r.quote_message_id, r.owner, r.next_step.number,
                                r.next_step.due_at, late))
            if late >= STALL_DAYS:
                stalled += 1
                stalled_few += r.touches <= 1
        if r.status == "exhausted":
            exhausted += 1
        if r.status in ("closed", "exhausted"):
            finished += 1
            five += followups_before_close(r, thread_events_) >= FIVE_TOUCHES
        for number, answered in reply_outcomes(thread_events_):
            replies[number][0] += 1
            replies[number][1] += answered
        followed = first_followup_at(thread_events_)
        if followed is not None and r.quote_sent_at is not None:
            first_gaps.append(business_days_between(local_date(r.quote_sent_at, rules.timezone),
                                                    local_date(followed, rules.timezone), country))
        elif len(thread_events_) == 1 and r.status in ("silent", "waiting"):
            not_followed += 1
    waiting.sort(key=lambda w: w.since)
    debt.sort(key=lambda o: o.due_at)
    return Metrics(
        quotes_sent=len(cohort),
        by_status=by_status,
        waiting_on_us=tuple(waiting),
        debt=tuple(debt),
        abandoned=Share(stalled_few, stalled + exhausted),
        reached_five=Share(five, finished),
        reply_rate={n: Share(answered, sent) for n, (sent, answered) in replies.items()},
        first_followup_days=float(statistics.median(first_gaps)) if first_gaps else None,
        not_followed_up=not_followed,
        scenarios=scenarios,
        duplicate_holds=sum(holds.get(r.quote_message_id, 0) for r in cohort),
        bounces=by_status["bounced"],
    )
