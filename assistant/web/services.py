"""What the web pages show and do, as plain functions over settings + engine.

The views only call these (and :mod:`assistant.followups`, issue 3's service layer, for
follow-ups and templates); no rule of DESIGN.md is re-implemented here. Visibility:
a rep sees the follow-ups assigned to them and the threads they own or follow up; a
manager also sees their reports' and the unowned threads; an admin sees everyone's.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from assistant import followups as fu
from assistant import service
from assistant.domain.analysis import is_inbound, is_outbound, is_quote
from assistant.domain.model import ThreadReport
from assistant.storage import repo
from assistant.drafting.templates import (
    LANGUAGES, TemplateProblem, TemplateSource, file_templates, sample_context, stored_text,
)
from assistant.rendering import renderer
from assistant.settings import Settings
from assistant.storage import models
from assistant.web.users import Viewer

QUEUE_STATUSES = ("held", "drafted")
SCENARIOS = ("rep", "manager", "nobody", "unclear")


class NotFound(LookupError):
    """Not there, or not this viewer's to see (both answer 404: no existence leak)."""


class Refused(ValueError):
    """A request that cannot be done (the message is shown to the user)."""


def thread_slug(quote_message_id: str) -> str:
    """A short stable id of a thread for URLs (Message-IDs carry <, >, @ and /)."""
    return hashlib.sha256(quote_message_id.encode("utf-8")).hexdigest()[:16]


# --- Follow-ups (issue 3's service layer, filtered to the viewer) -----------------------

def queue(engine: Engine, viewer: Viewer) -> list[models.Followup]:
    """The viewer's follow-ups waiting for them (drafted, held), oldest due first."""
    rows = [r for r in fu.list_followups(engine)
            if r.assignee == viewer.email and r.status in QUEUE_STATUSES]
    return sorted(rows, key=lambda r: (models.as_utc(r.due_at), r.id))


def followup_for(engine: Engine, viewer: Viewer, fid: int) -> models.Followup:
    """One follow-up the viewer may act on: their own (a manager: their team's)."""
    try:
        row = fu.get(engine, fid)
    except fu.FollowupError:
        raise NotFound(fid) from None
    if row.assignee != viewer.email and not (viewer.sees_team and row.assignee in viewer.team):
        raise NotFound(fid)
    return row


def approve(settings: Settings, engine: Engine, viewer: Viewer, fid: int, now: datetime) -> str:
    followup_for(engine, viewer, fid)
    try:
        return fu.approve(settings, engine, fid, by=viewer.email, now=now).note
    except fu.FollowupError as exc:
        raise Refused(str(exc)) from None


def skip(engine: Engine, viewer: Viewer, fid: int, reason: str, now: datetime) -> None:
    followup_for(engine, viewer, fid)
    if not reason.strip():
        raise Refused("Say why you skip it.")
    try:
        fu.skip(engine, fid, reason=reason.strip(), by=viewer.email, now=now)
    except fu.FollowupError as exc:
        raise Refused(str(exc)) from None


def edit(settings: Settings, engine: Engine, viewer: Viewer, fid: int, subject: str, body: str,
         now: datetime) -> None:
    followup_for(engine, viewer, fid)
    try:
        fu.save_edit(settings, engine, fid, f"Subject: {subject.strip()}\n\n{body}", now=now)
    except fu.FollowupError as exc:
        raise Refused(str(exc)) from None


def log_touch(settings: Settings, engine: Engine, viewer: Viewer, slug: str, channel: str,
              note: str, now: datetime) -> None:
    report = thread_for(settings, engine, viewer, slug, now)
    try:
        fu.touch(settings, engine, report.quote_message_id, channel, note=note.strip() or None,
                 by=viewer.email, now=now)
    except fu.FollowupError as exc:
        raise Refused(str(exc)) from None


# --- Threads ----------------------------------------------------------------------------

def visible_reports(settings: Settings, engine: Engine, viewer: Viewer,
                    now: datetime) -> list[ThreadReport]:
    """The scan's threads this viewer may open."""
    followed = {r.quote_message_id for r in fu.list_followups(engine)
                if r.assignee == viewer.email or (viewer.sees_team and r.assignee in viewer.team)}
    return [r for r in service.scan(settings, engine, now)
            if r.quote_message_id in followed or viewer.may_see_owner(r.owner)]


def thread_for(settings: Settings, engine: Engine, viewer: Viewer, slug: str,
               now: datetime) -> ThreadReport:
    for report in visible_reports(settings, engine, viewer, now):
        if thread_slug(report.quote_message_id) == slug:
            return report
    raise NotFound(slug)


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str
    """quote | sent | reply | auto_reply | bounce | delay | complaint | receipt | internal |
    touch_phone | touch_whatsapp"""
    who: str | None
    subject: str
    text: str


def timeline(settings: Settings, engine: Engine, report: ThreadReport) -> list[Event]:
    """The thread's messages and logged touches, oldest first, each labelled."""
    rules = service.rules_from_settings(settings)
    keys = set(report.mail_keys)
    events = []
    for mail in service.load_mails(engine):
        if mail.key not in keys:
            continue
        if mail.kind != "message":
            kind = mail.kind
        elif mail.message_id == report.quote_message_id or (is_outbound(mail, rules)
                                                             and is_quote(mail, rules)):
            kind = "quote"
        elif is_outbound(mail, rules):
            kind = "sent"
        elif is_inbound(mail, rules):
            kind = "reply"
        else:
            kind = "internal"
        events.append(Event(mail.date, kind, mail.from_addr, mail.subject,
                            _excerpt(mail.text)))
    with engine.connect() as conn:
        for touch in conn.execute(select(models.Touch).where(
                models.Touch.quote_message_id == report.quote_message_id)):
            events.append(Event(models.as_utc(touch.at), f"touch_{touch.channel}", touch.by,
                                "", touch.note or ""))
    return sorted(events, key=lambda e: e.at)


def _excerpt(text: str, limit: int = 600) -> str:
    text = re.sub(r"\n{3,}", "\n\n", (text or "").strip())
    return text if len(text) <= limit else text[:limit].rstrip() + " …"


def thread_followups(engine: Engine, report: ThreadReport) -> list[models.Followup]:
    return [r for r in fu.list_followups(engine) if r.quote_message_id == report.quote_message_id]


# --- Team (managers, admins) ------------------------------------------------------------

@dataclass
class TeamView:
    silent_by_owner: list[tuple[str | None, list[ThreadReport]]]
    scenarios: list[tuple[str, int, int]]
    """(scenario, threads, percent of the team's open threads)."""
    awaiting: list[ThreadReport]
    unclear: list[ThreadReport]
    """Unclear or unowned threads, for the "assign owner" action."""
    assignable: list[tuple[str, str]]
    """(email, name) of the members the viewer may assign."""
    compliance: dict | None
    """Issue 6's metrics of the last 90 days (``Metrics.as_json``), if available."""
    by_status: dict[str, int] = field(default_factory=dict)


def team_view(settings: Settings, engine: Engine, viewer: Viewer, now: datetime) -> TeamView:
    reports = [r for r in service.scan(settings, engine, now) if viewer.may_see_owner(r.owner)]
    silent: dict[str | None, list[ThreadReport]] = {}
    for r in sorted(reports, key=lambda r: r.next_step.due_at if r.next_step else now):
        if r.status == "silent":
            silent.setdefault(r.owner, []).append(r)
    open_reports = [r for r in reports if r.status not in ("closed", "exhausted")]
    total = len(open_reports) or 1
    counts = {s: sum(1 for r in open_reports if r.scenario == s) for s in SCENARIOS}
    scenarios = [(s, counts[s], round(100 * counts[s] / total)) for s in SCENARIOS]
    awaiting = sorted((r for r in reports if r.status == "awaiting_us"),
                      key=lambda r: r.last_reply_at or now)
    unclear = [r for r in open_reports if r.scenario == "unclear" or r.owner is None]
    names = {m.email: m.name for m in settings.team.members}
    assignable = [(email, names[email]) for email in viewer.team if email in names]
    by_status: dict[str, int] = {}
    for r in reports:
        by_status[r.status] = by_status.get(r.status, 0) + 1
    return TeamView(sorted(silent.items(), key=lambda kv: (kv[0] is None, kv[0] or "")),
                    scenarios, awaiting, unclear, assignable,
                    _compliance(settings, engine, reports, now), by_status)


def _compliance(settings: Settings, engine: Engine, reports: list[ThreadReport],
                now: datetime) -> dict | None:
    try:
        from assistant.domain.metrics import Window, compute
    except ImportError:  # issue 6 not landed: the page shows the status counts only
        return None
    metrics = compute(reports, service.rules_from_settings(settings), now,
                      Window.ending(now, 90), mails=service.load_mails(engine),
                      touches=service.load_touches(engine))
    return metrics.team.as_json()


def assign_owner(settings: Settings, engine: Engine, viewer: Viewer, slug: str, owner: str,
                 now: datetime) -> ThreadReport:
    """Record an explicit owner (``thread_marks.owner``): the domain then uses it."""
    if not viewer.sees_team:
        raise Refused("only managers and admins assign owners")
    report = thread_for(settings, engine, viewer, slug, now)
    member = settings.team.member(owner)
    if member is None or member.email not in viewer.team:
        raise Refused(f"{owner} is not a member of your team")
    with engine.begin() as conn:
        repo.save_mark(conn, report.quote_message_id, owner=member.email, at=now, by=viewer.email)
    return report


# --- Templates (admins) -----------------------------------------------------------------

@dataclass(frozen=True)
class TemplateRow:
    name: str
    language: str
    steps: tuple[tuple[int, str], ...]
    """(step number, channel) of the protocol steps that use it."""
    version: int
    author: str | None
    updated_at: datetime | None


def template_rows(settings: Settings, engine: Engine) -> list[TemplateRow]:
    sources = fu.template_sources(engine, settings.templates.folder)
    latest = {(v.name, v.language): v for v in fu.template_history(engine)}
    uses: dict[str, list[tuple[int, str]]] = {}
    for number, step in enumerate(settings.protocol.steps, 1):
        uses.setdefault(step.template, []).append((number, step.channel))
    rows = []
    for (name, language), source in sources.items():
        v = latest.get((name, language))
        rows.append(TemplateRow(name, language, tuple(uses.get(name, ())), source.version,
                                v.author if v else None, models.as_utc(v.created_at) if v else None))
    return sorted(rows, key=lambda r: (min((n for n, _ in r.steps), default=99), r.name,
                                       LANGUAGES.index(r.language) if r.language in LANGUAGES else 9))


@dataclass(frozen=True)
class Version:
    version: int
    author: str | None
    created_at: datetime | None
    text: str


def versions(engine: Engine, name: str, language: str, folder: Path | None = None) -> list[Version]:
    """Every version of one template, newest first; version 0 is its file (the admins' in
    ``folder``, ``settings.templates.folder``, else the shipped one)."""
    shipped = file_templates(folder).get((name, language))
    found = [Version(0, None, None, shipped.text)] if shipped else []
    for v in fu.template_history(engine):
        if v.name == name and v.language == language:
            found.append(Version(v.version, v.author, models.as_utc(v.created_at),
                                 stored_text(v.subject, v.body)))
    if not found:
        raise NotFound(f"{name}.{language}")
    return sorted(found, key=lambda v: v.version, reverse=True)


def save_template(engine: Engine, viewer: Viewer, name: str, language: str, text: str,
                  now: datetime, folder: Path | None = None) -> int:
    if not viewer.admin:
        raise Refused("only admins edit templates")
    versions(engine, name, language, folder)  # NotFound for a template that does not exist
    return fu.save_template(engine, name, language, text.replace("\r\n", "\n"), viewer.email, now)


def rollback(engine: Engine, viewer: Viewer, name: str, language: str, version: int,
             now: datetime, folder: Path | None = None) -> int:
    """Make an old version current again, as a new version (history stays append-only)."""
    old = next((v for v in versions(engine, name, language, folder) if v.version == version), None)
    if old is None:
        raise NotFound(version)
    return save_template(engine, viewer, name, language, old.text, now, folder)


def diff(old: str, new: str) -> list[tuple[str, str]]:
    """Line diff as (kind, line): kind is ``add``, ``del``, ``hunk`` or ``same``."""
    out = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=2):
        if line.startswith(("---", "+++")):
            continue
        kind = {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "same")
        out.append((kind, line))
    return out


@dataclass(frozen=True)
class Preview:
    subject: str | None
    body: str | None
    error: str | None
    line: int | None
    thread: str | None
    """The subject of the real thread the preview was rendered against (None: sample data)."""
    slug: str | None = None
    """That thread's id."""


def preview(settings: Settings, engine: Engine, name: str, language: str, text: str,
            slug: str | None, now: datetime, ui_language: str = "en") -> Preview:
    """Render an edited template against a real thread of the database (the chosen one,
    else the most recent one written in the template's language), else against sample
    values, in a render worker (:mod:`assistant.rendering`: bounded in time and memory);
    errors name the line, in ``ui_language``."""
    source = TemplateSource(name, language, text.replace("\r\n", "\n"), 0, f"{name}.{language}")
    context, report = preview_context(settings, engine, name, language, slug, now)
    subject = report.subject if report else None
    used = thread_slug(report.quote_message_id) if report else None
    try:
        rendered = renderer().render(source, context)
    except TemplateProblem as exc:
        return Preview(None, None, exc.describe(ui_language), exc.line, subject, used)
    return Preview(rendered.subject, rendered.body, None, None, subject, used)


def preview_threads(settings: Settings, engine: Engine, now: datetime) -> list[tuple[str, str]]:
    """(slug, subject) of the threads a preview can render against, most recent quote first."""
    reports = sorted(service.scan(settings, engine, now),
                     key=lambda r: r.quote_sent_at or now, reverse=True)
    return [(thread_slug(r.quote_message_id), r.subject) for r in reports[:50]]


def preview_context(settings: Settings, engine: Engine, name: str, language: str,
                    slug: str | None, now: datetime) -> tuple[dict, ThreadReport | None]:
    """The template variables of a real thread (issue 3's ``thread_context``): the one
    chosen, else the most recent owned thread in the template's language.

    Thin wrapper: issue 3 has no public "context of this thread" function yet, so this
    loads its planning world (``_load_world``) and calls ``thread_context``."""
    world = fu._load_world(settings, engine, now)
    reports = sorted((r for r in world.reports if r.owner),
                     key=lambda r: r.quote_sent_at or now, reverse=True)
    step = next((n for n, s in enumerate(settings.protocol.steps, 1) if s.template == name), 1)
    channel = settings.protocol.steps[step - 1].channel if settings.protocol.steps else "email"

    def context_of(report: ThreadReport) -> tuple[dict, str | None]:
        context, _, thread_language = fu.thread_context(settings, world, report, step, channel,
                                                        report.owner, now)
        return dict(context, language=language), thread_language

    chosen = [r for r in world.reports if thread_slug(r.quote_message_id) == slug]
    if chosen and chosen[0].owner:
        return context_of(chosen[0])[0], chosen[0]
    fallback = None
    for report in reports[:30]:
        context, thread_language = context_of(report)
        if (thread_language or "es") == language:
            return context, report
        fallback = fallback or (context, report)
    return fallback or (sample_context(language), None)
