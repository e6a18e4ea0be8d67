"""Follow-up templates: the ones in use (an admin's edited version in the database, else
the admins' overrides folder, else the shipped file), saving an edited one as a new
version after validating it, their history, and validating every one in use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from assistant.drafting.templates import (
    LANGUAGES, TemplateProblem, TemplateSource, file_templates, shipped_templates,
    stored_form, stored_text,
)
from assistant.rendering import renderer
from assistant.settings import Settings
from assistant.storage import models
from assistant.storage import templates as stored_templates
from assistant.wording import say

__all__ = ["MissingTemplate", "missing_step_templates", "template_names", "template_sources",
           "save_template", "template_history", "validate_templates"]


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


def template_sources(engine: Engine, overrides: Path | None = None
                     ) -> dict[tuple[str, str], TemplateSource]:
    """The template in use for every (name, language): the latest edited version, else
    the file in the admins' ``overrides`` folder (``settings.templates.folder``), else the
    shipped file."""
    sources = file_templates(overrides)
    with Session(engine) as session:
        for row in stored_templates.versions_oldest_first(session):
            sources[row.name, row.language] = TemplateSource(
                row.name, row.language, stored_text(row.subject, row.body), row.version,
                f"{row.name}.{row.language} v{row.version} ({row.author})", row.author)
    return sources


def save_template(engine: Engine, name: str, language: str, text: str, author: str,
                  now: datetime | None = None) -> int:
    """Store an edited template as a new version after validating it; return the version.
    Raises :class:`TemplateProblem` (nothing stored) when it cannot be used."""
    if language not in LANGUAGES:
        raise TemplateProblem(f"{name}: language must be one of {', '.join(LANGUAGES)}")
    label = f"{name}.{language}"  # the edited text being saved
    stored = stored_form(text, label)  # exactly what is stored is what is validated
    problems = renderer().problems([TemplateSource(name, language, stored.text, 0, label)])
    if problems:
        raise stored.locate(problems[0])
    subject, body = stored.subject, stored.body
    with Session(engine) as session, session.begin():
        return stored_templates.add_version(session, name, language, subject=subject, body=body,
                                            author=author,
                                            at=_utc(now or datetime.now(timezone.utc)))


def template_history(engine: Engine) -> list[models.TemplateVersion]:
    with Session(engine) as session:
        return stored_templates.versions_by_template(session)


def validate_templates(settings: Settings, engine: Engine, language: str = "en") -> list[str]:
    """Every problem of the templates in use, plus protocol steps naming no template,
    worded in ``language``."""
    sources = template_sources(engine, settings.templates.folder)
    problems = [p.describe(language) for p in renderer().problems(list(sources.values()))]
    names = {name for name, _ in sources}
    folder = settings.templates.folder or say("templates.folder_unset", language)
    for number, step in enumerate(settings.protocol.steps, 1):
        if step.template not in names:
            problems.append(say("templates.step_missing", language, number=number,
                                template=step.template, folder=folder))
    return problems


@dataclass(frozen=True)
class MissingTemplate:
    """A protocol step (``number`` from 1, its ``channel``) naming a template that exists
    nowhere: neither shipped, nor in the admins' folder, nor saved in the database."""

    number: int
    channel: str
    template: str


def template_names(engine: Engine, overrides: Path | None = None) -> dict[str, list[str]]:
    """The template names that exist, by where: ``shipped``, ``folder`` (the admins'
    overrides folder) and ``saved`` (edited versions in the database), each sorted."""
    own = shipped_templates(overrides) if overrides is not None and overrides.is_dir() else {}
    with Session(engine) as session:
        saved = stored_templates.saved_names(session)
    return {"shipped": sorted({name for name, _ in shipped_templates()}),
            "folder": sorted({name for name, _ in own}),
            "saved": sorted(saved)}


def missing_step_templates(settings: Settings, engine: Engine) -> list[MissingTemplate]:
    """The protocol steps whose template exists nowhere (checked before planning, drafting,
    serving or running: such a step would hold every follow-up it is due for)."""
    names = set().union(*template_names(engine, settings.templates.folder).values())
    return [MissingTemplate(number, step.channel, step.template)
            for number, step in enumerate(settings.protocol.steps, 1)
            if step.template not in names]
