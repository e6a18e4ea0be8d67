"""Rebuild conversations from stored messages (DESIGN.md, "Words" and "Architecture").

Messages are joined, in this order of evidence:
1. the provider's own conversation id (Gmail ``threadId``, Graph ``conversationId``),
   namespaced by account because those ids are per mailbox;
2. ``Message-ID`` / ``In-Reply-To`` / ``References`` (RFC 5322 §3.6.4), and the
   Message-ID of the original that a bounce or report returns (RFC 3464 / RFC 6522),
   so a bounce lands in the thread of the quote it bounced;
3. the loose-reply rule, applied by :func:`attach_loose_replies` once lead threads are
   known: an inbound message with no thread headers, from the exact address of the
   contact of exactly one open lead thread, joins that thread.

Ids that no stored message carries still join the messages that cite them (two replies
to a message we never saw belong together), as in JWZ threading.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Callable, Iterable

from .model import Mail


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        parent = self.parent.setdefault(item, item)
        if parent == item:
            return item
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:  # path compression
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: str, b: str) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[root_b] = root_a


def group_conversations(mails: Iterable[Mail]) -> list[list[Mail]]:
    """Split ``mails`` into conversations, each sorted by date (then Message-ID)."""
    links = _UnionFind()
    mails = list(mails)
    for mail in mails:
        node = "m:" + mail.message_id
        links.find(node)
        for ref in mail.references:
            links.union(node, "m:" + ref)
        if mail.in_reply_to:
            links.union(node, "m:" + mail.in_reply_to)
        if mail.original_message_id:
            links.union(node, "m:" + mail.original_message_id)
        for hint in mail.thread_hints:
            links.union(node, "t:" + hint)
    groups: dict[str, list[Mail]] = defaultdict(list)
    for mail in mails:
        groups[links.find("m:" + mail.message_id)].append(mail)
    conversations = [sorted(group, key=_timeline_order) for group in groups.values()]
    conversations.sort(key=lambda group: _timeline_order(group[0]))
    return conversations


def _timeline_order(mail: Mail) -> tuple:
    return (mail.date, mail.message_id)


def attach_loose_replies(
    conversations: list[list[Mail]],
    *,
    is_lead: Callable[[list[Mail]], bool],
    contact_of: Callable[[list[Mail]], str | None],
    started_at: Callable[[list[Mail]], object],
    is_open_at: Callable[[list[Mail], Mail], bool],
    is_inbound: Callable[[Mail], bool],
) -> list[list[Mail]]:
    """Apply the loose-reply rule (DESIGN.md, "real reply").

    A conversation that *starts* with an inbound message carrying no thread headers (a
    fresh email, not a reply) and holds no quote of its own is merged into the lead
    thread whose contact is that sender's exact address, when exactly one such lead
    thread is open at that moment (begun before it, not closed). With two or more open
    candidates the reply is ambiguous and is left alone rather than guessed.

    Conversations are considered in date order, so a loose decline closes its thread for
    the loose messages after it.
    """
    leads = [c for c in conversations if is_lead(c)]
    by_contact: dict[str, list[list[Mail]]] = defaultdict(list)
    for lead in leads:
        contact = contact_of(lead)
        if contact:
            by_contact[contact].append(lead)

    result: list[list[Mail]] = []
    for conversation in conversations:
        first = conversation[0]
        if (
            not is_lead(conversation)
            and is_inbound(first)
            and not first.has_thread_headers
            and first.from_addr in by_contact
        ):
            candidates = [
                lead for lead in by_contact[first.from_addr]
                if started_at(lead) <= first.date and is_open_at(lead, first)
            ]
            if len(candidates) == 1:
                target = candidates[0]
                target.extend(conversation)
                target.sort(key=_timeline_order)
                continue
        result.append(conversation)
    return result
