"""CRM sync: every lead thread a deal in the team's CRM, its touches and replies activities
on it; what people change there (won / lost, a new owner) back into Followup.

One sync is three steps (:func:`sync`):

1. **Queue** (:func:`enqueue`): the read model's lead threads become outbox rows
   (``crm_outbox``), each keyed by what it writes -- ``deal:<Message-ID>:<digest of its
   fields>`` (a thread whose owner, stage or title changed queues one new row; an
   unchanged thread none) and ``activity:<Message-ID>:<kind>:<time>`` (the quote, each
   follow-up email, call and WhatsApp touch, each client reply). A key already in the
   outbox is never queued again, so a rerun queues nothing.
2. **Push** (:func:`push`): the due rows, oldest first, through the connector, whose
   every write is an upsert found by a key stored on the CRM record (the deal's
   Message-ID, the activity's own key): a crash after the CRM wrote and before the row
   was marked done, rerun, finds the record and makes no second one. A CRM that is
   down, throttling or refusing our credentials stops the push (the rows wait, retried
   with backoff; the status says why); a write the CRM refuses is retried later and
   the others go on.
3. **Pull** (:func:`pull`): the deals changed since the cursor; one that is now won or
   lost closes its thread (an outcome mark, as ``followup mark`` would: the follow-ups
   are settled by reconcile), a new owner is an explicit owner mark. Then
   (:func:`pull_phones`) the phone numbers the CRM holds for the lead threads' contacts,
   stored in place of the last pull's (``crm_phones``): WhatsApp chats are matched on them
   (``services/whatsapp.py``). A CRM that fails this read leaves the last pull's numbers;
   one that refuses it (a field it lacks) is a warning, the rest of the sync stands.

The rest of the product never waits for the CRM: a failed sync is stored in
``crm_state`` (:func:`status`) and the next one picks up where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine

from assistant.domain.model import Rules, ThreadReport
from assistant.domain.timeline import TouchEntry, timeline
from assistant.services import snapshot
from assistant.storage import crm as store
from assistant.settings import Settings
from assistant.storage import repo
from assistant.wording import Worded, stored
from connectors.crm import (CRM, Activity, AuthExpired, CRMError, Deal, Organisation,
                            Person, Rejected, Throttled)

__all__ = ["SyncResult", "CrmStatus", "CrmSetupError", "enqueue", "push", "pull", "pull_phones",
           "sync", "status", "stage_of", "open_crm", "BY"]

BY = "crm"
"""Who a mark pulled from the CRM is ``by`` (``thread_marks.updated_by``)."""

ACTIVITY_KINDS = {"quote": "quote", "sent": "followup", "reply": "reply",
                  "touch_phone": "call", "touch_whatsapp": "whatsapp"}
"""Timeline events that become CRM activities -> the activity's kind."""

MAX_BACKOFF = timedelta(hours=6)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 ... minutes after each failed attempt, at most six hours."""
    return min(timedelta(minutes=2 ** max(attempts, 0)), MAX_BACKOFF)


def stage_of(report: ThreadReport) -> str:
    """Our stage of a thread: ``won`` / ``lost`` when marked so (or the client declined),
    else ``open``."""
    if report.closed_code == "marked" and report.closed_value in ("won", "lost"):
        return report.closed_value
    if report.closed_code == "declined":
        return "lost"
    return "open"


def _digest(payload: dict) -> str:
    return hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _deal_payload(report: ThreadReport, names: dict[str, str]) -> dict:
    contact = (report.contact or "").lower() or None
    domain = contact.split("@", 1)[1] if contact and "@" in contact else None
    return {"title": report.subject or report.quote_message_id, "contact": contact,
            "contact_name": names.get(contact) if contact else None, "organisation": domain,
            "opened_on": report.quote_sent_at.date().isoformat() if report.quote_sent_at else None,
            "owner": report.owner, "stage": stage_of(report)}


def enqueue(engine: Engine, rules: Rules, now: datetime) -> int:
    """Queue every lead thread's writes not queued before; how many rows are new."""
    reports = snapshot.reports(engine, rules, now)
    ids = [r.quote_message_id for r in reports]
    mails = snapshot.thread_mails(engine, ids)
    rows: list[dict] = []
    with engine.connect() as conn:
        touches: dict[str, list[TouchEntry]] = {}
        for touch in repo.load_touches(conn, ids):
            touches.setdefault(touch.thread, []).append(
                TouchEntry(touch.at, touch.channel, touch.by))
        names = repo.latest_names(conn, [r.contact for r in reports if r.contact])
    for report in reports:
        qid = report.quote_message_id
        payload = _deal_payload(report, names)
        rows.append({"key": f"deal:{qid}:{_digest(payload)}", "kind": "deal",
                     "quote_message_id": qid, "payload": payload})
        for event in timeline(mails.get(qid, []), rules, qid, touches=touches.get(qid, [])):
            kind = ACTIVITY_KINDS.get(event.kind)
            if kind is None:
                continue
            at = event.at.isoformat()
            rows.append({"key": f"activity:{qid}:{kind}:{at}", "kind": "activity",
                         "quote_message_id": qid,
                         "payload": {"kind": kind, "at": at, "by": event.who,
                                     "summary": (event.subject + "\n" + event.text).strip()[:2000]}})
    with engine.begin() as conn:
        return store.add_entries(conn, rows, now)


@dataclass
class SyncResult:
    queued: int = 0
    pushed: int = 0
    failed: int = 0
    closed: list[str] = field(default_factory=list)
    """Threads the CRM closed (won / lost) in this sync."""
    reassigned: list[str] = field(default_factory=list)
    error: str | None = None
    """Why the CRM stopped this sync (down, throttled, re-authenticate), or ``None``."""
    reauthenticate: bool = False
    warnings: list[str] = field(default_factory=list)
    """What the CRM could not take but the rest went in (an owner it has no user for)."""
    waiting_until: str | None = None
    """The CRM failed (this sync or an earlier one): nothing is sent before this time."""
    phones: int | None = None
    """How many of the contacts' phone numbers the CRM gave (``None``: not read this sync;
    the numbers of the last pull stay)."""

    def as_dict(self) -> dict:
        return {"queued": self.queued, "pushed": self.pushed, "failed": self.failed,
                "warnings": self.warnings, "waiting_until": self.waiting_until,
                "closed": self.closed, "reassigned": self.reassigned, "error": self.error,
                "reauthenticate": self.reauthenticate, "phones": self.phones}


def _push_deal(crm: CRM, entry: store.Entry) -> tuple[store.Link, list[str]]:
    p = entry.payload
    problems: list[str] = []
    org = crm.upsert_organisation(Organisation(p["organisation"], p["organisation"])) \
        if p.get("organisation") else None
    person = crm.upsert_person(Person(p["contact"], p.get("contact_name"), org)) \
        if p.get("contact") else None
    opened = datetime.fromisoformat(p["opened_on"]).date() if p.get("opened_on") else None
    deal_id = crm.upsert_deal(Deal(entry.quote_message_id, p["title"], org, person, opened))
    owner = p.get("owner")
    if owner and not crm.set_owner(deal_id, owner):
        problems.append(f"no CRM user has the email {owner}")
        owner = None
    crm.set_stage(deal_id, p["stage"])
    return store.Link(entry.quote_message_id, deal_id, org, person, p["stage"], owner), problems


def push(engine: Engine, crm: CRM, now: datetime, result: SyncResult,
         on_write: Callable[[store.Entry], None] | None = None) -> None:
    """Write the due outbox rows (see the module doc); stops at a CRM that is down."""
    with engine.connect() as conn:
        entries = store.pending(conn, now)
        known = store.links(conn, {e.quote_message_id for e in entries})
    for entry in entries:
        try:
            if entry.kind == "deal":
                link, problems = _push_deal(crm, entry)
                known[entry.quote_message_id] = link
                with engine.begin() as conn:
                    store.save_link(conn, link, now)
                    store.entry_done(conn, entry.id, now, "; ".join(problems) or None)
                result.warnings.extend(problems)
            else:
                link = known.get(entry.quote_message_id)
                if link is None:  # its deal is not in the CRM yet: after the deal's row
                    with engine.begin() as conn:
                        store.entry_deferred(conn, entry.id, now + backoff(0))
                    continue
                p = entry.payload
                crm.log_activity(Activity(entry.key, link.deal_id, p["kind"],
                                          datetime.fromisoformat(p["at"]), p.get("summary") or "",
                                          p.get("by")))
                with engine.begin() as conn:
                    store.entry_done(conn, entry.id, now)
            result.pushed += 1
            if on_write is not None:
                on_write(entry)
        except Rejected as exc:
            result.failed += 1
            with engine.begin() as conn:
                store.entry_failed(conn, entry.id, str(exc), now + backoff(entry.attempts))
        except CRMError as exc:
            retry = now + backoff(entry.attempts)
            if isinstance(exc, Throttled) and exc.retry_after:
                retry = now + timedelta(seconds=exc.retry_after)
            with engine.begin() as conn:
                store.entry_failed(conn, entry.id, str(exc), retry)
            raise


def _mark_from_crm(conn: Connection, quote_message_id: str, outcome: str | None, now: datetime) -> None:
    """A won / lost deal in the CRM is a ``mark`` of the thread's history by ``crm`` (a
    person can undo it like their own); a deal reopened there undoes the marks not undone."""
    if outcome:
        repo.add_action(conn, quote_message_id, "mark", outcome, at=now, by=BY)
    else:
        while repo.undo_action(conn, quote_message_id, "mark", at=now, by=BY) is not None:
            pass
    repo.settle_actions(conn, quote_message_id, at=now, by=BY)


def pull(engine: Engine, crm: CRM, now: datetime, result: SyncResult) -> list[str]:
    """Read the deals changed since the cursor; mark what people changed in the CRM.
    The threads it marked (their follow-ups to settle)."""
    with engine.connect() as conn:
        cursor = store.state(conn).get("cursor")
    changes = crm.changes_since(cursor)
    with engine.connect() as conn:
        by_deal = {link.deal_id: link for link in store.links(conn).values()}
    touched: list[str] = []
    with engine.begin() as conn:
        for change in changes.changes:
            link = by_deal.get(change.deal_id)
            if link is None or (change.key and change.key != link.quote_message_id):
                continue  # a deal Followup did not make
            stage, owner = link.stage, link.owner
            if change.stage != link.stage:
                outcome = change.stage if change.stage in ("won", "lost") else None
                _mark_from_crm(conn, link.quote_message_id, outcome, now)
                stage = change.stage
                if outcome:
                    result.closed.append(link.quote_message_id)
            if change.owner_email and change.owner_email != (link.owner or "").lower():
                repo.save_mark(conn, link.quote_message_id, at=now, by=BY,
                               owner=change.owner_email)
                owner = change.owner_email
                result.reassigned.append(link.quote_message_id)
            if (stage, owner) != (link.stage, link.owner):
                store.save_link(conn, store.Link(link.quote_message_id, link.deal_id,
                                                 link.organisation_id, link.person_id,
                                                 stage, owner), now)
                touched.append(link.quote_message_id)
        store.set_state(conn, cursor=changes.cursor)
    return touched


def pull_phones(engine: Engine, crm: CRM, now: datetime, result: SyncResult) -> None:
    """Read the phone numbers the CRM holds for the lead threads' contacts and store them
    in place of the last pull's. A CRM refusing the read (:class:`Rejected`: a field or a
    filter it does not take) is a warning; any other :class:`CRMError` is raised. Either
    way the last pull's numbers stay."""
    with engine.connect() as conn:
        emails = repo.lead_contacts(conn)
    try:
        found = crm.contact_phones(emails) if emails else {}
    except Rejected as exc:
        result.warnings.append(stored("crm.phones_not_read", error=str(exc)))
        return
    with engine.begin() as conn:
        result.phones = store.replace_phones(conn, found, now)
        store.set_state(conn, phones_read_at=now.isoformat())


def sync(engine: Engine, rules: Rules, crm: CRM, now: datetime, *,
         reconcile: Callable[[list[str]], object] | None = None,
         on_write: Callable[[store.Entry], None] | None = None,
         retry: bool = False) -> SyncResult:
    """Queue, push, pull (the module doc); the outcome stored for :func:`status`.
    ``reconcile``: called with the threads the pull marked (settles their follow-ups).
    A CRM that was down (or throttling, or refusing us) is left alone until its backoff
    ends (``crm_state.retry_at``; ``retry``: try now anyway): the threads are still
    queued, nothing is sent."""
    result = SyncResult()
    with engine.connect() as conn:
        state = store.state(conn)
    failures = int(state.get("failures") or 0)
    waiting = state.get("retry_at")
    reading_phones = False
    try:
        snapshot.ensure_current(engine, rules)
        result.queued = enqueue(engine, rules, now)
        if waiting and not retry and now < datetime.fromisoformat(waiting):
            result.waiting_until = waiting
            result.error = state.get("last_error")
            result.reauthenticate = bool(state.get("reauthenticate"))
            return result
        push(engine, crm, now, result, on_write)
        touched = pull(engine, crm, now, result)
        if touched:
            snapshot.ensure_current(engine, rules)
            if reconcile is not None:
                reconcile(touched)
        reading_phones = True
        pull_phones(engine, crm, now, result)
    except CRMError as exc:
        result.error = stored("crm.phones_not_read", error=str(exc)) if reading_phones \
            else str(exc)
        result.reauthenticate = isinstance(exc, AuthExpired)
        failures += 1
        delay = backoff(failures - 1)
        if isinstance(exc, Throttled) and exc.retry_after:
            delay = timedelta(seconds=exc.retry_after)
        result.waiting_until = (now + delay).isoformat()
    finally:
        crm.close()
    if result.error is None:
        failures = 0
    with engine.begin() as conn:
        values = {"last_sync_at": now.isoformat(), "last_error": result.error,
                  "reauthenticate": "1" if result.reauthenticate else None,
                  "failures": str(failures), "retry_at": result.waiting_until}
        if result.error is None:
            values["last_success_at"] = now.isoformat()
        store.set_state(conn, **values)
    return result


@dataclass(frozen=True)
class CrmStatus:
    last_sync_at: str | None
    last_success_at: str | None
    last_error: str | None
    reauthenticate: bool
    retry_at: str | None
    pending: int
    failing: int
    done: int
    links: int
    errors: list[tuple[str, str, int]]
    phones: int = 0
    """The contacts' numbers the last phone pull read (WhatsApp chats match on them)."""
    phones_read_at: str | None = None

    def as_dict(self) -> dict:
        return {"last_sync_at": self.last_sync_at, "last_success_at": self.last_success_at,
                "last_error": self.last_error, "reauthenticate": self.reauthenticate,
                "retry_at": self.retry_at, "pending": self.pending, "failing": self.failing, "done": self.done,
                "deals": self.links, "phones": self.phones, "phones_read_at": self.phones_read_at,
                "errors": [{"key": k, "error": e, "attempts": a} for k, e, a in self.errors]}


def status(engine: Engine) -> CrmStatus:
    with engine.connect() as conn:
        state = store.state(conn)
        counts = store.counts(conn)
        errors = store.errors(conn)
    return CrmStatus(state.get("last_sync_at"), state.get("last_success_at"),
                     state.get("last_error"), bool(state.get("reauthenticate")),
                     state.get("retry_at"), counts["pending"], counts["failing"], counts["done"], counts["links"],
                     errors, counts["phones"], state.get("phones_read_at"))


class CrmSetupError(Worded):
    """``[crm]`` names a CRM this build cannot reach, or its secret is not set (exit 2);
    worded in the reader's language by :meth:`words`."""


def open_crm(settings: Settings, environ: Mapping[str, str] = os.environ) -> CRM:
    """The connector ``[crm]`` describes, its secret read from the environment."""
    crm = settings.crm
    if crm is None:
        raise CrmSetupError("crm.not_configured", file=str(settings.path))
    if crm.kind not in ("tryton", "odoo", "hubspot"):
        raise CrmSetupError("crm.kind_not_connected", kind=crm.kind, file=str(settings.path))
    variable = crm.api_key_env if crm.kind in ("odoo", "hubspot") and crm.api_key_env else \
        (crm.password_env or crm.api_key_env)
    secret = environ.get(variable or "")
    if not secret:
        raise CrmSetupError("crm.secret_missing", variable=variable)
    if crm.kind == "hubspot":
        from connectors.crm.hubspot import HubSpotCRM

        return HubSpotCRM(crm.url, secret, stages=dict(crm.stages), pipeline=crm.pipeline or "default")
    if crm.kind == "odoo":
        from connectors.crm.odoo import OdooCRM

        return OdooCRM(crm.url, crm.database, secret, api=crm.api, login=crm.username)
    from connectors.crm.tryton import TrytonCRM

    return TrytonCRM(crm.url, crm.database, crm.username, secret, stages=dict(crm.stages))
