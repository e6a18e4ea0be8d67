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

import importlib
import logging

import click

from assistant.cli.context import Context, Main, emit_json, fail, parse_now

__all__ = ["COMMANDS", "Context", "Main", "STATUS_LABEL", "STATUS_ORDER", "emit_json", "fail",
           "main", "parse_now", "print_followups", "print_scan"]

COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("start", "init"), "sync": ("accounts", "sync"), "scan": ("threads", "scan"),
    "rebuild": ("threads", "rebuild"), "inspect": ("threads", "inspect"), "run": ("worker", "run"),
    "digest": ("digest", "digest"), "morning": ("digest", "morning"), "demo": ("demo", "demo"),
    "accounts": ("accounts", "accounts"), "drafts": ("followups", "drafts"),
    "templates": ("templates", "templates"), "touch": ("followups", "touch"),
    "mark": ("outcomes", "mark"), "unmark": ("outcomes", "unmark"),
    "snooze": ("outcomes", "snooze"), "reply": ("outcomes", "reply"), "serve": ("web", "serve"),
    "users": ("web", "users"), "crm": ("crm", "crm"),
}
"""Every command: its name -> (module of this package, attribute). A command's module (and
the services it needs) is imported when that command runs, not on every start: a command
costs what it uses (``followup --help`` imports them all, for their one-line help)."""


class Followup(Main):
    """``followup``: :class:`~assistant.cli.context.Main`, its commands loaded lazily."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute = COMMANDS[name]
        return getattr(importlib.import_module(f"assistant.cli.{module}"), attribute)

    @property
    def commands(self) -> dict[str, click.Command]:  # (click's attribute: every command, loaded)
        return {name: self.get_command(None, name) for name in COMMANDS}

    @commands.setter
    def commands(self, value) -> None:  # click.Group.__init__ sets it; the table above rules
        pass


def __getattr__(name: str):
    """The printers other modules reuse, imported with their command module on first use."""
    if name == "print_followups":
        from assistant.cli.followups import print_followups
        return print_followups
    if name in ("STATUS_LABEL", "STATUS_ORDER", "print_scan"):
        from assistant.cli import threads
        return getattr(threads, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@click.group(cls=Followup, context_settings={"help_option_names": ["-h", "--help"]})
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
