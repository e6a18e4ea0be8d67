"""Sync as a service: every configured account (or one) pulled into the store, each
through its connector and :func:`assistant.services.ingest.sync_account`; then the read
model indexes what was stored and follow-ups that new mail may close are reconciled.

A failing account is recorded and reported and the others go on; a database failure
ends the run with one line saying what to do (:func:`storage_line`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from assistant.services.accounts import open_connector_for
from assistant.services.ingest import AccountResult, ensure_account, mark_account, sync_account
from assistant.services.rules import rules_from_settings
from assistant.settings import Settings
from assistant.storage.db import where
from assistant.storage.errors import StorageError, describe, failure
from assistant.wording import Worded, every_language, reason_words, stored, stored_words
from connectors.base import AuthenticationError, ConfigurationError, ConnectorError, TransientError

log = logging.getLogger(__name__)

__all__ = ["sync", "open_connector_for", "storage_line", "record_failure", "AccountResult",
           "UnknownAccount"]


class UnknownAccount(Worded, ConfigurationError):
    """``--account`` names no account of the settings (worded: :meth:`words`)."""


def sync(settings: Settings, engine: Engine, *, account: str | None = None,
         progress: Callable[[str], Callable[[int], None]] | None = None,
         folder_progress: Callable[[str], Callable[[str, int], None]] | None = None,
         now: datetime | None = None, check_storage: bool = False,
         indexing: Callable[[], None] | None = None) -> list[AccountResult]:
    """Sync every account (or one). A failing account is reported and the others go on.
    ``now`` (the scheduler's clock, or ``--now``) is the time follow-ups are reconciled at.
    ``progress(account)`` and ``folder_progress(account)`` return that account's
    callbacks: messages read, and messages read per folder.

    A database failure (full, read-only, damaged, unreachable) ends the sync: the account
    it happened on gets a result with status ``storage_error`` and the one-line reason
    (also recorded on the account when the database can still take it), and the accounts
    after it are not tried, since they would fail the same way. ``check_storage``: first
    check the whole database for damage (SQLite), so a sync with nothing new still
    reports a damaged file -- :class:`StorageError`, each account marked when possible.
    ``indexing()`` is called when the read model starts indexing what was stored (only
    when there is something to index)."""
    accounts = [a for a in settings.accounts if account is None or a.name == account]
    # WhatsApp chats are matched against the lead threads: the mailboxes go first.
    accounts.sort(key=lambda a: a.kind == "whatsapp")
    if account is not None and not accounts:
        raise UnknownAccount("sync.unknown_account", name=account, file=str(settings.path),
                             names=", ".join(a.name for a in settings.accounts) or "—")
    checker = None
    if check_storage:  # alongside the sync; waited for before forking parse workers
        from assistant.storage.db import IntegrityCheck

        checker = IntegrityCheck(engine)
        checker.start()
    results = []
    copies: dict = {}  # messages stored by this run, by their bytes: later copies skip parsing
    for acct in accounts:
        result = _sync_one(settings, engine, acct, progress, folder_progress, checker, copies)
        results.append(result)
        if result.status == "storage_error":
            break  # the database itself failed: every account would fail the same way
    if checker is not None:
        try:
            checker.result()
        except StorageError as exc:
            for acct in accounts:
                record_failure(engine, acct.name, acct.kind, "storage_error", stored_words(exc))
            raise
    if any(r.status == "storage_error" for r in results):
        return results
    indexed, refreshed = _index(settings, engine, accounts, results, indexing)
    if not indexed:
        return results
    if refreshed is not None and any(r.stored or r.touches for r in results if not r.error):
        # New mail may close follow-ups: a sent draft (done), a reply or bounce (cancelled).
        # Only the threads the refresh recomputed can have moved on (all after a rebuild).
        from assistant.services.reconcile import reconcile_changed
        try:
            reconcile_changed(settings, engine, now,
                              None if refreshed.rebuilt else refreshed.changed)
        except SQLAlchemyError as exc:
            raise failure(exc, where(engine), "storage.doing.reconciling") from exc
    return results


def _sync_one(settings: Settings, engine: Engine, acct, progress, folder_progress,
              checker, copies: dict) -> AccountResult:
    """One account's sync; every failure becomes its result (and is recorded)."""
    try:
        if acct.kind == "whatsapp":
            from assistant.services.whatsapp import open_whatsapp, sync_whatsapp

            connector = open_whatsapp(settings, acct)
            try:
                return sync_whatsapp(settings, engine, acct, connector,
                                     progress=progress(acct.name) if progress else None)
            finally:
                connector.close()
        connector = open_connector_for(acct)
        try:
            return sync_account(engine, acct.name, acct.kind, connector,
                                progress=progress(acct.name) if progress else None,
                                folder_progress=(folder_progress(acct.name)
                                                 if folder_progress else None),
                                before_workers=checker.join if checker else None,
                                copies=copies)
        finally:
            connector.close()
    except ConnectorError as exc:
        status = ("needs_reauth" if isinstance(exc, AuthenticationError)
                  else "retrying" if isinstance(exc, TransientError)
                  else "needs_attention")
        # Logged at info: the command's own line (and the scheduler's) already reports it.
        log.info("account %s: %s", acct.name, exc)
        reason = stored_words(exc)
        record_failure(engine, acct.name, acct.kind, status, reason)
        return AccountResult(account=acct.name, error=str(exc), status=status,
                             reason=reason if reason != str(exc) else None)
    except (StorageError, SQLAlchemyError) as exc:
        error = storage_line(exc, engine, acct.name)
        log.info("account %s: %s", acct.name, reason_words(error), exc_info=True)
        if not record_failure(engine, acct.name, acct.kind, "storage_error", error):
            error = stored("sync.not_recorded", error=every_language(error))
        return AccountResult(account=acct.name, error=reason_words(error), reason=error,
                             status="storage_error")
    except Exception as exc:  # noqa: BLE001 - one broken account must not stop the others
        # A fault nobody classified (a bug, an OS error in a connector): record it with
        # its type so it can be reported, and go on with the other accounts.
        log.exception("account %s: unexpected error", acct.name)
        error = stored("sync.unexpected", kind=type(exc).__name__,
                       error=str(exc)[:200].splitlines()[0] if str(exc).strip() else "")
        record_failure(engine, acct.name, acct.kind, "needs_attention", error)
        return AccountResult(account=acct.name, error=reason_words(error), reason=error,
                             status="needs_attention")


def _index(settings: Settings, engine: Engine, accounts, results: list[AccountResult],
           indexing: Callable[[], None] | None = None):
    """Index what is queued (what this run stored, and anything an earlier run stored but
    could not index): cheap when nothing is. ``(indexed, the refresh's result or None when
    nothing was queued)``; not indexed when the database failed: the mail is stored (and
    stays queued) and the accounts whose mail waits say so."""
    from assistant.services import snapshot

    try:
        refreshed = snapshot.ensure_current(engine, rules_from_settings(settings),
                                            starting=indexing)
    except (StorageError, SQLAlchemyError) as exc:
        error = storage_line(exc, engine, "", doing="storage.doing.indexing")
        log.info("%s", reason_words(error), exc_info=True)
        waiting = [r for r in results if r.stored and not r.error] or results[-1:]
        for result in waiting:
            acct = next(a for a in accounts if a.name == result.account)
            record_failure(engine, acct.name, acct.kind, "storage_error", error)
            result.error, result.reason, result.status = reason_words(error), error, "storage_error"
        return False, None
    return True, refreshed


def storage_line(exc: BaseException, engine: Engine, account: str, *,
                 doing: str | None = None) -> str:
    """The one line a database failure is reported in: a stored reason (kept as the
    account's last error, worded for its reader by :func:`assistant.wording.reason_words`)."""
    if not isinstance(exc, StorageError):
        exc = failure(exc, where(engine), doing or "storage.doing.syncing", account=account)
    return stored_words(exc)


def record_failure(engine: Engine, name: str, kind: str, status: str, error: str) -> bool:
    """Record an account's failure; False when the database cannot take even that
    (read-only, damaged): then the caller's one line is all there is."""
    try:
        account_id, _ = ensure_account(engine, name, kind)
        mark_account(engine, account_id, status=status, error=error)
    except SQLAlchemyError as exc:
        log.info("account %s: could not record its status (%s)", name,
                 describe(exc, where(engine)))
        return False
    return True
