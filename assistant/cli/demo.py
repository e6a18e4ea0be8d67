"""``followup demo``: the whole pipeline on a bundled sample team, printed as the other
commands print it (the pipeline itself is :mod:`assistant.demo.pipeline`), in the sample
team's ``[team] language``."""

from __future__ import annotations

import os
import shutil
import sys

import click

from assistant.cli.context import UNKNOWN_LANGUAGE, Context, fail
from assistant.cli.followups import print_followups
from assistant.cli.threads import print_scan
from assistant.demo import pipeline
from assistant.wording import day_time, say

__all__ = ["demo"]


def command_name(argv0: str | None = None) -> str:
    """How to run ``followup`` again, as the hints print it: ``followup`` when that name on
    the PATH is this very program, else the path this one was started by (``make demo``
    runs ``.venv/bin/followup``, which a fresh shell does not find by name)."""
    argv0 = argv0 if argv0 is not None else sys.argv[0]
    here = shutil.which(argv0) if os.sep not in argv0 else argv0
    on_path = shutil.which("followup")
    if here and on_path and os.path.realpath(on_path) == os.path.realpath(here):
        return "followup"
    return argv0 if os.sep in argv0 else "followup"


@click.command()
@click.option("--dir", "folder", default="demo-output", type=click.Path(file_okay=False),
              help="where to write the sample mailboxes and database")
@click.option("--force", is_flag=True,
              help="write into the folder even when it holds files the demo did not create")
@click.pass_obj
def demo(obj: Context, folder: str, force: bool) -> None:
    """Run the whole pipeline on a bundled sample mailbox."""
    try:
        dest, info = pipeline.prepare(folder, force=force)
    except pipeline.FolderInUse as exc:  # no settings of the demo yet: English
        lang = UNKNOWN_LANGUAGE
        shown = exc.entries[:8]
        more = len(exc.entries) - len(shown)
        fail(say("cli.error", lang), say("demo.folder_in_use", lang, folder=str(exc.folder),
                                         entries=", ".join(shown)
                                         + (" " + say("web.and_more", lang, n=more) if more else "")), 2)
    done = pipeline.run(dest, info)
    settings, config = done.settings, info.settings_path
    lang = settings.team.language

    def echo(code: str, **values) -> None:
        click.echo(say(code, lang, **values))

    echo("demo.written", folder=dest, n=info.message_files)
    for result in done.synced:
        echo("demo.synced", account=result.account, read=result.read, new=result.stored)
    names = done.app.names({a for r in done.reports for a in (r.contact, r.owner)}
                           | {a for f in done.followups for a in (f.contact, f.assignee)},
                           [r.quote_message_id for r in done.reports])
    print_scan(done.reports, settings, info.now, names=names)
    planned = done.planned
    click.echo("")
    echo("demo.planned", created=len(planned.created), held=len(planned.held),
         at=day_time(info.now, lang), folder=done.drafts_folder(say("demo.account", lang)))
    print_followups(done.followups, settings, now=info.now, names=names, engine=done.app.engine)
    for name, path in done.digests:
        click.echo("")
        echo("demo.digest", name=name, path=path)
    click.echo("")
    cmd = command_name()
    echo("demo.try_scan", cmd=cmd, config=config, now=info.now.isoformat())
    echo("demo.try_show", cmd=cmd, config=config, fid=planned.created[0] if planned.created else 1)
    admins = ", ".join(m.email for m in settings.team.members if m.admin) or "—"
    click.echo("")
    echo("demo.web", cmd=cmd, config=config, now=info.now.isoformat(), url="http://127.0.0.1:8000/",
         password=pipeline.DEMO_PASSWORD, rep="ana@aceros.example", admins=admins)
