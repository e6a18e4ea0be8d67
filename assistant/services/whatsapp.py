"""One WhatsApp account's sync: chat exports -> what they mean for the lead threads.

Each export file the connector hands over (:mod:`connectors.whatsapp`) is matched to one
contact (:func:`assistant.drafting.chats.match_chat`: by phone -- ``[[contacts]]``, then the
numbers ``followup crm sync`` read from the team's CRM, then the signature of the
contact's own mail, the first that knows a number saying whose it is -- or by name). Then,
in the contact's most recent open lead thread whose quote was sent before the message
(read from the read model, brought up to date first):

* the client's messages are stored as messages from the contact's address citing the
  thread's quote (``In-Reply-To``): real replies, so a WhatsApp answer stops the email
  cadence and the thread waits on us (``awaiting_us``);
* the rep's messages are WhatsApp touches (``touches`` table, the thread queued): a run of
  the rep's messages with no client message between them, on one local day, is one touch,
  at its first message -- five lines typed in a row are one follow-up, not five. A
  colleague's messages in a group chat (a team member's name) are our side too: touches
  by that member.

Deleted messages (``This message was deleted``) and system notices mean nothing here.
Every message is keyed by (contact, time, sender, text): a re-exported chat adds only what
is new. A chat that matches no contact (or several) is set aside with the reason, listed
by ``accounts list`` and the sync's output, and read again at the next sync (its file is
left out of the cursor), so it is kept once the settings say who it is with. Messages
written before any lead thread of the contact are stored without a thread (nothing is
lost; DESIGN.md's loose reply rule may still place them).

The WhatsApp accounts sync after the mailboxes (``services.sync``), so a chat sees the
quotes synced in the same run.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from datetime import datetime, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from assistant.drafting.chats import KnownContact, fold_name, match_chat
from assistant.drafting.contacts import find_phone, normalise_phone
from assistant.services.ingest import (AccountResult, Location, ensure_account, mark_account,
                                       storable_rows, write_batch)
from assistant.services.rules import rules_from_settings
from assistant.settings import Account, Settings
from assistant.storage import crm as crm_store
from assistant.storage import repo
from assistant.wording import reason_words, stored
from connectors.whatsapp import ChatExport, WhatsAppConnector
from connectors.whatsapp_parse import ChatMessage

log = logging.getLogger(__name__)

__all__ = ["sync_whatsapp", "open_whatsapp", "date_order_of", "message_key", "WHATSAPP_DOMAIN"]

WHATSAPP_DOMAIN = "whatsapp.followup.invalid"
"""The domain of the Message-IDs given to stored WhatsApp messages."""
SUBJECT = "WhatsApp"
SIGNATURE_TEXTS = 20
"""How many of a contact's newest messages are searched for their phone."""


def date_order_of(settings: Settings, account: Account) -> str:
    """The account's ``date_order``, else the team's language's (``es`` day first)."""
    if account.date_order:
        return account.date_order
    return "month_first" if settings.digest.language == "en" else "day_first"


def open_whatsapp(settings: Settings, account: Account) -> WhatsAppConnector:
    return WhatsAppConnector(account.path, date_order=date_order_of(settings, account))


def message_key(contact: str, at: datetime, sender: str, text: str, occurrence: int = 1) -> str:
    """The stable key of one chat message: (chat, time, sender, text hash); ``occurrence``
    tells apart the same text sent twice in one minute (the second "ok" of an Android
    export, whose times have no seconds), counted in the file's order."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    parts = [contact.lower(), at.astimezone(timezone.utc).isoformat(), sender, digest]
    basis = "\n".join(parts + ([str(occurrence)] if occurrence > 1 else []))
    return hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()


def _team_names(settings: Settings, account: Account) -> dict[str, str | None]:
    """Our side of a chat, folded name -> the member's email: the account's ``me`` (its
    owner) and every team member's name (a colleague in a group chat is no client)."""
    names: dict[str, str | None] = {fold_name(m.name): m.email for m in settings.team.members}
    if account.me:
        names[fold_name(account.me)] = account.owner
    return names


def known_contacts(settings: Settings, engine: Engine) -> list[KnownContact]:
    """Every client a chat may be with: the ``[[contacts]]`` entries, the contacts the CRM
    gave phone numbers for (the last ``followup crm sync``, while ``[crm]`` is set), and
    the contacts of stored lead threads with the phone in their mail's signature and their
    display name (their own From, or the name the quote's To gave them). Numbers are read in the team's country (``protocol.holidays_country``)."""
    region = settings.protocol.holidays_country
    names: dict[str, list[str]] = {}
    explicit: dict[str, list[str]] = {}
    crm: dict[str, list[str]] = {}
    signature: dict[str, list[str]] = {}

    def add(to: dict[str, list[str]], email: str, phone: str | None) -> None:
        to.setdefault(email, []).extend([phone] if phone else [])

    for contact in settings.contacts:
        names.setdefault(contact.email, []).extend([contact.name] if contact.name else [])
        add(explicit, contact.email, normalise_phone(contact.phone, region))
    with engine.connect() as conn:
        for email, numbers in (crm_store.phones(conn) if settings.crm is not None else {}).items():
            for number in numbers:
                add(crm, email, normalise_phone(number, region))
        leads = repo.lead_contacts(conn)
        display = repo.latest_names(conn, leads)
        given = repo.recipient_names(conn, repo.lead_quotes(conn))  # the name a rep wrote them under
        for email in leads:
            names.setdefault(email, [])
            if display.get(email):
                names[email].append(display[email])
            names[email].extend(given.get(email, ()))
            found = find_phone(repo.texts_from(conn, email, limit=SIGNATURE_TEXTS), region)
            add(signature, email, found.e164 if found else None)

    def of(source: dict[str, list[str]], email: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(source.get(email, ())))

    return [KnownContact(email, of(names, email), of(explicit, email), of(crm, email),
                         of(signature, email))
            for email in sorted(set(names) | set(explicit) | set(crm) | set(signature))]


def _thread_at(threads: list[tuple[str, datetime | None, str]], at: datetime) -> str | None:
    """The most recent open lead thread whose quote was sent no later than ``at``."""
    best = None
    for qid, sent, status in threads:
        if sent is not None and sent <= at and status != "closed":
            best = qid
    return best


def _local(message: ChatMessage, zone: ZoneInfo) -> datetime:
    return message.at.replace(tzinfo=zone)


def sync_whatsapp(settings: Settings, engine: Engine, account: Account,
                  connector: WhatsAppConnector, *,
                  clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                  progress: Callable[[int], None] | None = None) -> AccountResult:
    """Read every new or changed export of one WhatsApp account and store what it means."""
    from assistant.services import snapshot

    snapshot.ensure_current(engine, rules_from_settings(settings))  # the threads, as they stand
    result = AccountResult(account=account.name)
    account_id, cursor = ensure_account(engine, account.name, account.kind)
    contacts = known_contacts(settings, engine)
    for export in connector.fetch(cursor):
        cursor = _one_export(settings, engine, account, account_id, cursor, export, contacts,
                             result, clock())
        if progress:
            progress(len(export.chat.messages) if export.chat else 0)
    mark_account(engine, account_id, status="ok", error=None)
    return result


def _set_aside(engine: Engine, account_id: int, cursor: str | None, export: ChatExport,
               reason: str, result: AccountResult, now: datetime) -> str:
    cursor = WhatsAppConnector.cursor_after(cursor, export, keep=False)
    with engine.begin() as conn:
        repo.set_aside_item(conn, account_id, export.provider_id, reason=reason, at=now,
                            folder="WhatsApp")
    write_batch(engine, account_id, cursor, [], [], seen_at=now)
    result.chats_set_aside.append((export.provider_id, reason))
    log.info("%s: set aside %s: %s", result.account, export.provider_id, reason_words(reason))
    return cursor


def _one_export(settings: Settings, engine: Engine, account: Account, account_id: int,
                cursor: str | None, export: ChatExport, contacts: list[KnownContact],
                result: AccountResult, now: datetime) -> str:
    if export.chat is None:
        reason = stored("whatsapp.unreadable", error=export.error or "?")
        return _set_aside(engine, account_id, cursor, export, reason, result, now)
    chat = export.chat
    ours = _team_names(settings, account)
    me = [account.me] if account.me else []
    me += [m.name for m in settings.team.members]
    match = match_chat(export.title or chat.name, chat.senders(), me=me,
                       contacts=contacts, region=settings.protocol.holidays_country)
    if match.contact is None:
        return _set_aside(engine, account_id, cursor, export,
                          stored(match.reason, **match.values), result, now)
    contact = match.contact
    zone = settings.team.zone
    with engine.connect() as conn:
        threads = repo.lead_threads_of(conn, contact)
    rows, locations, runs = [], [], []
    seen: Counter = Counter()
    run_open = False
    for message in chat.messages:
        if message.kind in ("system", "deleted") or message.sender is None:
            continue
        result.read += 1
        at = _local(message, zone)
        if message.sender in match.rep_senders:
            same_day = runs and run_open and runs[-1][0].date() == at.date()
            if same_day:
                runs[-1][1].append(message.text)
            else:
                runs.append((at, [message.text], ours.get(fold_name(message.sender)) or account.owner))
            run_open = True
            continue
        run_open = False
        same = (at, message.sender, message.text)
        seen[same] += 1
        key = message_key(contact, at, message.sender, message.text, seen[same])
        thread = _thread_at(threads, at)
        rows.append(_row(key, contact, account.owner, message, at, thread, now))
        locations.append(Location(f"wa:{key[:40]}", None, "WhatsApp",
                                  len(message.text.encode("utf-8", "surrogatepass"))))
    rows = storable_rows(rows, for_sqlite=engine.dialect.name == "sqlite")
    touches = 0
    with engine.begin() as conn:  # before the messages and the cursor: a rerun redoes both
        for at, texts, by in runs:
            thread = _thread_at(threads, at)
            if thread is None:
                continue
            touches += repo.add_touch_once(conn, thread, "whatsapp", at=at, by=by,
                                           note="\n".join(texts)[:500])
        repo.clear_set_aside(conn, account_id, export.provider_id)
    cursor = WhatsAppConnector.cursor_after(cursor, export, keep=True)
    outcome = write_batch(engine, account_id, cursor, locations, rows, seen_at=now)
    result.stored += outcome.stored
    result.touches += touches
    result.set_aside.extend(outcome.set_aside)
    return cursor


def _row(key: str, contact: str, owner: str | None, message: ChatMessage, at: datetime,
         thread: str | None, now: datetime) -> dict:
    """A stored message for one of the client's chat messages."""
    return {
        "message_id": f"<wa.{key[:40]}@{WHATSAPP_DOMAIN}>",
        "synthetic_id": True,
        "fingerprint": key,
        "from_addr": contact,
        "from_name": None,  # the rep's label for the client (a phone, a nickname): never a
        #                     greeting's name, and not the name chats are matched on
        "to_addrs": [owner] if owner else [],
        "cc_addrs": [],
        "bcc_addrs": [],
        "subject": SUBJECT,
        "sent_at": at.astimezone(timezone.utc),
        "first_seen_at": now,
        "in_reply_to": thread,
        "references": [thread] if thread else [],
        "kind": "message",
        "bounced_recipients": [],
        "bounce_permanent": None,
        "attachment_names": [message.attachment] if message.attachment else [],
        "body_text": message.text,
        "original_message_id": None,
        "language": None,
        "warnings": [],
        "recipient_names": [],  # a chat names no recipients
        "size": len(message.text.encode("utf-8", "surrogatepass")),
        "list_mail": False,
    }
