"""Follow-ups: the service layer between storage, connectors, the planning rules
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

``reconcile`` applies the stop rules and closes follow-ups whose step was taken; it runs
after every sync and before planning and listing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Callable
from uuid import uuid4
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant import service
from assistant.domain.analysis import thread_language
from assistant.domain.words import is_touch
from assistant.domain.followups import (
    PENDING, Contacted, DueStep, choose_assignee, due_steps, recent_other_contact, settle,
)
from assistant.domain.model import Mail, ThreadReport
from assistant.drafting import compose, contacts
from assistant.drafting.templates import (
    LANGUAGES, TemplateProblem, TemplateSource, choose_language, file_templates, split_subject,
    stored_form, stored_text,
)
from assistant.rendering import renderer
from assistant.storage import repo
from assistant.settings import Settings
from assistant.storage import models
from assistant.wording import settled_reason
from connectors.base import ConnectorError, DraftMessage, DraftSender, DraftUpdater

log = logging.getLogger(__name__)

_ES_DAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
_ES_MONTHS = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
              "septiembre", "octubre", "noviembre", "diciembre")


class FollowupError(Exception):
    """A review action that cannot be done (unknown id, wrong state, empty edit)."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _utc(moment: datetime) -> datetime:
    """Stored times are UTC (SQLite keeps the wall time and drops the offset)."""
    return moment.astimezone(timezone.utc)


# --- Templates (shipped files + admin-edited versions in the database) ----------------

def template_sources(engine: Engine, overrides: Path | None = None
                     ) -> dict[tuple[str, str], TemplateSource]:
    """The template in use for every (name, language): the latest edited version, else
    the file in the admins' ``overrides`` folder (``settings.templates.folder``), else the
    shipped file."""
    sources = file_templates(overrides)
    with Session(engine) as session:
        for row in session.scalars(select(models.TemplateVersion)
                                   .order_by(models.TemplateVersion.version)):
            sources[row.name, row.language] = TemplateSource(
                row.name, row.language, stored_text(row.subject, row.body), row.version,
                f"{row.name}.{row.language} (version {row.version} by {row.author})")
    return sources


def save_template(engine: Engine, name: str, language: str, text: str, author: str,
                  now: datetime | None = None) -> int:
    """Store an edited template as a new version after validating it; return the version.
    Raises :class:`TemplateProblem` (nothing stored) when it cannot be used."""
    if language not in LANGUAGES:
        raise TemplateProblem(f"{name}: language must be one of {', '.join(LANGUAGES)}")
    label = f"{name}.{language} (edited)"
    stored = stored_form(text, label)  # exactly what is stored is what is validated
    problems = renderer().problems([TemplateSource(name, language, stored.text, 0, label)])
    if problems:
        raise stored.locate(problems[0])
    subject, body = stored.subject, stored.body
    with Session(engine) as session, session.begin():
        current = session.scalar(select(func.max(models.TemplateVersion.version)).where(
            models.TemplateVersion.name == name, models.TemplateVersion.language == language)) or 0
        session.add(models.TemplateVersion(name=name, language=language, version=current + 1,
                                           subject=subject, body=body, author=author,
                                           created_at=_utc(now or _now())))
    return current + 1


def template_history(engine: Engine) -> list[models.TemplateVersion]:
    with Session(engine) as session:
        return list(session.scalars(select(models.TemplateVersion).order_by(
            models.TemplateVersion.name, models.TemplateVersion.language,
            models.TemplateVersion.version)))


def validate_templates(settings: Settings, engine: Engine) -> list[str]:
    """Every problem of the templates in use, plus protocol steps naming no template."""
    sources = template_sources(engine, settings.templates.folder)
    problems = renderer().validate(list(sources.values()))
    names = {name for name, _ in sources}
    folder = settings.templates.folder or "named by [templates] folder"
    for number, step in enumerate(settings.protocol.steps, 1):
        if step.template not in names:
            problems.append(f"protocol step {number}: no template named {step.template!r} "
                            f"(add {step.template}.es.txt and {step.template}.en.txt to "
                            f"the templates folder {folder})")
    return problems


# --- Context of one thread -----------------------------------------------------------

@dataclass
class _World:
    """Everything one planning run reads, loaded once."""

    settings: Settings
    mails: list[Mail]
    by_key: dict[int, Mail]
    names: dict[str, str]
    reports: list[ThreadReport]
    sources: dict[tuple[str, str], TemplateSource]
    history: list[Contacted] = field(default_factory=list)

    def thread_mails(self, report: ThreadReport) -> list[Mail]:
        mails = [self.by_key[k] for k in report.mail_keys if k in self.by_key]
        return sorted(mails, key=lambda m: (m.date, m.message_id))

    def texts_from(self, address: str | None) -> list[str]:
        if not address:
            return []
        address = address.lower()
        own = [m for m in self.mails if (m.from_addr or "").lower() == address and m.kind == "message"]
        own.sort(key=lambda m: m.date, reverse=True)
        return [m.text for m in own]


def _load_world(settings: Settings, engine: Engine, now: datetime) -> _World:
    rules = service.rules_from_settings(settings)
    mails = service.load_mails(engine)
    touches = service.load_touches(engine)
    from assistant.domain.analysis import scan as scan_threads

    reports = scan_threads(mails, rules, now, marks=service.load_marks(engine), touches=touches)
    names: dict[str, str] = {}
    with engine.connect() as conn:
        for address, name in conn.execute(
                select(models.Message.from_addr, models.Message.from_name)
                .where(models.Message.from_name.is_not(None))
                .order_by(models.Message.sent_at)):
            if address and name:
                names[address.lower()] = name
    world = _World(settings, mails, {m.key: m for m in mails}, names, reports,
                   template_sources(engine, settings.templates.folder))
    members = {m.email: m.name for m in settings.team.members}
    for mail in mails:
        if is_touch(mail, rules):
            external = tuple(r for r in mail.recipients if rules.is_external(r))
            world.history.append(Contacted(mail.date, mail.from_addr,
                                           members.get(mail.from_addr) or names.get(mail.from_addr),
                                           external))
    contact_of = {r.quote_message_id: r.contact for r in reports}
    for touch in touches:
        contact = contact_of.get(touch.thread)
        if contact and touch.by:
            world.history.append(Contacted(touch.at, touch.by, members.get(touch.by), (contact,)))
    return world


def _spanish_date(day: datetime) -> str:
    return f"{_ES_DAYS[day.weekday()]} {day.day} de {_ES_MONTHS[day.month - 1]}"


def _english_date(day: datetime) -> str:
    return f"{day:%A}, {day:%B} {day.day}"


def _person(settings: Settings, world: _World, email: str) -> dict:
    member = settings.member(email)
    name = member.name if member else world.names.get(email.lower(), email)
    signature = contacts.signature_of(world.texts_from(email), name)
    if not signature:
        signature = f"{name}\n{settings.company.name}" + (f"\n{member.phone}" if member and member.phone else "")
    return {"name": name, "first_name": name.split()[0] if name else email, "email": email,
            "signature": signature}


def thread_context(settings: Settings, world: _World, report: ThreadReport, step: int,
                   channel: str, actor: str, now: datetime) -> tuple[dict, contacts.Phone | None, str | None]:
    """The template variables of one thread, the contact's phone, and the thread language."""
    mails = world.thread_mails(report)
    rules = service.rules_from_settings(settings)
    language = thread_language(mails, rules)
    quote = next((m for m in mails if m.message_id == report.quote_message_id), None)
    contact = report.contact or ""
    name = world.names.get(contact.lower())
    first = contacts.first_name(name) or (contacts.greeting_name(quote.text, contact) if quote else None)
    phone = contacts.find_phone(world.texts_from(contact), settings.protocol.holidays_country,
                                prefer_mobile=channel == "whatsapp")
    zone = ZoneInfo(settings.team.timezone)
    sent = (report.quote_sent_at or now).astimezone(zone)
    context = {
        "contact": {"name": name or first, "first_name": first, "email": contact,
                    "company": contacts.company_from(contact),
                    "phone": phone.display if phone else None},
        "quote": {"subject": report.subject,
                  "sent_date": _spanish_date(sent) if language != "en" else _english_date(sent),
                  "number": contacts.quote_number(report.subject, quote.attachment_names if quote else ()),
                  "attachments": list(quote.attachment_names) if quote else []},
        "owner": _person(settings, world, actor),
        "step": {"number": step, "total": len(settings.protocol.steps)},
        "days_since_quote": max(0, (now.astimezone(zone).date() - sent.date()).days),
        "language": language or "es",
        "company": settings.company.name,
    }
    return context, phone, language


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
    problems: list[str] = field(default_factory=list)


DRAFT_CLAIM_TIMEOUT = timedelta(minutes=10)
"""How long a planner's claim on a follow-up's email draft holds (real clock): past it,
the planner is taken for dead and the next ``plan`` finishes the draft."""


def _mailbox_of(settings: Settings, *people: str | None):
    for person in people:
        accounts = settings.accounts_of(person) if person else ()
        if accounts:
            return person, accounts[0]
    return None, None


def plan(settings: Settings, engine: Engine, now: datetime, *,
         open_connector: Callable = service.open_connector_for,
         after_draft_saved: Callable[[str, str], None] | None = None,
         claim_timeout: timedelta = DRAFT_CLAIM_TIMEOUT) -> PlanResult:
    """Create the follow-ups that are due at ``now`` (see the module doc), after finishing
    the email drafts that a dead planner claimed and left unsaved or unrecorded.

    ``open_connector(account)`` gives the connector of an ``[[accounts]]`` entry;
    ``after_draft_saved(key, provider_id)`` runs between "saved in the mailbox" and the
    database commit of its ref (progress reporting; tests use it to simulate a crash there).
    ``claim_timeout``: another planner's claim older than this (real clock, not ``now``)
    is a dead planner's and is taken over.
    """
    world = _load_world(settings, engine, now)
    result = PlanResult(settled=_settle_all(engine, world.reports, now))
    members = {m.email: m.role for m in settings.team.members}
    managers = {m.email: m.manager for m in settings.team.members}
    with Session(engine) as session:
        existing = set(session.scalars(select(models.Followup.key)))
        previous: dict[str, str] = {}
        for row in session.execute(select(models.Followup.quote_message_id, models.Followup.assignee)
                                   .order_by(models.Followup.id)):
            if row.assignee:
                previous[row.quote_message_id] = row.assignee
        turn = session.scalar(select(func.count(func.distinct(models.Followup.quote_message_id)))
                              .where(models.Followup.assigned_via == "round_robin")) or 0
    connectors: dict[str, object] = {}
    try:
        _resume_drafts(settings, engine, world, connectors, open_connector, after_draft_saved,
                       claim_timeout, result)
        for due in due_steps(world.reports, existing, now):
            assignment = choose_assignee(due.report.owner, settings.protocol.responsible_role,
                                         members, managers,
                                         previous=previous.get(due.report.quote_message_id), turn=turn)
            if assignment.via == "round_robin":
                turn += 1
            try:
                fid, held = _plan_one(settings, engine, world, due, assignment, now,
                                      connectors, open_connector, after_draft_saved, result)
            except IntegrityError:
                continue  # another planner claimed this (thread, step) first: mailbox untouched
            (result.held if held else result.created).append(fid)
    finally:
        for connector in connectors.values():
            connector.close()
    return result


def _mailbox_owner(settings: Settings, account) -> str | None:
    return next((m.email for m in settings.team.members
                 if account in settings.accounts_of(m.email)), None)


def _connector(account, connectors: dict, open_connector: Callable):
    if account.name not in connectors:
        connectors[account.name] = open_connector(account)
    return connectors[account.name]


def _plan_one(settings: Settings, engine: Engine, world: _World, due: DueStep, assignment,
              now: datetime, connectors: dict, open_connector: Callable,
              after_draft_saved, result: PlanResult) -> tuple[int, bool]:
    report = due.report
    assignee = assignment.assignee
    hold: str | None = None
    actor, account = assignee, None
    if due.channel == "email":
        actor, account = _mailbox_of(settings, assignee, report.owner)
        if account is None:
            who = assignee or report.owner or "nobody"
            hold = (f"no mailbox for {who}: add owner = \"{who}\" to their [[accounts]] entry "
                    "in settings.toml")
            actor = assignee or report.owner
    if actor is None:
        hold = hold or "no one to assign: add team members of the responsible role"
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
        available = {lang for name, lang in world.sources if name == due.template}
        chosen = choose_language(available, language)
        if chosen is None:
            hold = hold or f"no template named {due.template!r} (see `followup templates list`)"
        else:
            source = world.sources[due.template, chosen]
            row.template_version = source.version
            row.language = chosen
            try:
                rendered = renderer().render(source, context)
                row.subject, row.body = rendered.subject, rendered.body
            except TemplateProblem as exc:
                hold = hold or f"template error: {exc}"
                result.problems.append(str(exc))
    if phone:
        row.phone = phone.e164
    if due.channel == "email" and row.subject:
        row.subject = compose.reply_subject(row.subject, report.subject)
    elif due.channel == "phone":
        row.link = compose.tel_link(phone.e164 if phone else None)
    elif due.channel == "whatsapp" and row.body:
        row.link = compose.whatsapp_link(phone.digits if phone else None, row.body)
    if due.channel in ("phone", "whatsapp") and phone is None and row.body:
        row.body = row.body.rstrip("\n") + "\n\n" + _no_phone_note(row.language, report.contact)
    if hold is None:
        hold = recent_other_contact(report.contact, assignee, world.history, now,
                                    settings.protocol.quiet_days, timezone=settings.team.timezone,
                                    language=row.language)
    if hold:
        row.status, row.hold_reason = "held", hold
    elif due.channel == "email":
        # Claimed in the insert below: its unique key makes this planner the only one
        # that touches the mailbox for this (thread, step).
        connector = _connector(account, connectors, open_connector)
        row.draft_message_id = f"<{due.key}@{_domain(actor)}>"
        row.draft_claim, row.draft_claimed_at = uuid4().hex, _now()
    held = row.status == "held"
    with Session(engine, expire_on_commit=False) as session, session.begin():
        session.add(row)
        session.flush()
        fid = row.id
    if due.channel == "email" and not hold:
        if _fill_claimed_draft(engine, row, connector,
                               partial(_draft_bytes, settings, world, row, report, actor),
                               after_draft_saved):
            result.reconciled.append(fid)
    return fid, held


def _fill_claimed_draft(engine: Engine, row: models.Followup, connector,
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
        return conn.execute(update(models.Followup).where(
            models.Followup.id == row.id, models.Followup.draft_claim == row.draft_claim,
        ).values(draft_claim=None, draft_claimed_at=None, **values)).rowcount


def _take_over_claim(engine: Engine, fid: int, timeout: timedelta,
                     statuses: tuple[str, ...] = ("drafted",)) -> str | None:
    """Claim an unfinished email follow-up (``draft_ref`` NULL) whose claim is free or
    stale; return the new token, or None when another planner holds it (or finished it)."""
    token, moment = uuid4().hex, _now()
    with engine.begin() as conn:
        won = conn.execute(update(models.Followup).where(
            models.Followup.id == fid, models.Followup.status.in_(statuses),
            models.Followup.draft_ref.is_(None),
            or_(models.Followup.draft_claim.is_(None),
                models.Followup.draft_claimed_at < moment - timeout),
        ).values(draft_claim=token, draft_claimed_at=moment)).rowcount
    return token if won == 1 else None


def _resume_drafts(settings: Settings, engine: Engine, world: _World, connectors: dict,
                   open_connector: Callable, after_draft_saved, timeout: timedelta,
                   result: PlanResult) -> None:
    """Finish the email follow-ups a dead planner claimed and left without a draft ref."""
    with Session(engine, expire_on_commit=False) as session:
        rows = list(session.scalars(select(models.Followup).where(
            models.Followup.channel == "email", models.Followup.status == "drafted",
            models.Followup.draft_ref.is_(None)).order_by(models.Followup.id)))
    reports = {r.quote_message_id: r for r in world.reports}
    for row in rows:
        account = settings.account(row.account) if row.account else None
        report = reports.get(row.quote_message_id)
        if account is None or report is None:
            result.problems.append(f"follow-up {row.id}: its draft was never saved, and "
                                   + ("its thread is gone" if account else
                                      f"account {row.account!r} is not in settings.toml any more"))
            continue
        connector = _connector(account, connectors, open_connector)
        token = _take_over_claim(engine, row.id, timeout)
        if token is None:
            continue  # a live planner is on it
        row.draft_claim, row.created_at = token, models.as_utc(row.created_at)
        sender = _mailbox_owner(settings, account) or row.assignee
        if _fill_claimed_draft(engine, row, connector,
                               partial(_draft_bytes, settings, world, row, report, sender),
                               after_draft_saved):
            result.reconciled.append(row.id)
        result.resumed.append(row.id)


def _no_phone_note(language: str | None, contact: str | None) -> str:
    if language == "en":
        return f"(No phone number found in {contact}'s emails: no link. Look it up in your CRM.)"
    return f"(No se encontró teléfono en los correos de {contact}: sin enlace. Búscalo en tu CRM.)"


def _domain(address: str | None) -> str:
    return (address or "followup.invalid").rpartition("@")[2] or "followup.invalid"


def _draft_bytes(settings: Settings, world: _World, row: models.Followup, report: ThreadReport,
                 sender: str) -> bytes:
    mails = world.thread_mails(report)
    last = mails[-1] if mails else None
    refs: list[str] = []
    if last is not None:
        refs = list(last.references) or ([last.in_reply_to] if last.in_reply_to else [])
    member = settings.member(sender)
    return compose.email_draft(
        key=row.key, sender=sender, sender_name=member.name if member else None,
        to=report.contact or "", to_name=world.names.get((report.contact or "").lower()),
        subject=row.subject, body=row.body,
        in_reply_to=last.message_id if last else report.quote_message_id,
        references=tuple(refs), date=row.created_at, message_domain=_domain(sender))


# --- Reconciling: stop rules, steps taken --------------------------------------------

def _settle_all(engine: Engine, reports: list[ThreadReport], now: datetime) -> int:
    by_thread = {r.quote_message_id: r for r in reports}
    changed = 0
    with Session(engine) as session, session.begin():
        for row in session.scalars(select(models.Followup).where(
                models.Followup.status.in_(PENDING + ("sent",)))):
            outcome = settle(row.status, row.step, by_thread.get(row.quote_message_id))
            if outcome is None:
                continue
            row.status, row.closed_reason, row.updated_at = (
                outcome.status, settled_reason(outcome), _utc(now))
            changed += 1
    return changed


def reconcile_if_pending(settings: Settings, engine: Engine, now: datetime | None = None) -> int:
    """:func:`reconcile` when some follow-up could change (after a sync: cheap otherwise)."""
    with engine.connect() as conn:
        pending = conn.scalar(select(func.count()).select_from(models.Followup).where(
            models.Followup.status.in_(PENDING + ("sent",))))
    return reconcile(settings, engine, now) if pending else 0


def reconcile(settings: Settings, engine: Engine, now: datetime | None = None) -> int:
    """Apply the stop rules and close taken steps (after a sync); return how many changed."""
    now = now or _now()
    return _settle_all(engine, service.scan(settings, engine, now), now)


# --- Review --------------------------------------------------------------------------

def as_json(row: models.Followup, timezone: str | None = None) -> dict:
    """The contract's shape; times in the team's time zone (like ``scan --json``)."""
    due = models.as_utc(row.due_at)
    if due is not None and timezone:
        due = due.astimezone(ZoneInfo(timezone))
    return {"id": row.id, "quote_message_id": row.quote_message_id, "step": row.step,
            "channel": row.channel, "assignee": row.assignee, "status": row.status,
            "due_at": due.isoformat() if due else None, "subject": row.subject,
            "body": row.body, "link": row.link, "hold_reason": row.hold_reason}


def list_followups(engine: Engine, *, status: str | None = None) -> list[models.Followup]:
    with Session(engine, expire_on_commit=False) as session:
        query = select(models.Followup).order_by(models.Followup.id)
        if status:
            query = query.where(models.Followup.status == status)
        return list(session.scalars(query))


def get(engine: Engine, fid: int) -> models.Followup:
    with Session(engine, expire_on_commit=False) as session:
        row = session.get(models.Followup, fid)
        if row is None:
            raise FollowupError(f"no follow-up with id {fid} (see `followup drafts list`)")
        return row


def _change(engine: Engine, fid: int, allowed: tuple[str, ...], verb: str,
            apply: Callable[[models.Followup], None]) -> models.Followup:
    with Session(engine, expire_on_commit=False) as session, session.begin():
        row = session.get(models.Followup, fid)
        if row is None:
            raise FollowupError(f"no follow-up with id {fid} (see `followup drafts list`)")
        if row.status not in allowed:
            raise FollowupError(f"follow-up {fid} is {row.status}: it cannot be {verb}")
        apply(row)
        return row


@dataclass
class Approval:
    row: models.Followup
    note: str


def approve(settings: Settings, engine: Engine, fid: int, *, by: str | None = None,
            now: datetime | None = None,
            open_connector: Callable = service.open_connector_for) -> Approval:
    """Approve a follow-up. A held email follow-up gets its draft saved now. With
    ``protocol.auto_send``, an approved email is sent when its connector has a transport."""
    now = now or _now()
    row = get(engine, fid)
    if row.status not in ("held", "drafted"):
        raise FollowupError(f"follow-up {fid} is {row.status}: it cannot be approved")
    if not row.body.strip():
        raise FollowupError(f"follow-up {fid} has no text ({row.hold_reason}); fix the template, "
                            "then run `followup drafts plan` again")
    note = ""
    connector = None
    try:
        if row.channel == "email":
            account = settings.account(row.account) if row.account else None
            if account is None:
                raise FollowupError(f"follow-up {fid}: {row.hold_reason or 'no mailbox to draft in'}")
            connector = open_connector(account)
            if row.draft_ref is None:
                # No draft yet (a held follow-up, or one a planner is saving right now):
                # take the same claim planners take, so the draft is saved exactly once.
                token = _take_over_claim(engine, fid, DRAFT_CLAIM_TIMEOUT, ("drafted", "held"))
                if token is None:
                    raise FollowupError(f"follow-up {fid} is being drafted right now; "
                                        "try again in a moment")
                row.draft_claim = token
                world = _load_world(settings, engine, now)
                report = next(r for r in world.reports if r.quote_message_id == row.quote_message_id)
                member = _mailbox_owner(settings, account) or row.assignee
                _fill_claimed_draft(engine, row, connector,
                                    partial(_draft_bytes, settings, world, row, report, member), None)
            where = f"the draft is in the {account.name} mailbox's Drafts folder"
            if settings.protocol.auto_send and isinstance(connector, DraftSender):
                return _approve_and_send(settings, engine, fid, connector, row.draft_ref,
                                         account.name, by=by, now=now)
            if settings.protocol.auto_send:
                where = (f"auto_send is on, but {account.name} is a {account.kind} account "
                         "with no way to send mail: " + where + "; send it from your mail client")
            else:
                where += "; send it from your mail client"
            note = where
        else:
            note = f"do it now: {row.link}" if row.link else "no link: no phone number found"
    finally:
        if connector is not None:
            connector.close()
    return Approval(_change(engine, fid, ("held", "drafted"), "approved",
                            _approved(row.draft_ref, by, now)), note)


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
        raise FollowupError(f"follow-up {fid} was not sent ({exc}); it is still a draft in "
                            f"{account_name}: approve it again to retry") from None

    def sent(r: models.Followup) -> None:
        r.status, r.updated_at = "sent", _utc(now)
    return Approval(_change(engine, fid, ("approved",), "sent", sent), f"sent from {account_name}")


def skip(engine: Engine, fid: int, *, reason: str | None = None, by: str | None = None,
         now: datetime | None = None) -> models.Followup:
    def apply(r: models.Followup) -> None:
        r.status, r.closed_reason, r.decided_by, r.updated_at = (
            "skipped", reason or "skipped by the rep", by, _utc(now or _now()))
    return _change(engine, fid, PENDING, "skipped", apply)


def edit_text(row: models.Followup) -> str:
    """What ``drafts edit`` puts in the editor."""
    return f"Subject: {row.subject}\n\n{row.body}"


def save_edit(settings: Settings, engine: Engine, fid: int, text: str, *,
              now: datetime | None = None,
              open_connector: Callable = service.open_connector_for) -> models.Followup:
    """Store an edited follow-up (``Subject:`` line, blank line, body). An empty body is
    refused. An email draft already in the mailbox is replaced there too."""
    now = now or _now()
    row = get(engine, fid)
    if row.status not in PENDING:
        raise FollowupError(f"follow-up {fid} is {row.status}: it cannot be edited")
    try:
        subject, body = split_subject(text, f"follow-up {fid}")
    except TemplateProblem as exc:
        raise FollowupError(f"not saved: {exc}") from None
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
                raise FollowupError(f"the {account.kind} connector cannot replace drafts: "
                                    "edit the draft in your mail client")
            world = _load_world(settings, engine, now)
            report = next(r for r in world.reports if r.quote_message_id == row.quote_message_id)
            row.subject, row.body = subject, body
            sender = _mailbox_owner(settings, account) or row.assignee
            ref = connector.update_draft(ref, DraftMessage(
                row.key, _draft_bytes(settings, world, row, report, sender)))
        finally:
            connector.close()

    def apply(r: models.Followup) -> None:
        r.subject, r.body, r.link, r.draft_ref, r.updated_at = subject, body, link, ref, _utc(now)
    return _change(engine, fid, PENDING, "edited", apply)


def touch(settings: Settings, engine: Engine, thread: str, channel: str, *,
          note: str | None = None, by: str | None = None, now: datetime | None = None) -> tuple[str, int]:
    """Log a call or WhatsApp touch on a thread; return (quote_message_id, follow-ups closed).

    ``thread``: the quote's Message-ID, with or without ``<>``, or an unambiguous prefix
    of it (``followup scan --json`` and ``drafts list`` show it)."""
    now = now or _now()
    if channel not in ("phone", "whatsapp"):
        raise FollowupError("channel must be phone or whatsapp")
    report = find_thread(service.scan(settings, engine, now), thread)
    if by is None:
        pending = [r for r in list_followups(engine) if r.quote_message_id == report.quote_message_id
                   and r.status in PENDING]
        by = pending[-1].assignee if pending else report.owner
    with engine.begin() as conn:
        repo.add_touch(conn, report.quote_message_id, channel, at=now, by=by, note=note)
    return report.quote_message_id, reconcile(settings, engine, now)


def find_thread(reports: list[ThreadReport], thread: str) -> ThreadReport:
    """The thread whose quote Message-ID is ``thread`` (with or without ``<>``) or starts
    with it (unambiguously)."""
    wanted = thread.strip().strip("<>").lower()
    matches = [r for r in reports if r.quote_message_id.strip("<>").lower() == wanted]
    if not matches and wanted:
        matches = [r for r in reports if r.quote_message_id.strip("<>").lower().startswith(wanted)]
    if not matches:
        raise FollowupError(f"no quote thread matches {thread!r} (see `followup scan --json`)")
    if len(matches) > 1:
        raise FollowupError(f"{thread!r} matches {len(matches)} threads; give more of the Message-ID")
    return matches[0]


def preview_context(settings: Settings, engine: Engine, thread: str, now: datetime) -> tuple[dict, str]:
    """The template variables of a real thread (``templates preview --thread``)."""
    world = _load_world(settings, engine, now)
    report = find_thread(world.reports, thread)
    step = report.next_step.number if report.next_step else min(report.touches + 1, len(settings.protocol.steps))
    actor = report.owner or next((m.email for m in settings.team.members), None)
    context, _, language = thread_context(settings, world, report, step,
                                          report.next_step.channel if report.next_step else "email",
                                          actor, now)
    return context, language or "es"
