"""People by name (issue 14, item 5): what the CLI, the web pages, the digest and the
drafts call a contact, an owner or an assignee.

* a team member: their ``[[team.members]]`` ``name``;
* a client contact: their ``[[contacts]]`` entry first, else what their mail says
  (:func:`assistant.drafting.contacts.identify`: the ``From`` display names they send
  under, the ``To`` name our side wrote them under, their signature), never a name made
  from the mail domain; no name found -> ``None`` (show the address, greet neutrally).

Pages and tables read names from headers (two indexed queries for a whole page), and the
signatures of the newest few messages of a contact the headers leave without a name or
company (one indexed query each); drafts read all of the contact's own texts
(:func:`contact`).
"""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import Connection, Engine

from assistant.drafting.contacts import Identity, identify
from assistant.settings import Settings
from assistant.storage import repo

__all__ = ["Identity", "contact", "names", "label"]


def _known(settings: Settings, email: str) -> Identity | None:
    member = settings.member(email)
    if member is not None:
        return Identity(member.name, settings.company.name)
    return None


def contact(settings: Settings, conn: Connection, email: str | None, *,
            message_ids: Iterable[str] = (), texts: Iterable[str] = ()) -> Identity:
    """One contact's name and company: ``message_ids`` are the messages whose ``To`` names
    may name them (their thread's), ``texts`` their own texts, newest first (signatures)."""
    if not email:
        return Identity()
    email = email.lower()
    known = _known(settings, email)
    if known is not None:
        return known
    entry = settings.contact(email)
    return identify(email=email, from_names=repo.sender_names(conn, [email]).get(email, ()),
                    to_names=repo.recipient_names(conn, message_ids).get(email, ()),
                    texts=texts, known_name=entry.name if entry else None,
                    known_company=entry.company if entry else None)


def names(settings: Settings, engine: Engine | Connection, addresses: Iterable[str | None],
          message_ids: Iterable[str] = ()) -> dict[str, Identity]:
    """The identity of each address (lower case) from settings and headers: members by
    their settings name, contacts by ``[[contacts]]`` or the names their mail carries
    (``message_ids``: the messages whose ``To`` names count, e.g. the threads' quotes)."""
    wanted = sorted({a.lower() for a in addresses if a})
    out: dict[str, Identity] = {}
    others = []
    for address in wanted:
        known = _known(settings, address)
        entry = settings.contact(address)
        if known is not None:
            out[address] = known
        elif entry is not None and entry.name:
            out[address] = Identity(entry.name, entry.company)
        else:
            others.append(address)
    if others:
        def read(conn: Connection) -> None:
            sent = repo.sender_names(conn, others)
            given = repo.recipient_names(conn, message_ids)
            for address in others:
                entry = settings.contact(address)
                found = identify(email=address, from_names=sent.get(address, ()),
                                 to_names=given.get(address, ()),
                                 known_company=entry.company if entry else None)
                if found.name is None or found.company is None:  # their signature, then
                    found = identify(email=address, from_names=sent.get(address, ()),
                                     to_names=given.get(address, ()),
                                     texts=repo.newest_own_texts(conn, address),
                                     known_company=entry.company if entry else None)
                out[address] = found
        if isinstance(engine, Connection):
            read(engine)
        else:
            with engine.connect() as conn:
                read(conn)
    return out


def label(identities: dict[str, Identity], address: str | None) -> str:
    """The name to show for ``address`` (the address itself when no name is known)."""
    if not address:
        return ""
    found = identities.get(address.lower())
    return found.name if found and found.name else address
