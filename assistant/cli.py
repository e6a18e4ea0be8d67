"""``followup`` command line: a thin layer over :mod:`assistant.service`.

The command names, options and JSON shapes are a contract (DESIGN.md, "Command-line
contract"): add, don't break. Exit status: 0 ok, 1 a job failed (an account could not
be synced, a file could not be read), 2 bad settings or usage.
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
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from assistant import data, service
from assistant.settings import Settings, default_settings_path, load_settings
from assistant.wording import why_waiting
from assistant.settings_schema import SettingsError
from assistant.storage.db import StorageError, where
from assistant.storage.errors import describe
from connectors.base import ConnectorError

STATUS_ORDER = ("silent", "awaiting_us", "waiting", "bounced", "exhausted", "closed")
STATUS_LABEL = {
    "silent": "Silent — a follow-up is due",
    "awaiting_us": "Awaiting us — the client answered",
    "waiting": "Waiting — next step not due yet",
    "bounced": "Bounced — fix the contact's address",
    "exhausted": "Exhausted — protocol completed without answer",
    "closed": "Closed",
}



def fail(label: str, message: str, status: int) -> None:
    """Print an error unwrapped (scripts grep these) and exit with ``status``."""
    click.echo(f"{click.style(label, fg='red', bold=True)}: {message}", err=True)
    sys.exit(status)


class Context:
    def __init__(self, config: str | None) -> None:
        self.config = config
        self._settings: Settings | None = None
        self._engine = None

    @property
    def config_path(self) -> Path:
        return Path(self.config) if self.config else default_settings_path()

    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self.config_path)
            except SettingsError as exc:
                fail("Invalid settings", str(exc), 2)
        return self._settings

    def engine(self):
        try:
            self._engine = service.open_store(self.settings())
        except StorageError as exc:
            fail("Database error", str(exc), 1)
        return self._engine

    def database(self) -> str:
        """The database, as messages name it (the SQLite file, or the redacted URL)."""
        if self._engine is not None:
            return where(self._engine)
        return where(self._settings.storage.url) if self._settings else "(unknown)"


class Main(click.Group):
    """The ``followup`` group: a database failure in any command (full, read-only,
    damaged, unreachable) ends it with one line saying what to do, and exit status 1 --
    never a traceback with SQL and mail in it."""

    def invoke(self, ctx: click.Context):
        from sqlalchemy.exc import SQLAlchemyError

        try:
            return super().invoke(ctx)
        except StorageError as exc:
            logging.getLogger(__name__).info("database error", exc_info=True)  # -v only
            fail("Database error", str(exc), 1)
        except SQLAlchemyError as exc:
            logging.getLogger(__name__).info("database error", exc_info=True)  # -v only
            where_ = ctx.obj.database() if isinstance(ctx.obj, Context) else "(unknown)"
            fail("Database error", describe(exc, where_), 1)


def emit_json(document: dict) -> None:
    """Indented for a person at a terminal; compact when piped (the C encoder is ~4x
    faster than the indenting one on a large team's scan)."""
    indent = 1 if sys.stdout.isatty() else None
    click.echo(json.dumps(document, ensure_ascii=False, indent=indent))


def parse_now(value: str | None, settings: Settings | None) -> datetime:
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


@click.group(cls=Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config", type=click.Path(dir_okay=False), default=None,
              help="settings file (default: $FOLLOWUP_CONFIG or ./settings.toml)")
@click.option("-v", "--verbose", is_flag=True, help="log what happens, for debugging")
@click.version_option(package_name="followup")
@click.pass_context
def main(ctx: click.Context, config: str | None, verbose: bool) -> None:
    """Followup: every sales quote followed up, by someone clearly responsible."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = Context(config)


@main.command()
@click.option("--force", is_flag=True, help="overwrite an existing settings file")
@click.pass_obj
def init(obj: Context, force: bool) -> None:
    """Write a starter settings.toml and create the database."""
    path = obj.config_path
    if path.exists() and not force:
        fail("Not overwritten", f"{path} already exists; edit it, or run "
             "`followup init --force` to start over", 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data.starter_settings(), encoding="utf-8")
    settings = obj.settings()
    obj.engine()
    click.echo(f"Wrote {path} and created the database ({settings.storage.url}).")
    click.echo("Next: edit the company, team and [[accounts]] sections, then run `followup sync`.")


@main.command()
@click.option("--account", default=None, help="sync only this account (its name in settings.toml)")
@click.pass_obj
def sync(obj: Context, account: str | None) -> None:
    """Pull new mail from every (or one) account."""
    settings, engine = obj.settings(), obj.engine()
    console = Console(stderr=True)
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("{task.completed} messages"), TimeElapsedColumn(),
                  console=console, transient=not console.is_terminal) as progress:

        def tracker(name: str):
            task = progress.add_task(name, total=None)
            return lambda count: progress.advance(task, count)

        def folder_tracker(name: str):
            tasks: dict[str, object] = {}

            def advance(folder: str, count: int) -> None:
                if folder not in tasks:
                    tasks[folder] = progress.add_task(f"  {name} › {folder or '(root)'}", total=None)
                progress.advance(tasks[folder], count)
            return advance

        try:
            results = service.sync(settings, engine, account=account, progress=tracker,
                                   folder_progress=folder_tracker, check_storage=True)
        except ConnectorError as exc:
            fail("Error", str(exc), 2)
        except StorageError as exc:
            fail("Database error", str(exc), 1)
    failed = 0
    for result in results:
        if result.error:
            failed += 1
            hint = {"needs_reauth": "re-authenticate this account",
                    "retrying": "a passing fault: the next sync retries",
                    "needs_attention": "check this account in settings.toml",
                    "storage_error": "database error"}[result.status]
            click.echo(f"{result.account}: FAILED ({hint}): {result.error}")
        else:
            extra = f", {result.warnings} with parse warnings" if result.warnings else ""
            skipped = f", {len(result.skipped)} skipped" if result.skipped else ""
            aside = (f", {len(result.set_aside)} set aside (refused by the database; "
                     "see `followup accounts list`)" if result.set_aside else "")
            click.echo(f"{result.account}: read {result.read}, new {result.stored}"
                       f"{extra}{skipped}{aside}")
            failed += bool(result.set_aside)
    if failed:
        sys.exit(1)


@main.command()
@click.option("--now", "now_text", default=None, help="evaluate at this ISO 8601 time (default: now)")
@click.option("--json", "as_json", is_flag=True, help="print the contract's JSON object")
@click.pass_obj
def scan(obj: Context, now_text: str | None, as_json: bool) -> None:
    """Lead threads with status, owner, scenario and next step."""
    settings, engine = obj.settings(), obj.engine()
    now = parse_now(now_text, settings)
    reports = service.scan(settings, engine, now, mail_keys=False)
    for problem in service.storage_problems(engine)[:1]:
        click.echo(f"warning: {problem} (these answers are those of the mail indexed before)",
                   err=True)
    if as_json:
        emit_json({"now": now.isoformat(), "threads": [r.as_json() for r in reports]})
        return
    print_scan(reports, settings, now)


def print_scan(reports, settings: Settings, now: datetime, console: Console | None = None) -> None:
    if console is None:
        console = Console()
        if not console.is_terminal:  # piped or captured: don't squeeze the table into 80 columns
            console = Console(width=140)
    zone = ZoneInfo(settings.team.timezone)
    console.print(f"[bold]{len(reports)} quote threads[/] at "
                  f"{now.astimezone(zone):%Y-%m-%d %H:%M} ({settings.team.timezone})")
    for status in STATUS_ORDER:
        group = [r for r in reports if r.status == status]
        if not group:
            continue
        if status in ("silent", "waiting"):
            group.sort(key=lambda r: r.next_step.due_at)
        table = Table(title=f"{STATUS_LABEL[status]} ({len(group)})", title_justify="left",
                      expand=False, show_lines=False)
        table.add_column("Subject", overflow="fold", max_width=40)
        table.add_column("Contact", overflow="fold")
        table.add_column("Owner", overflow="fold")
        table.add_column("Scenario")
        table.add_column("Touches", justify="right")
        table.add_column("Next step")
        table.add_column("Due", no_wrap=True)
        why = {id(r): why_waiting(r) for r in group}
        if any(why.values()):
            table.add_column("Why", no_wrap=True)
        for r in group:
            step = r.next_step
            row = [
                r.subject or "(no subject)", r.contact or "—", r.owner or "[red]nobody[/]",
                r.scenario, str(r.touches),
                f"{step.number}/{len(settings.protocol.steps)} {step.channel}" if step else "—",
                f"{step.due_at.astimezone(zone):%a %d %b %H:%M}" if step else "—",
            ]
            if any(why.values()):
                row.append(why[id(r)] or "")
            table.add_row(*row)
        console.print(table)


@main.command()
@click.pass_obj
def rebuild(obj: Context) -> None:
    """Recompute every thread from all stored mail (the read model; sync keeps it current)."""
    from assistant.services import snapshot

    settings, engine = obj.settings(), obj.engine()
    result = snapshot.rebuild(engine, service.rules_from_settings(settings))
    click.echo(f"Rebuilt the read model: {result.threads} lead threads.")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="print the contract's JSON object")
@click.pass_obj
def inspect(obj: Context, files: tuple[str, ...], as_json: bool) -> None:
    """How the rules read raw message files (debugging, audits). Works without settings."""
    rules = None
    if obj.config or obj.config_path.exists():
        rules = service.rules_from_settings(obj.settings())
    results = service.inspect_files(files, rules)
    if as_json:
        emit_json({"messages": [r.as_json() for r in results]})
    else:
        table = Table(show_lines=False)
        for column in ("File", "Kind", "Quote", "Lang", "Subject", "Notes"):
            table.add_column(column, overflow="fold")
        for r in results:
            notes = []
            if r.bounced_recipients:
                notes.append("bounced: " + ", ".join(r.bounced_recipients)
                             + (" (permanent)" if r.bounce_permanent else ""))
            notes.extend(r.warnings)
            table.add_row(r.file, r.kind or "[red]unreadable[/]", "yes" if r.is_quote else "",
                          r.language or "", r.subject, "; ".join(notes))
        Console().print(table)
    if any(r.kind is None for r in results):
        sys.exit(1)


@main.command()
@click.option("--once", is_flag=True, help="run the jobs due now, then exit (for cron)")
@click.option("--now", "now_text", default=None,
              help="with --once: act as if it were this ISO 8601 time")
@click.pass_obj
def run(obj: Context, once: bool, now_text: str | None) -> None:
    """Scheduler: sync, plan follow-ups each business morning, send the weekly digest."""
    from assistant.leases import AnotherWorker, WorkerLock
    from assistant.scheduler import Runner, next_slots

    settings, engine = obj.settings(), obj.engine()
    if now_text and not once:
        raise click.UsageError("--now works only with --once")
    lock = None
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        lock = WorkerLock(Path(engine.url.database))
        try:
            lock.acquire()
        except AnotherWorker as exc:
            fail("Already running", str(exc), 1)
    runner = Runner(settings, engine)
    try:
        if once:
            outcome = runner.run_due(parse_now(now_text, settings) if now_text else None)
            for job in outcome.ran:
                click.echo(f"{job}: done")
            for job in outcome.failed:
                click.echo(f"{job}: FAILED (see the log above)")
            if not outcome.ran and not outcome.failed:
                click.echo("nothing due")
            if outcome.failed:
                sys.exit(1)
            return
        zone = ZoneInfo(settings.team.timezone)
        upcoming = next_slots(runner.clock(), runner.timing)
        click.echo(f"followup run: worker {runner.holder}, syncing every "
                   f"{settings.schedule.sync_minutes} min; "
                   + "; ".join(f"next {job} {at.astimezone(zone):%a %d %b %H:%M}"
                               for job, at in upcoming.items())
                   + f" ({settings.team.timezone}). Stop with Ctrl-C or SIGTERM.")
        runner.run_forever()
    finally:
        if lock is not None:
            lock.release()


@main.command()
@click.option("--now", "now_text", default=None, help="compute at this ISO 8601 time (default: now)")
@click.option("--out", "out", default=None, type=click.Path(dir_okay=False),
              help="write the digest to FILE (.html, .txt or .eml); one file per manager "
                   "(FILE-name.html) when several get one")
@click.option("--send", is_flag=True,
              help="send it through [digest.smtp] or the account named by digest.send_with")
@click.option("--manager", default=None, help="only this manager's digest (their email)")
@click.pass_obj
def digest(obj: Context, now_text: str | None, out: str | None, send: bool,
           manager: str | None) -> None:
    """The managers' weekly digest: print it, write it to a file, or send it."""
    from assistant import digest as digests

    settings, engine = obj.settings(), obj.engine()
    now = parse_now(now_text, settings)
    try:
        built = digests.build_digests(settings, engine, now, manager=manager)
        for path, item in digests.output_files(out, built) if out else ():
            path.write_text(digests.file_text(settings, item, path, now=now), encoding="utf-8")
            click.echo(f"{item.recipient.email}: wrote {path}")
        if send:
            results = digests.send_digests(settings, engine, now, digests.sender_for(settings),
                                           manager=manager)
            for result in results:
                click.echo(f"{result.recipient}: {result.status}"
                           + (f" ({result.error})" if result.error else ""))
            if any(r.status == "failed" for r in results):
                sys.exit(1)
        elif not out:
            for item in built:
                click.echo(f"To: {item.recipient.email}\nSubject: {item.subject}\n\n{item.text}")
    except digests.DigestError as exc:
        fail("Digest", str(exc), 1)


@main.command()
@click.option("--dir", "folder", default="demo-output", type=click.Path(file_okay=False),
              help="where to write the sample mailboxes and database")
@click.pass_obj
def demo(obj: Context, folder: str) -> None:
    """Run the whole pipeline on a bundled sample mailbox."""
    from assistant.sample import generate_sample

    dest = Path(folder).resolve()
    # A demo starts from scratch each time: fresh mailboxes and an empty database.
    for leftover in dest.glob("followup.db*"):
        leftover.unlink()
    info = generate_sample(dest, overwrite=True)
    click.echo(f"Sample team written to {dest} ({info.message_files} message files).")
    os.environ.pop("FOLLOWUP_DATABASE_URL", None)
    settings = load_settings(info.settings_path)
    engine = service.open_store(settings)
    for result in service.sync(settings, engine, now=info.now):
        click.echo(f"synced {result.account}: read {result.read}, new {result.stored}")
    reports = service.scan(settings, engine, info.now)
    print_scan(reports, settings, info.now)
    from assistant import followups
    from assistant.cli_followups import print_followups

    planned = followups.plan(settings, engine, info.now)
    click.echo(f"\nPlanned {len(planned.created)} follow-ups due at {info.now:%a %d %b %H:%M} "
               f"(held {len(planned.held)}): email drafts are in each rep's Maildir Drafts "
               f"folder ({dest / 'mail' / '<account>' / '.Drafts'}); calls and WhatsApp have links.")
    print_followups(followups.list_followups(engine), settings)
    from assistant import digest as digests

    for item in digests.build_digests(settings, engine, info.now):
        path = dest / f"digest-{item.recipient.email.split('@')[0]}.html"
        path.write_text(item.html, encoding="utf-8")
        click.echo(f"\nWeekly digest for {item.recipient.name}: {path} (open it in a browser)")
    click.echo(f"\nTry: followup --config {info.settings_path} scan --now {info.now.isoformat()} --json")
    click.echo(f"     followup --config {info.settings_path} drafts show {planned.created[0] if planned.created else 1}")
    from assistant.cli_web import DEMO_PASSWORD, demo_passwords

    demo_passwords(settings, engine)
    admins = ", ".join(m.email for m in settings.team.members if m.admin) or "none"
    click.echo(f"\nWeb app: followup --config {info.settings_path} serve   then open "
               f"http://127.0.0.1:8000/ and sign in as any team member with the password "
               f"\"{DEMO_PASSWORD}\" (rep: ana@aceros.example, manager and admin: {admins}).")


from assistant.accounts_cli import accounts as _accounts  # noqa: E402
main.add_command(_accounts)


from assistant.cli_followups import drafts, templates, touch  # noqa: E402 (they use this module)

main.add_command(drafts)
main.add_command(templates)
main.add_command(touch)

from assistant.cli_web import serve as _serve, users as _users  # noqa: E402

main.add_command(_serve)
main.add_command(_users)


if __name__ == "__main__":  # pragma: no cover
    main()
