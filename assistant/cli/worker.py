"""``followup run``: the scheduler in the foreground, or once for cron (``--once``)."""

from __future__ import annotations

import sys
from zoneinfo import ZoneInfo

import click

from assistant.cli.context import Context, parse_now
from assistant.wording import day_time

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
            obj.fail("cli.already_running", exc, 1)
    runner = Runner(settings, engine)
    try:
        if once:
            outcome = runner.run_due(parse_now(now_text, settings) if now_text else None)
            for job in outcome.ran:
                click.echo(obj.say("run.done", job=obj.say(f"run.job.{job}")))
            for job in outcome.failed:
                click.echo(obj.say("run.failed", job=obj.say(f"run.job.{job}")))
            for job in outcome.skipped:
                click.echo(obj.say("run.skipped", job=obj.say(f"run.job.{job}")))
            if not outcome.ran and not outcome.failed and not outcome.skipped:
                click.echo(obj.say("run.nothing_due"))
            if outcome.failed:
                sys.exit(1)
            return
        zone = ZoneInfo(settings.team.timezone)
        upcoming = next_slots(runner.clock(), runner.timing)
        lang = obj.language
        click.echo(obj.say("run.started", worker=runner.holder, minutes=settings.schedule.sync_minutes,
                           next="; ".join(obj.say("run.next", job=obj.say(f"run.job.{job}"),
                                                  at=day_time(at.astimezone(zone), lang))
                                          for job, at in upcoming.items()),
                           zone=settings.team.timezone))
        runner.run_forever()
    finally:
        if lock is not None:
            lock.release()
