"""The one service layer: wires settings, storage, connectors and the pure domain.

The CLI (and later the scheduler and the web app) stay thin: they call these functions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Callable, Iterable


from sqlalchemy import Engine

from assistant.domain.analysis import is_quote, mentions_quote, scan as scan_threads
from assistant.domain.model import LoggedTouch, Mail, Rules, StepRule, ThreadMark, ThreadReport
from assistant.mail.bulk import is_list_or_bulk
from assistant.mail.classify import classify
from assistant.mail.parse import parse_message
from assistant.mail.text import detect_language, reply_text
from assistant.settings import (
    DEFAULT_BUYER_PHRASES, DEFAULT_DECLINE_PHRASES, DEFAULT_EXCLUDE_PHRASES,
    DEFAULT_HOLDING_PHRASES, DEFAULT_NON_QUOTE_PHRASES, DEFAULT_PROMISE_PHRASES,
    DEFAULT_PUBLIC_DOMAINS, DEFAULT_QUOTE_KEYWORDS, DEFAULT_QUOTE_PHRASES,
    DEFAULT_REQUEST_PHRASES, Settings,
)
from assistant.storage import models
from assistant.storage.db import open_database, where
from assistant.storage.errors import StorageError, describe
from assistant.sync import AccountResult, sync_account
from sqlalchemy.exc import SQLAlchemyError

from connectors.base import AuthenticationError, ConnectorError, TransientError

log = logging.getLogger(__name__)


def rules_from_settings(settings: Settings) -> Rules:
    hours, minutes = (int(part) for part in settings.protocol.send_window_start.split(":"))
    return Rules(
        domains=frozenset(settings.company.domains),
        members={m.email: m.role for m in settings.team.members},
        steps=tuple(StepRule(s.after_days, s.channel, s.template) for s in settings.protocol.steps),
        timezone=settings.team.timezone,
        holidays_country=settings.protocol.holidays_country,
        send_window_start=time(hours, minutes),
        quote_keywords=tuple(settings.detection.quote_keywords),
        quote_phrases=tuple(settings.detection.quote_phrases),
        decline_phrases=tuple(settings.detection.decline_phrases),
        request_phrases=tuple(settings.detection.request_phrases),
        exclude_phrases=tuple(settings.detection.exclude_phrases),
        holding_phrases=tuple(settings.detection.holding_phrases),
        public_domains=frozenset(settings.detection.public_domains),
        holding_days=settings.protocol.holding_days,
        buyer_phrases=tuple(settings.detection.buyer_phrases),
        promise_phrases=tuple(settings.detection.promise_phrases),
        non_quote_phrases=tuple(settings.detection.non_quote_phrases),
    )


def default_rules() -> Rules:
    """The rules with no settings file (``inspect`` on its own): no internal domains."""
    return Rules(domains=frozenset(), members={}, steps=(), timezone="UTC",
                 holidays_country="US", send_window_start=time(9, 0),
                 quote_keywords=DEFAULT_QUOTE_KEYWORDS, decline_phrases=DEFAULT_DECLINE_PHRASES,
                 request_phrases=DEFAULT_REQUEST_PHRASES, exclude_phrases=DEFAULT_EXCLUDE_PHRASES,
                 holding_phrases=DEFAULT_HOLDING_PHRASES,
                 public_domains=frozenset(DEFAULT_PUBLIC_DOMAINS),
                 quote_phrases=DEFAULT_QUOTE_PHRASES, buyer_phrases=DEFAULT_BUYER_PHRASES,
                 promise_phrases=DEFAULT_PROMISE_PHRASES,
                 non_quote_phrases=DEFAULT_NON_QUOTE_PHRASES)


# --- Sync ----------------------------------------------------------------------------

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
    from connectors.base import ConfigurationError
    raise ConfigurationError(
        f'account kind "{account.kind}" is not available in this version of Followup yet')


def sync(settings: Settings, engine: Engine, *, account: str | None = None,
         progress: Callable[[str], Callable[[int], None]] | None = None,
         folder_progress: Callable[[str], Callable[[str, int], None]] | None = None,
         now: datetime | None = None, check_storage: bool = False) -> list[AccountResult]:
    """Sync every account (or one). A failing account is reported and the others go on.
    ``now`` (the scheduler's clock, or ``--now``) is the time follow-ups are reconciled at.
    ``progress(account)`` and ``folder_progress(account)`` return that account's
    callbacks: messages read, and messages read per folder.

    A database failure (full, read-only, damaged, unreachable) ends the sync: the account
    it happened on gets a result with status ``storage_error`` and the one-line reason
    (also recorded on the account when the database can still take it), and the accounts
    after it are not tried, since they would fail the same way. ``check_storage``: first
    check the whole database for damage (SQLite), so a sync with nothing new still
    reports a damaged file -- :class:`StorageError`, each account marked when possible."""
    from connectors.base import ConfigurationError

    accounts = [a for a in settings.accounts if account is None or a.name == account]
    if account is not None and not accounts:
        names = ", ".join(a.name for a in settings.accounts) or "none"
        raise ConfigurationError(f'no account named "{account}" in {settings.path} '
                                 f"(accounts: {names})")
    checker = None
    if check_storage:  # alongside the sync; waited for before forking parse workers
        from assistant.storage.db import IntegrityCheck

        checker = IntegrityCheck(engine)
        checker.start()
    results = []
    for acct in accounts:
        try:
            connector = open_connector_for(acct)
            try:
                results.append(sync_account(engine, acct.name, acct.kind, connector,
                                            progress=progress(acct.name) if progress else None,
                                            folder_progress=(folder_progress(acct.name)
                                                             if folder_progress else None),
                                            before_workers=checker.join if checker else None))
            finally:
                connector.close()
        except ConnectorError as exc:
            status = ("needs_reauth" if isinstance(exc, AuthenticationError)
                      else "retrying" if isinstance(exc, TransientError)
                      else "needs_attention")
            log.error("account %s: %s", acct.name, exc)
            _record_failure(engine, acct.name, acct.kind, status, str(exc))
            results.append(AccountResult(account=acct.name, error=str(exc), status=status))
        except (StorageError, SQLAlchemyError) as exc:
            # The database itself failed: every account would fail the same way.
            error = _storage_line(exc, engine, acct.name)
            log.info("account %s: %s", acct.name, error, exc_info=True)
            if not _record_failure(engine, acct.name, acct.kind, "storage_error", error):
                error += " (the account's status could not be recorded either)"
            results.append(AccountResult(account=acct.name, error=error, status="storage_error"))
            break
        except Exception as exc:  # noqa: BLE001 - one broken account must not stop the others
            # A fault nobody classified (a bug, an OS error in a connector): record it with
            # its type so it can be reported, and go on with the other accounts.
            log.exception("account %s: unexpected error", acct.name)
            error = f"unexpected error: {type(exc).__name__}: {str(exc)[:200]}".splitlines()[0]
            _record_failure(engine, acct.name, acct.kind, "needs_attention", error)
            results.append(AccountResult(account=acct.name, error=error, status="needs_attention"))
    if checker is not None:
        try:
            checker.result()
        except StorageError as exc:
            for acct in accounts:
                _record_failure(engine, acct.name, acct.kind, "storage_error", str(exc))
            raise
    if any(r.status == "storage_error" for r in results):
        return results
    from assistant.services import snapshot
    try:
        # Index what is queued (what this run stored, and anything an earlier run stored
        # but could not index): cheap when nothing is.
        refreshed = snapshot.ensure_current(engine, rules_from_settings(settings))
    except (StorageError, SQLAlchemyError) as exc:
        # The mail is stored (and stays queued): the next command indexes it once the
        # database has room again. The accounts whose mail waits say so.
        error = _storage_line(exc, engine, "the new mail", doing="indexing the new mail")
        log.info("%s", error, exc_info=True)
        waiting = [r for r in results if r.stored and not r.error] or results[-1:]
        for result in waiting:
            acct = next(a for a in accounts if a.name == result.account)
            _record_failure(engine, acct.name, acct.kind, "storage_error", error)
            result.error, result.status = error, "storage_error"
        return results
    if any(r.stored for r in results if not r.error):
        # New mail may close follow-ups: a sent draft (done), a reply or bounce (cancelled).
        # Only the threads the refresh recomputed can have moved on (all after a rebuild).
        from assistant.services.reconcile import reconcile_changed
        try:
            if refreshed is not None:
                reconcile_changed(settings, engine, now,
                                  None if refreshed.rebuilt else refreshed.changed)
        except SQLAlchemyError as exc:
            raise StorageError(describe(exc, where(engine), doing="updating follow-ups")) from exc
    return results


def _storage_line(exc: BaseException, engine: Engine, account: str, *,
                  doing: str | None = None) -> str:
    if isinstance(exc, StorageError):
        return str(exc)
    return describe(exc, where(engine), doing=doing or f"syncing account {account}")


def _record_failure(engine: Engine, name: str, kind: str, status: str, error: str) -> bool:
    """Record an account's failure; False when the database cannot take even that
    (read-only, damaged): then the caller's one line is all there is."""
    from assistant.sync import ensure_account, mark_account

    try:
        account_id, _ = ensure_account(engine, name, kind)
        mark_account(engine, account_id, status=status, error=error)
    except SQLAlchemyError as exc:
        log.info("account %s: could not record its status (%s)", name,
                 describe(exc, where(engine)))
        return False
    return True


# --- Scan ----------------------------------------------------------------------------

def load_mails(engine: Engine) -> list[Mail]:
    """Every stored message, as the domain reads it (a full scan's input)."""
    from assistant.storage import repo

    with engine.connect() as conn:
        return repo.load_mails(conn, engine)


def load_marks(engine: Engine) -> dict[str, ThreadMark]:
    from assistant.storage import repo

    with engine.connect() as conn:
        return repo.load_marks(conn)


def load_touches(engine: Engine) -> list[LoggedTouch]:
    from assistant.storage import repo

    with engine.connect() as conn:
        return repo.load_touches(conn)


def scan(settings: Settings, engine: Engine, now: datetime, *,
         mail_keys: bool = True) -> list[ThreadReport]:
    """Every lead thread's report at ``now``, from the read model (indexed first if
    anything is queued: see :mod:`assistant.services.snapshot`). ``mail_keys``: with each
    report's message ids (readers that walk the thread's messages)."""
    from assistant.services import snapshot

    return snapshot.reports(engine, rules_from_settings(settings), now, mail_keys=mail_keys)


def storage_problems(engine: Engine) -> list[str]:
    """What the last syncs said about the database, when it failed (``storage_error``)."""
    from assistant.storage import repo

    with engine.connect() as conn:
        return repo.storage_problems(conn)


def scan_from_mail(settings: Settings, engine: Engine, now: datetime) -> list[ThreadReport]:
    """The same answer computed from all stored mail at once, without the read model
    (tests compare the two)."""
    return scan_threads(load_mails(engine), rules_from_settings(settings), now,
                        marks=load_marks(engine), touches=load_touches(engine))


def open_store(settings: Settings) -> Engine:
    return open_database(settings.storage.url)


def mail_from_parsed(parsed, kind, *, key: int = 0, seen_at: datetime | None = None,
                     thread_hints: tuple[str, ...] = ()) -> Mail:
    """The domain's view of a freshly parsed and classified message (``kind`` is the
    :class:`~assistant.mail.classify.Classification`), as storage would give it back."""
    from datetime import timezone as _tz

    return Mail(key=key, message_id=parsed.message_id,
                date=parsed.date or seen_at or datetime.now(_tz.utc),
                from_addr=parsed.from_addr, to=parsed.to, cc=parsed.cc, bcc=parsed.bcc,
                subject=parsed.subject, in_reply_to=parsed.in_reply_to,
                references=parsed.references, kind=kind.kind,
                attachment_names=parsed.attachment_names, text=parsed.text,
                original_message_id=parsed.original_message_id,
                bounced_recipients=kind.bounced_recipients, thread_hints=thread_hints,
                list_mail=is_list_or_bulk(parsed.headers))


# --- Inspect -------------------------------------------------------------------------

@dataclass(frozen=True)
class Inspection:
    file: str
    message_id: str | None
    kind: str | None
    bounced_recipients: tuple[str, ...]
    bounce_permanent: bool | None
    is_quote: bool
    language: str | None
    warnings: tuple[str, ...]
    subject: str = ""
    from_addr: str | None = None

    def as_json(self) -> dict:
        return {"file": self.file, "message_id": self.message_id, "kind": self.kind,
                "bounced_recipients": list(self.bounced_recipients),
                "bounce_permanent": self.bounce_permanent, "is_quote": self.is_quote,
                "language": self.language, "warnings": list(self.warnings)}


def inspect_files(paths: Iterable[str], rules: Rules | None) -> list[Inspection]:
    """How the rules read raw message files. Without settings (``rules`` None), a message
    "is a quote" when its subject, attachment names or body match the quote rules, since
    there are no internal domains to tell outbound mail from inbound (and it is of kind
    ``message``)."""
    results = []
    for name in paths:
        path = Path(name)
        try:
            data = path.read_bytes()
        except OSError as exc:
            results.append(Inspection(name, None, None, (), None, False, None,
                                      (f"cannot read file: {exc.strerror or exc}",)))
            continue
        parsed = parse_message(data)
        warnings = list(parsed.warnings)
        if not parsed.reads_as_mail:
            warnings.append("not an email message: no From, Subject, Date, Message-ID or "
                            "Content-Type header")
            results.append(Inspection(name, None, None, (), None, False, None, tuple(warnings)))
            continue
        kind = classify(parsed)
        mail = mail_from_parsed(parsed, kind)
        if rules is None:
            # No internal domains to tell outbound from inbound: judge the content, but a
            # robot's answer that echoes a quote's subject is never itself a quote.
            quote = kind.kind == "message" and mentions_quote(mail, default_rules())
        else:
            quote = is_quote(mail, rules)
        results.append(Inspection(
            file=name, message_id=parsed.message_id, kind=kind.kind,
            bounced_recipients=kind.bounced_recipients, bounce_permanent=kind.bounce_permanent,
            is_quote=quote,
            language=detect_language(parsed.subject + "\n" + reply_text(parsed.text)),
            warnings=tuple(warnings), subject=parsed.subject, from_addr=parsed.from_addr))
    return results
