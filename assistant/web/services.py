"""What the web pages show and do, as plain functions over settings + engine.

The page models are :mod:`assistant.services.pages` (over the read model: no page loads
all mail); actions go through :mod:`assistant.services.review` (issue 3's service layer). No
SQL and no rule lives here. Visibility (:mod:`assistant.domain.scope`, the digest's
definition): a rep sees the follow-ups assigned to them and the threads they own or
follow up; a manager also sees their team's (transitively) and its unowned threads; a
manager without a manager of their own, and an admin, see everyone's.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.domain.model import ThreadReport
from assistant.domain.timeline import Event
from assistant.drafting.templates import FORMAL_SUFFIX
from assistant.services import outcomes, pages, review, templates
from assistant.services.planning import in_language, thread_context
from assistant.services.outcomes import ActionError
from assistant.services.review import FollowupError, save_edit, touch
from assistant.services.rules import rules_from_settings
from assistant.services.templates import template_history, template_sources
from assistant.services.pages import QUEUE_STATUSES, SCENARIOS, TeamView, thread_slug  # noqa: F401
from assistant.drafting.templates import (
    LANGUAGES, TemplateProblem, TemplateSource, file_templates, sample_context, stored_text,
)
from assistant.rendering import renderer
from assistant.settings import Settings
from assistant.storage import models
from assistant.web.users import Viewer
from assistant.wording import Worded

if TYPE_CHECKING:  # the engine is passed through to the services, never queried here
    from sqlalchemy import Engine

__all__ = ["NotFound", "Refused", "ActionError", "Event", "TeamView", "TemplateProblem", "thread_slug", "queue",
           "queue_subjects", "followup_for", "thread_for", "timeline", "thread_followups",
           "team_view", "assign_owner", "template_rows", "versions", "save_template",
           "rollback", "diff", "Preview", "preview", "preview_threads", "preview_context",
           "approve", "skip", "edit", "log_touch", "OUTCOME_ACTIONS", "outcome_action",
           "thread_history", "queue_reports"]


class NotFound(LookupError):
    """Not there, or not this viewer's to see (both answer 404: no existence leak)."""


class Refused(Worded, ValueError):
    """A request that cannot be done (shown to the user: ``exc.words(language)``)."""

    @classmethod
    def of(cls, exc: Worded) -> "Refused":
        return cls(exc.code or str(exc), **exc.values)


def _viewing(viewer: Viewer) -> pages.Viewing:
    return pages.Viewing(viewer.email, viewer.scope, viewer.sees_team, viewer.team)


def _rules(settings: Settings):
    return rules_from_settings(settings)


# --- Follow-ups (issue 3's service layer, filtered to the viewer) -----------------------

def queue(engine: Engine, viewer: Viewer) -> list[models.Followup]:
    """The viewer's follow-ups waiting for them (drafted, held), oldest due first."""
    return pages.queue(engine, _viewing(viewer))


def queue_subjects(settings: Settings, engine: Engine, rows: list[models.Followup],
                   now: datetime) -> dict[str, str]:
    return pages.queue_subjects(engine, _rules(settings), rows, now)


def followup_for(engine: Engine, viewer: Viewer, fid: int) -> models.Followup:
    """One follow-up the viewer may act on: their own (a manager: their team's)."""
    row = pages.followup(engine, _viewing(viewer), fid)
    if row is None:
        raise NotFound(fid)
    return row


def approve(settings: Settings, engine: Engine, viewer: Viewer, fid: int, now: datetime,
            language: str = "en") -> str:
    """Approve; what to do next, in ``language``."""
    followup_for(engine, viewer, fid)
    try:
        return review.approve(settings, engine, fid, by=viewer.email, now=now).words(language)
    except FollowupError as exc:
        raise Refused.of(exc) from None


def skip(settings: Settings, engine: Engine, viewer: Viewer, fid: int, reason: str,
         now: datetime) -> None:
    followup_for(engine, viewer, fid)
    if not reason.strip():
        raise Refused("web.say_why_skip")
    try:
        review.skip(engine, fid, reason=reason.strip(), by=viewer.email, now=now,
                    settings=settings)
    except FollowupError as exc:
        raise Refused.of(exc) from None


def edit(settings: Settings, engine: Engine, viewer: Viewer, fid: int, subject: str, body: str,
         now: datetime) -> None:
    followup_for(engine, viewer, fid)
    try:
        save_edit(settings, engine, fid, f"Subject: {subject.strip()}\n\n{body}", now=now)
    except FollowupError as exc:
        raise Refused.of(exc) from None


def log_touch(settings: Settings, engine: Engine, viewer: Viewer, slug: str, channel: str,
              note: str, now: datetime) -> None:
    report = thread_for(settings, engine, viewer, slug, now)
    try:
        touch(settings, engine, report.quote_message_id, channel, note=note.strip() or None,
              by=viewer.email, now=now)
    except FollowupError as exc:
        raise Refused.of(exc) from None


# --- Outcomes (issue 14): mark, snooze, the client's answer outside email ----------------

OUTCOME_ACTIONS = ("mark", "unmark", "snooze", "unsnooze", "reply", "unreply")
"""The thread page's and the queue's outcome actions (``/threads/<slug>/<action>``)."""


def outcome_action(settings: Settings, engine: Engine, viewer: Viewer, slug: str, action: str,
                   form, now: datetime) -> outcomes.Done:
    """Do one outcome action on a thread the viewer may open (a rep: theirs; a manager:
    their team's; an admin: every one -- :func:`thread_for`'s rule, as for a touch);
    :class:`outcomes.ActionError` when it cannot be done."""
    report = thread_for(settings, engine, viewer, slug, now)
    thread, by = report.quote_message_id, viewer.email
    if action == "mark":
        return outcomes.mark(settings, engine, thread, form.get("outcome", ""),
                             reason=form.get("reason"), by=by, now=now)
    if action == "snooze":
        return outcomes.snooze(settings, engine, thread, outcomes.parse_day(form.get("until", "")),
                               by=by, now=now)
    if action == "reply":
        return outcomes.reply(settings, engine, thread, form.get("channel", ""),
                              note=form.get("note"), by=by, now=now)
    kind = {"unmark": "mark", "unsnooze": "snooze", "unreply": "reply"}[action]
    return outcomes.undo(settings, engine, thread, kind, by=by, now=now)


def thread_history(engine: Engine, report: ThreadReport) -> list[outcomes.HistoryEntry]:
    return outcomes.history(engine, report.quote_message_id)


def queue_reports(settings: Settings, engine: Engine, rows: list[models.Followup],
                  now: datetime) -> dict[str, ThreadReport]:
    """The thread of each queued follow-up (the viewer's own: visible), by quote id."""
    return pages.queue_reports(engine, _rules(settings), rows, now)


# --- Threads ----------------------------------------------------------------------------

def thread_for(settings: Settings, engine: Engine, viewer: Viewer, slug: str,
               now: datetime) -> ThreadReport:
    report = pages.thread(engine, _rules(settings), _viewing(viewer), slug, now)
    if report is None:
        raise NotFound(slug)
    return report


def timeline(settings: Settings, engine: Engine, report: ThreadReport) -> list[Event]:
    """The thread's messages and logged touches, oldest first, each labelled."""
    return pages.thread_events(engine, _rules(settings), report)


def thread_followups(engine: Engine, report: ThreadReport) -> list[models.Followup]:
    return pages.thread_followups(engine, report)


# --- Team (managers, admins) ------------------------------------------------------------

def team_view(settings: Settings, engine: Engine, viewer: Viewer, now: datetime) -> TeamView:
    names = {m.email: m.name for m in settings.team.members}
    return pages.team_view(engine, _rules(settings), _viewing(viewer), names, now)


def assign_owner(settings: Settings, engine: Engine, viewer: Viewer, slug: str, owner: str,
                 now: datetime) -> ThreadReport:
    """Record an explicit owner (``thread_marks.owner``): the domain then uses it."""
    if not viewer.sees_team:
        raise Refused("web.only_managers_assign")
    report = thread_for(settings, engine, viewer, slug, now)
    member = settings.team.member(owner)
    if member is None or member.email not in viewer.team:
        raise Refused("web.not_in_team", owner=owner)
    pages.set_owner(engine, report.quote_message_id, member.email, by=viewer.email, now=now)
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
    sources = template_sources(engine, settings.templates.folder)
    latest = {(v.name, v.language): v for v in template_history(engine)}
    uses: dict[str, list[tuple[int, str]]] = {}
    for number, step in enumerate(settings.protocol.steps, 1):
        uses.setdefault(step.template, []).append((number, step.channel))
    rows = []
    for (name, language), source in sources.items():
        v = latest.get((name, language))
        steps = uses.get(name) or uses.get(name.removesuffix(FORMAL_SUFFIX), ())  # "usted" variants
        rows.append(TemplateRow(name, language, tuple(steps), source.version,
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
    for v in template_history(engine):
        if v.name == name and v.language == language:
            found.append(Version(v.version, v.author, models.as_utc(v.created_at),
                                 stored_text(v.subject, v.body)))
    if not found:
        raise NotFound(f"{name}.{language}")
    return sorted(found, key=lambda v: v.version, reverse=True)


def save_template(engine: Engine, viewer: Viewer, name: str, language: str, text: str,
                  now: datetime, folder: Path | None = None) -> int:
    if not viewer.admin:
        raise Refused("web.only_admins_edit")
    versions(engine, name, language, folder)  # NotFound for a template that does not exist
    return templates.save_template(engine, name, language, text.replace("\r\n", "\n"), viewer.email, now)


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
    return [(thread_slug(r.quote_message_id), r.subject)
            for r in pages.preview_threads(engine, _rules(settings), now)]


def preview_context(settings: Settings, engine: Engine, name: str, language: str,
                    slug: str | None, now: datetime) -> tuple[dict, ThreadReport | None]:
    """The template variables of a real thread (issue 3's ``thread_context``): the one
    chosen, else the most recent owned thread in the template's language; sample values
    when there is none. Reads that thread's messages and its people's own, not all mail."""
    report, mails = pages.preview_reports(engine, _rules(settings), now, slug, language)
    if report is None:
        return sample_context(language), None
    step = next((n for n, s in enumerate(settings.protocol.steps, 1) if s.template == name), 1)
    channel = settings.protocol.steps[step - 1].channel if settings.protocol.steps else "email"
    world = pages.PreviewWorld(settings, engine, mails, _rules(settings))
    context, _, _ = thread_context(settings, world, report, step, channel, report.owner, now)
    return dict(in_language(context, settings, report, language, now), language=language), report
