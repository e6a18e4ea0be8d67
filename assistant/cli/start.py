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
    backup = _keep(path) if path.exists() else None
    path.write_text(data.starter_settings(), encoding="utf-8")
    settings = obj.settings()
    obj.engine()
    click.echo(obj.say("init.wrote", path=path, url=settings.storage.url))
    if backup is not None:
        click.echo(obj.say("init.kept", backup=backup))
    click.echo(obj.say("init.next"))


def _keep(path):
    """Copy the settings ``--force`` replaces to ``<name>.bak`` (``.bak2``, ... when taken),
    its mode kept: nothing a person wrote is lost."""
    import shutil

    n, backup = 1, path.with_name(path.name + ".bak")
    while backup.exists():
        n += 1
        backup = path.with_name(f"{path.name}.bak{n}")
    shutil.copy2(path, backup)
    return backup
