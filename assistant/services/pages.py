"""The web's page models over the read model (issue 12): what each page shows, read from
the stored reports (:mod:`assistant.services.snapshot`) filtered in the database to what
the page shows, and the messages of the one thread shown — never all mail.

Who sees what is :mod:`assistant.domain.scope` (the digest's definition); a thread's
events are :mod:`assistant.domain.timeline`. Lists on the team page hold at most
:data:`PAGE_ROWS` threads each (read through indexes; the counts say how many there
are). The team page — its counts and 90-day compliance figures cost a pass over the
viewer's threads and the cohort's messages — is computed once per minute of the clock and
per change of the stored threads (a new message, touch or mark, a rebuild), so what it
shows is at most a minute old; every other page is read fresh.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from assistant.domain import metrics as M
from assistant.domain.analysis import thread_language
from assistant.domain.model import Mail, Rules, ThreadReport
from assistant.domain.scope import OPEN_STATUSES, in_scope
from assistant.domain.timeline import Event, timeline
from assistant.services import snapshot
from assistant.storage import models, repo

__all__ = ["thread_slug", "thread_id", "PAGE_ROWS", "QUEUE_STATUSES", "SCENARIOS", "Viewing",
           "queue", "queue_subjects", "queue_reports", "followup", "thread", "thread_events", "thread_followups",
           "set_owner",
           "TeamView", "team_view", "preview_threads", "preview_reports", "PreviewWorld"]

PAGE_ROWS = 10
QUEUE_STATUSES = ("held", "drafted")
SCENARIOS = M.SCENARIOS


SHORT_ID = re.compile(r"[a-z2-7]{7,16}", re.IGNORECASE)
"""What a short thread id looks like (a prefix of the base32 digest, 7 characters or more)."""


def thread_slug(quote_message_id: str) -> str:
    """A thread's id in URLs: its quote's Message-ID in URL-safe base64 (Message-IDs carry
    <, >, @ and /), read back by :func:`thread_id` without a lookup."""
    return base64.urlsafe_b64encode(quote_message_id.encode("utf-8")).decode("ascii").rstrip("=")


def thread_id(slug: str) -> str | None:
    """The quote Message-ID of a slug; ``None`` for a slug no thread can have."""
    try:
        found = base64.b64decode(slug + "=" * (-len(slug) % 4), altchars=b"-_",
                                 validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return found or None


@dataclass(frozen=True)
class Viewing:
    """Who is looking (the web's viewer as plain values)."""

    email: str
    scope: frozenset[str] | None
    """:func:`assistant.domain.scope.scope_of`: ``None`` = everyone's threads."""
    sees_team: bool
    """A manager or an admin: also their team's follow-ups and the unowned threads."""
    team: tuple[str, ...]
    """The members whose follow-ups they see (themselves alone unless ``sees_team``)."""

    def assignees(self) -> tuple[str, ...]:
        return self.team if self.sees_team else (self.email,)

    def sees(self, report: ThreadReport, followed: Iterable[str] = ()) -> bool:
        if report.quote_message_id in followed:
            return True
        if report.owner is None and not self.sees_team:
            return False
        return in_scope(report.owner, report.owner_candidates, self.scope)

    def where(self):
        """The stored threads this viewer may see by owner (candidates checked after)."""
        return repo.owners_clause(self.scope, unowned=self.sees_team)


def _zone(rules: Rules) -> ZoneInfo:
    return ZoneInfo(rules.timezone)


def _read(engine: Engine, rules: Rules, now: datetime, where, *, order_by=None,
          limit: int | None = None, short_ids: bool = True) -> list[ThreadReport]:
    """Stored reports at ``now``; ``short_ids``: with the ids people type (what a page
    shows; not what counts need)."""
    with engine.connect() as conn:
        return repo.reports_from_rows(
            conn, repo.read_threads(conn, where=where, order_by=order_by, limit=limit), now,
            _zone(rules), shorten=short_ids)


def _by_ids(engine: Engine, rules: Rules, now: datetime, ids: list[str]) -> list[ThreadReport]:
    found: list[ThreadReport] = []
    for part in repo.chunks(list(dict.fromkeys(ids))):
        found += _read(engine, rules, now, models.ThreadRow.quote_message_id.in_(part))
    return found


# --- Follow-ups -------------------------------------------------------------------------------

def queue(engine: Engine, viewer: Viewing) -> list[models.Followup]:
    """The viewer's follow-ups waiting for them (drafted, held), oldest due first."""
    f = models.Followup
    with engine.connect() as conn:
        return repo.followups_where(conn, assignees=[viewer.email], statuses=QUEUE_STATUSES,
                                    order_by=(f.due_at, f.id))


def queue_subjects(engine: Engine, rules: Rules, rows: list[models.Followup],
                   now: datetime) -> dict[str, str]:
    """The subject of each queued follow-up's thread (the viewer's own: visible)."""
    return {key: r.subject for key, r in queue_reports(engine, rules, rows, now).items()}


def queue_reports(engine: Engine, rules: Rules, rows: list[models.Followup],
                  now: datetime) -> dict[str, ThreadReport]:
    """The report of each queued follow-up's thread (its short id, status, snooze)."""
    snapshot.ensure_current(engine, rules)
    return {r.quote_message_id: r
            for r in _by_ids(engine, rules, now, [row.quote_message_id for row in rows])}


def followup(engine: Engine, viewer: Viewing, fid: int) -> models.Followup | None:
    """One follow-up the viewer may act on (their own; a manager: their team's)."""
    with engine.connect() as conn:
        rows = repo.followups_where(conn, fid=fid)
    if not rows:
        return None
    row = rows[0]
    if row.assignee != viewer.email and not (viewer.sees_team and row.assignee in viewer.team):
        return None
    return row


# --- One thread -------------------------------------------------------------------------------

def thread(engine: Engine, rules: Rules, viewer: Viewing, slug: str,
           now: datetime) -> ThreadReport | None:
    """The thread of ``slug`` if the viewer may open it: they own it (or it is their
    team's), or a follow-up of it is theirs (or their team's). ``slug`` may also be the
    short thread id every table shows (``/threads/ilv2clc``), when it names one thread."""
    snapshot.ensure_current(engine, rules)
    quote_id = thread_id(slug)
    found = _by_ids(engine, rules, now, [quote_id]) if quote_id else []
    if not found and SHORT_ID.fullmatch(slug):
        with engine.connect() as conn:
            named = repo.threads_by_digest(conn, slug.lower(), limit=2)
        if len(named) == 1:
            quote_id, found = named[0], _by_ids(engine, rules, now, named)
    if not found:
        return None
    with engine.connect() as conn:
        followed = repo.followed_threads(conn, viewer.assignees(), [quote_id])
    return found[0] if viewer.sees(found[0], followed) else None


def thread_events(engine: Engine, rules: Rules, report: ThreadReport) -> list[Event]:
    """The thread's messages and logged touches, oldest first, each labelled."""
    mails = snapshot.thread_mails(engine, [report.quote_message_id]).get(report.quote_message_id, [])
    with engine.connect() as conn:
        touches = repo.touch_entries(conn, report.quote_message_id)
        replies = repo.outside_replies(conn, report.quote_message_id)
    return timeline(mails, rules, report.quote_message_id, touches=touches, replies=replies)


def thread_followups(engine: Engine, report: ThreadReport) -> list[models.Followup]:
    with engine.connect() as conn:
        return repo.followups_where(conn, threads=[report.quote_message_id])


def set_owner(engine: Engine, quote_message_id: str, owner: str, *, by: str,
              now: datetime) -> None:
    """Record an explicit owner (``thread_marks.owner``): the domain then uses it."""
    with engine.begin() as conn:
        repo.save_mark(conn, quote_message_id, owner=owner, at=now, by=by)


# --- The team page ----------------------------------------------------------------------------

@dataclass
class TeamView:
    silent_by_owner: list[tuple[str | None, list[ThreadReport], int]]
    """(owner, their most overdue silent threads, how many they have)."""
    scenarios: list[tuple[str, int, int]]
    """(scenario, threads, percent of the team's open threads)."""
    awaiting: list[ThreadReport]
    unclear: list[ThreadReport]
    """Unclear or unowned open threads, for the "assign owner" action."""
    assignable: list[tuple[str, str]]
    """(email, name) of the members the viewer may assign."""
    compliance: dict | None
    """Issue 6's metrics of the last 90 days (``Metrics.as_json``)."""
    by_status: dict[str, int] = field(default_factory=dict)
    awaiting_total: int = 0
    unclear_total: int = 0


def team_view(engine: Engine, rules: Rules, viewer: Viewing, names: dict[str, str],
              now: datetime) -> TeamView:
    """The team page (see the module doc: computed once a minute per change)."""
    snapshot.ensure_current(engine, rules)
    with engine.connect() as conn:
        generation = repo.read_model_generation(conn)
    assignable = [(email, names[email]) for email in viewer.team if email in names]
    view = _cached(("team", id(engine), snapshot.fingerprint(rules), generation, viewer.scope,
                    viewer.sees_team, now.replace(second=0, microsecond=0)),
                   lambda: _team_view(engine, rules, viewer, now))
    return replace(view, assignable=assignable)


def _team_view(engine: Engine, rules: Rules, viewer: Viewing, now: datetime) -> TeamView:
    t = models.ThreadRow
    summary = _summary(engine, rules, viewer, now)
    visible = viewer.where()

    def listed(where, order_by) -> list[ThreadReport]:
        return [r for r in _read(engine, rules, now, where, order_by=order_by,
                                 limit=PAGE_ROWS + 50) if viewer.sees(r)][:PAGE_ROWS]

    silent = repo.status_clause(("silent",), now)
    silent_by_owner = []
    for owner, total in summary.silent_of:
        mine = t.owner.is_(None) if owner is None else t.owner == owner
        silent_by_owner.append((owner, listed(silent & mine, (t.due_at, t.quote_sent_at,
                                                              t.quote_message_id)), total))
    awaiting = listed(visible & repo.status_clause(("awaiting_us",), now),
                      (t.last_reply_at, t.quote_sent_at, t.quote_message_id))
    unclear = listed(visible & repo.status_clause(OPEN_STATUSES, now)
                     & ((t.scenario_base == "unclear") | t.owner.is_(None)), None)
    return TeamView(silent_by_owner, summary.scenarios, awaiting, unclear, [],
                    summary.compliance, dict(summary.by_status), summary.awaiting_total,
                    summary.unclear_total)


@dataclass(frozen=True)
class _Summary:
    """The team page's counts and metrics (what costs a pass over the viewer's threads)."""

    scenarios: list[tuple[str, int, int]]
    by_status: dict[str, int]
    silent_of: list[tuple[str | None, int]]
    awaiting_total: int
    unclear_total: int
    compliance: dict


def _summary(engine: Engine, rules: Rules, viewer: Viewing, now: datetime) -> _Summary:
    with engine.connect() as conn:
        counts = [c for c in repo.thread_counts(conn, now, viewer.where())
                  if in_scope(c[0], c[1], viewer.scope)]
    by_status: dict[str, int] = {}
    scenario_counts = {s: 0 for s in SCENARIOS}
    silent_of: dict[str | None, int] = {}
    awaiting_total = unclear_total = 0
    for owner, _, status, scenario, n in counts:
        by_status[status] = by_status.get(status, 0) + n
        if status in OPEN_STATUSES:
            scenario_counts[scenario] = scenario_counts.get(scenario, 0) + n
            unclear_total += n if scenario == "unclear" or owner is None else 0
        if status == "silent":
            silent_of[owner] = silent_of.get(owner, 0) + n
        awaiting_total += n if status == "awaiting_us" else 0
    total = sum(scenario_counts[s] for s in SCENARIOS) or 1
    scenarios = [(s, scenario_counts[s], round(100 * scenario_counts[s] / total)) for s in SCENARIOS]
    owners = sorted(silent_of.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
    return _Summary(scenarios, by_status, owners, awaiting_total, unclear_total,
                    _compliance(engine, rules, viewer, now))


_cache: dict[tuple, object] = {}
_cache_lock = threading.Lock()
_CACHE_SIZE = 64


def _cached(key: tuple, compute):
    """``compute()``, reused while ``key`` holds (see the module doc)."""
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    found = compute()
    with _cache_lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.clear()
        _cache[key] = found
    return found


def _compliance(engine: Engine, rules: Rules, viewer: Viewing, now: datetime) -> dict:
    """The 90-day metrics of the viewer's threads: the cohort's stored rows and metric
    events (:attr:`models.ThreadRow.events`), never their mail."""
    window = M.Window.ending(now, 90)
    t = models.ThreadRow
    cohort = [r for r in _read(engine, rules, now, viewer.where() & (t.quote_sent_at >= window.start)
                               & (t.quote_sent_at < window.end), short_ids=False) if viewer.sees(r)]
    with engine.connect() as conn:
        events = repo.thread_touchpoints(conn, [r.quote_message_id for r in cohort])
    return M.compute(cohort, rules, now, window, events=events).team.as_json()


# --- The template preview ---------------------------------------------------------------------

def preview_threads(engine: Engine, rules: Rules, now: datetime,
                    limit: int = 50) -> list[ThreadReport]:
    """The threads a preview can render against, most recent quote first."""
    snapshot.ensure_current(engine, rules)
    t = models.ThreadRow
    return _read(engine, rules, now, None,
                 order_by=(t.quote_sent_at.desc(), t.quote_message_id), limit=limit)


def preview_reports(engine: Engine, rules: Rules, now: datetime, slug: str | None,
                    language: str, limit: int = 30) -> tuple[ThreadReport | None, dict[str, list[Mail]]]:
    """The thread a preview renders against: the one chosen (when it has an owner), else
    the most recent owned thread written in ``language`` (else the most recent owned one);
    with its messages."""
    snapshot.ensure_current(engine, rules)
    quote_id = thread_id(slug) if slug else None
    if quote_id is not None:
        chosen = _by_ids(engine, rules, now, [quote_id])
        if chosen and chosen[0].owner:
            return chosen[0], snapshot.thread_mails(engine, [quote_id])
    t = models.ThreadRow
    recent = _read(engine, rules, now, t.owner.is_not(None),
                   order_by=(t.quote_sent_at.desc(), t.quote_message_id), limit=limit)
    mails = snapshot.thread_mails(engine, [r.quote_message_id for r in recent])
    for report in recent:
        if (thread_language(mails.get(report.quote_message_id, []), rules) or "es") == language:
            return report, mails
    return (recent[0], mails) if recent else (None, {})


class _Names:
    """Display names by address, read on demand."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.known = engine, {}

    def get(self, address: str | None, default=None):
        if not address:
            return default
        if address not in self.known:
            with self.engine.connect() as conn:
                self.known[address] = repo.sender_name(conn, address)
        return self.known[address] or default


class PreviewWorld:
    """What :func:`assistant.services.planning.thread_context` reads, for one thread: its
    messages, and names and own texts of the people in it read on demand (newest first,
    in pages: a signature is usually in the newest few)."""

    def __init__(self, settings, engine: Engine, mails: dict[str, list[Mail]], rules) -> None:
        self.settings, self.engine, self.mails_of, self.rules = settings, engine, mails, rules
        self.names = _Names(engine)

    def name_of(self, address: str | None) -> str | None:
        return self.names.get(address)

    def thread_mails(self, report: ThreadReport) -> list[Mail]:
        return self.mails_of.get(report.quote_message_id, [])

    def texts_from(self, address: str | None):
        if not address:
            return
        offset, size = 0, 20
        while True:
            with self.engine.connect() as conn:
                texts = repo.texts_from(conn, address, offset=offset, limit=size)
            yield from texts
            if len(texts) < size:
                return
            offset, size = offset + size, min(size * 4, 2000)
