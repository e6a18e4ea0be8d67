"""The accounts of the settings as the database knows them: status, last sync, last error,
and the messages the database refused (``followup accounts list``); and the connector of
each (:func:`open_connector_for`: sync, planning, review and reconcile open it alike)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from assistant.settings import Account, Settings
from assistant.storage import repo
from assistant.storage.db import unwritable
from assistant.storage.errors import StorageError
from assistant.storage.models import as_utc
from connectors.base import ConfigurationError

__all__ = ["AccountState", "account_states", "open_connector_for"]


@dataclass(frozen=True, slots=True)
class AccountState:
    account: Account
    status: str
    """``never synced``, a sync status, or ``storage_error`` when nothing can be written."""
    last_sync_at: datetime | None
    """In the team's zone."""
    error: str | StorageError | None
    """The last error as recorded (a provider's text, or a stored reason), or why nothing
    can be written now: :func:`assistant.wording.words_of` words either for its reader."""
    set_aside: list[tuple[str, str]]
    """The first refused messages: (provider id, reason as stored: ``reason_words``)."""
    set_aside_count: int


def account_states(settings: Settings, engine: Engine, *, shown: int) -> list[AccountState]:
    """Every account of ``settings``, in their order, with at most ``shown`` of its
    set-aside messages. A database that cannot be written (read-only) gives every account
    ``storage_error``: no sync can store anything."""
    with engine.connect() as conn:
        states = repo.account_states(conn)
        aside = repo.set_aside_by_account(conn, shown)
    blocked = unwritable(engine)
    out = []
    for account in settings.accounts:
        status, last, error = states.get(account.name, ("never synced", None, None))
        if blocked:
            status, error = "storage_error", blocked
        count, first = aside.get(account.name, (0, []))
        out.append(AccountState(account, status,
                                as_utc(last).astimezone(settings.team.zone) if last else None,
                                error, first, count))
    return out


def open_connector_for(account):
    """The connector of one ``[[accounts]]`` entry."""
    from connectors.mailbox import open_connector

    if account.kind in ("maildir", "mbox", "eml"):
        return open_connector(account.kind, account.path)
    if account.kind == "imap":
        from connectors.imap import open_imap_connector
        return open_imap_connector(account)
    if account.kind in ("gmail", "outlook"):
        from connectors.cloud import open_cloud_connector
        return open_cloud_connector(account)
    if account.kind == "whatsapp":
        from connectors.whatsapp import WhatsAppConnector
        return WhatsAppConnector(account.path, date_order=account.date_order or "day_first")
    raise ConfigurationError(
        f'account kind "{account.kind}" is not available in this version of Followup yet')
