"""``followup``: the command line, one thin module per command group.

Each command collects its options, asks the app object (:class:`assistant.services.app.
Followup`, built once by :class:`~assistant.cli.context.Context`) or a service function,
and prints the answer: no SQL and no rules here. The command names, options and JSON
shapes are a contract (DESIGN.md, "Command-line contract"): add, don't break. Exit
status: 0 ok, 1 a job failed (an account could not be synced, a file could not be read),
2 bad settings or usage.

======================  ==========================================================
module                  commands
======================  ==========================================================
``context``             (shared) the app object from ``--config``, errors, ``--now``
``start``               ``init``
``accounts``            ``sync``, ``accounts list | add | test``
``threads``             ``scan``, ``rebuild``, ``inspect``
``followups``           ``drafts plan | list | show | approve | skip | edit``, ``touch``
``outcomes``            ``mark``, ``unmark``, ``snooze``, ``reply``
``templates``           ``templates list | preview | validate | save``
``digest``              ``digest``, ``morning``
``worker``              ``run``
``web``                 ``serve``, ``users set-password``
``demo``                ``demo``
``crm``                 ``crm test | sync | status``
======================  ==========================================================
"""

from __future__ import annotations

import logging

import click

from assistant.cli import (accounts, crm, demo, digest, followups, outcomes, start, templates,
                           threads, web, worker)
from assistant.cli.context import Context, Main, emit_json, fail, parse_now
from assistant.cli.followups import print_followups
from assistant.cli.threads import STATUS_LABEL, STATUS_ORDER, print_scan

__all__ = ["Context", "Main", "STATUS_LABEL", "STATUS_ORDER", "emit_json", "fail", "main",
           "parse_now", "print_followups", "print_scan"]


@click.group(cls=Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config", type=click.Path(dir_okay=False), default=None,
              help="settings file (default: $FOLLOWUP_CONFIG or ./settings.toml)")
@click.option("-v", "--verbose", is_flag=True, help="log what happens, for debugging")
@click.version_option(package_name="followup")
@click.pass_context
def main(ctx: click.Context, config: str | None, verbose: bool) -> None:
    """Followup: every sales quote followed up, by someone clearly responsible."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = Context(config)


# Every command, registered once (`followup --help` lists them by name).
for command in (start.init, accounts.sync, threads.scan, threads.rebuild, threads.inspect,
                worker.run, digest.digest, digest.morning, demo.demo, accounts.accounts,
                followups.drafts, templates.templates, followups.touch, outcomes.mark,
                outcomes.unmark, outcomes.snooze, outcomes.reply, web.serve, web.users, crm.crm):
    main.add_command(command)
del command


