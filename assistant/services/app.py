"""The app object: one per process — a CLI command, the scheduler, the web app.

``Followup(settings, engine, clock)`` holds what every service needs (the settings, the
database, the rules derived from them once, the clock) and is what the CLI, the scheduler
and the web app call: they hold no rules and write no SQL. The read model is reached
through it (:meth:`Followup.threads`, :meth:`Followup.thread_mails`), so every page, plan
and digest reads the same world.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from functools import cached_property

from sqlalchemy import Engine

from assistant.domain.model import Mail, Rules, ThreadReport
from assistant.settings import Settings

__all__ = ["Followup", "utc_now"]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Followup:
    """Settings + storage + clock, and the services over them."""

    def __init__(self, settings: Settings, engine: Engine,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.settings = settings
        self.engine = engine
        self.clock = clock

    @classmethod
    def open(cls, settings: Settings, clock: Callable[[], datetime] = utc_now) -> "Followup":
        """The app over the database ``settings.storage`` names (migrated on open)."""
        from assistant.storage.db import open_database

        return cls(settings, open_database(settings.storage.url), clock)

    @cached_property
    def rules(self) -> Rules:
        """Everything the domain reads from the settings, derived once."""
        from assistant.services.rules import rules_from_settings

        return rules_from_settings(self.settings)

    def now(self) -> datetime:
        return self.clock()

    # --- The read model -------------------------------------------------------------------

    def refresh(self):
        """Index what sync queued (cheap when nothing is)."""
        from assistant.services import snapshot

        return snapshot.ensure_current(self.engine, self.rules)

    def rebuild(self):
        from assistant.services import snapshot

        return snapshot.rebuild(self.engine, self.rules)

    def threads(self, now: datetime | None = None, *, where=None,
                mail_keys: bool = False) -> list[ThreadReport]:
        """Every lead thread's report at ``now`` (default: the clock), oldest quote first;
        ``where``: a filter on ``models.ThreadRow`` columns (owner, status, due date...)."""
        from assistant.services import snapshot

        return snapshot.reports(self.engine, self.rules, now or self.now(), where=where,
                                mail_keys=mail_keys)

    def thread_mails(self, quote_message_ids: Iterable[str]) -> dict[str, list[Mail]]:
        """The messages of these threads, each in timeline order."""
        from assistant.services import snapshot

        self.refresh()
        return snapshot.thread_mails(self.engine, quote_message_ids)

    # --- Sync (services/sync.py) ----------------------------------------------------------

    def sync(self, account: str | None = None, *, progress=None, folder_progress=None,
             check_storage: bool = False):
        """Pull new mail from every account (or one) into the store, index it and
        reconcile follow-ups at the clock's now: :func:`assistant.services.sync.sync`
        (its results, one :class:`~assistant.services.ingest.AccountResult` per account)."""
        from assistant.services.sync import sync

        return sync(self.settings, self.engine, account=account, progress=progress,
                    folder_progress=folder_progress, now=self.now(),
                    check_storage=check_storage)

    def open_connector(self, account_name: str):
        """The connector of the ``[[accounts]]`` entry named ``account_name``."""
        from assistant.services.sync import open_connector_for
        from connectors.base import ConfigurationError

        for account in self.settings.accounts:
            if account.name == account_name:
                return open_connector_for(account)
        raise ConfigurationError(f'no account named "{account_name}" in {self.settings.path}')

    # --- Planning, reconcile, review, templates (services/planning.py, reconcile.py,
    #     review.py, templates.py) -----------------------------------------------------------
    # (methods that plan, reconcile and review follow-ups go here)

    # --- The digest and the web's page models (services/digest.py, services/pages.py) -------
    # (methods that build digests and pages go here)

    # --- The demo (demo/) -------------------------------------------------------------------
    # (methods the demo pipeline uses go here)
