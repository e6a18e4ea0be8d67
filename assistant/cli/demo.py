"""``followup demo``: the whole pipeline on a bundled sample team, printed as the other
commands print it (the pipeline itself is :mod:`assistant.demo.pipeline`)."""

from __future__ import annotations

import click

from assistant.cli.context import Context
from assistant.cli.followups import print_followups
from assistant.cli.threads import print_scan
from assistant.cli.context import fail
from assistant.demo import pipeline
from assistant.wording import say

__all__ = ["demo"]


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
    except pipeline.FolderInUse as exc:
        shown = exc.entries[:8]
        more = len(exc.entries) - len(shown)
        fail(say("cli.error", "en"), say("demo.folder_in_use", "en", folder=str(exc.folder),
                                         entries=", ".join(shown)
                                         + (" " + say("web.and_more", "en", n=more) if more else "")), 2)
    click.echo(f"Sample team written to {dest} ({info.message_files} message files).")
    done = pipeline.run(dest, info)
    settings, config = done.settings, info.settings_path
    for result in done.synced:
        click.echo(f"synced {result.account}: read {result.read}, new {result.stored}")
    names = done.app.names({a for r in done.reports for a in (r.contact, r.owner)}
                           | {a for f in done.followups for a in (f.contact, f.assignee)},
                           [r.quote_message_id for r in done.reports])
    print_scan(done.reports, settings, info.now, names=names)
    planned = done.planned
    click.echo(f"\nPlanned {len(planned.created)} follow-ups due at {info.now:%a %d %b %H:%M} "
               f"(held {len(planned.held)}): email drafts are in each rep's Maildir Drafts "
               f"folder ({done.drafts_folder}); calls and WhatsApp have links.")
    print_followups(done.followups, settings, now=info.now, names=names, engine=done.app.engine)
    for name, path in done.digests:
        click.echo(f"\nWeekly digest for {name}: {path} (open it in a browser)")
    click.echo(f"\nTry: followup --config {config} scan --now {info.now.isoformat()} --json")
    click.echo(f"     followup --config {config} drafts show "
               f"{planned.created[0] if planned.created else 1}")
    admins = ", ".join(m.email for m in settings.team.members if m.admin) or "none"
    click.echo(f"\nWeb app: followup --config {config} serve --now {info.now.isoformat()}   then open "
               f"http://127.0.0.1:8000/ and sign in as any team member with the password "
               f"\"{pipeline.DEMO_PASSWORD}\" (rep: ana@aceros.example, manager and admin: {admins}).")
