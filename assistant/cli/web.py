"""``followup serve`` and ``followup users set-password``: the web app and its passwords.

``assistant.web`` is imported inside the commands, never here: it imports Flask, and
every ``followup`` command loads this module."""

from __future__ import annotations

import sys
from datetime import datetime, timezone

import click

from assistant.cli.context import parse_now

__all__ = ["serve", "users"]


@click.group("users")
def users() -> None:
    """Web app users (the team members of settings.toml)."""


@users.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True,
              help="read the password from the first line of standard input")
@click.pass_obj
def set_password(obj, email: str, password_stdin: bool) -> None:
    """Set the web app password of a team member (stored as a salted scrypt hash)."""
    from assistant.web import users as web_users

    settings, engine = obj.settings(), obj.engine()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(obj.say("users.password"), hide_input=True,
                                confirmation_prompt=obj.say("users.repeat_password"))
    try:
        address = web_users.set_password(settings, engine, email, password,
                                         datetime.now(timezone.utc))
    except web_users.UserError as exc:
        obj.fail("cli.not_set", exc, 2)
    click.echo(obj.say("users.password_set", email=address))


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="address to listen on (127.0.0.1: this machine only)")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--now", "now_text", default=None,
              help="show every page as of this ISO 8601 time, as `scan --now` does (the demo's)")
@click.pass_obj
def serve(obj, host: str, port: int, now_text: str | None) -> None:
    """Start the web app (reps, managers, admins)."""
    from assistant.web import make_server
    from assistant.web.security import SecretFileError, secret_key

    app = obj.planning_app()
    settings, engine = app.settings, app.engine
    try:
        secret_key(settings)
    except SecretFileError as exc:
        obj.fail("cli.unsafe_secret", exc, 2)
    where = f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
    clock = {}
    if now_text:
        fixed = parse_now(now_text, settings)
        clock = {"clock": lambda: fixed}
    server = make_server(settings, engine, host=host, port=port, **clock)  # a port in use: werkzeug says so
    click.echo(obj.say("serve.started", url=where, auth=obj.say(f"serve.auth.{settings.web.auth}")))
    if now_text:
        click.echo(obj.say("serve.now", now=fixed.isoformat()))
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(obj.say("serve.beyond"), err=True)
    server.serve_forever()  # werkzeug's: Ctrl+C stops it and closes the socket
