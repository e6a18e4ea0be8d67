"""The CRM sync's queries: the outbox (``crm_outbox``), the links from lead threads to CRM
records (``crm_links``), the sync's state (``crm_state``) and the contacts' phone numbers
the CRM holds (``crm_phones``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, update

from assistant.storage import models
from assistant.storage.models import as_utc
from assistant.storage.repo import chunks

__all__ = ["Entry", "Link", "add_entries", "pending", "entry_done", "entry_failed",
           "links", "save_link", "state", "set_state", "counts", "replace_phones", "phones"]


@dataclass(frozen=True)
class Entry:
    id: int
    key: str
    kind: str
    quote_message_id: str
    payload: dict
    attempts: int


@dataclass(frozen=True)
class Link:
    quote_message_id: str
    deal_id: str
    organisation_id: str | None
    person_id: str | None
    stage: str | None
    owner: str | None


def add_entries(conn: Connection, rows: list[dict], now: datetime) -> int:
    """Queue the writes whose key is not in the outbox yet; how many were new."""
    o = models.CrmOutbox
    wanted = {row["key"]: row for row in rows}
    known: set[str] = set()
    for part in chunks(list(wanted)):
        known.update(conn.scalars(select(o.key).where(o.key.in_(part))))
    new = [{**row, "attempts": 0, "next_attempt_at": as_utc(now), "created_at": as_utc(now)}
           for key, row in wanted.items() if key not in known]
    if new:
        conn.execute(insert(o), new)
    return len(new)


def pending(conn: Connection, now: datetime, limit: int | None = None) -> list[Entry]:
    """The writes due at ``now``, oldest first (a thread's deal before its activities)."""
    o = models.CrmOutbox
    query = (select(o.id, o.key, o.kind, o.quote_message_id, o.payload, o.attempts)
             .where(o.done_at.is_(None), o.next_attempt_at <= as_utc(now)).order_by(o.id))
    if limit is not None:
        query = query.limit(limit)
    return [Entry(*row) for row in conn.execute(query)]


def entry_done(conn: Connection, entry_id: int, now: datetime, note: str | None = None) -> None:
    """Written (``note``: what the CRM could not take, e.g. an owner it has no user for)."""
    o = models.CrmOutbox
    conn.execute(update(o).where(o.id == entry_id).values(
        done_at=as_utc(now), last_error=note, attempts=o.attempts + 1))


def entry_failed(conn: Connection, entry_id: int, error: str, retry_at: datetime) -> None:
    o = models.CrmOutbox
    conn.execute(update(o).where(o.id == entry_id).values(
        last_error=error, attempts=o.attempts + 1, next_attempt_at=as_utc(retry_at)))


def entry_deferred(conn: Connection, entry_id: int, retry_at: datetime) -> None:
    """Wait for something else first (an activity for its deal), no attempt counted."""
    o = models.CrmOutbox
    conn.execute(update(o).where(o.id == entry_id).values(next_attempt_at=as_utc(retry_at)))


def links(conn: Connection, threads=None) -> dict[str, Link]:
    k = models.CrmLink
    query = select(k.quote_message_id, k.deal_id, k.organisation_id, k.person_id, k.stage,
                   k.owner)
    parts = [None] if threads is None else list(chunks(list(threads)))
    out: dict[str, Link] = {}
    for part in parts:
        q = query if part is None else query.where(k.quote_message_id.in_(part))
        out.update((row[0], Link(*row)) for row in conn.execute(q))
    return out


def save_link(conn: Connection, link: Link, now: datetime) -> None:
    k = models.CrmLink
    values = {"deal_id": link.deal_id, "organisation_id": link.organisation_id,
              "person_id": link.person_id, "stage": link.stage, "owner": link.owner,
              "updated_at": as_utc(now)}
    done = conn.execute(update(k).where(k.quote_message_id == link.quote_message_id)
                        .values(**values)).rowcount
    if not done:
        conn.execute(insert(k).values(quote_message_id=link.quote_message_id, **values))


def state(conn: Connection) -> dict[str, str | None]:
    s = models.CrmState
    return {key: value for key, value in conn.execute(select(s.key, s.value))}


def set_state(conn: Connection, **values: str | None) -> None:
    s = models.CrmState
    for key, value in values.items():
        conn.execute(delete(s).where(s.key == key))
        conn.execute(insert(s).values(key=key, value=value))


def counts(conn: Connection) -> dict[str, int]:
    """``pending`` (not done), ``failing`` (not done, with an error), ``done``, ``links``,
    ``phones`` (the numbers the last phone pull read)."""
    o = models.CrmOutbox
    pending_n = conn.scalar(select(func.count()).where(o.done_at.is_(None)))
    failing = conn.scalar(select(func.count()).where(o.done_at.is_(None),
                                                     o.last_error.is_not(None)))
    done = conn.scalar(select(func.count()).where(o.done_at.is_not(None)))
    linked = conn.scalar(select(func.count()).select_from(models.CrmLink))
    numbers = conn.scalar(select(func.count()).select_from(models.CrmPhone))
    return {"pending": pending_n, "failing": failing, "done": done, "links": linked,
            "phones": numbers}


def errors(conn: Connection, limit: int = 5) -> list[tuple[str, str, int]]:
    """``(key, last error, attempts)`` of the failing writes, most attempted first."""
    o = models.CrmOutbox
    return [tuple(r) for r in conn.execute(
        select(o.key, o.last_error, o.attempts).where(o.done_at.is_(None),
                                                      o.last_error.is_not(None))
        .order_by(o.attempts.desc(), o.id).limit(limit))]


def replace_phones(conn: Connection, phones: dict[str, list[str]], now: datetime) -> int:
    """What one phone pull read, in place of the last one's; how many numbers."""
    p = models.CrmPhone
    rows = {(email.lower()[:320], number.strip()[:100]) for email, numbers in phones.items()
            for number in numbers if email and number and number.strip()}
    conn.execute(delete(p))
    if rows:
        conn.execute(insert(p), [{"email": email, "phone": number, "read_at": as_utc(now)}
                                 for email, number in sorted(rows)])
    return len(rows)


def phones(conn: Connection) -> dict[str, list[str]]:
    """``{contact email: [number as the CRM holds it, ...]}`` from the last phone pull."""
    p = models.CrmPhone
    out: dict[str, list[str]] = {}
    for email, number in conn.execute(select(p.email, p.phone).order_by(p.email, p.phone)):
        out.setdefault(email, []).append(number)
    return out
