"""What every command shares: the :class:`Context` that builds the app object once from
``--config``, the ``followup`` group's error handling, and the output helpers.

Exit status: 0 ok, 1 a job failed (an account could not be synced, a file could not be
read), 2 bad settings or usage. A startup error (settings, database) is one line on
standard error, never a traceback.

Language: every line a command prints is the catalogue's (:mod:`assistant.wording`), in
``[team] language`` (:attr:`Context.language`). Until the settings have loaded that
language is not known, and a settings file that does not load is reported in English
(label and message alike: never half and half); so are click's usage errors and
``--help``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from rich.console import Console

from assistant.services.app import Followup
from assistant.settings import Settings, default_settings_path, load_settings
from assistant.settings import SettingsError
from assistant.storage.db import StorageError, where
from assistant.storage.errors import DATABASE_ERRORS, describe
from assistant.wording import say, words_of

__all__ = ["UNKNOWN_LANGUAGE", "Context", "Main", "console", "emit_json", "fail", "parse_now"]

UNKNOWN_LANGUAGE = "en"
"""The language of what is printed before the settings say the team's (a settings file
that does not load, ``demo`` refusing its folder): English."""


def fail(label: str, message: str, status: int) -> None:
    """Print an error unwrapped (scripts grep these) and exit with ``status``."""
    click.echo(f"{click.style(label, fg='red', bold=True)}: {message}", err=True)
    sys.exit(status)


class Context:
    """The options of the ``followup`` group, and the app object built from them once."""

    def __init__(self, config: str | None) -> None:
        self.config = config
        self._settings: Settings | None = None
        self._app: Followup | None = None

    @property
    def config_path(self) -> Path:
        return Path(self.config) if self.config else default_settings_path()

    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self.config_path)
            except SettingsError as exc:  # the team's language is not known: English
                fail(say("cli.invalid_settings", UNKNOWN_LANGUAGE), str(exc), 2)
        return self._settings

    CREATES_DATABASE = frozenset(("sync", "run", "demo", "init", "users", "accounts", "templates"))
    """The commands that may create a missing SQLite database: they fill or set it up.
    Every other one reads the team's data and refuses a file that is not there, or empty
    (0 bytes), with exit 1."""

    @property
    def language(self) -> str:
        """``[team] language`` once the settings load (they are loaded here if a command
        has not yet: a quiet try), else :data:`UNKNOWN_LANGUAGE`."""
        if self._settings is None:
            try:
                self._settings = load_settings(self.config_path)
            except (SettingsError, OSError):
                return UNKNOWN_LANGUAGE
        return self._settings.team.language

    def say(self, code: str, /, **values) -> str:
        """``code`` of the catalogue in the team's language."""
        return say(code, self.language, **values)

    def fail(self, label: str, error, status: int) -> None:
        """:func:`fail` in the team's language: ``label`` a catalogue code, ``error`` a
        worded exception (its :meth:`words`), a code's words already, or plain text."""
        fail(self.say(label), words_of(error, self.language), status)

    def app(self) -> Followup:
        """The app object over the settings' database (opened and migrated once)."""
        if self._app is None:
            settings = self.settings()
            path = where(settings.storage.url)
            names, ctx = set(), click.get_current_context(silent=True)
            while ctx is not None:  # the command and the groups above it
                names.add(ctx.info_name)
                ctx = ctx.parent
            if (settings.storage.url.startswith("sqlite:///") and path != ":memory:"
                    and not (names & self.CREATES_DATABASE)):
                # A file of 0 bytes (a copy that failed, a `touch`) is no database either:
                # opened, it would be set up anew, empty, every mark forgotten.
                if not Path(path).exists():
                    self.fail("cli.database_error",
                              self.say("cli.no_database", path=path, file=str(self.config_path)), 1)
                if Path(path).is_file() and Path(path).stat().st_size == 0:
                    self.fail("cli.database_error",
                              self.say("cli.empty_database", path=path, file=str(self.config_path)), 1)
            try:
                self._app = Followup.open(settings)
            except StorageError as exc:
                self.fail("cli.database_error", exc, 1)
        return self._app

    def engine(self):
        return self.app().engine

    def planning_app(self) -> Followup:
        """The app object for a command that plans, drafts, serves or runs: every protocol
        step's template must exist first (exit 2 naming the step, the name and the
        templates that exist). ``templates …`` commands do not ask: they are how a missing
        template gets saved."""
        app = self.app()
        from assistant.services.templates import missing_step_templates, template_names

        missing = missing_step_templates(app.settings, app.engine)
        if missing:
            folder = app.settings.templates.folder
            found = template_names(app.engine, folder)
            names = "; ".join(self.say(f"settings.names_{where}", names=", ".join(found[where]))
                              for where in ("shipped", "folder", "saved") if found[where])
            self.fail("cli.invalid_settings", "\n".join(  # the settings loaded: their language
                self.say("settings.step_template", index=m.number, number=m.number,
                         channel=self.say(f"channel.{m.channel}"), file=str(self.config_path),
                         template=m.template,
                         names=names, folder=str(folder) if folder else self.say("settings.no_folder"))
                for m in missing), 2)
        return app

    def member(self, text: str, option: str = "--by") -> str:
        """The team member ``text`` names: their email (any case), or the part before
        the @ when one member has it (``ana``); anything else is a usage error listing
        the team (a history names people, never a typo)."""
        members = self.settings().team.members
        typed = text.strip().lower()
        found = [m.email for m in members if typed in (m.email.lower(), m.email.lower().split("@")[0])]
        if len(found) == 1:
            return found[0]
        raise click.BadParameter(f"{text!r}: " + ", ".join(m.email for m in members), param_hint=option)

    def database(self) -> str:
        """The database, as messages name it (the SQLite file, or the redacted URL)."""
        if self._app is not None:
            return where(self._app.engine)
        return where(self._settings.storage.url) if self._settings else self.say("cli.unknown")


class Main(click.Group):
    """The ``followup`` group: a database failure in any command (full, read-only,
    damaged, unreachable) ends it with one line saying what to do, and exit status 1 --
    never a traceback with SQL and mail in it."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except StorageError as exc:
            logging.getLogger(__name__).info("database error", exc_info=True)  # -v only
            _context(ctx).fail("cli.database_error", exc, 1)
        except DATABASE_ERRORS as exc:
            logging.getLogger(__name__).info("database error", exc_info=True)  # -v only
            obj = _context(ctx)
            obj.fail("cli.database_error", describe(exc, obj.database()), 1)


def _context(ctx: click.Context) -> Context:
    return ctx.obj if isinstance(ctx.obj, Context) else Context(None)


def emit_json(document: dict) -> None:
    """Indented for a person at a terminal; compact when piped (the C encoder is ~4x
    faster than the indenting one on a large team's scan)."""
    indent = 1 if sys.stdout.isatty() else None
    click.echo(json.dumps(document, ensure_ascii=False, indent=indent))


def parse_now(value: str | None, settings: Settings | None) -> datetime:
    """``--now``: an ISO 8601 time (the team's zone when it names none); default: now."""
    if value is None:
        return datetime.now(timezone.utc)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time; "
                                 "write e.g. 2026-12-10T15:00:00-05:00", param_hint="--now")
    if moment.tzinfo is None:
        zone = ZoneInfo(settings.team.timezone) if settings else timezone.utc
        moment = moment.replace(tzinfo=zone)
    return moment


def person_cell(names: dict, address: str | None, nobody: str = "—") -> str:
    """A table cell for a person: their name, the address on a second, dim line (the
    address alone when no name is known); rich markup in either is escaped."""
    from rich.markup import escape

    if not address:
        return nobody
    found = names.get(address.lower())
    if found is None or not found.name:
        return escape(address)
    return f"{escape(found.name)}\n[dim]{escape(address)}[/]"


def console() -> Console:
    """A console for tables: the terminal's width, ``$COLUMNS`` when set, else 140 columns
    when piped or captured (not squeezed into 80)."""
    out = Console()
    return out if out.is_terminal or os.environ.get("COLUMNS", "").isdigit() else Console(width=140)
