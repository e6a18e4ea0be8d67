"""``followup run``: the scheduler in the foreground, or once for cron (``--once``)."""

from __future__ import annotations

import sys
from zoneinfo import ZoneInfo

import click

from assistant.cli.context import Context, fail, parse_now
from assistant.wording import say

__all__ = ["run"]


@click.command()
@click.option("--once", is_flag=True, help="run the jobs due now, then exit (for cron)")
@click.option("--now", "now_text", default=None,
              help="with --once: act as if it were this ISO 8601 time")
@click.pass_obj
def run(obj: Context, once: bool, now_text: str | None) -> None:
    """Scheduler: sync, plan follow-ups each business morning, send the weekly digest."""
    from assistant.storage.leases import AnotherWorker, worker_lock_for
    from assistant.scheduler import Runner, next_slots

    app = obj.planning_app()
    settings, engine = app.settings, app.engine
    if now_text and not once:
        raise click.UsageError("--now works only with --once")
    lock = worker_lock_for(engine)
    if lock is not None:
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
            for job in outcome.skipped:
                click.echo(say("run.skipped", "en", job=job))
            if not outcome.ran and not outcome.failed and not outcome.skipped:
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
