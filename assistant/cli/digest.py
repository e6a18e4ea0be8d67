"""``followup digest``: the managers' weekly digest, and ``followup morning``: the reps'
morning lists; printed, written to files or sent. The lines this command prints are in
``[team] language``; a digest or a morning list itself is in its reader's language."""

from __future__ import annotations

import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from assistant.cli.context import Context, parse_now
from assistant.wording import day_time, say, words_of

__all__ = ["digest", "morning"]


def _email(to: str, subject: str, text: str, language: str) -> str:
    """A digest or morning list printed as the email it is: its header lines as a mail
    client shows them to the team, then its text."""
    return "\n".join([say("cli.email.to", language, to=to),
                      say("cli.show.subject", language, subject=subject), "", text])


DIGEST_SUFFIXES = (".html", ".htm", ".txt", ".eml")
"""What ``digest --out`` writes: the HTML, the plain text, the whole message."""


@click.command()
@click.option("--now", "now_text", default=None, help="compute at this ISO 8601 time (default: now)")
@click.option("--out", "out", default=None, type=click.Path(dir_okay=False),
              help="write the digest to FILE (.html, .txt or .eml); one file per manager "
                   "(FILE-name.html) when several get one")
@click.option("--send", is_flag=True,
              help="send it through [digest.smtp] or the account named by digest.send_with")
@click.option("--manager", default=None, help="only this manager's digest (their email)")
@click.pass_obj
def digest(obj: Context, now_text: str | None, out: str | None, send: bool,
           manager: str | None) -> None:
    """The managers' weekly digest: print it, write it to a file, or send it."""
    from assistant.services import digest as digests

    settings, engine = obj.settings(), obj.engine()
    now = parse_now(now_text, settings)
    if out and Path(out).suffix.lower() not in DIGEST_SUFFIXES:
        raise click.BadParameter(obj.say("digest.bad_suffix", path=out,
                                         suffixes=", ".join(DIGEST_SUFFIXES)), param_hint="--out")
    try:
        built = digests.build_digests(settings, engine, now, manager=manager)
        if settings.web.base_url is None:
            click.echo(obj.say("digest.no_links", path=settings.path), err=True)
        for path, item in digests.output_files(out, built) if out else ():
            path.write_text(digests.file_text(settings, item, path, now=now), encoding="utf-8")
            click.echo(obj.say("morning.cli.wrote", email=item.recipient.email, path=path))
        if send:
            results = digests.send_digests(settings, engine, now, digests.sender_for(settings),
                                           manager=manager)
            for result in results:
                click.echo(obj.say(f"digest.cli.result.{result.status}", email=result.recipient,
                                   error=words_of(result.cause or result.error or "", obj.language)))
            if any(r.status == "failed" for r in results):
                sys.exit(1)
        elif not out:
            for item in built:
                click.echo(_email(item.recipient.email, item.subject, item.text, obj.language))
    except digests.DigestError as exc:
        obj.fail("cli.digest", exc, 1)


@click.command()
@click.option("--now", "now_text", default=None, help="compute at this ISO 8601 time (default: now)")
@click.option("--out", "out", default=None, type=click.Path(file_okay=False),
              help="write each rep's list to DIR (morning-NAME.html and .txt)")
@click.option("--send", is_flag=True,
              help="send them the digest's way; each rep's list goes out at most once a day")
@click.option("--rep", default=None, help="only this person's list (their email)")
@click.pass_obj
def morning(obj: Context, now_text: str | None, out: str | None, send: bool,
            rep: str | None) -> None:
    """The reps' morning lists of their due follow-ups: print, write or send them."""

    from assistant.services import digest as digests, morning as mornings

    settings, engine = obj.settings(), obj.engine()
    now = parse_now(now_text, settings)
    try:
        built = mornings.build_lists(settings, engine, now, rep=rep)
        if not built:
            local = now.astimezone(ZoneInfo(settings.team.timezone))
            click.echo(obj.say("morning.cli.none", time=day_time(local, obj.language)))
        if settings.web.base_url is None:
            click.echo(obj.say("morning.no_links", path=settings.path), err=True)
        if out:
            folder = Path(out)
            folder.mkdir(parents=True, exist_ok=True)
            for path, item, text in mornings.output_files(folder, built):
                path.write_text(text, encoding="utf-8")
                click.echo(obj.say("morning.cli.wrote", email=item.email, path=path))
        if send:
            if not settings.digest.morning_list:
                obj.fail("cli.morning", obj.say("morning.cli.off", path=settings.path), 1)
            results = mornings.send_lists(settings, engine, now, digests.sender_for(settings),
                                          rep=rep)
            for r in results:
                click.echo(obj.say(f"morning.cli.result.{r.status}", email=r.email, n=r.items,
                                   error=words_of(r.cause or r.error or "", obj.language)))
            if any(r.status in ("failed", "unknown") for r in results):
                sys.exit(1)
        elif not out:
            for item in built:
                click.echo(_email(item.email, item.subject, item.text, obj.language))
    except digests.DigestError as exc:
        obj.fail("cli.morning", exc, 1)
