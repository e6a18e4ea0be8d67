"""Outcomes (issue 14): what a person says happened to a quote outside the mailbox.

* :func:`mark` — the deal was won or lost (``closed``, DESIGN.md "Thread status" 1): its
  pending follow-ups are cancelled;
* :func:`snooze` — no follow-up due before a day: the next step is due on the first
  business day on or after it, at the send window (the thread reads ``waiting`` until
  then; the steps after it count business days as always); a follow-up already drafted
  for that step moves to that time;
* :func:`reply` — the client answered by phone or WhatsApp: a real reply at that time
  (``awaiting_us`` while it is the last word, the cadence stopped, touches after it
  counted from it): pending follow-ups are cancelled.

Each is one row of the thread's history (``thread_actions``: who, when) and is undone by
:func:`undo` — the latest of its kind first, the row kept with who undid it when; an
undo puts back the follow-ups the action cancelled (the stop rules then judge them
again). The thread is queued for the read model in the same transaction, so the scan,
the pages and the next digest see it at once.

:func:`resolve` finds the thread a person names: the short thread id every table shows
(:mod:`assistant.domain.ids`), any longer prefix of it, the quote's Message-ID (with or
without ``<>``) or an unambiguous prefix of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from sqlalchemy import Engine

from assistant.domain.calendar import local_date
from assistant.domain.followups import PENDING
from assistant.domain.ids import looks_like_id
from assistant.domain.model import ThreadReport
from assistant.settings import Settings
from assistant.storage import models, repo
from assistant.wording import say, short_day

__all__ = ["ActionError", "Done", "KINDS", "HistoryEntry", "resolve", "report_of", "mark",
           "snooze", "reply", "undo", "history", "parse_day"]

KINDS = ("mark", "snooze", "reply")
OUTCOMES = ("won", "lost")
CHANNELS = ("phone", "whatsapp")


class ActionError(Exception):
    """An action that cannot be done: a code of the catalogue and its values (worded in
    the reader's language by :meth:`words`; ``str()`` is English)."""

    def __init__(self, code: str, **values) -> None:
        self.code, self.values = code, values
        super().__init__(self.words("en"))

    def words(self, language: str | None) -> str:
        return say(self.code, language, **_worded(self.values, language))


def _worded(values: dict, language: str | None) -> dict:
    """Values that are codes (an outcome, a channel, a status) or days, worded."""
    values = dict(values)
    for key, prefix in (("outcome", "outcome."), ("channel", "outcome.channel."),
                        ("status", "thread.status.")):
        if key in values:
            values[key] = say(prefix + values[key], language)
    for key in ("day", "due", "today"):
        if isinstance(values.get(key), (date, datetime)):
            values[key] = _when(values[key], language)
    return values


@dataclass(frozen=True)
class Done:
    """What an action did: the thread after it, and the sentence saying so."""

    report: ThreadReport
    code: str
    values: dict = field(default_factory=dict)
    cancelled: int = 0
    restored: int = 0

    def words(self, language: str | None) -> str:
        text = say(self.code, language, **_worded(self.values, language))
        if self.cancelled:
            text += " " + say("outcome.cancelled", language, n=self.cancelled)
        if self.restored:
            text += " " + say("outcome.restored", language, n=self.restored)
        return text


def _when(value, language: str | None) -> str:
    if isinstance(value, datetime):
        return f"{short_day(value.date(), language or 'en')} {value:%H:%M}"
    return short_day(value, language or "en")


def _rules(settings: Settings):
    from assistant.services.reconcile import rules_for

    return rules_for(settings)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


# --- Which thread ------------------------------------------------------------------------------

def resolve(settings: Settings, engine: Engine, thread: str) -> str:
    """The quote Message-ID of the thread ``thread`` names (see the module doc); an
    :class:`ActionError` naming the candidates when it names none or several."""
    from assistant.services import snapshot

    snapshot.ensure_current(engine, _rules(settings))
    wanted = thread.strip()
    bare = wanted.strip("<>").strip()
    if not bare:
        raise ActionError("thread.unknown", thread=thread)
    with engine.connect() as conn:
        exact = repo.threads_by_quote_ids(conn, [wanted, f"<{bare}>", bare])
        if exact:
            return exact[0]
        found: list[str] = []
        if looks_like_id(bare):
            found += repo.threads_by_digest(conn, bare.lower())
        found += [q for q in repo.quote_ids_starting(conn, bare) if q not in found]
    if len(found) == 1:
        return found[0]
    if not found:
        raise ActionError("thread.unknown", thread=thread)
    shown = _reports(settings, engine, found[:10], datetime.now(timezone.utc))
    candidates = "; ".join(f"{r.thread_id} “{r.subject}”" for r in shown)
    raise ActionError("thread.ambiguous", thread=thread, n=len(found), candidates=candidates)


def _reports(settings: Settings, engine: Engine, ids: list[str], now: datetime) -> list[ThreadReport]:
    from assistant.services import snapshot

    return snapshot.reports(engine, _rules(settings), now,
                            where=models.ThreadRow.quote_message_id.in_(ids))


def report_of(settings: Settings, engine: Engine, quote_message_id: str, now: datetime) -> ThreadReport:
    """The thread's report at ``now`` (the read model indexed first)."""
    found = _reports(settings, engine, [quote_message_id], now)
    if not found:
        raise ActionError("thread.unknown", thread=quote_message_id)
    return found[0]


def _about(report: ThreadReport) -> dict:
    return {"subject": report.subject or "—", "id": report.thread_id}


class BadValue(ActionError):
    """What the user typed is not a value of its kind (a date that is not one): a usage
    error, which commands answer with exit status 2."""


# --- The actions -------------------------------------------------------------------------------

def parse_day(text: str) -> date:
    """``YYYY-MM-DD`` (a snooze's day)."""
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise BadValue("outcome.bad_date", value=text) from None


def _act(settings: Settings, engine: Engine, quote_id: str, action: str, value: str | None, *,
         note: str | None, by: str | None, now: datetime, cancels: bool) -> tuple[ThreadReport, int]:
    """Record one action, reconcile; the thread after it and the follow-ups it cancelled."""
    from assistant.services.reconcile import reconcile

    with engine.begin() as conn:
        before = repo.followup_states(conn, quote_id)
        action_id = repo.add_action(conn, quote_id, action, value, at=now, by=by, note=note)
        repo.settle_actions(conn, quote_id, at=now, by=by)
    cancelled: list[tuple[int, str]] = []
    if cancels:
        reconcile(settings, engine, now)
        with engine.begin() as conn:
            after = repo.followup_states(conn, quote_id)
            cancelled = [(fid, status) for fid, status in before.items()
                         if status in PENDING and after.get(fid) == "cancelled"]
            if cancelled:
                repo.set_action_cancelled(conn, action_id, cancelled)
    return report_of(settings, engine, quote_id, now), len(cancelled)


def _closing(settings: Settings, engine: Engine, thread: str, kind: str, value: str,
             note: str | None, by: str | None, now: datetime) -> Done:
    """A mark or an answer outside email: recorded, then the thread's pending
    follow-ups judged by the stop rules (cancelled)."""
    allowed, bad, done, key = {
        "mark": (OUTCOMES, "outcome.bad_outcome", "outcome.marked", "outcome"),
        "reply": (CHANNELS, "outcome.bad_channel", "outcome.replied", "channel")}[kind]
    if value not in allowed:
        raise ActionError(bad, value=value)
    quote_id = resolve(settings, engine, thread)
    report, cancelled = _act(settings, engine, quote_id, kind, value,
                             note=(note or "").strip() or None, by=by, now=now, cancels=True)
    return Done(report, done, dict(_about(report), **{key: value}), cancelled)


def mark(settings: Settings, engine: Engine, thread: str, outcome: str, *,
         reason: str | None = None, by: str | None = None, now: datetime) -> Done:
    """The deal of ``thread`` was won or lost: the thread is ``closed`` and its pending
    follow-ups are cancelled."""
    return _closing(settings, engine, thread, "mark", outcome, reason, by, now)


def snooze(settings: Settings, engine: Engine, thread: str, until: date, *,
           by: str | None = None, now: datetime) -> Done:
    """No follow-up of ``thread`` due before ``until`` (see the module doc)."""
    quote_id = resolve(settings, engine, thread)
    report = report_of(settings, engine, quote_id, now)
    today = local_date(now, settings.team.timezone)
    if until < today:
        raise ActionError("outcome.snooze_past", day=until, today=today)
    if report.status not in ("silent", "waiting") or report.next_step is None:
        raise ActionError("outcome.snooze_nothing_due", **_about(report), status=report.status)
    report, _ = _act(settings, engine, quote_id, "snooze", until.isoformat(), note=None, by=by,
                     now=now, cancels=False)
    _align_due(engine, report, now)
    return Done(report, "outcome.snoozed", dict(_about(report), day=until,
                                                due=report.next_step.due_at))


def reply(settings: Settings, engine: Engine, thread: str, channel: str, *,
          note: str | None = None, by: str | None = None, now: datetime) -> Done:
    """The client of ``thread`` answered by ``channel`` at ``now``: a real reply."""
    return _closing(settings, engine, thread, "reply", channel, note, by, now)


def undo(settings: Settings, engine: Engine, thread: str, kind: str, *,
         by: str | None = None, now: datetime) -> Done:
    """Undo the thread's latest ``kind`` action (``mark``, ``snooze``, ``reply``) not
    undone yet; the follow-ups it cancelled come back, then the stop rules judge them."""
    from assistant.services.reconcile import reconcile

    assert kind in KINDS, kind
    quote_id = resolve(settings, engine, thread)
    with engine.begin() as conn:
        undone = repo.undo_action(conn, quote_id, kind, at=now, by=by)
        if undone is not None:
            repo.settle_actions(conn, quote_id, at=now, by=by)
            restored = repo.restore_followups(conn, undone.cancelled, at=now)
    if undone is None:
        raise ActionError(f"outcome.nothing_to_undo.{kind}",
                          **_about(report_of(settings, engine, quote_id, now)))
    if restored:
        reconcile(settings, engine, now)
    report = report_of(settings, engine, quote_id, now)
    if kind == "snooze":
        _align_due(engine, report, now)
    code = {"mark": "outcome.unmarked", "snooze": "outcome.unsnoozed",
            "reply": "outcome.unreplied"}[kind]
    values = dict(_about(report), status=report.status)
    if kind == "reply":
        values["channel"] = undone.value
    return Done(report, code, values, restored=restored)


def _align_due(engine: Engine, report: ThreadReport, now: datetime) -> None:
    """A drafted follow-up of the thread's next step is due when the step is."""
    if report.next_step is None:
        return
    with engine.begin() as conn:
        repo.set_followup_due(conn, report.quote_message_id, report.next_step.number,
                              report.next_step.due_at, at=now)


# --- History -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class HistoryEntry:
    """One action of a thread's history, as the thread page shows it."""

    id: int
    kind: str
    value: str | None
    note: str | None
    at: datetime
    by: str | None
    undone_at: datetime | None
    undone_by: str | None

    def words(self, language: str | None, name=lambda email: email) -> str:
        who = name(self.by) if self.by else say("history.someone", language)
        if self.kind == "mark":
            text = say("history.mark", language, who=who,
                       outcome=say(f"outcome.{self.value}", language))
        elif self.kind == "snooze":
            text = say("history.snooze", language, who=who,
                       day=short_day(date.fromisoformat(self.value), language or "en"))
        else:
            text = say("history.reply", language, who=who,
                       channel=say(f"outcome.channel.{self.value}", language))
        return text


def history(engine: Engine, quote_message_id: str) -> list[HistoryEntry]:
    """The thread's marks, snoozes and answers outside email, oldest first."""
    with engine.connect() as conn:
        rows = repo.thread_actions(conn, quote_message_id)
    return [HistoryEntry(r.id, r.action, r.value, r.note, models.as_utc(r.at), r.by,
                         models.as_utc(r.undone_at), r.undone_by) for r in rows]
