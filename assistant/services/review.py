"""Reviewing follow-ups: list, show, approve (saving a held email's draft; sending it
when ``protocol.auto_send`` and the connector can), skip, edit (the draft in the mailbox
replaced too), log a call or WhatsApp touch, and the template variables of a real thread
(``templates preview --thread``). Never sends without approval, never twice: the status
moves in one conditional update, and a draft is saved under the planners' own claim."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from types import SimpleNamespace
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from assistant.domain.followups import PENDING
from assistant.domain.model import ThreadReport
from assistant.drafting import compose
from assistant.drafting.templates import TemplateProblem, split_subject
from assistant.services.planning import (
    DRAFT_CLAIM_TIMEOUT, draft_bytes, fill_claimed_draft, load_world, mailbox_owner,
    in_language, open_connector_for, take_over_claim, thread_context,
)
from assistant.services.reconcile import reconcile, rules_for, trash_cancelled_drafts
from assistant.settings import Settings
from assistant.storage import models, repo
from assistant.wording import Worded, both, reason_words, say, stored
from connectors.base import ConnectorError, DraftMessage, DraftSender, DraftUpdater

__all__ = ["FollowupError", "Approval", "as_json", "thread_ids", "short_thread_id", "list_followups", "get", "approve", "skip",
           "edit_text", "save_edit", "touch", "find_thread", "preview_context"]


class FollowupError(Worded):
    """A review action that cannot be done (unknown id, wrong state, empty edit): a
    catalogue code and its values (``exc.words(language)``), or a sentence."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


def _thread(settings: Settings, engine: Engine, quote_message_id: str, now: datetime):
    """The world of one thread: its report and messages."""
    from assistant.services import snapshot

    rules = rules_for(settings)
    reports = snapshot.reports(engine, rules, now,
                               where=models.ThreadRow.quote_message_id == quote_message_id)
    if not reports:
        raise FollowupError("review.thread_gone", thread=quote_message_id)
    return load_world(settings, engine, now, reports, rules=rules), reports[0]


def as_json(row: models.Followup, timezone: str | None = None,
            thread_ids: dict[str, str] | None = None, language: str = "en") -> dict:
    """The contract's shape; times in the team's time zone (like ``scan --json``);
    ``thread_ids``: the short id of each thread (:func:`thread_ids`); the hold reason
    worded in ``language``."""
    due = models.as_utc(row.due_at)
    if due is not None and timezone:
        due = due.astimezone(ZoneInfo(timezone))
    return {"id": row.id, "thread_id": thread_ids.get(row.quote_message_id) if thread_ids else None,
            "quote_message_id": row.quote_message_id, "step": row.step,
            "channel": row.channel, "assignee": row.assignee, "status": row.status,
            "due_at": due.isoformat() if due else None, "subject": row.subject,
            "body": row.body, "link": row.link,
            "hold_reason": reason_words(row.hold_reason, language), "cc": list(row.cc or ())}


def thread_ids(engine: Engine, rows) -> dict[str, str]:
    """quote Message-ID -> the short thread id shown for it, for these follow-ups."""
    from assistant.domain.ids import thread_digest

    digests = {row.quote_message_id: thread_digest(row.quote_message_id) for row in rows}
    with engine.connect() as conn:
        shown = repo.short_ids(conn, digests.values())
    return {quote: shown.get(digest, digest) for quote, digest in digests.items()}


def short_thread_id(engine: Engine, quote_message_id: str) -> str:
    """The short id a person knows a thread by (`scan`'s ID column)."""
    return thread_ids(engine, [SimpleNamespace(quote_message_id=quote_message_id)])[quote_message_id]


def list_followups(engine: Engine, *, status: str | None = None) -> list[models.Followup]:
    with engine.connect() as conn:
        return repo.followups_where(conn, statuses=[status] if status else None)


def get(engine: Engine, fid: int) -> models.Followup:
    with Session(engine, expire_on_commit=False) as session:
        row = session.get(models.Followup, fid)
        if row is None:
            raise FollowupError("review.no_followup", fid=fid)
        return row


def _change(engine: Engine, fid: int, allowed: tuple[str, ...], verb: str,
            apply: Callable[[models.Followup], None], *,
            requeue: bool = False) -> models.Followup:
    """``apply`` to follow-up ``fid`` if its status is one of ``allowed``. ``requeue``: the
    change moves its thread's cadence on: its thread is queued for the read model in the
    same transaction."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        row = session.get(models.Followup, fid)
        if row is None:
            raise FollowupError("review.no_followup", fid=fid)
        if row.status not in allowed:
            raise FollowupError("review.wrong_state", fid=fid, status=both(f"followup.{row.status}"),
                                verb=both(f"verb.{verb}"))
        apply(row)
        if requeue:
            session.flush()
            repo.queue_thread(session.connection(), row.quote_message_id)
        return row


@dataclass
class Approval:
    row: models.Followup
    code: str
    """What to do next, a catalogue code (``review.draft_in_mailbox``), with ``values``."""
    values: dict = field(default_factory=dict)

    def words(self, language: str | None = "en") -> str:
        return say(self.code, language, **self.values)

    @property
    def note(self) -> str:
        """In English (``words`` in the reader's language)."""
        return self.words("en")


def _reason(text: str | None) -> dict[str, str]:
    """A stored hold reason in every language (a value of another message)."""
    return {language: reason_words(text, language) or "" for language in ("en", "es")}


def approve(settings: Settings, engine: Engine, fid: int, *, by: str | None = None,
            now: datetime | None = None,
            open_connector: Callable = open_connector_for) -> Approval:
    """Approve a follow-up. A held email follow-up gets its draft saved now. With
    ``protocol.auto_send``, an approved email is sent when its connector has a transport."""
    now = now or _now()
    row = get(engine, fid)
    if row.status not in ("held", "drafted"):
        raise FollowupError("review.wrong_state", fid=fid, status=both(f"followup.{row.status}"),
                            verb=both("verb.approved"))
    if not row.body.strip():
        raise FollowupError("review.no_text", fid=fid, reason=_reason(row.hold_reason))
    note: tuple[str, dict] = ("review.no_link", {})
    connector = None
    try:
        if row.channel == "email":
            account = settings.account(row.account) if row.account else None
            if account is None:
                raise FollowupError("review.no_mailbox", fid=fid, reason=_reason(row.hold_reason)
                                    if row.hold_reason else both("review.no_mailbox_to_draft"))
            connector = open_connector(account)
            if row.draft_ref is None:
                # No draft yet (a held follow-up, or one a planner is saving right now):
                # take the same claim planners take, so the draft is saved exactly once.
                token = take_over_claim(engine, fid, DRAFT_CLAIM_TIMEOUT, ("drafted", "held"))
                if token is None:
                    raise FollowupError("review.being_drafted", fid=fid)
                row.draft_claim = token
                world, report = _thread(settings, engine, row.quote_message_id, now)
                member = mailbox_owner(settings, account) or row.assignee
                fill_claimed_draft(engine, row, connector,
                                   partial(draft_bytes, settings, world, row, report, member), None)
            if settings.protocol.auto_send and isinstance(connector, DraftSender):
                return _approve_and_send(settings, engine, fid, connector, row.draft_ref,
                                         account.name, by=by, now=now)
            if settings.protocol.auto_send:
                note = ("review.auto_send_cannot", {"account": account.name, "kind": account.kind})
            else:
                note = ("review.draft_in_mailbox", {"account": account.name})
        elif row.link:
            note = ("review.do_it_now", {"link": row.link})
    finally:
        if connector is not None:
            connector.close()
    return Approval(_change(engine, fid, ("held", "drafted"), "approved",
                            _approved(row.draft_ref, by, now)), *note)


def _approved(draft_ref: str | None, by: str | None, now: datetime) -> Callable[[models.Followup], None]:
    def apply(r: models.Followup) -> None:
        r.status, r.draft_ref, r.decided_by, r.updated_at = "approved", draft_ref, by, _utc(now)
        r.hold_reason = None
    return apply


def _approve_and_send(settings: Settings, engine: Engine, fid: int, connector, draft_ref: str,
                      account_name: str, *, by: str | None, now: datetime) -> Approval:
    """Send an approved email exactly once, and only if it should still go out.

    The stop rules are applied first (a reply that arrived since the draft was made
    cancels it instead). Then the row moves held/drafted -> approved in one conditional
    update: of two people approving at once, only the one whose update succeeded sends.
    A failed send moves it back to drafted, so approving again retries it."""
    reconcile(settings, engine, now)
    _change(engine, fid, ("held", "drafted"), "approved", _approved(draft_ref, by, now))
    try:
        connector.send_draft(draft_ref)
    except ConnectorError as exc:
        def back(r: models.Followup) -> None:
            r.status, r.updated_at = "drafted", _utc(now)
        _change(engine, fid, ("approved",), "reverted", back)
        raise FollowupError("review.not_sent", fid=fid, error=str(exc), account=account_name) from None

    def sent(r: models.Followup) -> None:
        r.status, r.updated_at = "sent", _utc(now)
    return Approval(_change(engine, fid, ("approved",), "sent", sent), "review.sent_from",
                    {"account": account_name})


def skip(engine: Engine, fid: int, *, reason: str | None = None, by: str | None = None,
         now: datetime | None = None, settings: Settings | None = None) -> models.Followup:
    """The rep decided against this step: it is ``skipped`` and the thread's cadence moves
    on to the next step, due its ``after_days`` after the skip (``ThreadMark.skipped``);
    an email draft goes to the Trash (:func:`assistant.services.reconcile.
    trash_cancelled_drafts`): at once with ``settings`` (the mailboxes), so a skipped
    draft never waits in Drafts ready to send; else at the next sync, plan or list."""
    now = now or _now()

    def apply(r: models.Followup) -> None:
        r.status, r.closed_reason, r.decided_by, r.updated_at = (
            "skipped", reason or stored("skip.by_rep"), by, _utc(now))
    row = _change(engine, fid, PENDING, "skipped", apply, requeue=True)
    if settings is not None and row.channel == "email" and row.draft_ref:
        trash_cancelled_drafts(settings, engine, now)
        row = get(engine, fid)
    return row


def edit_text(row: models.Followup) -> str:
    """What ``drafts edit`` puts in the editor."""
    return f"Subject: {row.subject}\n\n{row.body}"


def save_edit(settings: Settings, engine: Engine, fid: int, text: str, *,
              now: datetime | None = None,
              open_connector: Callable = open_connector_for) -> models.Followup:
    """Store an edited follow-up (``Subject:`` line, blank line, body). An empty body is
    refused. An email draft already in the mailbox is replaced there too."""
    now = now or _now()
    row = get(engine, fid)
    if row.status not in PENDING:
        raise FollowupError("review.wrong_state", fid=fid, status=both(f"followup.{row.status}"),
                            verb=both("verb.edited"))
    try:
        subject, body = split_subject(text, f"#{fid}")
    except TemplateProblem as exc:
        raise FollowupError("review.not_saved", error={lang: exc.describe(lang) for lang in ("en", "es")}) from None
    if row.channel == "email":
        subject = compose.reply_subject(subject, subject)
    link = row.link
    if row.channel == "whatsapp" and row.phone:
        link = compose.whatsapp_link(row.phone.lstrip("+"), body)
    ref = row.draft_ref
    if row.channel == "email" and ref:
        account = settings.account(row.account) if row.account else None
        connector = open_connector(account)
        try:
            if not isinstance(connector, DraftUpdater):
                raise FollowupError("review.cannot_replace", kind=account.kind)
            world, report = _thread(settings, engine, row.quote_message_id, now)
            row.subject, row.body = subject, body
            sender = mailbox_owner(settings, account) or row.assignee
            ref = connector.update_draft(ref, DraftMessage(
                row.key, draft_bytes(settings, world, row, report, sender)))
        finally:
            connector.close()

    def apply(r: models.Followup) -> None:
        r.subject, r.body, r.link, r.draft_ref, r.updated_at = subject, body, link, ref, _utc(now)
    return _change(engine, fid, PENDING, "edited", apply)


def touch(settings: Settings, engine: Engine, thread: str, channel: str, *,
          note: str | None = None, by: str | None = None, now: datetime | None = None) -> tuple[str, int]:
    """Log a call or WhatsApp touch on a thread; return (quote_message_id, follow-ups closed).

    ``thread``: the short thread id (``followup scan`` and ``drafts list`` show it) or a
    longer prefix of it, the quote's Message-ID, with or without ``<>``, or an
    unambiguous prefix of it (:func:`assistant.services.outcomes.resolve`)."""
    now = now or _now()
    if channel not in ("phone", "whatsapp"):
        raise FollowupError("review.bad_channel")
    report = _named(settings, engine, thread, now)
    if by is None:
        pending = [r for r in list_followups(engine) if r.quote_message_id == report.quote_message_id
                   and r.status in PENDING]
        by = pending[-1].assignee if pending else report.owner
    with engine.begin() as conn:
        repo.add_touch(conn, report.quote_message_id, channel, at=now, by=by, note=note)
    return report.quote_message_id, reconcile(settings, engine, now)


def _named(settings: Settings, engine: Engine, thread: str, now: datetime) -> ThreadReport:
    """The thread ``thread`` names (:func:`assistant.services.outcomes.resolve`: a short
    id, a Message-ID or a prefix of either); a :class:`FollowupError` naming the
    candidates otherwise."""
    from assistant.services.outcomes import ActionError, report_of, resolve

    try:
        return report_of(settings, engine, resolve(settings, engine, thread), now)
    except ActionError as exc:
        raise FollowupError(exc.code, **exc.values) from None


def find_thread(reports: list[ThreadReport], thread: str) -> ThreadReport:
    """The thread whose quote Message-ID is ``thread`` (with or without ``<>``) or starts
    with it (unambiguously)."""
    wanted = thread.strip().strip("<>").lower()
    matches = [r for r in reports if r.quote_message_id.strip("<>").lower() == wanted]
    if not matches and wanted:
        matches = [r for r in reports if r.quote_message_id.strip("<>").lower().startswith(wanted)]
    if not matches:
        raise FollowupError("review.no_thread", thread=thread)
    if len(matches) > 1:
        raise FollowupError("review.ambiguous_thread", thread=thread, n=len(matches))
    return matches[0]


def preview_context(settings: Settings, engine: Engine, thread: str, now: datetime, *,
                    template_language: str | None = None) -> tuple[dict, str]:
    """The template variables of a real thread (``templates preview --thread``), and the
    thread's language; ``template_language``: the template's, the dates worded in it."""
    report = _named(settings, engine, thread, now)
    world = load_world(settings, engine, now, [report])
    step = report.next_step.number if report.next_step else min(report.touches + 1, len(settings.protocol.steps))
    actor = report.owner or next((m.email for m in settings.team.members), None)
    context, _, language = thread_context(settings, world, report, step,
                                          report.next_step.channel if report.next_step else "email",
                                          actor, now)
    if template_language is not None:
        context = in_language(context, settings, report, template_language, now)
    return context, language or "es"
