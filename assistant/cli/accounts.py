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

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from rich.markup import escape

from assistant.cli.context import Context, emit_json, fail
from assistant.cli.context import console as table_console
from assistant.cli.tables import print_table
from assistant.services import sync as sync_service
from assistant.storage.errors import StorageError
from assistant.wording import say
from connectors.base import ConnectorError

__all__ = ["SET_ASIDE_SHOWN", "accounts", "sync"]

SYNC_HINT = {"needs_reauth": "re-authenticate this account",
             "retrying": "a passing fault: the next sync retries",
             "needs_attention": "check this account in settings.toml",
             "storage_error": "database error"}
"""What to do about an account whose sync failed, by its status."""


@click.command()
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
            results = sync_service.sync(settings, engine, account=account, progress=tracker,
                                   folder_progress=folder_tracker, check_storage=True)
        except ConnectorError as exc:
            fail("Error", str(exc), 2)
        except StorageError as exc:
            fail("Database error", str(exc), 1)
    failed = 0
    for result in results:
        if result.error:
            failed += 1
            click.echo(f"{result.account}: FAILED ({SYNC_HINT[result.status]}): {result.error}")
        else:
            extra = f", {result.warnings} with parse warnings" if result.warnings else ""
            skipped = f", {len(result.skipped)} skipped" if result.skipped else ""
            aside = (f", {len(result.set_aside)} set aside (refused by the database; "
                     "see `followup accounts list`)" if result.set_aside else "")
            touches = f", {result.touches} WhatsApp touches" if result.touches else ""
            chats = (f", {len(result.chats_set_aside)} chats set aside (see `followup accounts "
                     "list`)" if result.chats_set_aside else "")
            click.echo(f"{result.account}: read {result.read}, new {result.stored}"
                       f"{touches}{extra}{skipped}{aside}{chats}")
            for line in result.chats_set_aside:
                click.echo(f"  set aside: {line}")
            failed += bool(result.set_aside)
    if failed:
        sys.exit(1)


@click.group()
def accounts() -> None:
    """List, sign in and test the mailboxes of settings.toml."""


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
    states = account_states(app.settings, app.engine, shown=SET_ASIDE_SHOWN)
    rows = []
    for state in states:
        a = state.account
        last = state.last_sync_at.isoformat(timespec="seconds") if state.last_sync_at else None
        rows.append((state, a.path or a.host or a.username or "", last))
    if as_json:
        emit_json({"accounts": [
            {"name": s.account.name, "kind": s.account.kind, "where": str(where),
             "status": s.status, "last_sync_at": last, "error": s.error,
             "set_aside": [{"provider_id": p, "reason": r} for p, r in s.set_aside],
             "set_aside_count": s.set_aside_count} for s, where, last in rows]})
        return
    if tsv:
        for state, where, last in rows:
            a = state.account
            line = f"{a.name}\t{a.kind}\t{where}\t{state.status}\t{last or '-'}"
            click.echo(line + (f"\t{state.error}" if state.error else ""))
            _print_set_aside(state)
        return
    print_table(table_console(), say("accounts.title", "en", n=len(rows)),
                [say(f"accounts.{column}", "en") for column in
                 ("name", "kind", "mailbox", "status", "last_sync", "problem")],
                [[escape(s.account.name), s.account.kind, escape(str(where)), s.status,
                  last.replace("T", " ") if last else "—", escape(s.error or "")]
                 for s, where, last in rows])
    for state, _, _ in rows:
        if state.set_aside:
            click.echo(f"{state.account.name}:")
        _print_set_aside(state)


def _print_set_aside(state) -> None:
    for provider_id, reason in state.set_aside:
        click.echo(f"  set aside: {provider_id}: {reason}")
    if state.set_aside_count > SET_ASIDE_SHOWN:
        click.echo(f"  … and {state.set_aside_count - SET_ASIDE_SHOWN} more set aside")


@accounts.command("test")
@click.argument("name")
@click.pass_obj
def test_account(obj, name: str) -> None:
    """Authenticate, read one page, report."""
    from assistant.services.sync import open_connector_for

    settings = obj.settings()
    account = settings.account(name)
    if account is None:
        fail("Unknown account", f'no account named "{name}" in {settings.path}', 2)
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
                report = f"first batch: {len(batch.messages) if batch else 0} messages"
        finally:
            connector.close()
    except ConnectorError as exc:
        fail(type(exc).__name__.replace("Error", " error"), str(exc), 1)
    click.echo(f"{name}: ok — {report}")


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
            click.echo("Service account key stored; add username = \"rep@your-domain\" to the account "
                       "(the mailbox it acts as, by domain-wide delegation).")
        else:
            if not client_secrets:
                raise click.UsageError("gmail needs --client-secrets CLIENT.json (a Desktop app OAuth client) "
                                       "or --service-account KEY.json")
            from google_auth_oauthlib.flow import InstalledAppFlow

            flow = InstalledAppFlow.from_client_secrets_file(client_secrets, scopes=scopes)
            creds = flow.run_local_server(host="127.0.0.1", port=0, open_browser=False,
                                          authorization_prompt_message="Open this address in a browser "
                                          "(on this machine, or tunnel the port): {url}")
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
                raise click.UsageError(f"set the environment variable {secret_env} to the client secret first")
        else:
            cache = msal.SerializableTokenCache()
            app = msal.PublicClientApplication(client_id, authority=authority, token_cache=cache)
            flow = app.initiate_device_flow(scopes=scopes)
            if "user_code" not in flow:
                raise click.ClickException(f"Microsoft refused the sign-in: {flow.get('error_description')}")
            click.echo(flow["message"])
            result = app.acquire_token_by_device_flow(flow)
            if "access_token" not in result:
                raise click.ClickException(f"sign-in failed: {result.get('error_description')}")
            info.update(flow="device", username=(result.get("id_token_claims") or {}).get("preferred_username"),
                        cache=cache.serialize(), scopes=scopes)
        write_secret_file(target, json.dumps(info, indent=1))
    rel = os.path.relpath(target, folder)
    click.echo(f"Wrote {target} (mode 0600).")
    click.echo(f'In settings.toml: [[accounts]] name = "{name}", kind = "{kind}", oauth = "{rel}"')
    click.echo(f"Then: followup accounts test {name}")
