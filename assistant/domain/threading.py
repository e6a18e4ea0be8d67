"""Rebuild conversations from stored messages (DESIGN.md, "Words" and "Architecture").

Messages are joined, in this order of evidence:
1. the provider's own conversation id (Gmail ``threadId``, Graph ``conversationId``),
   namespaced by account because those ids are per mailbox;
2. ``Message-ID`` / ``In-Reply-To`` / ``References`` (RFC 5322 §3.6.4), and the
   Message-ID of the original that a bounce or report returns (RFC 3464 / RFC 6522),
   so a bounce lands in the thread of the quote it bounced;
3. once lead threads are known, messages without thread headers join them by the
   subject-fallback and loose-reply rules (DESIGN.md rules 4 and 5,
   :mod:`assistant.domain.joining`).

Ids that no stored message carries still join the messages that cite them (two replies
to a message we never saw belong together), as in JWZ threading.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable

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
