"""Planning follow-ups: storage, connectors, the planning rules
(:mod:`assistant.domain.followups`) and the templates (:mod:`assistant.drafting`).

``plan`` turns every due protocol step into one follow-up (an email draft saved in the
sender's mailbox, a call task, a WhatsApp message), at most once per (thread, step):

1. the idempotency key of the (thread, step) is looked up in the database: there, done;
2. the follow-up row is inserted and committed *before* the mailbox is touched (one
   transaction per follow-up): the unique key picks the one planner that goes on; a
   concurrent planner loses there and moves on, having saved nothing. An email row is
   inserted claimed (``draft_claim`` token + ``draft_claimed_at``) with ``draft_ref`` NULL;
3. the winner asks the account's connector for a draft carrying that key (``find_draft``):
   a draft saved just before a crash is adopted, not saved again; otherwise the draft is
   saved (``save_draft``); then ``draft_ref`` is recorded and the claim cleared.

A planner that dies between 2 and 3 leaves the row claimed with ``draft_ref`` NULL (one
that fails with an exception releases its claim). The next ``plan`` resumes such rows:
it takes the claim over with a conditional UPDATE (free, or older than ``claim_timeout``:
the rowcount says which resumer won) and does step 3. The status stays ``drafted``
throughout: the claim is internal, not a status of the contract.

Planning reads only the due threads (the read model's ``threads`` rows whose step is due),
their messages, the names, texts and recent contacts of the people involved (indexed
queries in :mod:`assistant.storage.repo`), and compiles each template once: its cost
grows with the follow-ups it makes, not with the mailbox. The claim is
:data:`assistant.storage.claims.DRAFT` (the one take-over rule). Settling follow-ups
whose thread moved on is :mod:`assistant.services.reconcile`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Callable
from uuid import uuid4
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, and_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant.domain.analysis import thread_language
from assistant.domain.followups import (
    Contacted, DueStep, choose_assignee, due_steps, of_this_round, recent_other_contact,
)
from assistant.domain.model import Mail, Rules, ThreadReport
from assistant.domain.words import is_touch
from assistant.drafting import compose, contacts
from assistant.drafting.templates import FORMAL_SUFFIX, TemplateProblem, TemplateSource, choose_language
from assistant.mail.text import own_text as own_words
from assistant.rendering import renderer
from assistant.services.reconcile import reconcile, rules_for
from assistant.services.templates import template_sources
from assistant.settings import Settings
from assistant.storage import claims, models, repo
from assistant.storage.models import as_utc
from assistant.wording import Worded, say, stored, stored_reason
from connectors.base import ConnectorError, DraftMessage

log = logging.getLogger(__name__)

__all__ = ["PlanResult", "DRAFT_CLAIM_TIMEOUT", "plan", "thread_context", "load_world",
           "draft_bytes", "fill_claimed_draft", "take_over_claim", "mailbox_owner",
           "open_connector_for"]

_ES_DAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
_ES_MONTHS = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
              "septiembre", "octubre", "noviembre", "diciembre")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _utc(moment: datetime) -> datetime:
    """Stored times are UTC (SQLite keeps the wall time and drops the offset)."""
    return moment.astimezone(timezone.utc)


def open_connector_for(account):
    """The connector of one ``[[accounts]]`` entry (the app object's)."""
    from assistant.services.sync import open_connector_for as open_for

    return open_for(account)


# --- What one planning run reads -------------------------------------------------------

@dataclass
class _World:
    """What one planning run (or one review action) reads, loaded once: the reports of
    the threads it works on, their messages, and — on demand, cached — the names and
    own texts of the people involved and the recent contacts of the duplicate guard."""

    settings: Settings
    rules: Rules
    engine: Engine
    now: datetime
    reports: list[ThreadReport]
    mails: dict[str, list[Mail]]
    sources: dict[tuple[str, str], TemplateSource]
    names: dict[str, str] = field(default_factory=dict)
    _texts: dict[str, list[str]] = field(default_factory=dict)
    _history: list[Contacted] | None = None

    def thread_mails(self, report: ThreadReport) -> list[Mail]:
        key = report.quote_message_id
        if key not in self.mails:  # a world loaded without them: this thread's, now
            from assistant.services import snapshot

            self.mails.update(snapshot.thread_mails(self.engine, [key]))
            self.mails.setdefault(key, [])
        return self.mails[key]

    def name_of(self, address: str | None) -> str | None:
        if not address:
            return None
        address = address.lower()
        if address not in self.names:
            with self.engine.connect() as conn:
                self.names.update(repo.latest_names(conn, [address]))
            self.names.setdefault(address, None)  # type: ignore[arg-type] - asked, none
        return self.names[address]

    def texts_from(self, address: str | None) -> list[str]:
        if not address:
            return []
        address = address.lower()
        if address not in self._texts:
            with self.engine.connect() as conn:
                self._texts[address] = repo.own_texts(conn, address)
        return self._texts[address]

    def history(self, contact: str | None) -> list[Contacted]:
        """Who wrote to ``contact`` or its domain (or logged a touch on their thread)
        within ``protocol.quiet_days`` before ``now``: the only part of the history the
        duplicate-contact guard can name (it checks the times, senders and domains)."""
        if self._history is None:
            self._history = _recent_contacts(self, self.settings.protocol.quiet_days)
            self._by_recipient: dict[str, list[int]] = {}
            for n, item in enumerate(self._history):
                keys = set()
                for recipient in item.recipients:
                    keys |= {recipient.lower(), "@" + recipient.lower().rpartition("@")[2]}
                for key in keys:
                    self._by_recipient.setdefault(key, []).append(n)
        if not contact:
            return []
        contact = contact.lower()
        found = set(self._by_recipient.get(contact, ())) | set(
            self._by_recipient.get("@" + contact.rpartition("@")[2], ()))
        return [self._history[n] for n in sorted(found)]


def _recent_contacts(world: _World, quiet_days: int) -> list[Contacted]:
    if quiet_days <= 0:
        return []
    # A day of margin each side: the guard itself compares the exact times.
    since = world.now - timedelta(days=quiet_days + 1)
    until = world.now + timedelta(days=1)
    members = {m.email: m.name for m in world.settings.team.members}
    with world.engine.connect() as conn:
        mails = repo.mails_between(conn, since, until)
        touches = repo.touches_between(conn, since, until)
        contact_of = repo.thread_contacts(conn, {t.thread for t in touches})
        touching = [m for m in mails if is_touch(m, world.rules)]
        world.names.update(repo.latest_names(conn, {m.from_addr for m in touching
                                                    if m.from_addr not in members}))
    history = []
    for mail in touching:
        external = tuple(r for r in mail.recipients if world.rules.is_external(r))
        history.append(Contacted(mail.date, mail.from_addr,
                                 members.get(mail.from_addr) or world.names.get(mail.from_addr),
                                 external))
    for touch in touches:
        contact = contact_of.get(touch.thread)
        if contact and touch.by:
            history.append(Contacted(touch.at, touch.by, members.get(touch.by), (contact,)))
    return history


def load_world(settings: Settings, engine: Engine, now: datetime,
               reports: list[ThreadReport] | None = None, *, rules: Rules | None = None,
               preload: bool = True) -> _World:
    """The world of these threads (``None``: every thread at ``now``): with their messages
    and the names of their contacts (``preload``; else each thread's as it is asked for,
    for a reader that looks at a few of many)."""
    from assistant.services import snapshot

    rules = rules or rules_for(settings)
    if reports is None:
        reports = snapshot.reports(engine, rules, now)
    mails = snapshot.thread_mails(engine, [r.quote_message_id for r in reports]) if preload else {}
    world = _World(settings, rules, engine, now, reports, mails,
                   template_sources(engine, settings.templates.folder))
    if preload:
        with engine.connect() as conn:
            world.names.update(repo.latest_names(conn, {r.contact for r in reports if r.contact}))
    return world


def _threads(settings: Settings, engine: Engine, now: datetime, where, rules: Rules):
    from assistant.services import snapshot

    return snapshot.reports(engine, rules, now, where=where)


def _spanish_date(day: datetime) -> str:
    return f"{_ES_DAYS[day.weekday()]} {day.day} de {_ES_MONTHS[day.month - 1]}"


def _reply(report: ThreadReport, language: str | None, zone: ZoneInfo) -> dict | None:
    """The template's ``reply``: the client's last real reply (its local date), ``None``
    before any. A step after one is the cadence started over (a new round): the shipped
    templates follow up on what was said then, not ask whether the quote arrived."""
    if report.last_reply_at is None:
        return None
    when = report.last_reply_at.astimezone(zone)
    return {"date": _spanish_date(when) if language != "en" else _english_date(when)}


def _english_date(day: datetime) -> str:
    return f"{day:%A}, {day:%B} {day.day}"


def _person(settings: Settings, world: _World, email: str) -> dict:
    member = settings.member(email)
    name = member.name if member else (world.name_of(email) or email)
    signature = contacts.signature_of(world.texts_from(email), name)
    if not signature:
        signature = f"{name}\n{settings.company.name}" + (f"\n{member.phone}" if member and member.phone else "")
    return {"name": name, "first_name": name.split()[0] if name else email, "email": email,
            "signature": signature}


def _texts_newest_first(mails: list[Mail], keep) -> list[str]:
    return [m.text for m in sorted(mails, key=lambda m: m.date, reverse=True)
            if m.kind == "message" and keep(m)]


def thread_formal(settings: Settings, world: _World, report: ThreadReport, mails: list[Mail]) -> bool:
    """Whether follow-ups on this thread say "usted": the admins marked the contact
    ``formal``, or both sides write "usted" (our side: this thread's outbound messages;
    theirs: the contact's own messages, any thread), each side's newest form deciding.
    An internal forward ("Lucía, te reenvío…") is not our side speaking to the client."""
    entry = settings.contact(report.contact)
    if entry is not None and entry.formal:
        return True
    rules = world.rules
    ours = [own_words(t) for t in _texts_newest_first(  # outbound: not a forward to a colleague
        mails, lambda m: rules.is_internal(m.from_addr) and any(map(rules.is_external, m.recipients)))]
    theirs = [own_words(t) for t in world.texts_from(report.contact)]
    return contacts.is_formal(ours, theirs)


def thread_context(settings: Settings, world: _World, report: ThreadReport, step: int,
                   channel: str, actor: str, now: datetime) -> tuple[dict, contacts.Phone | None, str | None]:
    """The template variables of one thread, the contact's phone, and the thread language."""
    from assistant.services import people

    mails = world.thread_mails(report)
    language = thread_language(mails, world.rules)
    quote = next((m for m in mails if m.message_id == report.quote_message_id), None)
    contact = report.contact or ""
    with world.engine.connect() as conn:
        who = people.contact(settings, conn, contact, message_ids=[m.message_id for m in mails],
                             texts=world.texts_from(contact))
    first = who.first_name or (contacts.greeting_name(quote.text, contact) if quote else None)
    entry = settings.contact(contact)
    phone = contacts.find_phone([entry.phone] if entry and entry.phone else [],
                                settings.protocol.holidays_country) or contacts.find_phone(
        world.texts_from(contact), settings.protocol.holidays_country,
        prefer_mobile=channel == "whatsapp")
    zone = ZoneInfo(settings.team.timezone)
    sent = (report.quote_sent_at or now).astimezone(zone)
    dates = dates_in(settings, report, language, now)
    context = {
        "contact": {"name": who.name or first, "first_name": first, "email": contact,
                    "company": who.company,
                    "phone": phone.display if phone else None,
                    "formal": language != "en" and thread_formal(settings, world, report, mails)},
        "quote": {"subject": report.subject,
                  "sent_date": dates["sent_date"],
                  "number": contacts.quote_number(report.subject, quote.attachment_names if quote else ()),
                  "attachments": list(quote.attachment_names) if quote else [],
                  # "the quote I sent" only when the one following up sent it (a quote
                  # from a shared mailbox handed to a rep is "the quote we sent").
                  "sent_by_owner": bool(quote and quote.from_addr
                                        and quote.from_addr.lower() == actor.lower())},
        "owner": _person(settings, world, actor),
        "step": {"number": step, "total": len(settings.protocol.steps)},
        "reply": dates["reply"],
        "days_since_quote": max(0, (now.astimezone(zone).date() - sent.date()).days),
        "language": language or "es",
        "company": settings.company.name,
    }
    return context, phone, language


def dates_in(settings: Settings, report: ThreadReport, language: str | None,
             now: datetime) -> dict:
    """The context's dates worded in ``language``: ``sent_date`` (the quote's) and
    ``reply`` (see :func:`_reply`)."""
    zone = ZoneInfo(settings.team.timezone)
    sent = (report.quote_sent_at or now).astimezone(zone)
    return {"sent_date": _spanish_date(sent) if language != "en" else _english_date(sent),
            "reply": _reply(report, language, zone)}


def in_language(context: dict, settings: Settings, report: ThreadReport, language: str | None,
                now: datetime) -> dict:
    """``context`` with its dates worded in ``language``: the template's, which is not the
    thread's when a template exists only in the other language (or a preview asks for
    it) -- never "que te envié el Tuesday, November 3"."""
    dates = dates_in(settings, report, language, now)
    return dict(context, quote=dict(context["quote"], sent_date=dates["sent_date"]),
                reply=dates["reply"])


def choose_template(sources, template: str, language: str | None, formal: bool) -> tuple[str, str | None]:
    """The (template name, language) a follow-up renders: the formal variant when the
    thread is formal and one exists in Spanish, else ``template`` in the thread's language
    (or the other one); language None when the template exists in neither."""
    available = {lang for name, lang in sources if name == template}
    chosen = choose_language(available, language)
    if formal and chosen == "es" and (template + FORMAL_SUFFIX, "es") in sources:
        return template + FORMAL_SUFFIX, "es"
    return template, chosen


# --- Planning ------------------------------------------------------------------------

@dataclass
class PlanResult:
    created: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    reconciled: list[int] = field(default_factory=list)
    """Follow-ups whose email draft was found in the mailbox (saved before a crash)."""
    resumed: list[int] = field(default_factory=list)
    """Email follow-ups an earlier planner claimed but did not finish (it died before its
    draft ref was recorded), finished by this run: draft adopted (also in ``reconciled``)
    or saved now."""
    settled: int = 0
    problems: list = field(default_factory=list)
    """What could not be done, each worded for its reader (``words``: a template's
    problem, a :class:`~assistant.wording.Worded`)."""
    replanned: list[int] = field(default_factory=list)
    """Held follow-ups planned again because their cause is gone (a template fixed, a
    mailbox or a team member added): now drafted, their id kept (also in ``created``)."""
    hold_reasons: dict[int, str] = field(default_factory=dict)
    """Why each follow-up of ``held`` is held (as stored)."""
    unread: dict[str, list[str]] = field(default_factory=dict)
    """account -> the due threads not planned because that mailbox's last sync failed:
    a reply there may be unread, and a follow-up must never chase a client who answered.
    Planned once the mailbox syncs again."""
    mailbox_errors: list[str] = field(default_factory=list)
    """Why a mailbox to draft in could not be opened or written (each once): its due
    follow-ups are planned, or their drafts resumed, by the next plan that can."""


DRAFT_CLAIM_TIMEOUT = claims.DRAFT.timeout
"""How long a planner's claim on a follow-up's email draft holds (real clock): past it,
the planner is taken for dead and the next ``plan`` finishes the draft."""


def _mailbox_of(settings: Settings, *people: str | None):
    for person in people:
        accounts = settings.accounts_of(person) if person else ()
        if accounts:
            return person, accounts[0]
    return None, None


def plan(settings: Settings, engine: Engine, now: datetime, *,
         open_connector: Callable = open_connector_for,
         after_draft_saved: Callable[[str, str], None] | None = None,
         claim_timeout: timedelta = DRAFT_CLAIM_TIMEOUT, rules: Rules | None = None) -> PlanResult:
    """Create the follow-ups that are due at ``now`` (see the module doc), after finishing
    the email drafts that a dead planner claimed and left unsaved or unrecorded.

    ``open_connector(account)`` gives the connector of an ``[[accounts]]`` entry;
    ``after_draft_saved(key, provider_id)`` runs between "saved in the mailbox" and the
    database commit of its ref (progress reporting; tests use it to simulate a crash there).
    ``claim_timeout``: another planner's claim older than this (real clock, not ``now``)
    is a dead planner's and is taken over.
    """
    rules = rules or rules_for(settings)
    result = PlanResult(settled=reconcile(settings, engine, now))
    t = models.ThreadRow
    # Due at ``now`` (a day of margin: the report read at ``now`` decides, exactly).
    due_reports = _threads(settings, engine, now,
                           and_(t.base_status == "open", t.due_at <= _utc(now + timedelta(days=1))),
                           rules)
    with engine.connect() as conn:
        unfinished = repo.unsaved_drafts(conn)
        unread = repo.threads_in_unread_mailboxes(conn, [r.quote_message_id for r in due_reports],
                                                  [a.name for a in settings.accounts])
    for thread, account in unread.items():
        result.unread.setdefault(account, []).append(thread)
    due_reports = [r for r in due_reports if r.quote_message_id not in unread]
    wanted = {r.quote_message_id for r in due_reports}
    extra = [row.quote_message_id for row in unfinished if row.quote_message_id not in wanted]
    resumed_reports = []
    for part in repo.chunks(list(dict.fromkeys(extra))):
        resumed_reports += _threads(settings, engine, now, t.quote_message_id.in_(part), rules)
    world = load_world(settings, engine, now, due_reports + resumed_reports, rules=rules)
    members = {m.email: m.role for m in settings.team.members}
    managers = {m.email: m.manager for m in settings.team.members}
    with engine.connect() as conn:
        existing = repo.followup_keys(conn, wanted)
        legacy = repo.legacy_followups(conn)
        previous = repo.previous_assignees(conn, wanted)
        turn = repo.round_robin_turn(conn)
        retry = {(row.quote_message_id, row.step): row
                 for row in repo.followups_where(conn, statuses=["held"], threads=wanted)
                 if _cause_may_be_gone(row)}
    connectors: dict[str, object] = {}
    try:
        _resume_drafts(settings, engine, world, unfinished, connectors, open_connector,
                       after_draft_saved, claim_timeout, result)
        retried = []
        for due in due_steps(due_reports, set(), now):
            held_row = retry.get((due.report.quote_message_id, due.step))
            if held_row is not None and of_this_round(held_row.key, as_utc(held_row.created_at),
                                                      due.report, due.step, status=held_row.status,
                                                      legacy=held_row.id <= legacy):
                retried.append((due, held_row))  # a held one of an earlier round is not this step
        fresh = [(due, None) for due in due_steps(due_reports, existing, now)]
        for due, held_row in retried + fresh:
            assignment = choose_assignee(due.report.owner, settings.protocol.responsible_role,
                                         members, managers,
                                         previous=previous.get(due.report.quote_message_id), turn=turn)
            if assignment.via == "round_robin":
                turn += 1
            try:
                fid, held = _plan_one(settings, engine, world, due, assignment, now,
                                      connectors, open_connector, after_draft_saved, result,
                                      held_row=held_row)
            except IntegrityError:
                continue  # another planner claimed this (thread, step) first: mailbox untouched
            except ConnectorError as exc:
                # The mailbox to draft in cannot be opened or written (moved, down, signed
                # out): this step is planned (or its draft resumed) once it can; the rest go on.
                log.warning("%s", exc)
                if str(exc) not in result.mailbox_errors:
                    result.mailbox_errors.append(str(exc))
                continue
            if fid is None:
                continue  # a person (or another planner) changed the held one meanwhile
            (result.held if held else result.created).append(fid)
            if held_row is not None and not held:
                result.replanned.append(fid)
    finally:
        for connector in connectors.values():
            connector.close()
    return result


def mailbox_owner(settings: Settings, account) -> str | None:
    return next((m.email for m in settings.team.members
                 if account in settings.accounts_of(m.email)), None)


def _connector(account, connectors: dict, open_connector: Callable):
    if account.name not in connectors:
        connectors[account.name] = open_connector(account)
    return connectors[account.name]


def _cause_may_be_gone(row: models.Followup) -> bool:
    """A held follow-up the planner could not prepare (no text: no template, a template
    error, no one to assign; or an email with no mailbox to draft in), that no person has
    touched since: the next plan prepares it again. One held by the duplicate-contact
    guard (text ready, mailbox known) waits for a person."""
    untouched = as_utc(row.updated_at) == as_utc(row.created_at)
    unprepared = not row.body or (row.channel == "email" and row.account is None)
    return untouched and unprepared


def _plan_one(settings: Settings, engine: Engine, world: _World, due: DueStep, assignment,
              now: datetime, connectors: dict, open_connector: Callable,
              after_draft_saved, result: PlanResult,
              held_row: models.Followup | None = None) -> tuple[int | None, bool]:
    """Plan one due step: a new follow-up row, or (``held_row``) the held one of this
    (thread, step) prepared again in place. ``(None, False)`` when the held one changed
    meanwhile."""
    report = due.report
    assignee = assignment.assignee
    hold: str | None = None
    actor, account = assignee, None
    if due.channel == "email":
        actor, account = _mailbox_of(settings, assignee, report.owner)
        if account is None:
            hold = stored("hold.no_mailbox", who=assignee or report.owner or "?")
            actor = assignee or report.owner
    if actor is None:
        hold = hold or stored("hold.no_assignee")
    row = models.Followup(
        key=due.key, quote_message_id=report.quote_message_id, step=due.step,
        channel=due.channel, assignee=assignee, assigned_via=assignment.via, status="drafted",
        due_at=_utc(due.due_at), created_at=_utc(now), updated_at=_utc(now), contact=report.contact,
        template=due.template, template_version=0, subject="", body="",
        account=account.name if account else None)
    phone = None
    if actor is not None:
        context, phone, language = thread_context(settings, world, report, due.step, due.channel,
                                                  actor, now)
        row.language = language
        name, chosen = choose_template(world.sources, due.template, language,
                                       context["contact"]["formal"])
        if chosen is None:
            hold = hold or stored("hold.no_template", template=due.template)
        else:
            source = world.sources[name, chosen]
            if chosen != language:
                context = in_language(context, settings, report, chosen, now)
            row.template = name
            row.template_version = source.version
            row.language = chosen
            try:
                rendered = renderer().render(source, context)
                row.subject, row.body = rendered.subject, rendered.body
            except TemplateProblem as exc:
                hold = hold or stored("hold.template_error",
                                     error={lang: exc.describe(lang) for lang in ("en", "es")})
                result.problems.append(exc)
    if phone:
        row.phone = phone.e164
    if due.channel == "email":
        row.cc = list(_copied(world, report)) or None
    if due.channel == "email" and row.subject:
        row.subject = compose.reply_subject(row.subject, report.subject)
    elif due.channel == "phone":
        row.link = compose.tel_link(phone.e164 if phone else None)
    elif due.channel == "whatsapp" and row.body:
        row.link = compose.whatsapp_link(phone.digits if phone else None, row.body)
    if due.channel in ("phone", "whatsapp") and phone is None and row.body:
        row.body = row.body.rstrip("\n") + "\n\n" + say(
            "note.no_phone", "en" if row.language == "en" else "es",
            contact=context["contact"]["name"] or report.contact)
    if hold is None:
        other = recent_other_contact(report.contact, assignee, world.history(report.contact), now,
                                     settings.protocol.quiet_days, timezone=settings.team.timezone)
        if other is not None and world.name_of(other.recipient):  # people by name, address beside
            other = replace(other, recipient=f"{world.name_of(other.recipient)} ({other.recipient})")
        hold = stored_reason(other) if other else None
    if hold:
        row.status, row.hold_reason = "held", hold
    elif due.channel == "email":
        # Claimed in the insert below: its unique key makes this planner the only one
        # that touches the mailbox for this (thread, step).
        connector = _connector(account, connectors, open_connector)
        row.draft_message_id = f"<{due.key}@{_domain(actor)}>"
        row.draft_claim, row.draft_claimed_at = uuid4().hex, _now()
    held = row.status == "held"
    if held_row is None:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            session.add(row)
            session.flush()
            fid = row.id
    else:
        fid = _replace_held(engine, held_row, row, now)
        if fid is None:
            return None, False
    if held:
        result.hold_reasons[fid] = row.hold_reason
    if due.channel == "email" and not hold:
        if fill_claimed_draft(engine, row, connector,
                               partial(draft_bytes, settings, world, row, report, actor),
                               after_draft_saved):
            result.reconciled.append(fid)
    return fid, held


_REPLANNED = ("assignee", "assigned_via", "status", "due_at", "contact", "language", "template",
              "template_version", "subject", "body", "link", "phone", "hold_reason", "account",
              "draft_message_id", "draft_claim", "draft_claimed_at", "cc")


def _replace_held(engine: Engine, held_row: models.Followup, row: models.Followup,
                  now: datetime) -> int | None:
    """Write the freshly planned ``row`` over ``held_row`` (same id, key and creation
    time); still held, it stays retryable (``updated_at`` left as it was)."""
    values = {name: getattr(row, name) for name in _REPLANNED}
    values["updated_at"] = held_row.updated_at if row.status == "held" else _utc(now)
    with engine.begin() as conn:
        if not repo.replace_held(conn, held_row.id, values):
            return None
    row.id, row.key, row.created_at = held_row.id, held_row.key, held_row.created_at
    return held_row.id


def fill_claimed_draft(engine: Engine, row: models.Followup, connector,
                        draft_bytes: Callable[[], bytes], after_draft_saved) -> bool:
    """Step 3 of the module doc for a follow-up this planner holds the claim of: adopt the
    draft carrying its key, or save it; record its ref and clear the claim. Return whether
    the draft was adopted. On an exception the claim is released (the next ``plan``
    resumes the row at once); a planner killed outright leaves it until it is stale."""
    try:
        ref = connector.find_draft(row.key)
        adopted = ref is not None
        if not adopted:
            ref = connector.save_draft(DraftMessage(row.key, draft_bytes()))
        if after_draft_saved is not None:
            after_draft_saved(row.key, ref)
        recorded = _end_claim(engine, row, draft_ref=ref)
    except Exception:
        try:
            _end_claim(engine, row)  # released: the next plan resumes the row at once
        except Exception:  # the original error matters more; the claim goes stale anyway
            log.exception("follow-up %s: could not release the draft claim", row.id)
        raise
    if not recorded:
        log.warning("follow-up %s: another planner took over the draft claim (this one was "
                    "slower than the claim timeout); it records the draft", row.id)
    row.draft_ref = ref
    return adopted


def _end_claim(engine: Engine, row: models.Followup, **values) -> int:
    """Clear this planner's claim on ``row``, setting ``values`` too; 0 if it lost it."""
    with engine.begin() as conn:
        return int(claims.release(conn, claims.DRAFT, models.Followup.id == row.id,
                                  row.draft_claim, **values))


def take_over_claim(engine: Engine, fid: int, timeout: timedelta,
                    statuses: tuple[str, ...] = ("drafted",)) -> str | None:
    """Claim an unfinished email follow-up (``draft_ref`` NULL) whose claim is free or
    stale; return the new token, or None when another planner holds it (or finished it)."""
    token = uuid4().hex
    f = models.Followup
    kind = claims.DRAFT if timeout == claims.DRAFT.timeout else claims.Kind(
        f, "draft_claim", since="draft_claimed_at", timeout=timeout)
    with engine.begin() as conn:
        won = claims.take(conn, kind, and_(f.id == fid, f.status.in_(statuses),
                                           f.draft_ref.is_(None)), token, _now())
    return token if won else None


def _resume_drafts(settings: Settings, engine: Engine, world: _World,
                   rows: list[models.Followup], connectors: dict, open_connector: Callable,
                   after_draft_saved, timeout: timedelta, result: PlanResult) -> None:
    """Finish the email follow-ups a dead planner claimed and left without a draft ref."""
    reports = {r.quote_message_id: r for r in world.reports}
    for row in rows:
        account = settings.account(row.account) if row.account else None
        report = reports.get(row.quote_message_id)
        if account is None or report is None:
            result.problems.append(Worded("plan.draft_lost_thread" if account else
                                          "plan.draft_lost_account", fid=row.id,
                                          account=row.account))
            continue
        connector = _connector(account, connectors, open_connector)
        token = take_over_claim(engine, row.id, timeout)
        if token is None:
            continue  # a live planner is on it
        row.draft_claim, row.created_at = token, models.as_utc(row.created_at)
        sender = mailbox_owner(settings, account) or row.assignee
        if fill_claimed_draft(engine, row, connector,
                               partial(draft_bytes, settings, world, row, report, sender),
                               after_draft_saved):
            result.reconciled.append(row.id)
        result.resumed.append(row.id)


def _domain(address: str | None) -> str:
    return (address or "followup.invalid").rpartition("@")[2] or "followup.invalid"


def draft_bytes(settings: Settings, world: _World, row: models.Followup, report: ThreadReport,
                 sender: str) -> bytes:
    from assistant.services import people

    mails = world.thread_mails(report)
    last = _answered(world, report)
    refs: list[str] = []
    if last is not None:
        refs = list(last.references) or ([last.in_reply_to] if last.in_reply_to else [])
    member = settings.member(sender)
    with world.engine.connect() as conn:
        to_name = people.contact(settings, conn, report.contact,
                                 message_ids=[m.message_id for m in mails]).name
        copied = people.names(settings, conn, row.cc or (), [m.message_id for m in mails])
    return compose.email_draft(
        key=row.key, sender=sender, sender_name=member.name if member else None,
        to=report.contact or "", to_name=to_name,
        subject=row.subject, body=row.body,
        in_reply_to=last.message_id if last else report.quote_message_id,
        references=tuple(refs), date=row.created_at, message_domain=_domain(sender),
        cc=[(copied[address].name if address in copied else None, address)
            for address in row.cc or ()])


def _answered(world: _World, report: ThreadReport):
    """The message an email follow-up of this thread replies to (its In-Reply-To)."""
    rules = world.rules
    return compose.reply_target(world.thread_mails(report), lambda m: rules.is_external(
        m.from_addr) or any(map(rules.is_external, m.recipients)))


def _copied(world: _World, report: ThreadReport) -> tuple[str, ...]:
    """Whom an email follow-up of this thread copies: the client's people on the message
    it answers, but for the contact and any address that bounced in the thread."""
    bounced = [a for m in world.thread_mails(report) for a in m.bounced_recipients]
    return compose.reply_cc(_answered(world, report), report.contact,
                            external=world.rules.is_external, left_out=bounced)


