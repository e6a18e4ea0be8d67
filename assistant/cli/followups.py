"""``followup drafts …`` and ``followup touch``: the follow-ups drafted on the protocol
cadence -- plan, list, show, approve, skip, edit -- and the calls and WhatsApp messages
logged by hand. Thin commands over the planning and review services."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.markup import escape

from assistant.cli.context import console as table_console
from assistant.cli.context import emit_json, parse_now, person_cell
from assistant.cli.tables import print_table
from assistant.services import people, review
from assistant.services.planning import plan
from assistant.services.reconcile import reconcile
from assistant.services.review import (
    FollowupError, approve, edit_text, get, list_followups, save_edit, skip,
)
from assistant.storage.models import as_utc
from assistant.wording import day_time, due_words, reason_words, say, term, words_of
from connectors.base import ConnectorError

__all__ = ["drafts", "print_followups", "show_one", "touch"]


@click.group()
def drafts() -> None:
    """Follow-ups drafted on the protocol cadence: plan, review, approve."""


@drafts.command("plan")
@click.option("--now", "now_text", default=None, help="plan as of this ISO 8601 time (default: now)")
@click.pass_obj
def drafts_plan(obj, now_text: str | None) -> None:
    """Create the follow-ups that are due (once per thread and step)."""
    app = obj.planning_app()
    settings, engine = app.settings, app.engine
    now = parse_now(now_text, settings)
    try:
        result = plan(settings, engine, now)
    except ConnectorError as exc:
        obj.fail("cli.error", exc, 1)
    lang = settings.team.language
    click.echo(say("plan.summary", lang, created=len(result.created), held=len(result.held))
               + (say("plan.replanned", lang, n=len(result.replanned)) if result.replanned else "")
               + (say("plan.adopted", lang, n=len(result.reconciled)) if result.reconciled else "")
               + (say("plan.closed", lang, n=result.settled) if result.settled else "")
               + (":" if result.held else "."))
    for fid in result.held:
        click.echo(say("plan.held_line", lang, id=fid,
                       reason=reason_words(result.hold_reasons.get(fid, ""), lang)))
    for account, threads in result.unread.items():
        click.echo(say("plan.unread", lang, account=account, n=len(threads)), err=True)
    for error in result.mailbox_errors:
        click.echo(say("plan.mailbox_error", lang, error=words_of(error, lang)), err=True)
    for problem in result.problems:
        click.echo(say("cli.plan.problem", lang, problem=words_of(problem, lang)), err=True)


def print_followups(rows, settings, console: Console | None = None, now: datetime | None = None,
                    names: dict | None = None, engine=None) -> None:
    """The follow-ups table; ``names``: who each address is (``Followup.names``)."""
    console = console or table_console()
    names = names or {}
    shown = review.thread_ids(engine, rows) if engine is not None else {}
    zone = ZoneInfo(settings.team.timezone)
    lang = settings.team.language
    now = now or datetime.now(timezone.utc)

    def due(row) -> str:
        when = day_time(as_utc(row.due_at).astimezone(zone), lang)
        if row.status not in ("held", "drafted"):
            return when
        return when + " · " + due_words(as_utc(row.due_at), now, timezone=settings.team.timezone,
                                         country=settings.protocol.holidays_country, language=lang)

    cells = []
    for r in rows:
        link = r.link and (r.link if len(r.link) < 60 else r.link.split("?", 1)[0] + "?text=…")
        note = (reason_words(r.hold_reason, lang) or reason_words(r.closed_reason, lang) or link
                or (r.draft_ref and say("cli.drafts.in_drafts", lang, account=r.account)) or "")
        cells.append([str(r.id), shown.get(r.quote_message_id, "—"), term("followup", r.status, lang),
                      str(r.step), term("channel", r.channel, lang), person_cell(names, r.assignee),
                      due(r), escape(r.subject or "—"), escape(note)])
    print_table(console, say("cli.drafts.title", lang, n=len(rows)),
                [say(f"cli.col.{column}", lang) for column in
                 ("id", "thread", "status", "step", "channel", "assignee", "due", "subject", "note")],
                cells)
    links = [r for r in rows if r.link and r.status in ("drafted", "approved", "held")]
    if links:
        click.echo(say("cli.drafts.links", lang))
        for r in links:
            click.echo(f"  #{r.id} {term('channel', r.channel, lang)}: {r.link}")


@drafts.command("list")
@click.option("--json", "as_json", is_flag=True, help="print the contract's JSON object")
@click.option("--status", default=None, help="only follow-ups with this status")
@click.option("--now", "now_text", default=None,
              help="apply the stop rules as of this ISO 8601 time (default: now)")
@click.pass_obj
def drafts_list(obj, as_json: bool, status: str | None, now_text: str | None) -> None:
    """Follow-ups and their status."""
    settings, engine = obj.settings(), obj.engine()
    if status is not None:
        status = _status_key(obj, status)
    reconcile(settings, engine, parse_now(now_text, settings) if now_text else None)
    rows = list_followups(engine, status=status)
    if as_json:
        ids = review.thread_ids(engine, rows)
        emit_json({"followups": [review.as_json(r, settings.team.timezone, ids, settings.team.language)
                                 for r in rows]})
    else:
        print_followups(rows, settings, now=parse_now(now_text, settings), names=people.names(
            settings, engine, {a for r in rows for a in (r.assignee, r.contact)},
            {r.quote_message_id for r in rows}), engine=engine)


def _status_key(obj, text: str) -> str:
    """A follow-up status as typed: its key (``held``) or its word in either language
    (``retenido``, ``Retenido``); anything else is a usage error naming the choices."""
    from assistant.domain.followups import FOLLOWUP_STATUSES
    from assistant.wording import LANGUAGES, term

    typed = text.strip().lower()
    for key in FOLLOWUP_STATUSES:
        if typed == key or typed in {term("followup", key, lang).lower() for lang in LANGUAGES}:
            return key
    choices = ", ".join(term("followup", key, obj.language) for key in FOLLOWUP_STATUSES)
    raise click.BadParameter(f"{text!r}: {choices}", param_hint="--status")


def _named(names: dict, address: str | None) -> str:
    found = names.get((address or "").lower())
    if not address:
        return "—"
    return f"{found.name} ({address})" if found and found.name else address


def show_one(row, echo=click.echo, names: dict | None = None, language: str = "en",
             thread: str | None = None) -> None:
    """One follow-up in full, its labels in ``language``; ``thread``: the thread's short id
    (what `scan` and `drafts list` show and every command takes), else its Message-ID."""
    names = names or {}

    def line(code: str, **values) -> None:
        echo(say(code, language, **values))

    line("cli.show.head", id=row.id, step=row.step, what=say(f"cli.show.kind.{row.channel}", language),
         status=term("followup", row.status, language), assignee=_named(names, row.assignee))
    line("cli.show.thread", thread=thread or row.quote_message_id, contact=_named(names, row.contact))
    if row.cc:
        line("cli.show.cc", cc=", ".join(_named(names, address) for address in row.cc))
    line("cli.show.template", template=row.template, language=row.language or "?",
         version=row.template_version)
    if row.hold_reason:
        line("cli.show.held", reason=reason_words(row.hold_reason, language))
    if row.closed_reason:  # a skip's reason is the rep's own: "omitido: ya llamé"
        line("cli.show.skipped" if row.status == "skipped" else "cli.show.closed",
             reason=reason_words(row.closed_reason, language))
    if row.draft_trash in ("trashed", "gone"):
        echo(say(f"cli.drafts.{row.draft_trash}", language, account=row.account))
    elif row.draft_ref:
        line("cli.show.draft", account=row.account, ref=row.draft_ref)
    if row.link:
        line("cli.show.link", link=row.link)
    echo("")
    line("cli.show.subject", subject=row.subject)
    echo("")
    echo(row.body)


@drafts.command("show")
@click.argument("fid", type=int)
@click.pass_obj
def drafts_show(obj, fid: int) -> None:
    """One follow-up in full."""
    try:
        row = get(obj.engine(), fid)
        show_one(row, names=people.names(obj.settings(), obj.engine(),
                                         [row.assignee, row.contact, *(row.cc or ())],
                                         [row.quote_message_id]), language=obj.language,
                 thread=review.thread_ids(obj.engine(), [row]).get(row.quote_message_id))
    except FollowupError as exc:
        obj.fail("cli.error", exc, 1)


def _by(settings) -> str | None:
    return os.environ.get("FOLLOWUP_USER") or None


@drafts.command("approve")
@click.argument("fid", type=int)
@click.pass_obj
def drafts_approve(obj, fid: int) -> None:
    """Approve a follow-up (with auto_send, an email is sent when the account can send)."""
    settings, engine = obj.settings(), obj.engine()
    lang = settings.team.language
    try:
        result = approve(settings, engine, fid, by=_by(settings))
    except (FollowupError, ConnectorError) as exc:
        obj.fail("cli.error", exc, 1)
    click.echo(say("cli.approve.done", lang, fid=fid, status=term("followup", result.row.status, lang),
                   note=result.words(lang)))


@drafts.command("skip")
@click.argument("fid", type=int)
@click.option("--reason", default=None, help="why (kept with the follow-up)")
@click.option("--now", "now_text", default=None,
              help="skip as of this ISO 8601 time (default: now): the next step is due its "
                   "after_days after it")
@click.pass_obj
def drafts_skip(obj, fid: int, reason: str | None, now_text: str | None) -> None:
    """Skip a follow-up."""
    settings, engine = obj.settings(), obj.engine()
    now = parse_now(now_text, settings)
    try:
        skip(engine, fid, reason=reason, by=_by(settings), settings=settings, now=now)
    except FollowupError as exc:
        obj.fail("cli.error", exc, 1)
    click.echo(obj.say("cli.skip.done_why", fid=fid, reason=reason) if reason
               else obj.say("cli.skip.done", fid=fid))


@drafts.command("edit")
@click.argument("fid", type=int)
@click.pass_obj
def drafts_edit(obj, fid: int) -> None:
    """Edit a follow-up in $EDITOR (Subject line, blank line, body); re-validated."""
    settings, engine = obj.settings(), obj.engine()
    try:
        row = get(engine, fid)
        text = click.edit(edit_text(row), extension=".txt", require_save=True)
        if text is None:
            click.echo(obj.say("cli.edit.unchanged"))
            return
        save_edit(settings, engine, fid, text)
    except (FollowupError, ConnectorError) as exc:
        obj.fail("cli.error", exc, 1)
    click.echo(obj.say("cli.edit.saved", fid=fid))


@click.command()
@click.argument("thread")
@click.option("--channel", type=click.Choice(["phone", "whatsapp"]), required=True)
@click.option("--note", default=None, help="what was said")
@click.option("--by", "by", default=None, help="who made it (default: the follow-up's assignee)")
@click.option("--now", "now_text", default=None, help="when (ISO 8601, default: now)")
@click.pass_obj
def touch(obj, thread: str, channel: str, note: str | None, by: str | None, now_text: str | None) -> None:
    """Log a call or WhatsApp touch. THREAD is the short thread id (the ID column of `scan`,
    `thread_id` in the JSON) or the quote's Message-ID (with or without <>), or an
    unambiguous prefix of either."""
    settings, engine = obj.settings(), obj.engine()
    now = parse_now(now_text, settings)
    by = obj.member(by) if by else None
    try:
        quote_id, closed = review.touch(settings, engine, thread, channel, note=note, by=by, now=now)
        thread_id = review.short_thread_id(engine, quote_id)
    except FollowupError as exc:
        obj.fail("cli.error", exc, 1)
    channel_words = say(f"outcome.channel.{channel}", obj.language)
    click.echo(obj.say("cli.touch.done_closed", channel=channel_words, thread=thread_id, n=closed)
               if closed else obj.say("cli.touch.done", channel=channel_words, thread=thread_id))
