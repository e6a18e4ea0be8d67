"""``followup sync`` and ``followup accounts list | add | test``: pull new mail, sign
mailboxes in, check they answer.

Token files are written with mode 0600 next to the settings file (the account's ``oauth``
key points at them); no token is ever printed.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Callable

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from rich.markup import escape

from assistant.cli.context import Context, emit_json
from assistant.cli.context import console as table_console
from assistant.cli.tables import print_table
from assistant.services import sync as sync_service
from assistant.storage.errors import StorageError
from assistant.wording import coded_words, reason_words, say, words_of
from connectors.base import AuthenticationError, ConnectorError, TransientError

__all__ = ["SET_ASIDE_SHOWN", "accounts", "sync"]

SYNC_STATUSES = ("ok", "never_synced", "needs_reauth", "retrying", "needs_attention",
                 "storage_error")
"""An account's status (``accounts.state.*`` words it; ``sync.hint.*`` what to do about
a failed one)."""


def _status(status: str, language: str) -> str:
    """An account's status as a person reads it (``never synced`` is stored with a space)."""
    status = status.replace(" ", "_")
    return say(f"accounts.state.{status}", language) if status in SYNC_STATUSES else status


def connector_label(exc: ConnectorError) -> str:
    """The label of a connector's error line: what kind of fault, so what to do."""
    return ("cli.authentication_error" if isinstance(exc, AuthenticationError)
            else "cli.transient_error" if isinstance(exc, TransientError)
            else "cli.configuration_error")


@click.command()
@click.option("--account", default=None, help="sync only this account (its name in settings.toml)")
@click.pass_obj
def sync(obj: Context, account: str | None) -> None:
    """Pull new mail from every (or one) account."""
    settings, engine = obj.settings(), obj.engine()
    lang = obj.language
    console = Console(stderr=True)
    messages = escape(say("sync.progress_messages", lang))
    # Redrawn when something moves, not by a thread of its own: with no other thread
    # alive, indexing may fork its workers (assistant.services.workers.can_fork).
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("{task.fields[counted]}"), TimeElapsedColumn(),
                  console=console, transient=not console.is_terminal,
                  auto_refresh=False) as progress:

        def counter(description: str):
            task = progress.add_task(description, total=None, counted=f"0 {messages}")
            done = [0]

            def advance(count: int) -> None:
                done[0] += count
                progress.update(task, completed=done[0], counted=f"{done[0]} {messages}",
                                refresh=True)
            return advance

        def folder_tracker(name: str):
            tasks: dict[str, Callable[[int], None]] = {}

            def advance(folder: str, count: int) -> None:
                if folder not in tasks:
                    tasks[folder] = counter(f"  {name} › {folder or say('sync.root_folder', lang)}")
                tasks[folder](count)
            return advance

        def indexing() -> None:
            progress.add_task(escape(say("sync.indexing", lang)), total=None, counted="")
            progress.refresh()

        try:
            results = sync_service.sync(settings, engine, account=account, progress=counter,
                                        folder_progress=folder_tracker, check_storage=True,
                                        indexing=indexing)
        except ConnectorError as exc:
            obj.fail("cli.error", exc, 2)
        except StorageError as exc:
            obj.fail("cli.database_error", exc, 1)
    failed = 0
    for result in results:
        if result.error:
            failed += 1
            click.echo(say("sync.failed", lang, account=result.account,
                           hint=say(f"sync.hint.{result.status}", lang),
                           error=reason_words(result.reason or result.error, lang)))
            continue
        counts = [(say("sync.touches", lang, n=result.touches), result.touches),
                  (say("sync.parse_warnings", lang, n=result.warnings), result.warnings),
                  (say("sync.skipped", lang, n=len(result.skipped)), result.skipped),
                  (say("sync.set_aside", lang, n=len(result.set_aside)), result.set_aside),
                  (say("sync.chats_set_aside", lang, n=len(result.chats_set_aside)),
                   result.chats_set_aside)]
        click.echo(say("sync.done", lang, account=result.account, read=result.read,
                       new=result.stored) + "".join(", " + words for words, shown in counts if shown))
        for reason in result.skipped[:SKIPPED_SHOWN]:
            click.echo(say("sync.skipped_line", lang, reason=coded_words(reason, lang)))
        if len(result.skipped) > SKIPPED_SHOWN:
            click.echo(say("sync.skipped_more", lang, n=len(result.skipped) - SKIPPED_SHOWN))
        for provider_id, reason in result.chats_set_aside:
            click.echo(say("accounts.set_aside", lang, id=provider_id,
                           reason=reason_words(reason, lang)))
        # mail left out (set aside by the database, or a file that cannot be read): exit 1
        failed += bool(result.set_aside) or bool(result.skipped)
    if failed:
        sys.exit(1)


@click.group()
def accounts() -> None:
    """List, sign in and test the mailboxes of settings.toml."""


SKIPPED_SHOWN = 5
"""At most this many skipped files are named under an account's sync line (then a count)."""

SET_ASIDE_SHOWN = 20
"""At most this many set-aside messages are listed per account (then a count)."""


@accounts.command("list")
@click.option("--json", "as_json", is_flag=True,
              help="print one JSON object: {\"accounts\": [{name, kind, where, status, last_sync_at, "
                   "error, set_aside: [{provider_id, reason}], set_aside_count}]}")
@click.option("--tsv", is_flag=True,
              help="one tab-separated line per account (name, kind, where, status, last sync, "
                   "error), as earlier versions printed")
@click.pass_obj
def list_accounts(obj, as_json: bool, tsv: bool) -> None:
    """Every account with its kind, status and last sync; below an account, the messages
    the database refused (set aside, with the reason). A database that cannot be written
    (read-only) shows every account as ``storage_error``: no sync can store anything."""
    from assistant.services.accounts import account_states

    app = obj.app()
    lang = obj.language
    states = account_states(app.settings, app.engine, shown=SET_ASIDE_SHOWN)
    rows = []
    for state in states:
        a = state.account
        last = state.last_sync_at.isoformat(timespec="seconds") if state.last_sync_at else None
        error = words_of(state.error, lang) if state.error else None
        aside = [(p, reason_words(r, lang)) for p, r in state.set_aside]
        rows.append((state, a.path or a.host or a.username or "", last, error, aside))
    if as_json:  # the keys and the status codes are the contract's; the sentences worded
        emit_json({"accounts": [
            {"name": s.account.name, "kind": s.account.kind, "where": str(where),
             "status": s.status, "last_sync_at": last, "error": error,
             "set_aside": [{"provider_id": p, "reason": r} for p, r in aside],
             "set_aside_count": s.set_aside_count} for s, where, last, error, aside in rows]})
        return
    if tsv:
        for state, where, last, error, aside in rows:
            a = state.account
            line = f"{a.name}\t{a.kind}\t{where}\t{state.status}\t{last or '-'}"
            click.echo(line + (f"\t{error}" if error else ""))
            _print_set_aside(state, aside, lang)
        return
    print_table(table_console(), say("accounts.title", lang, n=len(rows)),
                [say(f"accounts.{column}", lang) for column in
                 ("name", "kind", "mailbox", "status", "last_sync", "problem")],
                [[escape(s.account.name), s.account.kind, escape(str(where)), _status(s.status, lang),
                  last.replace("T", " ") if last else "—", escape(error or "")]
                 for s, where, last, error, _ in rows])
    for state, _, _, _, aside in rows:
        if aside:
            click.echo(f"{state.account.name}:")
        _print_set_aside(state, aside, lang)


def _print_set_aside(state, aside: list[tuple[str, str]], language: str) -> None:
    for provider_id, reason in aside:
        click.echo(say("accounts.set_aside", language, id=provider_id, reason=reason))
    if state.set_aside_count > SET_ASIDE_SHOWN:
        click.echo(say("accounts.more_set_aside", language,
                       n=state.set_aside_count - SET_ASIDE_SHOWN))


@accounts.command("test")
@click.argument("name")
@click.pass_obj
def test_account(obj, name: str) -> None:
    """Authenticate, read one page, report."""
    from assistant.services.sync import open_connector_for

    settings = obj.settings()
    account = settings.account(name)
    if account is None:
        obj.fail("cli.unknown_account", obj.say(
            "sync.unknown_account", name=name, file=str(settings.path),
            names=", ".join(a.name for a in settings.accounts) or "—"), 2)
    try:
        if account.kind == "whatsapp":  # its date order follows the team's language too
            from assistant.services.whatsapp import open_whatsapp
            connector = open_whatsapp(settings, account)
        else:
            connector = open_connector_for(account)
        try:
            probe = getattr(connector, "probe", None)
            if probe is not None:
                report = probe()
            else:
                batch = next(iter(connector.fetch(None)), None)
                report = obj.say("accounts.first_batch", n=len(batch.messages) if batch else 0)
        finally:
            connector.close()
    except ConnectorError as exc:
        obj.fail(connector_label(exc), exc, 1)
    click.echo(obj.say("accounts.test_ok", name=name, report=report))


@accounts.command("add")
@click.argument("kind", type=click.Choice(["gmail", "outlook"]))
@click.option("--name", required=True, help="the account's name in settings.toml")
@click.option("--client-secrets", type=click.Path(exists=True, dir_okay=False),
              help="gmail: the OAuth client JSON downloaded from Google Cloud (Desktop app)")
@click.option("--service-account", type=click.Path(exists=True, dir_okay=False),
              help="gmail: a service account key with domain-wide delegation (Workspace)")
@click.option("--client-id", help="outlook: the Entra application (client) id")
@click.option("--tenant", default="organizations", show_default=True,
              help="outlook: tenant id or domain (organizations, consumers, common, or yours)")
@click.option("--app-only", is_flag=True,
              help="outlook: client credentials (application permissions) instead of a user's sign-in")
@click.option("--secret-env", default="FOLLOWUP_MS_CLIENT_SECRET", show_default=True,
              help="outlook --app-only: environment variable holding the client secret")
@click.option("--imap", "for_imap", is_flag=True,
              help="sign in for an imap account's XOAUTH2 (IMAP scopes) instead of the Gmail/Graph API")
@click.option("--token-file", type=click.Path(dir_okay=False),
              help="where to write the token (default: secrets/NAME-token.json next to settings.toml)")
@click.pass_obj
def add_account(obj, kind, name, client_secrets, service_account, client_id, tenant, app_only,
                secret_env, for_imap, token_file) -> None:
    """Sign a Gmail or Outlook mailbox in and write its 0600 token file."""
    from connectors._cloud import write_secret_file

    folder = obj.config_path.resolve().parent
    target = Path(token_file) if token_file else folder / "secrets" / f"{name}-token.json"
    from connectors.cloud import sign_in_scopes

    scopes = list(sign_in_scopes(kind, imap=for_imap))  # exactly what the account's connector asks for
    if kind == "gmail":
        if service_account:
            text = Path(service_account).read_text(encoding="utf-8")
            write_secret_file(target, text)
            click.echo(obj.say("accounts.add.service_account"))
        else:
            if not client_secrets:
                raise click.UsageError("gmail needs --client-secrets CLIENT.json (a Desktop app OAuth client) "
                                       "or --service-account KEY.json")
            from google_auth_oauthlib.flow import InstalledAppFlow

            flow = InstalledAppFlow.from_client_secrets_file(client_secrets, scopes=scopes)
            creds = flow.run_local_server(host="127.0.0.1", port=0, open_browser=False,
                                          authorization_prompt_message=obj.say(
                                              "accounts.add.open_address", url="{url}"))
            write_secret_file(target, creds.to_json())
    else:
        import msal

        if not client_id:
            raise click.UsageError("outlook needs --client-id (the Entra application id)")
        authority = f"https://login.microsoftonline.com/{tenant}"
        info = {"provider": "microsoft", "client_id": client_id, "authority": authority}
        if app_only:
            info.update(flow="client_credentials", client_secret_env=secret_env)
            if not os.environ.get(secret_env):
                obj.fail("cli.error", obj.say("accounts.add.secret_first", variable=secret_env), 2)
        else:
            cache = msal.SerializableTokenCache()
            app = msal.PublicClientApplication(client_id, authority=authority, token_cache=cache)
            flow = app.initiate_device_flow(scopes=scopes)
            if "user_code" not in flow:
                obj.fail("cli.error", obj.say("accounts.add.refused",
                                              error=flow.get("error_description")), 1)
            click.echo(flow["message"])  # Microsoft's own words: the code and where to type it
            result = app.acquire_token_by_device_flow(flow)
            if "access_token" not in result:
                obj.fail("cli.error", obj.say("accounts.add.failed",
                                              error=result.get("error_description")), 1)
            info.update(flow="device", username=(result.get("id_token_claims") or {}).get("preferred_username"),
                        cache=cache.serialize(), scopes=scopes)
        write_secret_file(target, json.dumps(info, indent=1))
    rel = os.path.relpath(target, folder)
    click.echo(obj.say("accounts.add.wrote", path=target))
    click.echo(obj.say("accounts.add.settings", name=name, kind=kind, path=rel))
    click.echo(obj.say("accounts.add.then", name=name))
