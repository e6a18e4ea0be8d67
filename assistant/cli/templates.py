"""``followup templates …``: list the follow-up templates in use, preview one against
sample data or a real thread, validate them all, save an edited version."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape

from assistant import data
from assistant.cli.context import console as table_console
from assistant.cli.context import parse_now
from assistant.cli.tables import print_table
from assistant.drafting.templates import (
    FORMAL_SUFFIX, TemplateProblem, choose_language, sample_context, shipped_templates,
)
from assistant.rendering import renderer
from assistant.services.review import FollowupError, preview_context
from assistant.services.templates import save_template, template_sources, validate_templates
from assistant.wording import say

__all__ = ["templates"]


@click.group()
def templates() -> None:
    """Follow-up templates: list, preview, validate, save an edited version."""


@templates.command("list")
@click.pass_obj
def templates_list(obj) -> None:
    """The templates in use (shipped file or latest edited version)."""
    settings, engine = obj.settings(), obj.engine()
    sources = template_sources(engine, settings.templates.folder)
    used = {s.template for s in settings.protocol.steps}
    lang = obj.language
    shipped = shipped_templates()
    cells = []
    for (name, language), source in sorted(sources.items()):
        formal = name.endswith(FORMAL_SUFFIX) and name.removesuffix(FORMAL_SUFFIX) in used
        where = (say("templates.source.saved", lang, name=name, language=language,
                     version=source.version, author=source.author) if source.version
                 else say("templates.source.shipped", lang, file=f"{name}.{language}.txt")
                 if source == shipped.get((name, language)) else source.label)
        cells.append([name, language, str(source.version), escape(where),
                      say("templates.in_protocol", lang) if name in used
                      else say("templates.formal_variant", lang) if formal else ""])
    print_table(table_console(), say("templates.title", lang),
                [say(f"templates.col.{column}", lang) for column in
                 ("name", "language", "version", "source", "in_protocol")], cells)
    own = settings.templates.folder
    click.echo(say("templates.where", lang, folder=own or say("templates.folder_unset", lang),
                   state=say("templates.found_first" if own and own.is_dir() else "templates.none_yet",
                             lang), shipped=data.TEMPLATES))


@templates.command("preview")
@click.argument("name")
@click.option("--thread", default=None, help="render with this thread's data (quote Message-ID or prefix)")
@click.option("--lang", "language", default=None, help="es or en (default: the thread's, else es)")
@click.option("--now", "now_text", default=None)
@click.pass_obj
def templates_preview(obj, name: str, thread: str | None, language: str | None, now_text: str | None) -> None:
    """Render a template against sample data or a real thread."""
    settings, engine = obj.settings(), obj.engine()
    sources = template_sources(engine, settings.templates.folder)
    try:
        if thread:
            now = parse_now(now_text, settings)
            context, wanted = preview_context(settings, engine, thread, now)
        else:
            wanted = language or "es"
            context = sample_context(wanted)
        chosen = choose_language({lang for n, lang in sources if n == name}, language or wanted)
        if chosen is None:
            obj.fail("cli.error", obj.say("hold.no_template", template=name), 1)
        if thread and chosen != wanted:  # the dates in the template's language
            context, _ = preview_context(settings, engine, thread, now, template_language=chosen)
        rendered = renderer().render(sources[name, chosen], context)
    except (TemplateProblem, FollowupError) as exc:
        obj.fail("cli.template_error", exc, 1)
    click.echo(obj.say("cli.show.subject", subject=rendered.subject) + f"\n\n{rendered.body}")


@templates.command("validate")
@click.pass_obj
def templates_validate(obj) -> None:
    """Render every template against sample data; exit 1 on any problem."""
    problems = validate_templates(obj.settings(), obj.engine(), obj.language)
    label = click.style(obj.say("cli.template_error"), fg="red", bold=True)
    for problem in problems:
        click.echo(f"{label}: {problem}", err=True)
    if problems:
        sys.exit(1)
    click.echo(obj.say("templates.all_render"))


@templates.command("save")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--lang", "language", required=True, type=click.Choice(["es", "en"]))
@click.option("--author", required=True, help="who edited it (email)")
@click.pass_obj
def templates_save(obj, name: str, file: str, language: str, author: str) -> None:
    """Store FILE as the new version of template NAME (validated first)."""
    try:
        version = save_template(obj.engine(), name, language,
                                Path(file).read_text(encoding="utf-8"), author)
    except TemplateProblem as exc:
        obj.fail("cli.template_error", obj.say("review.not_saved", error=exc.words(obj.language)), 1)
    click.echo(obj.say("templates.saved", name=name, language=language, version=version))
