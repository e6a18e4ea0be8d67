"""``followup init``: a starter settings file and the database."""

from __future__ import annotations

import click

from assistant import data
from assistant.cli.context import Context

__all__ = ["init"]


@click.command()
@click.option("--force", is_flag=True, help="overwrite an existing settings file")
@click.pass_obj
def init(obj: Context, force: bool) -> None:
    """Write a starter settings.toml and create the database."""
    path = obj.config_path
    if path.exists() and not force:  # in its language when it loads, else English
        obj.fail("cli.not_overwritten", obj.say("init.exists", path=path), 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data.starter_settings(), encoding="utf-8")
    settings = obj.settings()
    obj.engine()
    click.echo(obj.say("init.wrote", path=path, url=settings.storage.url))
    click.echo(obj.say("init.next"))
