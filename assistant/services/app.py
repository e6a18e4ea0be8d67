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
        from assistant.service import rules_from_settings

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
    # (methods that sync accounts go here)

    # --- Planning, reconcile, review, templates (services/planning.py, reconcile.py,
    #     review.py, templates.py) -----------------------------------------------------------
    # (methods that plan, reconcile and review follow-ups go here)

    # --- The digest and the web's page models (services/digest.py, services/pages.py) -------

    def digests(self, now: datetime | None = None, *, manager: str | None = None,
                folder=None) -> list:
        """Every recipient's digest at ``now`` (or ``manager``'s), from the read model."""
        from assistant.services import digest

        return digest.build_digests(self.settings, self.engine, now or self.now(),
                                    manager=manager, folder=folder)

    def send_digests(self, sender, now: datetime | None = None, *, period: str | None = None,
                     manager: str | None = None, holder: str | None = None) -> list:
        from assistant.services import digest

        return digest.send_digests(self.settings, self.engine, now or self.now(), sender,
                                   period=period, manager=manager, holder=holder)

    def viewing(self, email: str):
        """What a team member may see on the pages (:class:`pages.Viewing`), or ``None``."""
        from assistant.domain.scope import viewer_scope
        from assistant.services.pages import Viewing

        member = self.settings.team.member(email)
        if member is None:
            return None
        scope, team = viewer_scope(member.email,
                                   {m.email: m.manager for m in self.settings.team.members},
                                   manager_role=member.role == "manager", admin=member.admin)
        return Viewing(member.email, scope, member.role == "manager" or member.admin, team)

    def team_page(self, viewing, now: datetime | None = None):
        from assistant.services import pages

        names = {m.email: m.name for m in self.settings.team.members}
        return pages.team_view(self.engine, self.rules, viewing, names, now or self.now())

    def thread_page(self, viewing, slug: str, now: datetime | None = None):
        """The thread of ``slug`` the viewer may open and its timeline, or ``None``."""
        from assistant.services import pages

        report = pages.thread(self.engine, self.rules, viewing, slug, now or self.now())
        if report is None:
            return None
        return report, pages.thread_events(self.engine, self.rules, report)

    # --- The demo (demo/) -------------------------------------------------------------------
    # (methods the demo pipeline uses go here)
