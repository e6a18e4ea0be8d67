"""Scan: every lead thread's report at ``now``, read from the read model
(:mod:`assistant.services.snapshot`), and the same answer computed from all stored mail
at once (:func:`scan_from_mail`, which the tests compare it with)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from assistant.domain.analysis import scan as scan_threads
from assistant.domain.model import LoggedTouch, Mail, ThreadMark, ThreadReport
from assistant.services.rules import rules_from_settings
from assistant.settings import Settings
from assistant.storage import repo
from assistant.storage.db import open_database

__all__ = ["open_store", "scan", "scan_from_mail", "load_mails", "load_marks",
           "load_touches", "storage_problems"]


def open_store(settings: Settings) -> Engine:
    """The database ``settings.storage`` names (migrated on open)."""
    return open_database(settings.storage.url)


def scan(settings: Settings, engine: Engine, now: datetime, *,
         mail_keys: bool = True) -> list[ThreadReport]:
    """Every lead thread's report at ``now``, from the read model (indexed first if
    anything is queued: see :mod:`assistant.services.snapshot`). ``mail_keys``: with each
    report's message ids (readers that walk the thread's messages)."""
    from assistant.services import snapshot

    return snapshot.reports(engine, rules_from_settings(settings), now, mail_keys=mail_keys)


def scan_from_mail(settings: Settings, engine: Engine, now: datetime) -> list[ThreadReport]:
    """The same answer computed from all stored mail at once, without the read model
    (tests compare the two)."""
    reports = scan_threads(load_mails(engine), rules_from_settings(settings), now,
                           marks=load_marks(engine), touches=load_touches(engine))
    with engine.connect() as conn:
        return repo.with_short_ids(conn, reports)


def load_mails(engine: Engine) -> list[Mail]:
    """Every stored message, as the domain reads it (a full scan's input)."""
    with engine.connect() as conn:
        return repo.load_mails(conn, engine)


def load_marks(engine: Engine) -> dict[str, ThreadMark]:
    with engine.connect() as conn:
        return repo.load_marks(conn)


def load_touches(engine: Engine) -> list[LoggedTouch]:
    with engine.connect() as conn:
        return repo.load_touches(conn)


def storage_problems(engine: Engine) -> list[str]:
    """What the last syncs said about the database, when it failed (``storage_error``)."""
    with engine.connect() as conn:
        return repo.storage_problems(conn)
