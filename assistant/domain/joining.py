"""Messages that reach a quote thread without thread headers (DESIGN.md rules 4 and 5).

Real mail loses its thread headers (exports, some mobile and web clients, a colleague who
writes a fresh message), and a client's colleague answers from another address. After
the header-based grouping of :mod:`assistant.domain.threading`, every *candidate* — an
inbound message that cites no stored message (none of its ``In-Reply-To`` /
``References`` ids is a stored message's) and is not list or bulk mail — is tried, in
date order, against the open lead threads begun before it:

- **rule 4, subject fallback**: a lead thread one of whose messages (dated no later)
  carries the same normalised subject (:func:`assistant.mail.subject.normalize_subject`),
  when the candidate is sent by the thread's contact or by another address of the
  contact's domain (not a public mail domain), and dated within 60 days after the
  thread's last message; with several, the most recently active;
- **rule 5, loose reply**: else, from the contact's exact address, when that contact has
  exactly one open lead thread, dated at most 30 days after its last outbound event (an
  outbound message or a logged touch).

Day windows are calendar days between local dates in ``team.timezone``. The candidate's
whole conversation (its replies cite it) joins the thread. "Open" means not marked won or
lost, and no declining real reply before the candidate.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from zoneinfo import ZoneInfo

from assistant.mail.subject import normalize_subject
from assistant.mail.text import normalize

from .model import LoggedTouch, Mail, Rules, ThreadMark

SUBJECT_WINDOW_DAYS = 60
LOOSE_WINDOW_DAYS = 30

__all__ = ["join_unthreaded", "SUBJECT_WINDOW_DAYS", "LOOSE_WINDOW_DAYS"]


def _order(mail: Mail) -> tuple:
    return (mail.date, mail.message_id)


class _Groups:
    """Conversations merged as candidates join them (a union-find over their indexes)."""

    def __init__(self, conversations: list[list[Mail]], quote_of: Callable[[list[Mail]], Mail | None]):
        self.mails = conversations  # each already in timeline order (group_conversations)
        self.parent = list(range(len(self.mails)))
        self.quote = [quote_of(c) for c in self.mails]
        self._keys: dict[int, list[tuple]] = {}

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def merge(self, into: int, other: int) -> None:
        self.parent[other] = into
        self.mails[into] = sorted(self.mails[into] + self.mails[other], key=_order)
        self.mails[other] = []
        quotes = [q for q in (self.quote[into], self.quote[other]) if q is not None]
        self.quote[into] = min(quotes, key=_order) if quotes else None
        self._keys.pop(into, None)

    def before(self, root: int, mail: Mail) -> list[Mail]:
        """The root's messages dated before ``mail`` (the thread as it stood)."""
        keys = self._keys.get(root)
        if keys is None:
            keys = self._keys[root] = [_order(m) for m in self.mails[root]]
        return self.mails[root][: bisect_right(keys, _order(mail))]

    def roots(self) -> list[list[Mail]]:
        return [self.mails[i] for i in range(len(self.mails)) if self.parent[i] == i]


def join_unthreaded(
    conversations: list[list[Mail]],
    rules: Rules,
    *,
    quote_of: Callable[[list[Mail]], Mail | None],
    contact_of: Callable[[Mail], str | None],
    inbound: Callable[[Mail], bool],
    touch: Callable[[Mail], bool],
    declines: Callable[[Mail], object],
    real_reply: Callable[[Mail], bool],
    marks: Mapping[str, ThreadMark],
    touches: Mapping[str, Iterable[LoggedTouch]],
) -> list[list[Mail]]:
    """Apply rules 4 and 5 to header-grouped ``conversations``; returns the threads."""
    groups = _Groups(conversations, quote_of)
    zone = ZoneInfo(rules.timezone)
    stored = {m.message_id for c in groups.mails for m in c}

    def local(mail_or_instant) -> date:
        instant = mail_or_instant.date if isinstance(mail_or_instant, Mail) else mail_or_instant
        return instant.astimezone(zone).date()

    candidates = sorted(
        ((mail, i) for i, c in enumerate(groups.mails) for mail in c
         if not mail.list_mail and inbound(mail) and not _cites_stored(mail, stored)),
        key=lambda pair: _order(pair[0]))
    if not candidates:
        return groups.mails

    by_subject: dict[str, dict[int, Mail]] = defaultdict(dict)
    """normalised subject -> group index -> its earliest message with that subject."""
    by_contact: dict[str, set[int]] = defaultdict(set)
    # Only subjects a candidate carries are worth normalising: a subject's last word,
    # folded, must be a candidate subject's last word (a cheap, exact necessary test).
    wanted = {_last_word(normalize_subject(mail.subject)) for mail, _ in candidates} - {""}

    def index(i: int, mails: list[Mail]) -> None:
        for mail in mails:
            if _last_word(normalize(_tail(mail.subject))) not in wanted:
                continue
            subject = normalize_subject(mail.subject)
            if subject:
                by_subject[subject].setdefault(i, mail)

    for i, quote in enumerate(groups.quote):
        if quote is None:
            continue
        index(i, groups.mails[i])
        contact = contact_of(quote)
        if contact:
            by_contact[contact].add(i)

    def is_open(root: int, mail: Mail) -> bool:
        quote = groups.quote[root]
        mark = marks.get(quote.message_id)
        if mark is not None and mark.outcome:
            return False
        earlier = [m for m in groups.before(root, mail) if m is not mail and real_reply(m)]
        return not (earlier and declines(earlier[-1]))

    def leads_before(ids: Iterable[int], mail: Mail, own: int) -> list[int]:
        roots = {groups.find(i) for i in ids} - {own}
        return [r for r in roots
                if groups.quote[r] is not None and _order(groups.quote[r]) < _order(mail)
                and is_open(r, mail)]

    for mail, i in candidates:
        own = groups.find(i)
        quote = groups.quote[own]
        if quote is not None and _order(quote) < _order(mail):
            continue  # already in a thread begun before it
        target = _by_subject(mail, own, groups, by_subject, contact_of, rules, local, leads_before)
        if target is None:
            target = _loose(mail, own, groups, by_contact, contact_of, touch, touches, local,
                            leads_before)
        if target is not None:
            index(own, groups.mails[own])
            groups.merge(target, own)
    threads = groups.roots()
    threads.sort(key=lambda c: _order(c[0]) if c else ())
    return [t for t in threads if t]


def _tail(subject: str) -> str:
    parts = subject.rsplit(None, 1)
    return parts[-1] if parts else ""


def _last_word(normalised: str) -> str:
    return normalised.rpartition(" ")[2]


def _cites_stored(mail: Mail, stored: set[str]) -> bool:
    if mail.in_reply_to and mail.in_reply_to in stored:
        return True
    return any(ref in stored for ref in mail.references)


def _by_subject(mail, own, groups, by_subject, contact_of, rules, local, leads_before):
    """Rule 4."""
    subject = normalize_subject(mail.subject)
    if not subject or not mail.from_addr:
        return None
    carriers = by_subject.get(subject)
    if not carriers:
        return None
    sender_domain = mail.from_addr.rpartition("@")[2]
    best = None
    for root in leads_before([j for j, first in carriers.items() if _order(first) <= _order(mail)],
                             mail, own):
        contact = contact_of(groups.quote[root])
        if not contact:
            continue
        domain = contact.rpartition("@")[2]
        if mail.from_addr != contact and (sender_domain != domain or domain in rules.public_domains):
            continue
        last = groups.before(root, mail)[-1]
        if (local(mail) - local(last)).days > SUBJECT_WINDOW_DAYS:
            continue
        key = (_order(last), _order(groups.quote[root]))
        if best is None or key > best[0]:
            best = (key, root)
    return best[1] if best else None


def _loose(mail, own, groups, by_contact, contact_of, touch, touches, local, leads_before):
    """Rule 5."""
    if not mail.from_addr or mail.from_addr not in by_contact:
        return None
    leads = [root for root in leads_before(by_contact[mail.from_addr], mail, own)
             if contact_of(groups.quote[root]) == mail.from_addr]
    if len(leads) != 1:
        return None
    root = leads[0]
    events = [m.date for m in groups.before(root, mail) if touch(m)]
    events += [t.at for t in touches.get(groups.quote[root].message_id, ())
               if t.at <= mail.date and not t.inbound]  # our touches, not the client's answers
    if not events:
        return None
    if (local(mail) - local(max(events))).days > LOOSE_WINDOW_DAYS:
        return None
    return root


# --- What a conversation could join (the read model's neighbourhoods) --------------------

def conversation_keys(conversation: list[Mail], rules: Rules, *,
                      quote: Mail | None, contact: str | None,
                      inbound: Callable[[Mail], bool]) -> tuple[set[str], set[str]]:
    """``(offers, asks)``: keys such that two conversations can affect each other's
    threads under rules 4 and 5 only if one offers a key the other asks (a necessary
    condition, never a sufficient one):

    - a lead conversation (``quote`` given) offers ``4a|subject|contact`` and
      ``4d|subject|domain`` (a non-public contact domain) for each of its messages'
      normalised subjects, and ``5|contact``;
    - each candidate message (inbound, not list mail, citing no message of its
      conversation — hence none stored) asks with the same shapes, from its sender — for
      its own subject and for every subject of its conversation, which its conversation
      brings into the thread it joins; so a candidate's conversation offers what it asks
      too (a later candidate may join the thread through the subjects it brought).

    Two lead conversations that no candidate asks for never meet: only candidates join
    threads. The read model recomputes a change's whole neighbourhood (conversations
    connected through an offer and an ask), so its answer equals a full rebuild's."""
    offers: set[str] = set()
    asks: set[str] = set()
    ids = {m.message_id for m in conversation}
    askers = [m.from_addr for m in conversation
              if not m.list_mail and m.from_addr and inbound(m)
              and not ((m.in_reply_to and m.in_reply_to in ids) or any(r in ids for r in m.references))]
    if quote is None and not askers:
        return offers, asks  # neither joins nor is joined: most conversations (cheap)
    subjects = {s for s in (normalize_subject(m.subject) for m in conversation) if s}

    def keys(address: str | None, for_subjects: Iterable[str]) -> set[str]:
        if not address:
            return set()
        domain = address.rpartition("@")[2]
        public = domain in rules.public_domains
        out = {f"5|{address}"}
        for subject in for_subjects:
            out.add(f"4a|{subject}|{address}")
            if not public:
                out.add(f"4d|{subject}|{domain}")
        return out

    if quote is not None:
        offers |= keys(contact, subjects)
    for address in dict.fromkeys(askers):
        asks |= keys(address, subjects)
    offers |= asks
    return offers, asks
