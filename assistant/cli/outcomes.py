"""``followup mark | unmark | snooze | reply``: what happened to a quote outside the
mailbox -- won or lost, snoozed until a day, the client answered by phone or WhatsApp --
each recorded with who and when, and undone with ``--undo`` (``unmark``: ``mark
--undo``). Thin commands over :mod:`assistant.services.outcomes`. THREAD: the short id
of the ID column of ``scan`` and ``drafts list`` (``thread_id`` in their JSON), a longer
prefix of it, or the quote's Message-ID (or an unambiguous prefix of it)."""

from __future__ import annotations

import os

import click

from assistant.cli.context import Context, parse_now
from assistant.services import outcomes
from assistant.services.outcomes import ActionError

__all__ = ["mark", "unmark", "snooze", "reply"]

_BY = click.option("--by", "by", default=None,
                   help="who did it (default: $FOLLOWUP_USER, else the thread's owner)")
_NOW = click.option("--now", "now_text", default=None, help="when (ISO 8601, default: now)")


def _who(obj: Context, by: str | None, thread: str) -> str | None:
    """``--by``, else ``$FOLLOWUP_USER``, else the thread's owner (like ``touch``)."""
    if by or os.environ.get("FOLLOWUP_USER"):
        return obj.member(by or os.environ["FOLLOWUP_USER"], "--by" if by else "FOLLOWUP_USER")
    app = obj.app()
    try:
        quote = outcomes.resolve(app.settings, app.engine, thread)
        return outcomes.report_of(app.settings, app.engine, quote, app.now()).owner
    except ActionError:
        return None  # the action itself says what is wrong


def _do_or_undo(obj: Context, thread: str, kind: str, value, undo: bool, usage: str,
                by: str | None, now_text: str | None, action) -> None:
    """``action(app, who, now)`` -- or with ``--undo`` the undo of the latest ``kind`` --
    printed; exactly one of ``value`` and ``--undo`` (else ``usage``)."""
    app = obj.app()
    now = parse_now(now_text, app.settings)
    if undo == (value is not None):
        raise click.UsageError(usage)
    who = _who(obj, by, thread)
    try:
        if undo:
            done = outcomes.undo(app.settings, app.engine, thread, kind, by=who, now=now)
        else:
            done = action(app, who, now)
    except ActionError as exc:
        obj.fail("cli.error", exc, 2 if isinstance(exc, outcomes.BadValue) else 1)
    click.echo(done.words(obj.language))  # the CLI's language: [team] language


@click.command()
@click.argument("thread")
@click.argument("outcome", required=False, type=click.Choice(["won", "lost"]))
@click.option("--reason", default=None, help="why it was won or lost (kept in the history)")
@click.option("--undo", is_flag=True, help="undo the latest mark (an older one applies again)")
@_BY
@_NOW
@click.pass_obj
def mark(obj: Context, thread: str, outcome: str | None, reason: str | None, undo: bool,
         by: str | None, now_text: str | None) -> None:
    """Mark a quote thread won or lost: it is closed, its pending follow-ups cancelled."""
    _do_or_undo(obj, thread, "mark", outcome, undo, "give either won or lost, or --undo", by,
                now_text, lambda app, who, now: outcomes.mark(
                    app.settings, app.engine, thread, outcome, reason=reason, by=who, now=now))


@click.command()
@click.argument("thread")
@_BY
@_NOW
@click.pass_obj
def unmark(obj: Context, thread: str, by: str | None, now_text: str | None) -> None:
    """Undo a thread's latest won/lost mark (the same as `mark THREAD --undo`)."""
    _do_or_undo(obj, thread, "mark", None, True, "", by, now_text, None)


@click.command()
@click.argument("thread")
@click.option("--until", "until", default=None, metavar="YYYY-MM-DD",
              help="no follow-up due before this day (at the send window)")
@click.option("--undo", is_flag=True, help="undo the latest snooze")
@_BY
@_NOW
@click.pass_obj
def snooze(obj: Context, thread: str, until: str | None, undo: bool, by: str | None,
           now_text: str | None) -> None:
    """Snooze a thread: no follow-up due before a day; the steps after it count on."""
    _do_or_undo(obj, thread, "snooze", until, undo, "give either --until YYYY-MM-DD or --undo",
                by, now_text, lambda app, who, now: outcomes.snooze(
                    app.settings, app.engine, thread, outcomes.parse_day(until), by=who, now=now))


@click.command()
@click.argument("thread")
@click.option("--channel", type=click.Choice(["phone", "whatsapp"]), default=None,
              help="how the client answered")
@click.option("--note", default=None, help="what the client said")
@click.option("--undo", is_flag=True, help="undo the latest answer logged outside email")
@_BY
@_NOW
@click.pass_obj
def reply(obj: Context, thread: str, channel: str | None, note: str | None, undo: bool,
          by: str | None, now_text: str | None) -> None:
    """Log the client's answer outside email (phone, WhatsApp): a real reply at that time,
    so the cadence stops and the client waits on us."""
    _do_or_undo(obj, thread, "reply", channel, undo, "give either --channel phone|whatsapp or --undo",
                by, now_text, lambda app, who, now: outcomes.reply(
                    app.settings, app.engine, thread, channel, note=note, by=who, now=now))
