"""``followup crm test | sync | status``: the team's CRM kept in step with the lead threads
(:mod:`assistant.services.crm`)."""

from __future__ import annotations

import sys

import click

from assistant.cli.context import Context, emit_json, parse_now
from assistant.wording import words_of

__all__ = ["crm"]


def _open(obj: Context):
    from assistant.services.crm import CrmSetupError, open_crm

    try:
        return open_crm(obj.settings())
    except CrmSetupError as exc:
        obj.fail("cli.crm_settings", exc, 2)


@click.group()
def crm() -> None:
    """The team's CRM: one deal per lead thread, activities, owners, stages."""


@crm.command("test")
@click.pass_obj
def test(obj: Context) -> None:
    """Sign in to the CRM and say who Followup is there."""
    from connectors.crm import AuthExpired, CRMError

    connector = _open(obj)
    try:
        click.echo(obj.say("crm.connected", kind=connector.kind, who=connector.check()))
    except AuthExpired as exc:
        obj.fail("cli.crm", obj.say("crm.refused_sign_in", error=str(exc),
                                    fix=obj.say("crm.reauthenticate", variable=_secret_name(obj))), 1)
    except CRMError as exc:
        obj.fail("cli.crm", exc, 1)
    finally:
        connector.close()


def _secret_name(obj: Context) -> str:
    crm_settings = obj.settings().crm
    return crm_settings.password_env or crm_settings.api_key_env


@crm.command("sync")
@click.option("--now", "now_text", default=None, help="sync at this ISO 8601 time (default: now)")
@click.option("--retry", is_flag=True,
              help="try the CRM now even if it failed recently (default: wait for the backoff)")
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
@click.pass_obj
def sync(obj: Context, now_text: str | None, retry: bool, as_json: bool) -> None:
    """Push every lead thread to the CRM, then pull what people changed there."""
    connector = _open(obj)
    app = obj.app()
    result = app.crm_sync(connector, parse_now(now_text, obj.settings()), retry=retry)
    if as_json:
        found = result.as_dict()
        for key in ("error", "last_error"):
            if found.get(key):
                found[key] = words_of(found[key], obj.language)
        found["warnings"] = [words_of(w, obj.language) for w in found.get("warnings", [])]
        emit_json(found)
    else:
        click.echo(obj.say("crm.synced", queued=result.queued, pushed=result.pushed,
                           failed=result.failed, closed=len(result.closed),
                           reassigned=len(result.reassigned)))
        if result.phones is not None:
            click.echo(obj.say("crm.phones_read", phones=result.phones))
        for warning in dict.fromkeys(result.warnings):
            click.echo(obj.say("crm.warning", warning=words_of(warning, obj.language)))
    if result.error:
        click.echo(obj.say("crm.stopped", error=words_of(result.error, obj.language)), err=True)
        click.echo(obj.say("crm.waiting", until=result.waiting_until), err=True)
        if result.reauthenticate:
            click.echo(obj.say("crm.reauthenticate", variable=_secret_name(obj)), err=True)
        sys.exit(1)


@crm.command("status")
@click.option("--json", "as_json", is_flag=True, help="print the status as JSON")
@click.pass_obj
def status(obj: Context, as_json: bool) -> None:
    """Last sync, pending outbox, errors."""
    from assistant.services.crm import status as crm_status

    state = crm_status(obj.engine())
    if as_json:
        found = state.as_dict()
        if found.get("last_error"):
            found["last_error"] = words_of(found["last_error"], obj.language)
        emit_json(found)
        return
    never = obj.say("crm.never")
    click.echo(obj.say("crm.status", last_sync=state.last_sync_at or never,
                       last_success=state.last_success_at or never, deals=state.links,
                       pending=state.pending, failing=state.failing, done=state.done))
    if state.phones_read_at:
        click.echo(obj.say("crm.phones_status", phones=state.phones, read_at=state.phones_read_at))
    if state.last_error:
        click.echo(obj.say("crm.last_error", error=words_of(state.last_error, obj.language)))
        if state.retry_at:
            click.echo(obj.say("crm.waiting", until=state.retry_at))
        if state.reauthenticate and obj.settings().crm is not None:
            click.echo(obj.say("crm.reauthenticate", variable=_secret_name(obj)))
    for key, error, attempts in state.errors:
        click.echo(obj.say("crm.entry_error", key=key, error=error, attempts=attempts))
