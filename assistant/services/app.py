"""The app object: one per process — a CLI command, the scheduler, the web app.

``Followup(settings, engine, clock)`` holds what every service needs (the settings, the
database, the rules derived from them once, the clock) and is what the CLI, the scheduler
and the web app call: they hold no rules and write no SQL. The read model is reached
through it (:meth:`Followup.threads`, :meth:`Followup.thread_mails`), so every page, plan
and digest reads the same world.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from functools import cached_property

from sqlalchemy import Engine

from assistant.domain.model import Mail, Rules, ThreadReport
from assistant.settings import Settings

__all__ = ["Followup", "utc_now"]

NAMES_KEPT = 64
"""How many answers of :meth:`Followup.names` are kept (a page's addresses each)."""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Followup:
    """Settings + storage + clock, and the services over them."""

    def __init__(self, settings: Settings, engine: Engine,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.settings = settings
        self.engine = engine
        self.clock = clock
        self._names: dict[tuple, dict] = {}
        self._names_lock = threading.Lock()

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

    def names(self, addresses: Iterable[str | None], message_ids: Iterable[str] = ()):
        """Who these addresses are (:func:`assistant.services.people.names`): members by
        their settings name, contacts by ``[[contacts]]`` or their mail's names. Kept
        while the read model's generation holds (names come from stored mail, and new
        mail moves the generation on): a page asked again and again by a team reads the
        contacts' mail once, however much of it there is."""
        from assistant.services import people
        from assistant.storage import repo

        wanted = tuple(sorted({a.lower() for a in addresses if a}))
        ids = tuple(sorted({i for i in message_ids if i}))
        with self.engine.connect() as conn:
            key = (wanted, ids, repo.read_model_generation(conn))
        with self._names_lock:
            found = self._names.get(key)
        if found is None:
            found = people.names(self.settings, self.engine, wanted, ids)
            with self._names_lock:
                if len(self._names) >= NAMES_KEPT:
                    self._names.clear()
                self._names[key] = found
        return dict(found)

    def thread_mails(self, quote_message_ids: Iterable[str]) -> dict[str, list[Mail]]:
        """The messages of these threads, each in timeline order."""
        from assistant.services import snapshot

        self.refresh()
        return snapshot.thread_mails(self.engine, quote_message_ids)

    # --- Sync (services/sync.py) ----------------------------------------------------------

    def sync(self, account: str | None = None, *, progress=None, folder_progress=None,
             check_storage: bool = False, now: datetime | None = None):
        """Pull new mail from every account (or one) into the store, index it and
        reconcile follow-ups at ``now`` (default: the clock's):
        :func:`assistant.services.sync.sync` (its results, one
        :class:`~assistant.services.ingest.AccountResult` per account)."""
        from assistant.services.sync import sync

        return sync(self.settings, self.engine, account=account, progress=progress,
                    folder_progress=folder_progress, now=now or self.now(),
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

    def plan(self, now: datetime | None = None, **options):
        """Create the follow-ups due at ``now`` (:func:`assistant.services.planning.plan`)."""
        from assistant.services import planning

        return planning.plan(self.settings, self.engine, now or self.now(), rules=self.rules,
                             **options)

    def reconcile(self, now: datetime | None = None, *, threads: Iterable[str] | None = None) -> int:
        """Settle follow-ups whose thread moved on: every open one, or those of ``threads``
        (what a read-model refresh recomputed)."""
        from assistant.services import reconcile

        if threads is None:
            return reconcile.reconcile(self.settings, self.engine, now or self.now())
        return reconcile.reconcile_changed(self.settings, self.engine, now or self.now(), threads)

    def followups(self, status: str | None = None):
        from assistant.services import review

        return review.list_followups(self.engine, status=status)

    def followup(self, fid: int):
        from assistant.services import review

        return review.get(self.engine, fid)

    def approve(self, fid: int, *, by: str | None = None, **options):
        from assistant.services import review

        return review.approve(self.settings, self.engine, fid, by=by, now=self.now(), **options)

    def skip(self, fid: int, *, reason: str | None = None, by: str | None = None):
        from assistant.services import review

        return review.skip(self.engine, fid, reason=reason, by=by, now=self.now(),
                           settings=self.settings)

    def edit(self, fid: int, text: str, **options):
        from assistant.services import review

        return review.save_edit(self.settings, self.engine, fid, text, now=self.now(), **options)

    def touch(self, thread: str, channel: str, *, note: str | None = None, by: str | None = None):
        from assistant.services import review

        return review.touch(self.settings, self.engine, thread, channel, note=note, by=by,
                            now=self.now())

    def preview_context(self, thread: str, now: datetime | None = None, *,
                        template_language: str | None = None):
        from assistant.services import review

        return review.preview_context(self.settings, self.engine, thread, now or self.now(),
                                      template_language=template_language)

    def templates(self):
        from assistant.services import templates

        return templates.template_sources(self.engine, self.settings.templates.folder)

    def save_template(self, name: str, language: str, text: str, author: str):
        from assistant.services import templates

        return templates.save_template(self.engine, name, language, text, author, self.now())

    def validate_templates(self) -> list[str]:
        from assistant.services import templates

        return templates.validate_templates(self.settings, self.engine)

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

    def send_morning_lists(self, sender, now: datetime | None = None, *,
                           period: str | None = None, holder: str | None = None) -> list:
        """The reps' morning lists (services/morning.py), each sent once per rep and day."""
        from assistant.services import morning

        return morning.send_lists(self.settings, self.engine, now or self.now(), sender,
                                  period=period, holder=holder)

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

    # --- The CRM (services/crm.py) ----------------------------------------------------------

    def crm_sync(self, connector, now: datetime | None = None, *, retry: bool = False):
        """Push the lead threads to the CRM, pull what changed there, settle the follow-ups
        of the threads it closed (:func:`assistant.services.crm.sync`)."""
        from assistant.services import crm

        now = now or self.now()
        return crm.sync(self.engine, self.rules, connector, now,
                        reconcile=lambda threads: self.reconcile(now, threads=threads),
                        retry=retry)

    # --- The demo (demo/) -------------------------------------------------------------------
    # (methods the demo pipeline uses go here)
