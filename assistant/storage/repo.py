"""Queries: stored rows in, the domain's plain values out (and back).

Every read of messages, marks, touches and the read model's tables goes through here, so
the rest of the product never writes SQL. Functions take a SQLAlchemy ``Connection``
(callers own the transaction) unless they say otherwise.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime, timezone

from sqlalchemy import Connection, Engine, Text, delete, func, select, text, type_coerce, update
from sqlalchemy.orm import Session

from assistant.domain.ids import thread_digest
from assistant.domain.model import LoggedTouch, Mail, NextStep, ThreadMark, ThreadReport, Touchpoint
from assistant.storage import models
from assistant.storage.models import as_utc

__all__ = [
    "load_mails", "load_marks", "load_touches", "chunks", "thread_row", "report_from_row", "reports_from_rows",
    "key_digest",
]

_CHUNK = 500


def chunks(items: Sequence, size: int = _CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --- Messages ------------------------------------------------------------------------------

def _mail_columns():
    m = models.Message
    # JSON columns are read as their text and decoded here: most are "[]", and skipping
    # SQLAlchemy's per-value JSON processor halves the load time of a large mailbox. Times
    # too: SQLite hands back ISO text, parsed by the C fromisoformat below (PostgreSQL
    # drivers hand back datetimes, passed through).
    return (m.id, m.message_id, type_coerce(m.sent_at, Text), type_coerce(m.first_seen_at, Text),
            m.from_addr, m.subject, m.in_reply_to, m.kind, m.body_text, m.original_message_id,
            m.list_mail, *(type_coerce(column, Text) for column in (
                m.to_addrs, m.cc_addrs, m.bcc_addrs, m.references, m.attachment_names,
                m.bounced_recipients)))


def _mail(row, hints: dict[int, list[str]]) -> Mail:
    (pk, message_id, sent_at, first_seen_at, from_addr, subject, in_reply_to, kind,
     body_text, original_message_id, list_mail, to, cc, bcc, references, attachments,
     bounced) = row
    return Mail(
        key=pk, message_id=message_id, date=_instant(sent_at or first_seen_at),
        from_addr=from_addr, to=_tuple(to), cc=_tuple(cc), bcc=_tuple(bcc),
        subject=subject, in_reply_to=in_reply_to, references=_tuple(references),
        kind=kind, attachment_names=_tuple(attachments), text=body_text,
        original_message_id=original_message_id, bounced_recipients=_tuple(bounced),
        thread_hints=tuple(hints.get(pk, ())), list_mail=bool(list_mail))


def _hints(conn: Connection, where=None) -> dict[int, list[str]]:
    """Provider conversation ids per message, namespaced by account (``"ana:18c2f…"``)."""
    ml = models.MessageLocation
    query = (select(ml.message_pk, models.Account.name, ml.thread_id)
             .join(models.Account, models.Account.id == ml.account_id)
             .where(ml.thread_id.is_not(None)))
    if where is not None:
        query = query.where(where)
    hints: dict[int, list[str]] = {}
    for pk, account, thread_id in conn.execute(query):
        hints.setdefault(pk, []).append(f"{account}:{thread_id}")
    return hints


def load_mails(conn: Connection, engine: Engine | None = None) -> list[Mail]:
    """Every stored message (a full rebuild reads them all, once)."""
    hints = _hints(conn)
    statement = select(*_mail_columns())
    dialect = (engine or conn.engine).dialect
    # The driver's own cursor: SQLAlchemy's per-row result processing would double the
    # load time of a large mailbox, and these values need none.
    rows = conn.exec_driver_sql(str(statement.compile(dialect=dialect)))
    return [_mail(row, hints) for row in rows]


def mails_where(conn: Connection, column, values: Iterable) -> list[Mail]:
    """The messages whose ``column`` (a ``models.Message`` column) is one of ``values``."""
    values = list(dict.fromkeys(v for v in values if v is not None))
    out: list[Mail] = []
    for part in chunks(values):
        pks = list(conn.scalars(select(models.Message.id).where(column.in_(part))))
        if not pks:
            continue
        hints = _hints(conn, models.MessageLocation.message_pk.in_(pks))
        out.extend(_mail(tuple(row), hints) for row in conn.execute(
            select(*_mail_columns()).where(models.Message.id.in_(pks))))
    return out


def _instant(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return as_utc(value)


def _tuple(json_text) -> tuple:
    if not json_text or json_text == "[]":
        return ()
    if isinstance(json_text, list):  # drivers that decode JSON themselves (psycopg)
        return tuple(json_text)
    if (json_text.startswith('["') and json_text.endswith('"]') and "\\" not in json_text
            and '","' not in json_text):
        # A list of plain strings as our encoders write it (", " between items): with no
        # escape in it, no string holds a quote, so splitting on '", "' is exact (a
        # compact '","' goes to the decoder) -- and a rebuild decodes hundreds of
        # thousands of these (addresses, references).
        return tuple(json_text[2:-2].split('", "'))
    return tuple(json.loads(json_text))


# --- What users said -----------------------------------------------------------------------

def load_marks(conn: Connection, threads: Iterable[str] | None = None) -> dict[str, ThreadMark]:
    """What users said about each thread (``thread_marks``), with the times its skipped
    follow-ups were skipped (``ThreadMark.skipped``)."""
    query = select(models.ThreadMark)
    f = models.Followup
    skips = select(f.quote_message_id, f.updated_at).where(f.status == "skipped")
    out: dict[str, ThreadMark] = {}
    skipped: dict[str, list[datetime]] = {}
    if threads is None:
        parts = [None]
    else:
        parts = list(chunks(list(dict.fromkeys(threads))))
    for part in parts:
        q = query if part is None else query.where(models.ThreadMark.quote_message_id.in_(part))
        for row in conn.execute(q):
            out[row.quote_message_id] = ThreadMark(row.quote_message_id, row.outcome, row.owner,
                                                   _day(row.snoozed_until))
        s = skips if part is None else skips.where(f.quote_message_id.in_(part))
        for thread, at in conn.execute(s):
            skipped.setdefault(thread, []).append(as_utc(at))
    for thread, times in skipped.items():
        mark = out.get(thread) or ThreadMark(thread)
        out[thread] = replace(mark, skipped=tuple(sorted(times)))
    return out


def _day(value) -> date | None:
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        return value.date()
    return value


def load_touches(conn: Connection, threads: Iterable[str] | None = None) -> list[LoggedTouch]:
    """The touches reps logged, and the client's answers outside email not undone
    (``inbound``: ``thread_actions`` rows of action ``reply``)."""
    query = select(models.Touch)
    a = models.ThreadAction
    replies = select(a.quote_message_id, a.value, a.at, a.by).where(
        a.action == "reply", a.undone_at.is_(None))
    if threads is None:
        parts = [None]
    else:
        parts = list(chunks(list(dict.fromkeys(threads))))
    out: list[LoggedTouch] = []
    for part in parts:
        q = query if part is None else query.where(models.Touch.quote_message_id.in_(part))
        out.extend(LoggedTouch(row.quote_message_id, row.channel, as_utc(row.at), row.by)
                   for row in conn.execute(q))
        r = replies if part is None else replies.where(a.quote_message_id.in_(part))
        out.extend(LoggedTouch(thread, channel, as_utc(at), by, inbound=True)
                   for thread, channel, at, by in conn.execute(r.order_by(a.id)))
    return out


# --- The read model's tables ----------------------------------------------------------------

def key_digest(key: str) -> str:
    """How a join key is stored (``join_keys.key``): its SHA-1, since subjects are long."""
    return hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()


def thread_row(report: ThreadReport, events: Iterable[Touchpoint] = ()) -> dict:
    """The ``threads`` row of a report computed without a ``now`` (see
    :func:`assistant.services.snapshot.base_report`), with the thread's metric events."""
    step = report.next_step
    return {
        "quote_message_id": report.quote_message_id, "subject": report.subject,
        "contact": report.contact, "owner": report.owner,
        "owner_candidates": list(report.owner_candidates), "scenario_base": report.scenario,
        "touches": report.touches,
        "base_status": "open" if step is not None else report.status,
        "closed_reason": closed_column(report.closed_code, report.closed_value),
        "next_number": step.number if step else None,
        "next_channel": step.channel if step else None,
        "next_template": step.template if step else None,
        "due_at": _utc(step.due_at) if step else None,
        "last_outbound_at": _utc(report.last_outbound_at),
        "last_reply_at": _utc(report.last_reply_at),
        "quote_sent_at": _utc(report.quote_sent_at),
        "promised_date": report.promised_date, "promised_reason": report.promised_reason,
        "bounced_recipients": list(report.bounced_recipients),
        "thread_id": thread_digest(report.quote_message_id),
        "snoozed_until": report.snoozed_until,
        "events": [[_utc(e.at).isoformat(), int(e.outbound)] for e in events],
    }


THREAD_COLUMNS = ("quote_message_id", "subject", "contact", "owner", "owner_candidates",
                  "scenario_base", "touches", "base_status", "closed_reason", "next_number",
                  "next_channel", "next_template", "due_at", "last_outbound_at",
                  "last_reply_at", "quote_sent_at", "promised_date", "promised_reason",
                  "bounced_recipients", "thread_id", "snoozed_until", "events")
"""The columns of :func:`thread_row`, in its order."""


def closed_column(code: str | None, value: str | None) -> str | None:
    """The ``threads.closed_reason`` column: ``code:value`` (``marked:won``,
    ``declined:ya no lo necesitamos``), no wording."""
    return None if code is None else f"{code}:{value or ''}"


def closed_from_column(text: str | None) -> tuple[str | None, str | None]:
    """``(closed_code, closed_value)`` from the column; also reads the English a database
    indexed before the codes holds (``marked won``, ``reply says "..."``)."""
    if not text:
        return None, None
    if text.startswith("marked ") and ":" not in text:
        return "marked", text[len("marked "):]
    if text.startswith('reply says "') and text.endswith('"'):
        return "declined", text[len('reply says "'):-1]
    code, _, value = text.partition(":")
    return code, value or None


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)


_THREAD_COLUMNS = ("quote_message_id", "subject", "contact", "owner", "owner_candidates",
                   "scenario_base", "touches", "base_status", "closed_reason", "next_number",
                   "next_channel", "next_template", "due_at", "last_outbound_at", "last_reply_at",
                   "quote_sent_at", "promised_date", "promised_reason", "bounced_recipients",
                   "thread_id", "snoozed_until")
_RAW_COLUMNS = frozenset(("owner_candidates", "bounced_recipients", "due_at", "last_outbound_at",
                          "last_reply_at", "quote_sent_at", "promised_date", "snoozed_until"))


def reports_from_rows(conn: Connection, rows, now: datetime, zone, *,
                      shorten: bool = True) -> list[ThreadReport]:
    """:func:`report_from_row` of each row; ``shorten``: each with the id people type
    (found for all rows at once and given as each report is made, not copied in after)."""
    rows = list(rows)
    if not shorten:
        return [report_from_row(row, now, zone) for row in rows]
    at = _THREAD_COLUMNS.index("thread_id")
    digests = [row[at] or thread_digest(row[0]) for row in rows]
    shown = short_ids(conn, digests)
    return [report_from_row(row, now, zone, thread_id=shown.get(d, d)) for row, d in zip(rows, digests)]


def report_from_row(row, now: datetime, zone, *, thread_id: str | None = None) -> ThreadReport:
    """The report of a stored thread at ``now``: ``silent`` once its step is due, else
    ``waiting``; ``nobody`` for a silent thread never followed up (DESIGN.md "Ownership").
    ``row``: a tuple in :data:`_THREAD_COLUMNS` order, times and JSON as stored."""
    (quote_id, subject, contact, owner, candidates, scenario, touches, base_status, closed_reason,
     number, channel, template, due_at, last_outbound, last_reply, quote_sent, promised,
     promised_reason, bounced, digest, snoozed) = row
    due = _when(due_at)
    if base_status == "open":
        status = "silent" if due is not None and now >= due else "waiting"
    else:
        status = base_status
    if scenario != "unclear" and status == "silent" and touches == 0:
        scenario = "nobody"
    step = None
    if number is not None and due is not None:
        step = NextStep(number, channel, template, due.astimezone(zone))
    if isinstance(promised, str):
        promised = date.fromisoformat(promised)
    if isinstance(snoozed, str):
        snoozed = date.fromisoformat(snoozed)
    closed_code, closed_value = closed_from_column(closed_reason)
    return ThreadReport(
        quote_message_id=quote_id, subject=subject, contact=contact, status=status,
        owner=owner, scenario=scenario, owner_candidates=_tuple(candidates), touches=touches,
        last_outbound_at=_local(last_outbound, zone), last_reply_at=_local(last_reply, zone),
        next_step=step, quote_sent_at=_local(quote_sent, zone),
        closed_code=closed_code, closed_value=closed_value,
        bounced_recipients=_tuple(bounced), promised_date=promised,
        promised_reason=promised_reason, snoozed_until=snoozed,
        thread_id=thread_id or digest or thread_digest(quote_id))


def _when(value) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return as_utc(value)


def _local(value, zone) -> datetime | None:
    moment = _when(value)
    return None if moment is None else moment.astimezone(zone)


def read_threads(conn: Connection, *, where=None, order_by=None, limit: int | None = None) -> list[tuple]:
    """Stored thread rows (tuples in :data:`_THREAD_COLUMNS` order), oldest quote first.
    Read through the driver's own cursor, times and JSON as their stored text: a page of
    30,000 threads costs a tenth of what SQLAlchemy's per-value processing would."""
    t = models.ThreadRow.__table__
    columns = [type_coerce(t.c[name], Text) if name in _RAW_COLUMNS else t.c[name]
               for name in _THREAD_COLUMNS]
    query = select(*columns)
    if where is not None:
        query = query.where(where)
    query = query.order_by(*(order_by or (t.c.quote_sent_at, t.c.quote_message_id)))
    if limit is not None:
        query = query.limit(limit)
    if where is not None or limit is not None:  # a filtered read is small: the usual path
        return [tuple(r) for r in conn.execute(query)]
    return [tuple(r) for r in conn.exec_driver_sql(str(query.compile(dialect=conn.dialect)))]


def thread_touchpoints(conn: Connection, keys: Iterable[str]) -> dict[str, list[Touchpoint]]:
    """The stored metric events of each thread in ``keys`` (:attr:`models.ThreadRow.events`),
    read as stored text: one small row per thread, never its mail."""
    t = models.ThreadRow
    out: dict[str, list[Touchpoint]] = {}
    for part in chunks(list(dict.fromkeys(keys))):
        for key, raw in conn.execute(select(t.quote_message_id, type_coerce(t.events, Text))
                                     .where(t.quote_message_id.in_(part))):
            items = raw if isinstance(raw, list) else json.loads(raw) if raw else []  # psycopg decodes
            out[key] = [Touchpoint(datetime.fromisoformat(at), bool(outbound)) for at, outbound in items]
    return out


def delete_threads(conn: Connection, keys: Iterable[str]) -> None:
    for part in chunks(list(dict.fromkeys(keys))):
        conn.execute(delete(models.ThreadRow).where(models.ThreadRow.quote_message_id.in_(part)))


def set_thread_keys(conn: Connection, assignment: dict[int, str | None]) -> None:
    """``messages.thread_key`` of each message pk (``None``: in no lead thread)."""
    by_key: dict[str | None, list[int]] = {}
    for pk, key in assignment.items():
        by_key.setdefault(key, []).append(pk)
    for key, pks in by_key.items():
        for part in chunks(pks):
            conn.execute(update(models.Message).where(models.Message.id.in_(part))
                         .values(thread_key=key))


def thread_members(conn: Connection, keys: list[str] | None) -> dict[str, list[int]]:
    """Message pks per lead thread (``keys``: those threads; ``None``: every thread)."""
    m = models.Message
    out: dict[str, list[int]] = {}
    parts = [None] if keys is None else list(chunks(keys))
    for part in parts:
        query = select(m.thread_key, m.id).where(m.thread_key.is_not(None))
        if part is not None:
            query = query.where(m.thread_key.in_(part))
        for key, pk in conn.execute(query.order_by(m.id)):
            out.setdefault(key, []).append(pk)
    return out


def storage_problems(conn: Connection) -> list[str]:
    """The last error of each account whose status is ``storage_error`` (distinct)."""
    return list(dict.fromkeys(conn.scalars(
        select(models.Account.last_error).where(models.Account.status == "storage_error",
                                                models.Account.last_error.is_not(None)))))


def queue_thread(conn: Connection, quote_message_id: str) -> None:
    """Queue a thread's messages in ``index_queue`` (a mark or a logged touch changed
    it): the read model's next refresh recomputes its neighbourhood. Call in the
    transaction that writes the change."""
    conn.execute(text(
        "INSERT INTO index_queue (message_pk) SELECT id FROM messages m WHERE m.thread_key = :key "
        "AND NOT EXISTS (SELECT 1 FROM index_queue q WHERE q.message_pk = m.id)"),
        {"key": quote_message_id})


_UNSET = object()


def save_mark(conn: Connection, quote_message_id: str, *, at: datetime, by: str | None,
              outcome=_UNSET, owner=_UNSET, outcome_reason=_UNSET, snoozed_until=_UNSET) -> None:
    """Record what a user said about a thread (an outcome and why, an explicit owner, a
    snooze) and queue the thread for the read model, in the caller's transaction."""
    values = {"updated_at": as_utc(at), "updated_by": by}
    for name, value in (("outcome", outcome), ("owner", owner),
                        ("outcome_reason", outcome_reason), ("snoozed_until", snoozed_until)):
        if value is not _UNSET:
            values[name] = value
    tm = models.ThreadMark
    done = conn.execute(update(tm).where(tm.quote_message_id == quote_message_id)
                        .values(**values)).rowcount
    if not done:
        conn.execute(tm.__table__.insert().values(quote_message_id=quote_message_id, **values))
    queue_thread(conn, quote_message_id)


def add_touch(conn: Connection, quote_message_id: str, channel: str, *, at: datetime,
              by: str | None, note: str | None = None) -> None:
    """Log a call or WhatsApp touch and queue its thread for the read model."""
    conn.execute(models.Touch.__table__.insert().values(
        quote_message_id=quote_message_id, channel=channel, at=as_utc(at), by=by, note=note))
    queue_thread(conn, quote_message_id)


# --- Outcomes: marks, snoozes, answers outside email (issue 14) ------------------------------

ACTIONS = ("mark", "snooze", "reply")


def add_action(conn: Connection, quote_message_id: str, action: str, value: str | None, *,
               at: datetime, by: str | None, note: str | None = None) -> int:
    """Append one action to a thread's history (``thread_actions``); its id. The caller
    updates ``thread_marks`` and queues the thread in the same transaction
    (:func:`settle_actions`)."""
    assert action in ACTIONS, action
    return conn.execute(models.ThreadAction.__table__.insert().values(
        quote_message_id=quote_message_id, action=action, value=value, note=note,
        at=as_utc(at), by=by)).inserted_primary_key[0]


def undo_action(conn: Connection, quote_message_id: str, action: str, *, at: datetime,
                by: str | None) -> models.ThreadAction | None:
    """Undo the thread's latest ``action`` not undone yet (kept, with who undid it when);
    the undone row, or ``None`` when there is nothing to undo. Undoing again undoes the
    one before (a stack). The caller then calls :func:`settle_actions`."""
    rows = latest_actions(conn, quote_message_id, action, limit=1)
    if not rows:
        return None
    a = models.ThreadAction
    done = conn.execute(update(a).where(a.id == rows[0].id, a.undone_at.is_(None))
                        .values(undone_at=as_utc(at), undone_by=by)).rowcount
    return rows[0] if done else None


def latest_actions(conn: Connection, quote_message_id: str, action: str,
                   limit: int | None = None) -> list:
    """The thread's ``action`` rows not undone, newest first."""
    a = models.ThreadAction
    query = (select(a).where(a.quote_message_id == quote_message_id, a.action == action,
                             a.undone_at.is_(None)).order_by(a.id.desc()))
    if limit is not None:
        query = query.limit(limit)
    return list(conn.execute(query))


def settle_actions(conn: Connection, quote_message_id: str, *, at: datetime,
                   by: str | None) -> None:
    """``thread_marks``' outcome, its reason and the snooze made those of the latest
    actions not undone, and the thread queued for the read model (a reply only queues)."""
    mark = latest_actions(conn, quote_message_id, "mark", limit=1)
    snooze = latest_actions(conn, quote_message_id, "snooze", limit=1)
    save_mark(conn, quote_message_id, at=at, by=by,
              outcome=mark[0].value if mark else None,
              outcome_reason=mark[0].note if mark else None,
              snoozed_until=date.fromisoformat(snooze[0].value) if snooze else None)


def set_action_cancelled(conn: Connection, action_id: int, cancelled: list[tuple[int, str]]) -> None:
    """Remember which pending follow-ups an action cancelled (``[id, status before]``)."""
    a = models.ThreadAction
    conn.execute(update(a).where(a.id == action_id)
                 .values(cancelled=[[fid, status] for fid, status in cancelled]))


def restore_followups(conn: Connection, cancelled: Iterable, *, at: datetime) -> int:
    """Put back follow-ups an undone action cancelled, those still cancelled; how many.
    One whose draft was moved to the Trash meanwhile loses its draft ref: the next plan
    saves its draft again (the trashed copy stays in the Trash)."""
    f = models.Followup
    restored = 0
    for fid, status in cancelled or ():
        restored += conn.execute(update(f).where(f.id == fid, f.status == "cancelled").values(
            status=status, closed_reason=None, updated_at=as_utc(at))).rowcount
        conn.execute(update(f).where(f.id == fid, f.status != "cancelled", f.draft_trash == "trashed")
                     .values(draft_ref=None, draft_trashed_at=None, draft_trash=None))
    return restored


def drafts_to_trash(conn: Connection) -> list:
    """Cancelled or skipped email follow-ups whose saved draft was not handled yet (id,
    key, account, draft_ref), oldest first."""
    f = models.Followup
    return list(conn.execute(select(f.id, f.key, f.account, f.draft_ref).where(
        f.status.in_(("cancelled", "skipped")), f.channel == "email", f.draft_ref.is_not(None),
        f.draft_trashed_at.is_(None)).order_by(f.id)))


def record_draft_trash(conn: Connection, fid: int, outcome: str, *, at: datetime) -> int:
    """Record what became of a cancelled or skipped follow-up's draft (``trashed`` |
    ``gone``), once and only while it is still so; 1 if recorded."""
    f = models.Followup
    return conn.execute(update(f).where(f.id == fid, f.status.in_(("cancelled", "skipped")),
                                        f.draft_trashed_at.is_(None)).values(
        draft_trash=outcome, draft_trashed_at=as_utc(at))).rowcount


def set_followup_due(conn: Connection, thread: str, step: int, due: datetime, *,
                     at: datetime) -> int:
    """Move the due time of the thread's pending follow-ups of ``step`` (a snooze)."""
    from assistant.domain.followups import PENDING

    f = models.Followup
    return conn.execute(update(f).where(f.quote_message_id == thread, f.step == step,
                                        f.status.in_(PENDING), f.due_at != as_utc(due))
                        .values(due_at=as_utc(due), updated_at=as_utc(at))).rowcount


def followup_states(conn: Connection, thread: str) -> dict[int, str]:
    """id -> status of the thread's follow-ups."""
    f = models.Followup
    return dict(conn.execute(select(f.id, f.status).where(f.quote_message_id == thread)).all())


def marks_at(conn: Connection, at: datetime) -> dict[str, ThreadMark]:
    """The marks as they were at ``at`` (a past digest's week): each thread's explicit
    owner as now (owners keep no history), its outcome and snooze those of its latest
    actions made by ``at`` and not undone by then."""
    from dataclasses import replace

    marks = {key: replace(mark, outcome=None, snoozed_until=None)
             for key, mark in load_marks(conn).items()}
    a, at = models.ThreadAction, as_utc(at)
    rows = conn.execute(select(a.quote_message_id, a.action, a.value).where(
        a.action.in_(("mark", "snooze")), a.at <= at,
        a.undone_at.is_(None) | (a.undone_at > at)).order_by(a.id))
    for thread, action, value in rows:  # the latest wins
        mark = marks.get(thread) or ThreadMark(thread)
        marks[thread] = (replace(mark, outcome=value) if action == "mark"
                         else replace(mark, snoozed_until=date.fromisoformat(value)))
    return marks


def thread_actions(conn: Connection, quote_message_id: str) -> list:
    """Every action of a thread, undone ones too, oldest first (the thread page's
    history)."""
    a = models.ThreadAction
    return list(conn.execute(select(a).where(a.quote_message_id == quote_message_id)
                             .order_by(a.at, a.id)))


def outside_replies(conn: Connection, thread: str):
    """The client's answers outside email not undone, as timeline entries."""
    from assistant.domain.timeline import TouchEntry

    a = models.ThreadAction
    return [TouchEntry(as_utc(row.at), row.value, row.by, row.note)
            for row in conn.execute(select(a).where(
                a.quote_message_id == thread, a.action == "reply", a.undone_at.is_(None))
                .order_by(a.at, a.id))]


def mark_of(conn: Connection, quote_message_id: str):
    """The thread's ``thread_marks`` row, or ``None``."""
    tm = models.ThreadMark
    return conn.execute(select(tm).where(tm.quote_message_id == quote_message_id)).first()


# --- Short thread ids (assistant.domain.ids) ---------------------------------------------------

def threads_by_digest(conn: Connection, prefix: str, limit: int = 20) -> list[str]:
    """Quote Message-IDs of the stored threads whose digest starts with ``prefix``
    (lower case), through the ``threads.thread_id`` index."""
    t = models.ThreadRow
    high = prefix + "~"  # after every base32 character
    return list(conn.scalars(select(t.quote_message_id).where(
        t.thread_id >= prefix, t.thread_id < high).order_by(t.thread_id).limit(limit)))


def threads_by_quote_ids(conn: Connection, ids: Iterable[str]) -> list[str]:
    """Which of ``ids`` are stored threads' quote Message-IDs (exact, indexed)."""
    t = models.ThreadRow
    out: list[str] = []
    for part in chunks(list(dict.fromkeys(ids))):
        out.extend(conn.scalars(select(t.quote_message_id).where(t.quote_message_id.in_(part))))
    return out


def quote_ids_starting(conn: Connection, prefix: str, limit: int = 20) -> list[str]:
    """Stored threads' quote Message-IDs that start with ``prefix`` once their ``<``
    is dropped, case-insensitively (a scan of the one column: typed prefixes are rare)."""
    t = models.ThreadRow
    wanted = prefix.lower()
    out = []
    for (quote_id,) in conn.execute(select(t.quote_message_id).order_by(t.quote_message_id)):
        if quote_id.lstrip("<").lower().startswith(wanted):
            out.append(quote_id)
            if len(out) >= limit:
                break
    return out


def digest_neighbours(conn: Connection, digests: Iterable[str]) -> dict[str, tuple[str | None, str | None]]:
    """Each digest's stored predecessor and successor (sorted), for the shortest
    unambiguous prefixes: two indexed look-ups each for a few, one ordered read of the
    column for many."""
    from assistant.domain.ids import neighbours_in

    t = models.ThreadRow
    wanted = list(dict.fromkeys(d for d in digests if d))
    if len(wanted) > 40:
        every = list(conn.scalars(select(t.thread_id).where(t.thread_id.is_not(None))
                                  .order_by(t.thread_id)))
        return neighbours_in(every)
    out = {}
    for digest in wanted:
        before = conn.scalar(select(func.max(t.thread_id)).where(t.thread_id < digest))
        after = conn.scalar(select(func.min(t.thread_id)).where(t.thread_id > digest))
        out[digest] = (before, after)
    return out


def short_ids(conn: Connection, digests: Iterable[str]) -> dict[str, str]:
    """digest -> the short id shown for it (:func:`assistant.domain.ids.shortest_prefixes`)."""
    from assistant.domain.ids import shortest_prefixes

    wanted = list(dict.fromkeys(d for d in digests if d))
    return shortest_prefixes(wanted, digest_neighbours(conn, wanted)) if wanted else {}


def with_short_ids(conn: Connection, reports: list[ThreadReport]) -> list[ThreadReport]:
    """The reports with their ``thread_id`` shortened to the id people type (reports
    computed from mail, without one, get theirs from their quote's Message-ID)."""
    from dataclasses import replace

    digests = [r.thread_id or thread_digest(r.quote_message_id) for r in reports]
    shown = short_ids(conn, digests)
    return [replace(r, thread_id=shown.get(d, d)) for r, d in zip(reports, digests)]


# --- Bulk writes -------------------------------------------------------------------------------

def execute_many(conn: Connection, sql: str, rows: list[tuple], size: int = 5000) -> None:
    """One statement for many rows through the driver's own ``executemany`` (``?``
    placeholders; PostgreSQL's ``%s`` put in): a rebuild writes tens of thousands of rows,
    and SQLAlchemy's per-row processing would cost more than the writing."""
    if conn.dialect.name != "sqlite":
        sql = sql.replace("?", "%s")
    for part in chunks(rows, size):
        conn.exec_driver_sql(sql, part)


def _sqlite_time(moment: datetime | None) -> str | None:
    """A time as SQLAlchemy stores it in SQLite (naive UTC text): what its comparisons
    and readers expect."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.isoformat(" ", "microseconds")  # SQLAlchemy's "%04d-%02d-%02d %02d:..."


_TIME_COLUMNS = ("due_at", "last_outbound_at", "last_reply_at", "quote_sent_at")
_JSON_COLUMNS = ("owner_candidates", "bounced_recipients", "events")


def thread_values(rows: list[dict], dialect: str) -> list:
    """Thread rows (:func:`thread_row`) as :func:`insert_thread_values` writes them: on
    SQLite, tuples of its own values in the rows' column order (made where the rows are
    computed: a rebuild's workers); elsewhere the rows themselves."""
    if dialect != "sqlite" or not rows:
        return rows
    names = THREAD_COLUMNS
    dumps = json.JSONEncoder(ensure_ascii=False).encode

    def day(v):
        return v.isoformat() if v is not None else None

    # One converter per column, chosen once (a rebuild stores tens of thousands of rows).
    convert = [(n, _sqlite_time if n in _TIME_COLUMNS else dumps if n in _JSON_COLUMNS
                else day if n in ("promised_date", "snoozed_until") else None) for n in names]
    return [tuple(row[n] if f is None else f(row[n]) for n, f in convert) for row in rows]


def insert_thread_values(conn: Connection, values: list) -> None:
    """Store :func:`thread_values`."""
    if not values:
        return
    if conn.dialect.name != "sqlite":
        for part in chunks(values, 1000):
            conn.execute(models.ThreadRow.__table__.insert(), part)
        return
    names = THREAD_COLUMNS
    execute_many(conn, f"INSERT INTO threads ({', '.join(names)}) "
                       f"VALUES ({', '.join('?' for _ in names)})", values)


def insert_threads(conn: Connection, rows: list[dict]) -> None:
    """Store thread rows (:func:`thread_row`)."""
    insert_thread_values(conn, thread_values(rows, conn.dialect.name))


# --- Accounts (`followup accounts list`) -----------------------------------------------

def account_states(conn: Connection) -> dict[str, tuple]:
    """account name -> ``(status, last_sync_at, last_error)`` of every synced account."""
    a = models.Account
    return {name: (status, last_sync_at, last_error) for name, status, last_sync_at, last_error
            in conn.execute(select(a.name, a.status, a.last_sync_at, a.last_error))}


def set_aside_by_account(conn: Connection, shown: int) -> dict[str, tuple[int, list[tuple[str, str]]]]:
    """account name -> ``(how many messages the database refused, the first ``shown`` of
    them as (provider id, reason))``, for accounts with any."""
    a, aside = models.Account, models.SetAsideMessage
    out = {}
    for name, count in conn.execute(select(a.name, func.count(aside.id))
                                    .join(aside, aside.account_id == a.id).group_by(a.name)):
        first = conn.execute(select(aside.provider_id, aside.reason)
                             .join(a, aside.account_id == a.id).where(a.name == name)
                             .order_by(aside.id).limit(shown)).all()
        out[name] = (count, [tuple(row) for row in first])
    return out


# --- Planning's targeted reads (issue 12: nothing here reads all mail) ----------------------

def latest_names(conn: Connection, addresses: Iterable[str]) -> dict[str, str]:
    """The display name each address last sent mail under (``From``), by lower-case
    address; addresses that never named themselves are left out."""
    m = models.Message
    out: dict[str, str] = {}
    wanted = sorted({a.lower() for a in addresses if a})
    for part in chunks(wanted):
        for address, name in conn.execute(
                select(m.from_addr, m.from_name)
                .where(m.from_addr.in_(part), m.from_name.is_not(None))
                .order_by(m.sent_at)):
            if address and name:
                out[address.lower()] = name
    return out


def sender_names(conn: Connection, addresses: Iterable[str]) -> dict[str, list[str]]:
    """Every display name each address sent mail under (``From``), newest first, by
    lower-case address; addresses that never named themselves are left out. One row per
    (address, name) with its newest date: a page naming a client costs the names they
    used, not every message they sent."""
    m = models.Message
    out: dict[str, list[str]] = {}
    wanted = sorted({a.lower() for a in addresses if a})
    newest = type_coerce(func.max(func.coalesce(m.sent_at, m.first_seen_at)), Text)
    for part in chunks(wanted):
        rows = conn.execute(select(m.from_addr, m.from_name, newest)
                            .where(m.from_addr.in_(part), m.from_name.is_not(None))
                            .group_by(m.from_addr, m.from_name)).all()
        dated = sorted(((_instant(at), address.lower(), name)
                        for address, name, at in rows if address and name), reverse=True)
        for _, address, name in dated:
            if name not in out.setdefault(address, []):
                out[address].append(name)
    return out


def recipient_names(conn: Connection, message_ids: Iterable[str]) -> dict[str, list[str]]:
    """The names these messages (by Message-ID) gave their To / Cc recipients: lower-case
    address -> names, newest message first."""
    from email.utils import parseaddr

    m = models.Message
    out: dict[str, list[str]] = {}
    wanted = sorted({i for i in message_ids if i})
    for part in chunks(wanted):
        rows = conn.execute(select(m.recipient_names, type_coerce(m.sent_at, Text),
                                   type_coerce(m.first_seen_at, Text))
                            .where(m.message_id.in_(part), m.recipient_names.is_not(None))).all()
        for _, names in sorted(((_instant(sent or seen), names) for names, sent, seen in rows),
                               key=lambda item: item[0], reverse=True):
            for entry in names if isinstance(names, list) else _tuple(names):
                name, address = parseaddr(entry)
                if name and address and name not in out.setdefault(address.lower(), []):
                    out[address.lower()].append(name)
    return out


def newest_own_texts(conn: Connection, address: str, limit: int = 3) -> list[str]:
    """The texts of the newest ``limit`` person-written messages ``address`` sent, newest
    first (``ix_messages_sender_date``: a few rows whatever the mailbox)."""
    m = models.Message
    return list(conn.scalars(
        select(m.body_text).where(m.from_addr == address.lower(), m.kind == "message")
        .order_by(func.coalesce(m.sent_at, m.first_seen_at).desc(), m.id.desc()).limit(limit)))


def own_texts(conn: Connection, address: str) -> list[str]:
    """The texts of the person-written messages (``kind`` message) ``address`` sent,
    newest first."""
    m = models.Message
    rows = conn.execute(select(m.body_text, type_coerce(m.sent_at, Text),
                               type_coerce(m.first_seen_at, Text))
                        .where(m.from_addr == address.lower(), m.kind == "message")
                        .order_by(m.id)).all()
    dated = [(_instant(sent or seen), text) for text, sent, seen in rows]
    dated.sort(key=lambda item: item[0], reverse=True)  # stable: ties keep storage order
    return [text for _, text in dated]


def mails_between(conn: Connection, since: datetime, until: datetime) -> list[Mail]:
    """The messages dated (sent, else first seen) between ``since`` and ``until``, in
    storage order: a bounded recent window (``messages.sent_at`` is indexed)."""
    m = models.Message
    low, high = as_utc(since), as_utc(until)
    pks = list(conn.scalars(select(m.id).where(m.sent_at >= low, m.sent_at <= high)))
    pks += conn.scalars(select(m.id).where(m.sent_at.is_(None), m.first_seen_at >= low,
                                           m.first_seen_at <= high))
    return sorted(mails_where(conn, m.id, pks), key=lambda mail: mail.key)


def touches_between(conn: Connection, since: datetime, until: datetime) -> list[LoggedTouch]:
    t = models.Touch
    return [LoggedTouch(row.quote_message_id, row.channel, as_utc(row.at), row.by)
            for row in conn.execute(select(t).where(t.at >= as_utc(since), t.at <= as_utc(until))
                                    .order_by(t.id))]


def thread_contacts(conn: Connection, keys: Iterable[str]) -> dict[str, str | None]:
    """Each stored lead thread's contact, by quote Message-ID."""
    t = models.ThreadRow
    out: dict[str, str | None] = {}
    for part in chunks(list(dict.fromkeys(keys))):
        out.update(conn.execute(select(t.quote_message_id, t.contact)
                                .where(t.quote_message_id.in_(part))).all())
    return out


def followup_keys(conn: Connection, threads: Iterable[str]) -> dict[str, tuple[datetime, str, bool]]:
    """The idempotency keys of the follow-ups these threads already have, with when each
    was planned, its status and whether it is legacy (:func:`legacy_followups`)."""
    f = models.Followup
    last = legacy_followups(conn)
    out: dict[str, tuple[datetime, str, bool]] = {}
    for part in chunks(list(dict.fromkeys(threads))):
        out.update((key, (as_utc(at), status, fid <= last)) for key, at, status, fid in conn.execute(
            select(f.key, f.created_at, f.status, f.id).where(f.quote_message_id.in_(part))))
    return out


LEGACY_FOLLOWUPS = "followups_before_rounds"
"""``read_model_state`` key: the highest follow-up id planned before follow-up keys named
their round (migration 0019; :func:`assistant.domain.followups.of_this_round`)."""


def legacy_followups(conn: Connection) -> int:
    """Follow-ups with an id up to this were planned under the keys before rounds."""
    value = conn.scalar(select(models.ReadModelState.value)
                        .where(models.ReadModelState.key == LEGACY_FOLLOWUPS))
    return int(value) if value else 0


def threads_in_unread_mailboxes(conn: Connection, threads: Iterable[str],
                                accounts: Iterable[str]) -> dict[str, str]:
    """thread -> the first of ``accounts`` whose last sync failed (status not ``ok``) and
    that holds a message of the thread: mail there may not have been read."""
    a, m, loc = models.Account, models.Message, models.MessageLocation
    failed = {name: aid for aid, name in conn.execute(
        select(a.id, a.name).where(a.status != "ok", a.name.in_(list(accounts))))}
    if not failed:
        return {}
    names = {aid: name for name, aid in failed.items()}
    out: dict[str, str] = {}
    for part in chunks(list(dict.fromkeys(threads))):
        rows = conn.execute(select(m.thread_key, loc.account_id).join(loc, loc.message_pk == m.id)
                            .where(m.thread_key.in_(part), loc.account_id.in_(list(names)))
                            .order_by(loc.account_id))
        for thread, aid in rows:
            out.setdefault(thread, names[aid])
    return out


def previous_assignees(conn: Connection, threads: Iterable[str]) -> dict[str, str]:
    """Who had each thread's latest follow-up (of those with an assignee)."""
    f = models.Followup
    rows = []
    for part in chunks(list(dict.fromkeys(threads))):
        rows.extend(conn.execute(select(f.id, f.quote_message_id, f.assignee).where(
            f.quote_message_id.in_(part), f.assignee.is_not(None))).all())
    return {thread: assignee for _, thread, assignee in sorted(rows)}


def round_robin_turn(conn: Connection) -> int:
    """How many threads were handed out round-robin so far."""
    from sqlalchemy import func

    f = models.Followup
    return conn.scalar(select(func.count(func.distinct(f.quote_message_id)))
                       .where(f.assigned_via == "round_robin")) or 0


# --- Pages and the digest (issue 12: the web's page models, services/digest.py) ---------------

def held_followups(conn: Connection) -> list[str] | None:
    """``quote_message_id`` of each follow-up the duplicate-contact guard held
    (``hold_reason`` set); ``None`` when the follow-ups table does not exist."""
    from sqlalchemy import inspect as sa_inspect

    if not sa_inspect(conn).has_table("followups"):
        return None
    f = models.Followup
    return list(conn.scalars(select(f.quote_message_id).where(f.hold_reason.is_not(None))
                             .order_by(f.id)))


def digest_records(conn: Connection) -> list[tuple[str, str, str]]:
    """``(manager, period, status)`` of every digest recorded, oldest first."""
    table = models.DigestRecord
    return [tuple(row) for row in conn.execute(
        select(table.manager, table.period, table.status).order_by(table.id))]


def _mail_date():
    from sqlalchemy import func

    return func.coalesce(models.Message.sent_at, models.Message.first_seen_at)


def mail_after(conn: Connection, at: datetime) -> bool:
    """Whether any stored message is dated after ``at``."""
    return conn.scalar(select(models.Message.id).where(_mail_date() > as_utc(at)).limit(1)) is not None


def threads_existing_at(conn: Connection, at: datetime, *,
                        active_since: datetime | None = None) -> list[str]:
    """The stored threads that existed at ``at``: quoted before it (with
    ``active_since``: and quoted, written or answered since then), plus the threads
    quoted later that hold messages dated before ``at``."""
    t, m = models.ThreadRow, models.Message
    at = as_utc(at)
    query = select(t.quote_message_id).where(t.quote_sent_at < at)
    if active_since is not None:
        since = as_utc(active_since)
        query = query.where((t.quote_sent_at >= since) | (t.last_outbound_at >= since)
                            | (t.last_reply_at >= since))
    found = list(conn.scalars(query.order_by(t.quote_sent_at, t.quote_message_id)))
    later = select(t.quote_message_id).where(t.quote_sent_at >= at)
    found += conn.scalars(select(m.thread_key).distinct().where(
        m.thread_key.in_(later), _mail_date() < at).order_by(m.thread_key))
    return list(dict.fromkeys(found))


def status_clause(statuses: Iterable[str], now: datetime):
    """``models.ThreadRow`` rows whose status at ``now`` is one of ``statuses`` (silent:
    a next step due by ``now``, waiting: one due later; see :func:`report_from_row`)."""
    from sqlalchemy import and_, false, or_

    t, now = models.ThreadRow, as_utc(now)
    statuses = set(statuses)
    parts = []
    if "silent" in statuses:
        parts.append(and_(t.base_status == "open", t.due_at.is_not(None), t.due_at <= now))
    if "waiting" in statuses:
        parts.append(and_(t.base_status == "open", or_(t.due_at.is_(None), t.due_at > now)))
    fixed = statuses - {"silent", "waiting"}
    if fixed:
        parts.append(t.base_status.in_(sorted(fixed)))
    return or_(*parts) if parts else false()


def owners_clause(owners: Iterable[str] | None, *, unowned: bool):
    """Rows owned by one of ``owners`` (``None``: anyone), and with ``unowned`` the
    rows without an owner too (callers check their candidates)."""
    from sqlalchemy import true

    t = models.ThreadRow
    if owners is None:
        return true() if unowned else t.owner.is_not(None)
    owned = t.owner.in_(sorted(owners))
    return owned | t.owner.is_(None) if unowned else owned


def thread_counts(conn: Connection, now: datetime, where=None) -> list[tuple]:
    """``(owner, candidates, status, scenario, threads)`` of the stored threads at
    ``now`` (``candidates``: of unowned threads only), counted in the database."""
    from sqlalchemy import and_, case, func

    t, now = models.ThreadRow, as_utc(now)
    silent = and_(t.base_status == "open", t.due_at.is_not(None), t.due_at <= now)
    status = case((silent, "silent"), (t.base_status == "open", "waiting"), else_=t.base_status)
    scenario = case((and_(silent, t.scenario_base != "unclear", t.touches == 0), "nobody"),
                    else_=t.scenario_base)
    candidates = case((t.owner.is_(None), type_coerce(t.owner_candidates, Text)), else_=None)
    query = select(t.owner, candidates, status, scenario, func.count()).group_by(
        t.owner, candidates, status, scenario)
    if where is not None:
        query = query.where(where)
    return [(owner, _tuple(cands), st, sc, n) for owner, cands, st, sc, n in conn.execute(query)]


def thread_ids(conn: Connection, *, where=None, order_by=None, limit: int | None = None) -> list[str]:
    t = models.ThreadRow
    query = select(t.quote_message_id)
    if where is not None:
        query = query.where(where)
    query = query.order_by(*(order_by or (t.quote_sent_at, t.quote_message_id)))
    if limit is not None:
        query = query.limit(limit)
    return list(conn.scalars(query))


def followups_where(conn: Connection, *, assignees: Iterable[str] | None = None,
                    statuses: Iterable[str] | None = None, threads: Iterable[str] | None = None,
                    fid: int | None = None, order_by=None) -> list[models.Followup]:
    """Follow-up rows (detached, readable after the connection closes) by assignee,
    status, thread or id; by id unless ``order_by`` says otherwise."""
    f = models.Followup
    query = select(f)
    if assignees is not None:
        query = query.where(f.assignee.in_(sorted(set(assignees))))
    if statuses is not None:
        query = query.where(f.status.in_(sorted(set(statuses))))
    if threads is not None:
        query = query.where(f.quote_message_id.in_(list(dict.fromkeys(threads))))
    if fid is not None:
        query = query.where(f.id == fid)
    return _detached(conn, query.order_by(*(order_by or (f.id,))))


def _detached(conn: Connection, query) -> list[models.Followup]:
    """The follow-up rows ``query`` selects, detached (readable after ``conn`` closes)."""
    with Session(bind=conn, expire_on_commit=False) as session:
        rows = list(session.scalars(query))
        session.expunge_all()
    return rows


def unsaved_drafts(conn: Connection) -> list[models.Followup]:
    """The email follow-ups drafted but with no draft saved in the mailbox yet
    (``draft_ref`` NULL: a planner died before saving or recording it), by id; detached."""
    f = models.Followup
    return _detached(conn, select(f).where(f.channel == "email", f.status == "drafted",
                                           f.draft_ref.is_(None)).order_by(f.id))


def followups_to_settle(session: Session, statuses: Iterable[str],
                        threads: Iterable[str] | None = None) -> list[models.Followup]:
    """The follow-ups in one of ``statuses`` (of ``threads`` only, when given), by id, as
    rows of ``session``: the caller changes them in place and its transaction commits
    them."""
    f = models.Followup
    query = select(f).where(f.status.in_(statuses))
    if threads is not None:
        query = query.where(f.quote_message_id.in_(threads))
    return list(session.scalars(query.order_by(f.id)))


def count_followups(conn: Connection, statuses: Iterable[str]) -> int:
    """How many follow-ups are in one of ``statuses``."""
    f = models.Followup
    return conn.scalar(select(func.count()).select_from(f).where(f.status.in_(statuses)))


def threads_with_followups(conn: Connection, statuses: Iterable[str],
                           threads: Iterable[str]) -> list[str]:
    """Those of ``threads`` (distinct) with a follow-up in one of ``statuses``."""
    f = models.Followup
    out: list[str] = []
    for part in chunks(threads):
        out.extend(conn.scalars(select(f.quote_message_id).distinct().where(
            f.status.in_(statuses), f.quote_message_id.in_(part))))
    return out


def with_followups_clause(statuses: Iterable[str]):
    """A ``where`` on the read model's threads: those with a follow-up in one of
    ``statuses`` (for :func:`assistant.services.snapshot.reports`)."""
    f, t = models.Followup, models.ThreadRow
    return t.quote_message_id.in_(select(f.quote_message_id).where(f.status.in_(statuses)))


def replace_held(conn: Connection, fid: int, values: dict) -> bool:
    """Re-plan a held follow-up in place (its id kept): write ``values`` over it only while
    it is still held and no person changed it since it was planned (``updated_at`` =
    ``created_at``: an edit, an approval or a skip moves ``updated_at``). False when a
    person or another planner got there first."""
    f = models.Followup
    done = conn.execute(update(f).where(f.id == fid, f.status == "held",
                                        f.updated_at == f.created_at).values(**values))
    return done.rowcount == 1


def followed_threads(conn: Connection, assignees: Iterable[str],
                     threads: Iterable[str] | None = None) -> set[str]:
    """The threads with a follow-up assigned to one of ``assignees`` (among ``threads``)."""
    f = models.Followup
    query = select(f.quote_message_id).distinct().where(f.assignee.in_(sorted(set(assignees))))
    if threads is not None:
        query = query.where(f.quote_message_id.in_(list(dict.fromkeys(threads))))
    return set(conn.scalars(query))


def touch_entries(conn: Connection, thread: str):
    """The touches logged for a thread, with their notes (timeline entries)."""
    from assistant.domain.timeline import TouchEntry

    tt = models.Touch
    return [TouchEntry(as_utc(row.at), row.channel, row.by, row.note)
            for row in conn.execute(select(tt).where(tt.quote_message_id == thread)
                                    .order_by(tt.at, tt.id))]


def sender_name(conn: Connection, address: str) -> str | None:
    """The display name ``address`` last wrote under (by date sent; addresses are stored
    in lower case)."""
    m = models.Message
    return conn.scalar(select(m.from_name).where(
        m.from_addr == address.lower(), m.from_name.is_not(None), m.from_name != "")
        .order_by(m.sent_at.desc(), m.id.desc()).limit(1))


def texts_from(conn: Connection, address: str, *, offset: int = 0, limit: int = 50) -> list[str]:
    """The texts of the messages ``address`` wrote (kind ``message``), newest first."""
    m = models.Message
    return list(conn.scalars(select(m.body_text).where(
        m.from_addr == address.lower(), m.kind == "message")
        .order_by(_mail_date().desc(), m.id).offset(offset).limit(limit)))


def read_model_generation(conn: Connection) -> tuple:
    """What changes whenever the stored threads do: the read model's own state (the
    rules' fingerprint, when it was rebuilt, and a count of the refreshes since — every
    new message, mark and touch goes through one)."""
    return tuple(conn.execute(select(models.ReadModelState.key, models.ReadModelState.value)
                              .order_by(models.ReadModelState.key)).all())


# --- WhatsApp chat exports (services/whatsapp.py) --------------------------------------------

def lead_contacts(conn: Connection) -> list[str]:
    """The contact of every stored lead thread (lower case, each once)."""
    t = models.ThreadRow
    return sorted({c.lower() for c in conn.scalars(
        select(t.contact).where(t.contact.is_not(None)).distinct()) if c})


def lead_quotes(conn: Connection) -> list[str]:
    """The quote Message-ID of every stored lead thread."""
    return list(conn.scalars(select(models.ThreadRow.quote_message_id)))


def lead_threads_of(conn: Connection, contact: str) -> list[tuple[str, datetime | None, str]]:
    """(quote Message-ID, quote sent at (UTC), base status) of ``contact``'s lead threads,
    oldest quote first."""
    t = models.ThreadRow
    rows = conn.execute(select(t.quote_message_id, t.quote_sent_at, t.base_status)
                        .where(func.lower(t.contact) == contact.lower())).all()
    out = [(qid, as_utc(sent), status) for qid, sent, status in rows]
    return sorted(out, key=lambda r: (r[1] is None, r[1] or datetime.min.replace(tzinfo=timezone.utc), r[0]))


def add_touch_once(conn: Connection, quote_message_id: str, channel: str, *, at: datetime,
                   by: str | None, note: str | None = None) -> bool:
    """:func:`add_touch` unless the thread already has a touch of this channel, time and
    person (a re-read chat export); True when it was added."""
    t = models.Touch
    query = select(t.id).where(t.quote_message_id == quote_message_id, t.channel == channel,
                               t.at == as_utc(at))
    query = query.where(t.by.is_(None) if by is None else t.by == by)
    if conn.scalar(query.limit(1)) is not None:
        return False
    add_touch(conn, quote_message_id, channel, at=at, by=by, note=note)
    return True


def set_aside_item(conn: Connection, account_id: int, provider_id: str, *, reason: str,
                   at: datetime, size: int = 0, folder: str | None = None) -> None:
    """Record (or update) why one item of an account was set aside."""
    s = models.SetAsideMessage
    conn.execute(delete(s).where(s.account_id == account_id, s.provider_id == provider_id))
    conn.execute(s.__table__.insert().values(account_id=account_id, provider_id=provider_id,
                                             folder=folder, size=min(size, 2**31 - 1),
                                             reason=reason, set_aside_at=at))


def clear_set_aside(conn: Connection, account_id: int, provider_id: str) -> None:
    s = models.SetAsideMessage
    conn.execute(delete(s).where(s.account_id == account_id, s.provider_id == provider_id))
