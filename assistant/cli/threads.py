"""``followup scan``, ``followup rebuild`` and ``followup inspect``: the lead threads as the
read model holds them, and how the rules read raw message files."""

from __future__ import annotations

import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.markup import escape

from assistant.cli.context import Context, emit_json, parse_now, person_cell
from assistant.cli.context import console as table_console
from assistant.cli.tables import print_table
from assistant.services.inspection import inspect_files
from assistant.services.rules import rules_from_settings
from assistant.services.scan import storage_problems
from assistant.settings import Settings
from assistant.wording import day_time, due_words, say, snoozed_words, term, why_waiting, words_of

__all__ = ["STATUS_LABEL", "STATUS_ORDER", "inspect", "print_scan", "rebuild", "scan"]

STATUS_ORDER = ("silent", "awaiting_us", "waiting", "bounced", "exhausted", "closed")
STATUS_LABEL = {status: say(f"cli.scan.group.{status}", "en") for status in STATUS_ORDER}
"""The scan's group titles in English (``cli.scan.group.*`` in the catalogue)."""


@click.command()
@click.option("--now", "now_text", default=None, help="evaluate at this ISO 8601 time (default: now)")
@click.option("--json", "as_json", is_flag=True, help="print the contract's JSON object")
@click.pass_obj
def scan(obj: Context, now_text: str | None, as_json: bool) -> None:
    """Lead threads with status, owner, scenario and next step."""
    app = obj.app()
    now = parse_now(now_text, app.settings)
    reports = app.threads(now)
    for problem in storage_problems(app.engine)[:1]:
        click.echo(obj.say("cli.scan.storage_warning", problem=words_of(problem, obj.language)),
                   err=True)
    if as_json:
        emit_json({"now": now.isoformat(), "threads": [r.as_json() for r in reports]})
        return
    print_scan(reports, app.settings, now,
               names=app.names({a for r in reports for a in (r.contact, r.owner)},
                               [r.quote_message_id for r in reports]))


def print_scan(reports, settings: Settings, now: datetime, console: Console | None = None,
               names: dict | None = None) -> None:
    """The scan's tables; ``names``: who each address is (``Followup.names``), shown
    with the address below (without: addresses only)."""
    console = console or table_console()
    names = names or {}
    zone = ZoneInfo(settings.team.timezone)
    lang = settings.team.language
    console.print("[bold]" + say("cli.scan.title", lang, n=len(reports),
                                 time=f"{now.astimezone(zone):%Y-%m-%d %H:%M}",
                                 zone=settings.team.timezone) + "[/]")
    for status in STATUS_ORDER:
        group = [r for r in reports if r.status == status]
        if not group:
            continue
        if status in ("silent", "waiting"):
            group.sort(key=lambda r: r.next_step.due_at)
        headers = [say(f"cli.col.{column}", lang) for column in
                   ("id", "subject", "contact", "owner", "scenario", "touches", "next_step", "due")]
        why = {id(r): why_waiting(r, lang) or snoozed_words(r, lang) for r in group}
        if any(why.values()):
            headers.append(say("cli.col.why", lang))
        cells = []
        for r in group:
            step = r.next_step
            row = [
                r.thread_id or "—", escape(r.subject or say("cli.no_subject", lang)),
                person_cell(names, r.contact),
                person_cell(names, r.owner, f"[red]{say('cli.nobody', lang)}[/]"),
                term("scenario", r.scenario, lang), str(r.touches),
                f"{step.number}/{len(settings.protocol.steps)} {term('channel', step.channel, lang)}"
                if step else "—",
                day_time(step.due_at.astimezone(zone), lang) + " · "
                + due_words(step.due_at, now, timezone=settings.team.timezone,
                            country=settings.protocol.holidays_country, language=lang)
                if step else "—",
            ]
            if any(why.values()):
                row.append(why[id(r)] or "")
            cells.append(row)
        print_table(console, f"{say(f'cli.scan.group.{status}', lang)} ({len(group)})", headers, cells,
                    justify={5: "right"}, whole=(8,))


@click.command()
@click.pass_obj
def rebuild(obj: Context) -> None:
    """Recompute every thread from all stored mail (the read model; sync keeps it current)."""
    result = obj.app().rebuild()
    click.echo(obj.say("cli.rebuild.done", n=result.threads))


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="print the contract's JSON object")
@click.pass_obj
def inspect(obj: Context, files: tuple[str, ...], as_json: bool) -> None:
    """How the rules read raw message files (debugging, audits). Works without settings."""
    rules = None
    if obj.config or obj.config_path.exists():
        rules = rules_from_settings(obj.settings())  # no database needed
    results = inspect_files(files, rules)
    if as_json:
        emit_json({"messages": [r.as_json() for r in results]})
    else:
        lang = obj.language  # without settings: English
        cells = []
        for r in results:
            notes = []
            if r.bounced_recipients:
                notes.append(say("cli.inspect.bounced_permanent" if r.bounce_permanent
                                 else "cli.inspect.bounced", lang,
                                 who=", ".join(r.bounced_recipients)))
            notes.extend(words_of(w, lang) for w in r.warnings)
            # A stored kind reads as the timeline words it (``event.*``); a person's message
            # has no event of its own there (it is a quote, a reply or ours by its thread).
            kind = (say("cli.inspect.kind.message", lang) if r.kind == "message"
                    else say(f"event.{r.kind}", lang)) if r.kind else \
                f"[red]{say('cli.inspect.unreadable', lang)}[/]"
            cells.append([escape(r.file), kind,
                          say("cli.yes", lang) if r.is_quote else "", r.language or "",
                          escape(r.subject or ""), escape("; ".join(notes))])
        print_table(table_console(), None, [say(f"cli.inspect.col.{column}", lang) for column in
                                            ("file", "kind", "quote", "language")]
                    + [say("cli.col.subject", lang), say("cli.inspect.col.notes", lang)],
                    cells)
    if any(r.kind is None for r in results):
        sys.exit(1)
